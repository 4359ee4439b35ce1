"""A loader container run to completion by a dynamic resource: a failed run is never stored.

pulumi-docker records a container that exited 1 with its exit code, so every later `pulumi up`
raised the same failure without running the loader again. Here the create fails instead:
Pulumi keeps no state for the loader, and the next `pulumi up` runs it again (the cache volume
keeps what an earlier attempt fetched). The exited container stays until then, for
`modelstack status` and `docker logs`.
"""

from __future__ import annotations

import os
import subprocess
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider

LOG_LINES = 20


class LoaderFailed(Exception):
    pass


def run_loader(props: dict[str, Any]) -> None:
    """Start the loader container afresh and wait for it to exit 0."""
    name = props["name"]
    docker = list(props.get("docker") or ["docker"])
    # A container left by an earlier attempt (failed, or cut off) goes first.
    subprocess.run([*docker, "rm", "--force", name], capture_output=True, timeout=60, check=False)
    command = [*docker, "run", "--detach", "--name", name, "--entrypoint", props["entrypoint"]]
    for label in props["labels"]:
        command += ["--label", f"{label['label']}={label['value']}"]
    for mount in props["mounts"]:
        spec = f"type=volume,source={mount['source']},target={mount['target']}"
        command += ["--mount", spec + (",readonly" if mount.get("read_only") else "")]
    for env in props["envs"]:
        command += ["--env", env]
    secret_env = dict(props.get("secret_env") or {})
    # Secret values reach the CLI through its environment, never its command line.
    for key in sorted(secret_env):
        command += ["--env", key]
    command += [props["image"], *props["command"]]
    started = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
        env={**os.environ, **secret_env},
    )
    if started.returncode != 0:
        raise LoaderFailed(f"{name} could not start: {started.stderr.strip()[-500:]}")
    # The plan's deadline for a download (timeouts.loader_seconds).
    timeout = float(props["timeout_seconds"])
    try:
        waited = subprocess.run(
            [*docker, "wait", name], capture_output=True, text=True, timeout=timeout, check=False
        )
    except subprocess.TimeoutExpired:
        subprocess.run([*docker, "stop", name], capture_output=True, timeout=60, check=False)
        raise LoaderFailed(
            f"{name} did not finish within {timeout:g} s and was stopped; the next `pulumi up` "
            "starts it again"
        ) from None
    code = waited.stdout.strip()
    if waited.returncode != 0 or code != "0":
        logs = subprocess.run(
            [*docker, "logs", "--tail", str(LOG_LINES), name],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        tail = (logs.stdout + logs.stderr).strip()
        raise LoaderFailed(
            f"{name} exited with code {code or waited.stderr.strip()}: the model could not be "
            f"fetched; no engine was started on a partial cache, and the next `pulumi up` runs "
            f"the loader again. Last lines of `docker logs {name}`:\n{tail}"
        )


class ModelLoaderProvider(ResourceProvider):
    # Whatever defines the run: a change runs the loader again (the old container goes first,
    # since both have the same name).
    KEYS = ("name", "image", "entrypoint", "command", "envs", "secret_env", "mounts", "labels")

    def create(self, props: dict[str, Any]) -> CreateResult:
        run_loader(props)
        return CreateResult(id_=props["name"], outs=props)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = [key for key in self.KEYS if olds.get(key) != news.get(key)]
        return DiffResult(
            changes=bool(changed), replaces=changed, delete_before_replace=bool(changed)
        )

    def delete(self, _id: str, props: dict[str, Any]) -> None:
        docker = list(props.get("docker") or ["docker"])
        subprocess.run(
            [*docker, "rm", "--force", props["name"]], capture_output=True, timeout=60, check=False
        )


class ModelLoader(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        container_name: str,
        image: pulumi.Input[str],
        script: str,
        envs: list[str],
        secret_env: pulumi.Input[dict[str, str]] | None,
        mounts: list[dict[str, Any]],
        labels: dict[str, str],
        timeout_seconds: int,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(
            ModelLoaderProvider(),
            name,
            {
                "name": container_name,
                "image": image,
                "entrypoint": "/bin/sh",
                "command": ["-c", script],
                "envs": envs,
                "secret_env": secret_env or {},
                "mounts": mounts,
                # The shape pulumi-docker containers have: one reader for both.
                "labels": [{"label": key, "value": value} for key, value in sorted(labels.items())],
                "timeout_seconds": timeout_seconds,
                "docker": ["docker"],
            },
            pulumi.ResourceOptions.merge(
                opts, pulumi.ResourceOptions(additional_secret_outputs=["secret_env"])
            ),
        )
