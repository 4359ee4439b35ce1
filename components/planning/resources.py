"""Resource profile of an engine pod, resolved once from the spec, then applied everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from components.quantities import format_gib
from components.spec import ResourcesSpec

# Host CPU and memory per GPU: tokenization, the HTTP server, loading shards from disk.
CPU_PER_GPU = 4
MEMORY_PER_GPU_GIB = 16
CPU_ONLY_CPUS = "4"
CPU_ONLY_MIN_MEMORY_GIB = 4
CPU_ONLY_DEFAULT_MEMORY = "8Gi"


@dataclass(frozen=True)
class ResourceProfile:
    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    gpu_resource: str | None
    gpu_count: int

    def requests(self) -> dict[str, str]:
        return {"cpu": self.cpu_request, "memory": self.memory_request}

    def limits(self) -> dict[str, str]:
        limits = {"cpu": self.cpu_limit, "memory": self.memory_limit}
        if self.gpu_resource and self.gpu_count:
            limits[self.gpu_resource] = str(self.gpu_count)
        return limits


def resolve_resources(
    resources: ResourcesSpec,
    gpu_resource: str | None,
    gpu_count: int,
    cpu_memory_need_gib: float | None,
) -> ResourceProfile:
    """Defaults from the hardware and the model; a request or limit alone sets both."""
    if gpu_count:
        default_cpu = str(min(CPU_PER_GPU * gpu_count, 32))
        default_memory = f"{MEMORY_PER_GPU_GIB * gpu_count}Gi"
    else:
        default_cpu = CPU_ONLY_CPUS
        default_memory = (
            format_gib(max(cpu_memory_need_gib, CPU_ONLY_MIN_MEMORY_GIB))
            if cpu_memory_need_gib is not None
            else CPU_ONLY_DEFAULT_MEMORY
        )
    amounts = {}
    for key, default in (("cpu", default_cpu), ("memory", default_memory)):
        request = resources.amount("requests", key)
        limit = resources.amount("limits", key)
        # Equal when only one is given: Guaranteed QoS unless the stack asks otherwise.
        amounts[key] = (request or limit or default, limit or request or default)
    return ResourceProfile(
        cpu_request=amounts["cpu"][0],
        cpu_limit=amounts["cpu"][1],
        memory_request=amounts["memory"][0],
        memory_limit=amounts["memory"][1],
        gpu_resource=gpu_resource,
        gpu_count=gpu_count,
    )
