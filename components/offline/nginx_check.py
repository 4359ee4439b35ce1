"""`nginx -t` on a docker render's gateway config, for `modelstack validate`.

The rendered config is the whole nginx.conf the gateway container runs (pid, events, http),
with its pid file, temp directories and logs in the container's /tmp and /dev. `nginx -t`
creates those files and directories, so here every such path is moved into a temporary
prefix, line for line: nginx's "in ...:LINE" still points at the rendered config's own line.
As root, nginx runs as `nobody`: a config read from a render directory can then neither
write nor read outside what that user may (nginx -t runs as whoever starts it).

Free of Pulumi and the program, like the rest of `validate`.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from components.docker.gateway_files import NJS_MODULE, SCRIPT_NAME, SCRIPT_PATH, script_text
from components.offline.render_model import CHECKS_DIR, Render

# Debian's nginx is not on a normal user's PATH (/usr/sbin).
NGINX_FALLBACKS: tuple[str, ...] = ("/usr/sbin/nginx",)
HOW_TO_GET_NGINX = "apt-get install -y nginx-light, or --nginx PATH"
TIMEOUT_SECONDS = 60
# `-e` (the log before the config is read) exists since nginx 1.19.5; without it a user
# who cannot write /var/log/nginx gets an alert.
_ERROR_LOG_OPTION_SINCE = (1, 19, 5)
# Directives that make nginx -t create or open a file: their absolute paths move to the prefix.
_FILE_DIRECTIVE = re.compile(
    r"^(?P<head>\s*(?P<name>pid|error_log|access_log|lock_file|\w+_temp_path)\s+)"
    r"(?P<path>/[^\s;]*)",
    re.MULTILINE,
)
# A rendered gateway config never reads other files; nginx -t would follow these anywhere.
_READS_FILES = re.compile(r"^\s*(include|load_module|js_import|js_path)\b", re.MULTILINE)
# ...but the shared endpoint's: njs, and the constant script (checked from this repository).
_NJS_LINE = re.compile(rf"^load_module {re.escape(NJS_MODULE)};$", re.MULTILINE)
_SCRIPT_LINE = re.compile(
    rf"^(?P<head>\s*js_import shared_endpoint from ){re.escape(SCRIPT_PATH)};$", re.MULTILINE
)
HOW_TO_GET_NJS = "apt-get install -y libnginx-mod-http-js"
_NOBODY = 65534


@dataclass(frozen=True)
class GatewayConfig:
    """One gateway config in a render: the file it came from and its text."""

    file: str
    text: str


@dataclass(frozen=True)
class Nginx:
    path: str
    version: tuple[int, ...] | None

    @property
    def version_text(self) -> str:
        return ".".join(map(str, self.version)) if self.version else "unknown version"


@dataclass(frozen=True)
class NginxResult:
    file: str
    # False: nothing was run (no nginx, or nginx could not run); `reason` says why.
    checked: bool
    valid: bool | None = None
    errors: list[str] = field(default_factory=list)
    reason: str | None = None
    nginx: Nginx | None = None

    def lines(self) -> list[str]:
        if not self.checked:
            return [f"note: {self.file}: gateway config NOT checked: {self.reason}"]
        assert self.nginx is not None
        tool = f"nginx {self.nginx.version_text} at {self.nginx.path}"
        if self.valid:
            return [f"{self.file}: gateway config passed nginx -t ({tool})"]
        return [f"{self.file}: nginx -t: {error}" for error in self.errors] + [
            f"{self.file}: gateway config refused by nginx -t ({tool})"
        ]

    def as_json(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "checked": self.checked,
            "valid": self.valid,
            "errors": self.errors,
            "reason": self.reason,
            "nginx": self.nginx.path if self.nginx else None,
            "nginxVersion": self.nginx.version_text if self.nginx else None,
        }


def gateway_configs(render: Render) -> list[GatewayConfig]:
    """The nginx configs of a docker render: the gateway's config resource in checks/ (its
    inputs carry the config text and the nginx command that tests it in the container)."""
    found = []
    for name, document in render.other_files.items():
        if not name.startswith(f"{CHECKS_DIR}/"):
            continue
        inputs = document.get("inputs")
        if not isinstance(inputs, dict) or "nginx" not in inputs or "pid_path" not in inputs:
            continue
        text = inputs.get("config")
        if isinstance(text, str):
            found.append(GatewayConfig(name, text))
    return found


def find_nginx(explicit: str | None = None) -> Nginx | None:
    """nginx to test with: `explicit`, else nginx on PATH, else Debian's /usr/sbin/nginx.
    None when there is none; ValueError when `explicit` is not an executable."""
    if explicit is not None:
        if not (os.path.isfile(explicit) and os.access(explicit, os.X_OK)):
            raise ValueError(f"--nginx {explicit}: not an executable file")
        return Nginx(explicit, _version(explicit))
    for candidate in (shutil.which("nginx"), *NGINX_FALLBACKS):
        if candidate and os.path.isfile(candidate) and os.access(candidate, os.X_OK):
            return Nginx(candidate, _version(candidate))
    return None


def not_found_reason() -> str:
    places = ", ".join(("PATH", *NGINX_FALLBACKS))
    return f"nginx is not installed (looked on {places}); to check it: {HOW_TO_GET_NGINX}"


def check_config(config: GatewayConfig, nginx: Nginx | None) -> NginxResult:
    if nginx is None:
        return NginxResult(config.file, checked=False, reason=not_found_reason())
    uses_njs = _NJS_LINE.search(config.text) is not None
    if uses_njs and not os.path.isfile(NJS_MODULE):
        reason = f"the config loads njs ({NJS_MODULE}), which is not installed: {HOW_TO_GET_NJS}"
        return NginxResult(config.file, checked=False, reason=reason, nginx=nginx)
    allowed = _SCRIPT_LINE.sub("", _NJS_LINE.sub("", config.text))
    if match := _READS_FILES.search(allowed):
        # Refused unrun: nginx -t would read any file named there (and quote it in errors).
        return NginxResult(
            config.file,
            checked=True,
            valid=False,
            errors=[f"'{match.group(1)}' reads other files: a rendered gateway config never does"],
            nginx=nginx,
        )
    with tempfile.TemporaryDirectory(prefix="modelstack-nginx-") as directory:
        return _run(config, nginx, Path(directory))


def _run(config: GatewayConfig, nginx: Nginx, directory: Path) -> NginxResult:
    runtime = directory / "runtime"
    runtime.mkdir()
    conf = directory / "nginx.conf"
    script = directory / SCRIPT_NAME
    script.write_text(script_text(), encoding="utf-8")
    text = _SCRIPT_LINE.sub(lambda match: f"{match.group('head')}{script};", config.text)
    conf.write_text(relocate(text, runtime), encoding="utf-8")
    as_nobody = os.geteuid() == 0
    if as_nobody:
        # nobody reads the config and writes pid, temp directories and logs under runtime/.
        directory.chmod(0o755)
        conf.chmod(0o644)
        script.chmod(0o644)
        runtime.chmod(0o777)
    command = [nginx.path, "-t", "-q", "-p", f"{runtime}/", "-c", str(conf)]
    if nginx.version is not None and nginx.version >= _ERROR_LOG_OPTION_SINCE:
        command[2:2] = ["-e", "stderr"]
    try:
        result = subprocess.run(
            command,
            capture_output=True,
            text=True,
            timeout=TIMEOUT_SECONDS,
            check=False,
            stdin=subprocess.DEVNULL,
            **({"user": _NOBODY, "group": _NOBODY, "extra_groups": []} if as_nobody else {}),
        )
    except subprocess.TimeoutExpired:
        reason = f"nginx -t did not finish within {TIMEOUT_SECONDS} s"
        return NginxResult(config.file, checked=False, reason=reason, nginx=nginx)
    except OSError as error:
        reason = f"{nginx.path} could not run: {error}"
        return NginxResult(config.file, checked=False, reason=reason, nginx=nginx)
    errors = _messages(result.stderr, conf, runtime)
    if result.returncode == 0:
        return NginxResult(config.file, checked=True, valid=True, nginx=nginx)
    return NginxResult(
        config.file,
        checked=True,
        valid=False,
        errors=errors or [f"exit {result.returncode} without a message"],
        nginx=nginx,
    )


def relocate(text: str, runtime: Path) -> str:
    """Every path nginx -t would create or open (pid, logs, temp directories) moved under
    `runtime`, one per directive name; lines and everything else unchanged."""

    def moved(match: re.Match[str]) -> str:
        return f"{match.group('head')}{runtime}/{match.group('name')}"

    return _FILE_DIRECTIVE.sub(moved, text)


def _messages(stderr: str, conf: Path, runtime: Path) -> list[str]:
    """nginx's error lines, in the render's words: the config's line, no temporary paths."""
    messages = []
    for line in stderr.splitlines():
        # "2026/12/03 15:29:51 [emerg] 123#123: unknown directive ... in /tmp/x/nginx.conf:51"
        level = re.search(r"\[(emerg|alert|crit|error|warn)\]\s+(?:\d+#\d+:\s+)?(.*)", line)
        if level is None:
            continue
        text = level.group(2).replace(f"{conf}:", "config line ").replace(str(conf), "config")
        messages.append(f"[{level.group(1)}] {text.replace(str(runtime), '<runtime>')}")
    return messages


def _version(path: str) -> tuple[int, ...] | None:
    try:
        result = subprocess.run(
            [path, "-v"], capture_output=True, text=True, timeout=10, check=False
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    # "nginx version: nginx/1.22.1" (on stderr)
    match = re.search(r"nginx/(\d+(?:\.\d+)*)", result.stderr + result.stdout)
    return tuple(int(part) for part in match.group(1).split(".")) if match else None
