"""A Docker Engine of the tests' own: Debian's dockerd with its own root, socket and bridge.

Nothing of a Docker the machine may already run is touched: data root, exec root, pid file and
socket live in a temporary directory. Networking is dockerd's default (bridge and iptables),
which works as root here. Stopped at the end (also on failure) with the containers it runs.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from components.status.docker_api import DockerClient, DockerEndpoint

DOCKERD = shutil.which("dockerd") or "/usr/sbin/dockerd"
START_SECONDS = 60


class DaemonFailed(RuntimeError):
    pass


@dataclass
class Daemon:
    root: Path
    process: subprocess.Popen[bytes]

    @property
    def socket(self) -> Path:
        return self.root / "docker.sock"

    @property
    def host(self) -> str:
        return f"unix://{self.socket}"

    @property
    def log(self) -> Path:
        return self.root / "dockerd.log"

    def client(self) -> DockerClient:
        return DockerClient(DockerEndpoint.from_environment(self.host), timeout=120)

    def env(self) -> dict[str, str]:
        """The environment the docker CLI (and anything that runs it) needs for this daemon."""
        return {**os.environ, "DOCKER_HOST": self.host}


def dockerd_available() -> bool:
    return Path(DOCKERD).exists() and os.geteuid() == 0


def start_daemon() -> Daemon:
    # A short path: unix socket paths are limited to 108 bytes.
    root = Path(tempfile.mkdtemp(prefix="mse2e-", dir="/tmp"))
    command = [
        DOCKERD,
        f"--data-root={root / 'data'}",
        f"--exec-root={root / 'exec'}",
        f"--pidfile={root / 'dockerd.pid'}",
        f"--host=unix://{root / 'docker.sock'}",
    ]
    log = open(root / "dockerd.log", "wb")  # noqa: SIM115 (closed with the daemon)
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    daemon = Daemon(root, process)
    deadline = time.monotonic() + START_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise DaemonFailed(f"dockerd exited at start:\n{_tail(daemon.log)}")
        if daemon.socket.exists():
            try:
                if daemon.client().get("/_ping").status == 200:
                    return daemon
            except Exception:
                pass
        time.sleep(0.2)
    stop_daemon(daemon)
    raise DaemonFailed(f"dockerd did not answer within {START_SECONDS} s:\n{_tail(daemon.log)}")


def stop_daemon(daemon: Daemon) -> None:
    """Containers first (they would outlive a killed daemon), then the daemon, then its files."""
    subprocess.run(
        ["sh", "-c", 'ids="$(docker ps -aq)"; [ -z "$ids" ] || docker rm -f $ids'],
        env=daemon.env(),
        capture_output=True,
        timeout=120,
        check=False,
    )
    if daemon.process.poll() is None:
        daemon.process.send_signal(signal.SIGTERM)
        try:
            daemon.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            daemon.process.kill()
            daemon.process.wait()
    # Overlay mounts are gone with the daemon; what remains are plain files.
    subprocess.run(["umount", "-R", str(daemon.root / "data")], capture_output=True, check=False)
    shutil.rmtree(daemon.root, ignore_errors=True)


def _tail(path: Path, lines: int = 30) -> str:
    try:
        return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError:
        return "(no log)"
