"""Docker: loads a deployment's adapters into every engine container while they run.

A dynamic resource (it runs where `pulumi up` runs). Engine containers publish no port and
their network addresses are not reachable from the host everywhere (Docker Desktop), so
the resource does not call them from here: it runs the sync program
(components/adapters/runtime_sync.py) inside each engine container with `docker exec`,
against 127.0.0.1 there. vLLM's and SGLang's images both carry python3 (their health
checks use it). The request goes on stdin, never argv. An engine's refusal fails
`pulumi up` with the engine's answer.

Create and update bring every container to the wanted set: what is new is loaded, what
was removed (or moved) is unloaded, what is loaded already is left alone. New containers
(a new fingerprint, more replicas) start from nothing. A container the Docker daemon
restarts after a crash has lost its adapters until the next `pulumi up` loads them again:
on Kubernetes a sidecar covers that case (kubernetes/manifests/adapters.py).
"""

from __future__ import annotations

import inspect
import json
import subprocess
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.adapters import runtime_sync

EXEC_TIMEOUT_SECONDS = 900


class AdapterLoadFailed(Exception):
    pass


def sync_containers(props: dict[str, Any], known: dict[str, dict[str, str]]) -> dict[str, Any]:
    """Every container of `props` at the wanted set; `known`: container -> what it had."""
    docker = list(props.get("docker") or ["docker"])
    program = inspect.getsource(runtime_sync)
    loaded: dict[str, dict[str, str]] = {}
    for container in props["containers"]:
        request = {
            "api": props["api"],
            "base": f"http://127.0.0.1:{props['port']}",
            "wanted": props["wanted"],
            "known": known.get(container, {}),
            "api_key_env": props.get("api_key_env"),
        }
        done = subprocess.run(
            [*docker, "exec", "-i", container, "python3", "-c", program, "once"],
            input=json.dumps(request),
            capture_output=True,
            text=True,
            timeout=EXEC_TIMEOUT_SECONDS,
            check=False,
        )
        if done.returncode != 0:
            raise AdapterLoadFailed(
                f"adapters of {container}: {done.stderr.strip()[-1000:] or done.stdout[-1000:]}"
            )
        loaded[container] = json.loads(done.stdout)
    return {**props, "loaded": loaded}


class AdapterLoaderProvider(ResourceProvider):
    def create(self, props: dict[str, Any]) -> CreateResult:
        return CreateResult(id_=props["deployment"], outs=sync_containers(props, {}))

    def update(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        return UpdateResult(outs=sync_containers(news, dict(olds.get("loaded") or {})))

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("containers", "wanted", "api", "port", "api_key_env")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)


class AdapterLoader(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        deployment: str,
        containers: list[pulumi.Input[str]],
        sync_config: dict[str, Any],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        props: dict[str, Any] = {"deployment": deployment, "containers": containers}
        props.update(sync_config)
        super().__init__(AdapterLoaderProvider(), name, props, opts)
