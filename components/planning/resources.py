"""Resource profile of an engine pod, resolved once from the spec, then applied everywhere."""

from __future__ import annotations

from dataclasses import dataclass

from components.quantities import format_gib

# Host CPU and memory per GPU: tokenization, the HTTP server, loading shards from disk.
CPU_PER_GPU = 4
MEMORY_PER_GPU_GIB = 16
CPU_ONLY_CPUS = "4"
CPU_ONLY_MIN_MEMORY_GIB = 4
CPU_ONLY_DEFAULT_MEMORY = "8Gi"


@dataclass(frozen=True)
class ResourceProfile:
    cpu: str
    memory: str
    gpu_resource: str | None
    gpu_count: int

    def requests(self) -> dict[str, str]:
        return {"cpu": self.cpu, "memory": self.memory}

    def limits(self) -> dict[str, str]:
        # Requests equal limits: Guaranteed QoS, so an engine is never the first evicted.
        limits = {"cpu": self.cpu, "memory": self.memory}
        if self.gpu_resource and self.gpu_count:
            limits[self.gpu_resource] = str(self.gpu_count)
        return limits


def resolve_resources(
    cpu: str | None,
    memory: str | None,
    gpu_resource: str | None,
    gpu_count: int,
    cpu_memory_need_gib: float | None,
) -> ResourceProfile:
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
    return ResourceProfile(cpu or default_cpu, memory or default_memory, gpu_resource, gpu_count)
