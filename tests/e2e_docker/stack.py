"""A docker stack applied to the tests' Docker Engine the way `pulumi up` would apply it.

Each apply renders the stack file offline, then does what the docker target's resources do,
in Pulumi's order: the network, volumes and gateway container (Engine API, as rendered),
the loaders (real Pulumi CLI, modelstack's dynamic provider), the engine containers (Engine
API, waiting until healthy as pulumi-docker's `wait` does), the gateway config and endpoint
checks (real Pulumi CLI), and last the removal of containers the stack no longer has (with
their stop grace), as Pulumi deletes removed resources after everything else.
"""

from __future__ import annotations

import copy
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from components.offline.render import Render, render_stack
from components.offline.stack_file import read_stack_file
from tests.e2e_docker.daemon import Daemon
from tests.e2e_docker.engine_api import EngineApi
from tests.e2e_docker.images import Images
from tests.e2e_docker.pulumi_driver import DynamicStack
from tests.e2e_docker.render_containers import (
    container_body,
    network_body,
    uploads_archive,
    volume_body,
)

COMPONENT = "app.kubernetes.io/component"
PART_OF = "app.kubernetes.io/part-of=modelstack"


@dataclass
class Applied:
    render: Render
    # Logical name -> container name, of the engines this render runs.
    engines: dict[str, str]
    pulumi_output: str = ""
    removed: list[str] = field(default_factory=list)
    # time.monotonic() when the first leftover container was told to stop.
    removing_at: float | None = None


