"""The load balancer's config as a resource that updates in place with a graceful reload.

pulumi-docker replaces a container when most of its inputs change (uploads included):
that would drop every open connection on a blue-green switch. Instead the container
mounts a host directory, and this dynamic resource writes the config there, has nginx
test it, and reloads: new workers take new connections while old ones finish theirs.
"""

from __future__ import annotations

import os
import subprocess
from pathlib import Path
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


class NginxConfigError(Exception):
    pass


def apply_config(props: dict[str, Any], reload: bool) -> None:
    """Write the config; when nginx runs, test the new file first, then reload gracefully."""
    directory = Path(props["directory"])
    directory.mkdir(parents=True, exist_ok=True)
    target = directory / props["file_name"]
    candidate = directory / (props["file_name"] + ".next")
    candidate.write_text(props["config"], encoding="utf-8")
    if reload:
        # nginx sees the directory at its own path (a bind mount inside the container).
        seen_dir = props["path_in_nginx"]
        _nginx(props, "-t", "-q", "-c", f"{seen_dir}/{candidate.name}", what="test the new config")
    os.replace(candidate, target)
    if reload:
        _nginx(
            props, "-s", "reload", "-c", f"{props['path_in_nginx']}/{target.name}", what="reload"
        )


def _nginx(props: dict[str, Any], *arguments: str, what: str) -> None:
    command = [*props["nginx_command"], *arguments]
    result = subprocess.run(command, capture_output=True, text=True, timeout=60, check=False)
    if result.returncode != 0:
        raise NginxConfigError(
            f"nginx could not {what} ({' '.join(command)}): {result.stderr.strip()[-500:]}"
        )


class NginxConfigProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        # The container starts after this and reads the file: nothing to reload yet.
        apply_config(props, reload=False)
        return CreateResult(id_=str(Path(props["directory"]) / props["file_name"]), outs=props)

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        apply_config(news, reload=True)
        return UpdateResult(outs=news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        location = ("directory", "file_name")
        replaces = [key for key in location if olds.get(key) != news.get(key)]
        changed = replaces or [
            key for key in ("config", "triggers", "nginx_command") if olds.get(key) != news.get(key)
        ]
        return DiffResult(changes=bool(changed), replaces=replaces, delete_before_replace=False)

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        (Path(props["directory"]) / props["file_name"]).unlink(missing_ok=True)


class NginxConfig(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        config: pulumi.Input[str],
        directory: str,
        path_in_nginx: str,
        nginx_command: list[str],
        triggers: pulumi.Input[list[str]],
        opts: pulumi.ResourceOptions | None = None,
        file_name: str = "nginx.conf",
    ) -> None:
        super().__init__(
            NginxConfigProvider(),
            name,
            {
                "config": config,
                "directory": directory,
                "file_name": file_name,
                "path_in_nginx": path_in_nginx,
                "nginx_command": nginx_command,
                # Container IDs: a replaced engine container gets a new address, so reload.
                "triggers": triggers,
            },
            opts,
        )
