"""Run Debian's nginx on loopback with a config the gateway template rendered."""

from __future__ import annotations

import os
import shutil
import subprocess
import time
import urllib.request
from pathlib import Path

NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def nginx_available() -> bool:
    return Path(NGINX).exists()


class NginxProcess:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.config_path = directory / "nginx.conf"
        self.process: subprocess.Popen[bytes] | None = None
        # Workers drop root privileges to `nobody` and still write temp files here.
        directory.mkdir(parents=True, exist_ok=True)
        os.chmod(directory, 0o777)

    def write(self, text: str) -> None:
        self.config_path.write_text(text)

    def command(self, *extra: str) -> list[str]:
        return [NGINX, "-p", str(self.directory), "-c", str(self.config_path), *extra]

    def start(self, health_url: str) -> None:
        subprocess.run(self.command("-t", "-q"), check=True, capture_output=True)
        self.process = subprocess.Popen(
            self.command("-g", "daemon off;"), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
        )
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                error = self.process.stderr.read().decode() if self.process.stderr else ""
                self.process = None
                raise RuntimeError(f"nginx exited at start: {error.strip()[-500:]}")
            try:
                with urllib.request.urlopen(health_url, timeout=1) as response:
                    if response.status == 200:
                        return
            except OSError:
                time.sleep(0.05)
        self.stop()
        raise RuntimeError("nginx did not answer its health endpoint within 20 s")

    def reload(self) -> None:
        """Graceful: new workers take new connections, old ones finish their requests."""
        subprocess.run(self.command("-s", "reload"), check=True, capture_output=True)

    def stop(self) -> None:
        if self.process is None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self.process = None
