"""Does the model fit? Weights at the chosen precision plus headroom, against capacity."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.gpus import GPUS, GpuType
from components.catalog.tensor_parallel import MAX_GPUS_PER_NODE
from components.planning.precision import BYTES_PER_PARAMETER, bytes_per_parameter
from components.spec_gpu import MAX_NODES

# KV cache and activations need room beyond the weights; 20% is the usual floor
# for short contexts (a long context needs more, which the engine reports at start).
HEADROOM = 1.2
# Per GPU: CUDA context, the engine's graphs and allocator slack.
PER_GPU_OVERHEAD_GIB = 1.5
# Engines cap their share of GPU memory: vLLM's --gpu-memory-utilization defaults to 0.9
# (https://docs.vllm.ai/en/latest/configuration/engine_args.html).
USABLE_GPU_FRACTION = 0.9
# On CPU the container's memory limit also holds the server and the page cache it maps.
CPU_OVERHEAD_GIB = 1.0
_GIB_PER_BILLION_BYTES = 1e9 / 2**30


@dataclass(frozen=True)
class MemoryNeed:
    weights_gib: float
    total_gib: float


def gpu_need(parameters_b: float, bytes_per_parameter: float, gpu_count: int) -> MemoryNeed:
    weights = parameters_b * bytes_per_parameter * _GIB_PER_BILLION_BYTES
    return MemoryNeed(weights, weights * HEADROOM + PER_GPU_OVERHEAD_GIB * gpu_count)


def cpu_need(parameters_b: float, bytes_per_parameter: float) -> MemoryNeed:
    weights = parameters_b * bytes_per_parameter * _GIB_PER_BILLION_BYTES
    return MemoryNeed(weights, weights * HEADROOM + CPU_OVERHEAD_GIB)


def gpu_capacity_gib(gpu: GpuType, count: int) -> float:
    return gpu.memory_gib * count * USABLE_GPU_FRACTION


def check_gpu_fit(
    parameters_b: float,
    precision: str,
    gpu: GpuType,
    count: int,
    counts: tuple[int, ...],
    nodes: int = 1,
) -> str | None:
    """None if it fits; otherwise the need, the capacity and what would fit.

    `count` GPUs per node over `nodes` nodes: a group shards the model over all its GPUs."""
    total = count * nodes
    need = gpu_need(parameters_b, bytes_per_parameter(precision), total)
    capacity = gpu_capacity_gib(gpu, total)
    if need.total_gib <= capacity:
        return None
    more = next(
        (
            n
            for n in range(nodes + 1, MAX_NODES + 1)
            if _fits(parameters_b, precision, gpu, count * n)
        ),
        None,
    )
    # A full node's GPUs and still short: a group of nodes (gpu.nodes) holds it.
    spread = [f"gpu.nodes: {more}"] if more and count >= MAX_GPUS_PER_NODE else []
    if nodes > 1:
        options = [f"gpu.nodes: {more}"] if more else []
        held = f"{nodes} nodes x {count} x {gpu.name}"
    else:
        options = _alternatives(parameters_b, precision, gpu, count, counts) + spread
        held = f"{count} x {gpu.name}"
    hint = f"; would fit: {'; '.join(options)}" if options else ""
    return (
        f"{parameters_b:g}B parameters at {precision} need about {need.total_gib:.0f} GiB "
        f"({need.weights_gib:.0f} GiB weights + KV cache and runtime headroom), but "
        f"{held} has {capacity:.0f} GiB usable{hint}"
    )


def _alternatives(
    parameters_b: float, precision: str, gpu: GpuType, count: int, counts: tuple[int, ...]
) -> list[str]:
    options = []
    bigger_count = next(
        (c for c in counts if c > count and _fits(parameters_b, precision, gpu, c)), None
    )
    if bigger_count:
        options.append(f"gpu.count: {bigger_count}")
    # A GGUF file fixes its quantization: no other precision to suggest.
    smaller = [
        p
        for p in ("fp8", "int8", "int4")
        if precision in BYTES_PER_PARAMETER
        and BYTES_PER_PARAMETER[p] < BYTES_PER_PARAMETER[precision]
        and (p != "fp8" or gpu.fp8)
        and _fits(parameters_b, p, gpu, count)
    ]
    if smaller:
        options.append(f"precision: {smaller[0]}")
    bigger_gpu = next(
        (
            other.name
            for other in sorted(GPUS.values(), key=lambda g: g.memory_gib)
            if other.memory_gib > gpu.memory_gib
            and other.vendor == gpu.vendor
            and _computes_in(other, precision)
            and _fits(parameters_b, precision, other, count)
        ),
        None,
    )
    if bigger_gpu:
        options.append(f"gpu.type: {bigger_gpu}")
    return options


def _computes_in(gpu: GpuType, precision: str) -> bool:
    # A bigger V100 is no way out for a bf16 model: it has no bf16 (nor fp8, nor fp4).
    return (
        (precision != "bf16" or gpu.bf16)
        and (precision != "fp8" or gpu.fp8)
        and (precision != "fp4" or gpu.fp4)
    )


def _fits(parameters_b: float, precision: str, gpu: GpuType, count: int) -> bool:
    need = gpu_need(parameters_b, bytes_per_parameter(precision), count)
    return need.total_gib <= gpu_capacity_gib(gpu, count)
