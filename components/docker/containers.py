"""Pure pieces of the docker target: names, labels, engine container settings from the plan."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components import identity
from components.plan import DeploymentPlan, SlotPlan
from components.quantities import parse_quantity

MIB = 2**20


@dataclass(frozen=True)
class EngineContainer:
    """One replica of one slot: a container whose name changes when what it runs changes.

    A new name means Pulumi creates the new container (and waits until it is healthy)
    before the gateway switches to it and the old one is removed: no downtime on a
    version bump even without blue-green.
    """

    logical_name: str
    container_name: str
    slot: SlotPlan
    replica: int

    @property
    def address(self) -> str:
        return f"{self.container_name}:{self.slot.engine.port}"


def engine_containers(namespace: str, deployment: DeploymentPlan) -> list[EngineContainer]:
    containers = []
    for slot in deployment.slots:
        fingerprint = identity.engine_fingerprint(engine_settings(deployment, slot))
        for replica in range(slot.replicas):
            logical = identity.engine_name(slot.workload_name, replica, fingerprint)
            container = identity.docker_name(namespace, logical)
            containers.append(EngineContainer(logical, container, slot, replica))
    return containers


def engine_settings(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    """Everything that defines an engine container (hashed into its name)."""
    engine = slot.engine
    settings: dict[str, Any] = {
        "image": engine.image,
        "command": list(engine.args),
        "envs": [f"{name}={value}" for name, value in sorted(engine.env.items())],
        # Docker has one number each: the limit is what protects the machine.
        "memory": mebibytes(slot.resources.memory_limit),
        "memory_reservation": mebibytes(slot.resources.memory_request),
        "cpus": slot.resources.cpu_limit,
        "healthcheck": {
            "tests": list(engine.health_command),
            "interval": f"{deployment.probes.period_seconds}s",
            "timeout": f"{deployment.probes.timeout_seconds}s",
            "retries": deployment.probes.readiness_failure_threshold,
            "start_period": f"{deployment.timeouts.startup_seconds}s",
        },
    }
    if engine.command:
        settings["entrypoints"] = list(engine.command)
    if engine.shm_size:
        settings["shm_size"] = mebibytes(engine.shm_size)
    if slot.gpu and slot.hardware == "nvidia":
        settings["device_requests"] = [
            {"driver": "nvidia", "count": slot.gpu_count, "capabilities": ["gpu"]}
        ]
    if slot.gpu and slot.hardware == "amd":
        # ROCm: the compute and render devices, and the video group that may open them.
        settings["devices"] = [
            {"host_path": "/dev/kfd", "container_path": "/dev/kfd"},
            {"host_path": "/dev/dri", "container_path": "/dev/dri"},
        ]
        settings["group_adds"] = ["video"]
    return settings


def labels(deployment: DeploymentPlan, slot: SlotPlan | None, component: str) -> dict[str, str]:
    values = {
        **deployment.tags,
        identity.PART_OF_KEY: identity.PART_OF,
        identity.MANAGED_BY_KEY: identity.MANAGED_BY,
        identity.COMPONENT: component,
        identity.DEPLOYMENT: deployment.name,
    }
    if slot is not None:
        values[identity.SLOT] = slot.slot
        values[identity.ENGINE] = slot.engine.name
        if slot.pool:
            values[identity.POOL] = slot.pool
    return values


def mebibytes(quantity: str) -> int:
    return max(1, int(parse_quantity(quantity) / MIB))
