"""Planning steps for models larger than one node: a group of pods per replica (gpu.nodes).

One replica is a group: a leader that serves and `nodes - 1` workers, one pod per node, each
with `gpu.count` GPUs. The engine's own flags for it are catalog data (catalog/multi_node.py);
these steps check that the deployment can run as groups and hand each slot its GroupPlan.
"""

from __future__ import annotations

from components.catalog.engines import ENGINES, Engine
from components.planning.hardware_steps import group_nodes
from components.planning.plan_model import CachePlan, GroupPlan
from components.planning.planning_context import IssueCollector, PlanningContext, Pool

# Claims one node mounts at a time: a group's pods run on several nodes at once.
SINGLE_NODE_ACCESS_MODES = frozenset({"ReadWriteOnce", "ReadWriteOncePod"})


def check_groups(
    ctx: PlanningContext,
    issues: IssueCollector,
    engine: Engine,
    pools: list[Pool],
    cache: CachePlan | None,
) -> None:
    """What a deployment with gpu.nodes > 1 must agree with: its engine, pools and cache."""
    grouped = [pool for pool in pools if group_nodes(pool) > 1]
    if not grouped or not ctx.profile.multi_node:
        # Docker: target_support refuses gpu.nodes with its profile's message.
        return
    sizes = {group_nodes(pool) for pool in pools}
    if len(sizes) > 1:
        # One Service selects every pool's serving pods: a group's workers must not answer.
        for pool in pools:
            issues.report(
                *pool.path("gpu", "nodes"),
                message="every pool of a deployment runs on the same number of nodes per "
                f"replica (got {', '.join(map(str, sorted(sizes)))}): split the deployment",
            )
        return
    where = grouped[0].path("gpu", "nodes")
    multi = engine.multi_node
    if multi is None:
        able = [e.name for e in ENGINES.values() if e.multi_node is not None]
        issues.report(
            *where,
            message=f"{engine.name} serves a model on one node only: {' and '.join(able)} "
            "run one model over several nodes (set engine:), or use gpu.nodes: 1",
        )
        return
    if cache is not None and cache.access_mode in SINGLE_NODE_ACCESS_MODES:
        issues.report(
            "cache",
            "accessMode",
            message=f"{cache.access_mode} mounts the cache on one node, and a group's pods "
            f"run on {sizes.pop()} nodes, each reading the weights: use ReadWriteMany "
            "(the default; the loader writes, every pod reads)",
        )
    for index, argument in enumerate(ctx.spec.engine_args):
        flag = argument.split("=", 1)[0]
        if flag in multi.owned_flags:
            issues.report(
                "engineArgs",
                index,
                message=f"{flag} is set by modelstack for gpu.nodes (the group's size, rank "
                "and leader address): remove it",
            )


def plan_group(engine: Engine, pool: Pool, gpu_count: int) -> GroupPlan | None:
    """The slot's group on this pool (None: one pod per replica). check_groups has refused
    what cannot run as groups; an engine without flags for it plans no group."""
    nodes = group_nodes(pool)
    multi = engine.multi_node
    if nodes == 1 or multi is None:
        return None
    return GroupPlan(
        size=nodes,
        leader_args=multi.leader_args(gpu_count, nodes),
        worker_args=multi.worker_args(gpu_count, nodes),
    )


def tensor_parallel_gpus(engine: Engine, pool: Pool, gpu_count: int) -> int:
    """What the engine's tensor-parallel flag says: per node (vLLM) or the group's (SGLang)."""
    multi = engine.multi_node
    return multi.tensor_parallel_size(gpu_count, group_nodes(pool)) if multi else gpu_count
