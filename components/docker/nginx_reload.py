"""The load balancer's config as a resource that updates in place with a graceful reload.

pulumi-docker replaces a container when most of its inputs change (uploads included):
that would drop every open connection on a blue-green switch. Instead the nginx
container starts empty-handed and waits for its config; this dynamic resource writes
the config into it (`docker exec`), has nginx test it, and reloads: new workers take new
connections while old ones finish theirs. No host paths are involved, so renders stay
the same on every machine.
"""

from __future__ import annotations

import re
import subprocess
import time
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


class NginxConfigError(Exception):
    pass


# Reload, then wait (at most $2 seconds) until every worker that ran before has exited: they
# finish the requests they hold, so engines that left the config can then be removed.
_RELOAD_AND_DRAIN = r"""
pidfile="$1"; limit="$2"; shift 2
master="$(cat "$pidfile")"
workers() {
    for dir in /proc/[0-9]*; do
        read -r pid _ _ parent _ < "$dir/stat" 2>/dev/null || continue
        [ "$parent" = "$master" ] && echo "$pid"
    done
}
old="$(workers)"
"$@" || exit 1
end=$(( $(date +%s) + limit ))
for pid in $old; do
    while [ -d "/proc/$pid" ] && [ "$(date +%s)" -lt "$end" ]; do sleep 0.2; done
done
"""


def apply_config(props: dict[str, Any], drain: bool = False) -> None:
    """Write, test, move into place; reload when nginx already runs (else it starts with it).

    `drain`: engines left the config; return only once the old workers are done with them.
    """
    path = props["config_path"]
    candidate = f"{path}.next"
    write = ["sh", "-c", 'cat > "$1"', "sh", candidate]
    _run(props, write, "write the new config", props["config"])
    try:
        _run(props, [*props["nginx"], "-t", "-q", "-c", candidate], "test the new config")
    except NginxConfigError:
        _run(props, ["rm", "-f", candidate], "remove the rejected config")
        raise
    _run(props, ["mv", "-f", candidate, path], "move the new config into place")
    # `nginx -t` leaves an empty pid file behind: only a non-empty one means nginx runs.
    if not _succeeds(props, ["test", "-s", props["pid_path"]]):
        return
    reload = [*props["nginx"], "-s", "reload", "-c", path]
    if not drain:
        _run(props, reload, "reload")
        return
    limit = int(props.get("drain_seconds") or 0)
    script = ["sh", "-c", _RELOAD_AND_DRAIN, "sh", props["pid_path"], str(limit), *reload]
    _run(props, script, "reload and drain", timeout=limit + 60)


# How often the container's health is read while waiting for it.
HEALTH_POLL_SECONDS = 0.5


def wait_healthy(props: dict[str, Any]) -> None:
    """Return once the container's own health check has passed since nginx took its config.

    Docker runs the check on its interval, so a gateway that just started stays `starting`
    for up to one interval after nginx answers: without this wait, a `modelstack status`
    right after `pulumi up` would say the route is still being configured.
    `health_status` is a command printing Docker's health status (empty in tests).
    """
    command = props.get("health_status")
    if not command:
        return
    limit = float(props.get("health_wait_seconds") or 60)
    end = time.monotonic() + limit
    status = ""
    while True:
        result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
        status = (result.stdout or result.stderr).strip()
        if result.returncode == 0 and status == "healthy":
            return
        if time.monotonic() >= end:
            break
        time.sleep(HEALTH_POLL_SECONDS)
    raise NginxConfigError(
        f"nginx gateway: its health check did not pass within {limit:g} s of taking the "
        f"config (Docker says: {status[-300:] or 'nothing'}); `docker logs` on the gateway "
        "container tells why"
    )


_ENGINE_BLOCK = re.compile(r"^    # engine (\S+)\n.*?^    # end engine\n", re.M | re.S)
RETIRED_MARKER = "    # retired engines (kept while old workers finish with them)\n"


def with_retired_engines(config: str, old_config: str, removed: set[str]) -> str:
    """`config` plus the old config's server blocks of the engines in `removed`."""
    blocks = [m.group(0) for m in _ENGINE_BLOCK.finditer(old_config) if m.group(1) in removed]
    if not blocks or RETIRED_MARKER not in config:
        return config
    return config.replace(RETIRED_MARKER, RETIRED_MARKER + "".join(blocks))


def _command(props: dict[str, Any], command: list[str]) -> list[str]:
    # exec_prefix is `docker exec -i <container>` for the docker target, empty in tests.
    return [*props["exec_prefix"], *command]


def _run(
    props: dict[str, Any],
    command: list[str],
    what: str,
    stdin: str | None = None,
    timeout: float = 60,
) -> None:
    full = _command(props, command)
    result = subprocess.run(
        full, input=stdin, capture_output=True, text=True, timeout=timeout, check=False
    )
    if result.returncode != 0:
        raise NginxConfigError(
            f"nginx gateway: could not {what} ({' '.join(full)}): "
            f"{(result.stderr or result.stdout).strip()[-500:]}"
        )


def _succeeds(props: dict[str, Any], command: list[str]) -> bool:
    result = subprocess.run(_command(props, command), capture_output=True, timeout=60, check=False)
    return result.returncode == 0


class NginxConfigProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        apply_config(props)
        wait_healthy(props)
        return CreateResult(id_=props["config_path"], outs=props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        # Engines that leave the config are removed after this update: drain them first.
        removed = set(olds.get("engines") or []) - set(news.get("engines") or [])
        if not removed:
            apply_config(news)
            wait_healthy(news)
            return UpdateResult(outs=news)
        # Old workers may still open connections to the local servers that stand for the
        # leaving engines: those stay (in the interim config) until the old workers are gone.
        interim = with_retired_engines(news["config"], olds.get("config") or "", removed)
        try:
            apply_config({**news, "config": interim}, drain=True)
        except NginxConfigError:
            apply_config(news, drain=True)  # the interim refused: drain without it
            wait_healthy(news)
            return UpdateResult(outs=news)
        apply_config(news)
        wait_healthy(news)
        return UpdateResult(outs=news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = (
            "config",
            "config_path",
            "pid_path",
            "exec_prefix",
            "nginx",
            "triggers",
            "engines",
            "drain_seconds",
        )
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        # The config lives in the gateway container, which goes away on its own.
        return None


class NginxConfig(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        config: pulumi.Input[str],
        config_path: str,
        pid_path: str,
        exec_prefix: pulumi.Input[list[str]],
        triggers: pulumi.Input[list[str]],
        nginx: list[str] | None = None,
        engines: list[str] | None = None,
        drain_seconds: int = 0,
        health_status: pulumi.Input[list[str]] | None = None,
        health_wait_seconds: int = 0,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            NginxConfigProvider(),
            name,
            {
                "config": config,
                "config_path": config_path,
                "pid_path": pid_path,
                "exec_prefix": exec_prefix,
                "nginx": nginx or ["nginx"],
                # Container IDs: a replaced container (gateway or engine) means write again.
                "triggers": triggers,
                # host:port of every engine in the config: one that leaves is drained.
                "engines": engines or [],
                "drain_seconds": drain_seconds,
                # Not in the diff: how to wait, not what to apply.
                "health_status": health_status or [],
                "health_wait_seconds": health_wait_seconds,
            },
            opts,
        )
