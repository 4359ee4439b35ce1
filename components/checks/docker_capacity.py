"""Before anything is created on docker: can this Docker host give each engine what it asks?

Docker refuses `--cpus` above the host's CPU count only at container create, after the
network, volumes and loaders were made; a memory limit above the host's memory is accepted
and then starves the machine. This check reads the engine's `/info` (NCPU, MemTotal) first:
every docker resource waits for it (the docker provider depends on it), so a stack that
cannot fit fails with one message that names the deployments, and nothing is created.
"""

from __future__ import annotations

from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult

from components.status.docker_api import DockerClient, DockerEndpoint

MIB = 2**20


class DockerCapacityError(Exception):
    pass


def capacity_problems(info: dict[str, Any], containers: list[dict[str, Any]]) -> list[str]:
    """What the host (`/info`) cannot give the engine containers, one line per problem."""
    cpus = int(info.get("NCPU") or 0)
    memory = int(info.get("MemTotal") or 0)
    problems = []
    for container in containers:
        name = container["deployment"]
        asked = float(container["cpus"]) if container.get("cpus") else 0.0
        if cpus and asked > cpus:
            problems.append(
                f"{name}: resources.cpu asks for {asked:g} CPUs per container; this Docker "
                f"host has {cpus}"
            )
        limit = int(container.get("memory_mib") or 0) * MIB
        if memory and limit > memory:
            problems.append(
                f"{name}: resources.memory asks for {_gib(limit)} per container; this Docker "
                f"host has {_gib(memory)}"
            )
    reserved = sum(int(c.get("reservation_mib") or 0) * MIB for c in containers)
    if memory and reserved > memory:
        problems.append(
            f"the engine containers reserve {_gib(reserved)} together (resources.memory times "
            f"replicas); this Docker host has {_gib(memory)}"
        )
    return list(dict.fromkeys(problems))


def _gib(size: int) -> str:
    return f"{size / 2**30:.1f} GiB"


def check_host(props: dict[str, Any]) -> None:
    info = DockerClient(DockerEndpoint.from_environment()).get_json("/info")
    problems = capacity_problems(info, props["containers"])
    if problems:
        raise DockerCapacityError(
            "this Docker host cannot run the stack as written; nothing was created:\n  "
            + "\n  ".join(problems)
        )


class DockerCapacityProvider(ResourceProvider):
    """Checks on create and whenever what the containers ask for changes."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        check_host(props)
        return CreateResult(id_="docker-capacity", outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        check_host(news)
        return UpdateResult(outs=news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        changed = olds.get("containers") != news.get("containers")
        return DiffResult(changes=changed, replaces=[], delete_before_replace=False)


class DockerCapacity(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        containers: list[dict[str, Any]],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__(DockerCapacityProvider(), name, {"containers": containers}, opts)
