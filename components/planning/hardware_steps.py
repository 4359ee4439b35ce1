"""Planning steps for a deployment's hardware: GPU type, node placement, memory fit, resources."""

from __future__ import annotations

import difflib
import math

from components.catalog.engines import Engine
from components.catalog.gpu_label_schemes import label_scheme
from components.catalog.gpus import GPUS, GpuType, find_gpu
from components.catalog.tensor_parallel import SUGGESTED_GPU_COUNTS, tensor_parallel_problem
from components.planning.memory_fit import check_gpu_fit, cpu_need
from components.planning.placement import (
    Placement,
    clouds_offering,
    gpu_placement,
    merge_placement,
)
from components.planning.plan_model import ModelPlan
from components.planning.planning_context import IssueCollector, PlanningContext, Pool
from components.planning.precision import (
    BYTES_PER_PARAMETER,
    bytes_per_parameter,
    quantization_of,
    resolve_precision,
)
from components.planning.resources import ResourceProfile, resolve_resources
from components.quantities import gib


def pool_gpu(issues: IssueCollector, pool: Pool) -> GpuType | None:
    """The pool's GPU type from the catalog; None on CPU or for an unknown type (reported)."""
    gpu_spec = pool.gpu_spec
    if gpu_spec is None or gpu_spec.count == 0 or gpu_spec.type is None:
        return None
    gpu = find_gpu(gpu_spec.type)
    if gpu is None:
        # `A100` names a family: offer its sizes before a look-alike (`A10G`).
        sizes = [name for name in GPUS if name.startswith(f"{gpu_spec.type.upper()}-")]
        close = sizes or difflib.get_close_matches(
            gpu_spec.type.upper(), list(GPUS), n=1, cutoff=0.5
        )
        hint = f"; did you mean {' or '.join(repr(name) for name in close)}?" if close else ""
        issues.report(
            *pool.path("gpu", "type"),
            message=f"unknown GPU type '{gpu_spec.type}'{hint} (known: {', '.join(GPUS)})",
        )
    return gpu


def plan_placement(
    ctx: PlanningContext, issues: IssueCollector, gpu: GpuType | None, pool: Pool
) -> Placement | None:
    """Which nodes the pool's pods may run on (Kubernetes): GPU labels plus the stack's rules."""
    if not ctx.profile.placement:
        return None
    cloud = ctx.stack.kubernetes.cloud
    scheme = label_scheme(cloud, ctx.stack.kubernetes.gpu_labels)
    gpu_nodes = None
    if gpu is not None:
        gpu_nodes = gpu_placement(gpu, scheme)
        if gpu_nodes is None:
            issues.report(
                *pool.path("gpu", "type"),
                message=f"{gpu.name} has no node label in the {scheme} scheme "
                f"(schemes with one: {', '.join(clouds_offering(gpu))}; "
                "kubernetes.gpuLabels: gpu-feature-discovery selects by GPU Feature "
                "Discovery labels on any cloud)",
            )
            return None
    merged = issues.accept(merge_placement(gpu_nodes, ctx.spec.placement, cloud), "placement")
    if merged is None:
        return None
    empty = not (merged.node_selector or merged.node_affinity or merged.tolerations)
    return None if empty and not merged.affinity and not merged.runtime_class else merged


def group_nodes(pool: Pool) -> int:
    """Nodes one replica of the pool spans (gpu.nodes; 1 on CPU)."""
    return pool.gpu_spec.nodes if pool.gpu_spec and pool.gpu_spec.count else 1


def check_gpu_count(
    ctx: PlanningContext, issues: IssueCollector, engine: Engine, pool: Pool, count: int
) -> None:
    if not engine.shards_across_gpus:
        return
    nodes = group_nodes(pool)
    shards = engine.multi_node.tensor_parallel_size(count, nodes) if engine.multi_node else count
    problem = tensor_parallel_problem(engine.name, count, ctx.spec.model.attention_heads, shards)
    if problem:
        issues.report(*pool.path("gpu", "count"), message=problem)


def plan_resources(
    ctx: PlanningContext,
    issues: IssueCollector,
    gpu: GpuType | None,
    gpu_count: int,
    pool: Pool,
    slot: str,
    model: ModelPlan,
) -> ResourceProfile:
    """Requests and limits; the model must fit in GPU memory, or in memory on CPU."""
    need_gib = None
    if model.parameters_b is not None:
        path = ctx.model_key_path(slot, "parameters")
        if gpu is not None:
            precision = resolve_precision(model.precision, gpu)
            if model.format in ("gguf", "ollama"):
                # The file's own quantization (Q4_K_M...) is what loads onto the GPU.
                precision = quantization_of(model.location)
            problem = check_gpu_fit(
                model.parameters_b,
                precision,
                gpu,
                gpu_count,
                SUGGESTED_GPU_COUNTS,
                nodes=group_nodes(pool),
            )
            if problem:
                where = f" (pool {pool.name})" if pool.name else ""
                issues.report(*path, message=problem + where)
        else:
            need_gib = cpu_need(model.parameters_b, _cpu_bytes_per_parameter(model)).total_gib
    memory = pool.resources.amount("limits", "memory")
    if need_gib is not None and memory is not None and gib(memory) < need_gib:
        key = "memory" if pool.resources.memory else "limits"
        path = (
            pool.path("resources", key)
            if key == "memory"
            else pool.path("resources", "limits", "memory")
        )
        issues.report(
            *path,
            message=f"{memory} is less than the ~{math.ceil(need_gib)} GiB this model "
            "needs in memory on CPU (weights + KV cache + server)",
        )
    return resolve_resources(
        pool.resources, gpu.resource_name if gpu else None, gpu_count, need_gib
    )


def _cpu_bytes_per_parameter(model: ModelPlan) -> float:
    if model.format in ("gguf", "ollama"):
        return bytes_per_parameter(quantization_of(model.location))
    precision = model.precision if model.precision in BYTES_PER_PARAMETER else "fp32"
    return BYTES_PER_PARAMETER[precision]