class DockerStack:
    def __init__(self, daemon: Daemon, images: Images, workdir: Path) -> None:
        self.daemon = daemon
        self.images = images
        self.workdir = workdir
        self.api = EngineApi(daemon.client())
        self.pulumi = DynamicStack(workdir / "pulumi", daemon.env())
        self.stack_file = workdir / "Pulumi.e2e.yaml"
        self.applied: list[dict[str, Any]] = []

    # -- the stack file ----------------------------------------------------------------------
    def write(self, document: dict[str, Any]) -> None:
        self.stack_file.write_text(yaml.safe_dump(document, sort_keys=False))

    def render(self) -> Render:
        return render_stack(read_stack_file(self.stack_file))

    # -- apply -------------------------------------------------------------------------------
    def apply(self, document: dict[str, Any], check: bool = True) -> Applied:
        self.write(copy.deepcopy(document))
        render = self.render()
        files = render.object_files()
        dynamic = self._dynamic(render, {})
        kept = [entry for entry in self.applied if entry["kind"] not in ("capacity", "loader")]
        capacity = [entry for entry in dynamic if entry["kind"] == "capacity"]
        # The docker provider waits for the host check: nothing is created before it passes.
        checked = self.pulumi.up(capacity + kept, check=check)
        if checked.returncode != 0:
            return Applied(render, {}, checked.stdout + checked.stderr)
        containers = {
            body["name"]: body["inputs"]
            for path, body in files.items()
            if path.startswith("docker/container-")
        }
        for path, body in sorted(files.items()):
            if path.startswith("docker/network-"):
                self._once(
                    f"/networks/{body['inputs']['name']}",
                    self.api.create_network,
                    network_body(body["inputs"]),
                )
            elif path.startswith("docker/volume-"):
                self._once(
                    f"/volumes/{body['inputs']['name']}",
                    self.api.create_volume,
                    volume_body(body["inputs"]),
                )
        gateway = containers.pop("gateway")
        self._run_container(gateway, self.images.gateway, wait=False)

        loaders = [entry for entry in dynamic if entry["kind"] == "loader"]
        # The engines wait for the loaders: apply them first, keeping everything else as it was.
        first = self.pulumi.up(capacity + loaders + kept, check=check)
        if first.returncode != 0:
            return Applied(render, {}, first.stdout + first.stderr)

        engines = {
            logical: inputs["name"]
            for logical, inputs in containers.items()
            if _labels(inputs).get(COMPONENT) == "inference-engine"
        }
        with ThreadPoolExecutor(max_workers=8) as pool:
            list(
                pool.map(
                    lambda logical: self._run_container(
                        containers[logical], self.images.engine, wait=True
                    ),
                    engines,
                )
            )
        ids = {"gateway": self.api.inspect(gateway["name"])["Id"]}
        ids |= {logical: self.api.inspect(name)["Id"] for logical, name in engines.items()}
        dynamic = self._dynamic(render, ids)
        second = self.pulumi.up(dynamic, check=check)
        if second.returncode != 0:
            return Applied(render, engines, second.stdout + second.stderr)
        self.applied = dynamic
        removing_at = time.monotonic()
        removed = self._remove_leftovers(set(engines.values()))
        output = checked.stdout + first.stdout + second.stdout
        return Applied(render, engines, output, removed, removing_at if removed else None)

    def teardown(self) -> None:
        """Everything of this stack's namespace on the daemon (containers, network, volumes)."""
        if not self.stack_file.exists():
            return
        namespace = self.namespace
        for container in self.api.containers():
            name = container["Names"][0].lstrip("/")
            if name.startswith(f"{namespace}-"):
                self.api.remove(name)
        for path in (f"/networks/{namespace}", *self._volume_paths()):
            if self.api.client.get(path).status == 200:
                self.api.request("DELETE", path)

    @property
    def namespace(self) -> str:
        document = yaml.safe_load(self.stack_file.read_text())
        return str(document["config"]["modelstack:docker"]["namespace"])

    def _volume_paths(self) -> list[str]:
        volumes = self.api.client.get_json("/volumes").get("Volumes") or []
        return [
            f"/volumes/{volume['Name']}"
            for volume in volumes
            if volume["Name"].startswith(f"{self.namespace}-")
        ]

    # -- pieces ------------------------------------------------------------------------------
    def _once(self, path: str, create: Any, body: dict[str, Any]) -> None:
        if self.api.client.get(path).status == 404:
            create(body)

    def _run_container(self, inputs: dict[str, Any], image: str, wait: bool) -> None:
        name = inputs["name"]
        # One that exists is in Pulumi's state unchanged (same name, same inputs): left alone,
        # whatever it does now, as `pulumi up` without --refresh leaves it.
        if self.api.client.get(f"/containers/{name}/json").status != 404:
            return
        self.api.create_container(name, container_body(inputs, image))
        archive = uploads_archive(inputs)
        if archive is not None:
            self.api.put_archive(name, "/", archive)
        self.api.start(name)
        if wait and inputs.get("wait"):
            self.api.wait_healthy(name, float(inputs.get("waitTimeout", 60)))

    def _dynamic(self, render: Render, ids: dict[str, str]) -> list[dict[str, Any]]:
        """The render's dynamic resources for the Pulumi program, in dependency order."""
        entries = []
        for path, body in sorted(render.object_files().items()):
            if not path.startswith("checks/"):
                continue
            inputs = dict(body["inputs"])
            if body["name"] == "docker-capacity":
                kind = "capacity"
            elif "config_path" in inputs:
                kind = "gateway-config"
                # Container ids: the real ones where the render has the mock's placeholders.
                inputs["triggers"] = [
                    ids.get(trigger.removesuffix("-id"), trigger) for trigger in inputs["triggers"]
                ]
            elif "expect_model" in inputs:
                kind = "endpoint-check"
            else:
                kind = "loader"
                inputs["image"] = self.images.loader
            entries.append({"name": body["name"], "kind": kind, "inputs": inputs})
        order = {"capacity": 0, "loader": 1, "gateway-config": 2, "endpoint-check": 3}
        entries.sort(key=lambda entry: order[entry["kind"]])
        first = {
            kind: [entry["name"] for entry in entries if entry["kind"] == kind]
            for kind in ("capacity", "gateway-config")
        }
        for entry in entries:
            entry["depends_on"] = {
                "loader": first["capacity"],
                "gateway-config": first["capacity"],
                "endpoint-check": first["gateway-config"],
            }.get(entry["kind"], [])
        return entries

    def _remove_leftovers(self, keep: set[str]) -> list[str]:
        removed = []
        for container in self.api.containers(f"{COMPONENT}=inference-engine"):
            name = container["Names"][0].lstrip("/")
            if name not in keep:
                # pulumi-docker's delete: stop within destroyGraceSeconds, then remove.
                self.api.stop(name, 30)
                self.api.remove(name)
                removed.append(name)
        return removed

    # -- looking -----------------------------------------------------------------------------
    def status(self, *extra: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [
                sys.executable,
                "-m",
                "components.cli",
                "status",
                "--stack-file",
                str(self.stack_file),
                *extra,
            ],
            env=self.daemon.env(),
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )


def _labels(inputs: dict[str, Any]) -> dict[str, str]:
    return {item["label"]: item["value"] for item in inputs.get("labels") or []}
