"""Planning steps for a deployment's workloads: pools, slots, replicas, autoscalers."""

from __future__ import annotations

from dataclasses import dataclass, replace

from components import identity
from components.catalog.engines import Engine, Hardware
from components.catalog.gpus import GpuType
from components.planning.autoscaling import AutoscalingContext, plan_autoscaling
from components.planning.autoscaling_plan import AutoscalingPlan
from components.planning.engine_steps import (
    ApiKeyDelivery,
    EngineHardware,
    check_precision,
    plan_engine,
)
from components.planning.group_steps import plan_group, tensor_parallel_gpus
from components.planning.hardware_steps import check_gpu_count, plan_placement, plan_resources
from components.planning.loaders import LoaderPlan
from components.planning.plan_model import AdapterPlan, ModelPlan, RoutePlan, SlotPlan
from components.planning.planning_context import (
    SERVICE_PORT,
    IssueCollector,
    PlanningContext,
    Pool,
)
from components.spec import SlotSpec
from components.spec_progressive import workload_strategy


def deployment_pools(ctx: PlanningContext, issues: IssueCollector) -> list[Pool]:
    """The declared pools, or one pool of the deployment's own hardware."""
    spec = ctx.spec
    if not spec.pools:
        return [Pool(None, None, spec.gpu, spec.resources, spec.replicas, weight=1, priority=0)]
    if spec.gpu is not None:
        issues.report("gpu", message="with pools, each pool sets its own gpu")
    return [
        Pool(
            pool.name,
            index,
            pool.gpu,
            pool.resources or spec.resources,
            pool.replicas if pool.replicas is not None else spec.replicas,
            pool.weight,
            pool.priority,
        )
        for index, pool in enumerate(spec.pools)
    ]


def slot_specs(ctx: PlanningContext) -> dict[str, SlotSpec]:
    """Slot name -> what it overrides: `main` when rolling, blue and green otherwise."""
    rollout = ctx.spec.rollout
    if workload_strategy(rollout.strategy, rollout.progressive) == "rolling":
        return {"main": SlotSpec()}
    return {slot: rollout.slots.get(slot, SlotSpec()) for slot in ("blue", "green")}


def traffic_split(ctx: PlanningContext) -> dict[str, int]:
    """Slot name -> percent of requests it serves."""
    rollout = ctx.spec.rollout
    if workload_strategy(rollout.strategy, rollout.progressive) == "rolling":
        return {"main": 100}
    active = rollout.active or "blue"
    candidate = "green" if active == "blue" else "blue"
    weight = rollout.canary_weight if rollout.strategy == "canary" else 0
    return {active: 100 - (weight or 0), candidate: weight or 0}


def pool_replicas(ctx: PlanningContext, issues: IssueCollector, pool: Pool) -> int:
    """The pool's count: the environment's default, never below its minimum."""
    environment = ctx.environment
    if pool.replicas is None:
        return environment.default_replicas
    if not ctx.spec.pools and pool.replicas < environment.min_replicas:
        issues.report(
            "replicas",
            message=f"{environment.name} runs at least "
            f"{environment.min_replicas} replicas (got {pool.replicas})",
        )
    return pool.replicas


@dataclass(frozen=True)
class SlotInputs:
    """What the earlier steps decided that every workload of the deployment shares."""

    engine: Engine
    traffic: dict[str, int]
    adapters: tuple[AdapterPlan, ...]
    api_key: ApiKeyDelivery | None


def plan_workload(
    ctx: PlanningContext,
    issues: IssueCollector,
    slot: str,
    override: SlotSpec,
    pool: Pool,
    gpu: GpuType | None,
    model: ModelPlan,
    loader: LoaderPlan | None,
    shared: SlotInputs,
) -> SlotPlan:
    """One slot on one pool: a Deployment on Kubernetes, containers on docker."""
    spec = ctx.spec
    hardware: Hardware = gpu.vendor if gpu else "cpu"
    gpu_count = pool.gpu_spec.count if gpu and pool.gpu_spec else 0
    replicas = pool_replicas(ctx, issues, pool)
    if slot != (spec.rollout.active or "main") and spec.rollout.idle != "keep":
        replicas = 0
    if spec.state == "stopped":
        # Starting again restores these: the stack file still holds them.
        replicas = 0
    check_gpu_count(ctx, issues, shared.engine, pool, gpu_count)
    check_precision(ctx, issues, shared.engine, gpu)
    engine = plan_engine(
        ctx,
        issues,
        shared.engine,
        model,
        override,
        EngineHardware(hardware, tensor_parallel_gpus(shared.engine, pool, gpu_count), gpu),
        shared.adapters,
        shared.api_key,
    )
    return SlotPlan(
        slot=slot,
        pool=pool.name,
        workload_name=identity.workload(
            spec.name,
            slot,
            workload_strategy(spec.rollout.strategy, spec.rollout.progressive),
            pool.name,
        ),
        replicas=replicas,
        traffic_percent=shared.traffic[slot],
        model=model,
        engine=engine,
        loader_job=loader.job_name if loader else None,
        hardware=hardware,
        gpu=gpu,
        gpu_count=gpu_count,
        placement=plan_placement(ctx, issues, gpu, pool),
        resources=plan_resources(ctx, issues, gpu, gpu_count, pool, slot, model),
        weight=pool.weight,
        priority=pool.priority,
        group=plan_group(shared.engine, pool, gpu_count),
    )


def with_autoscalers(
    ctx: PlanningContext,
    issues: IssueCollector,
    engine: Engine,
    slots: list[SlotPlan],
    route: RoutePlan | None,
) -> list[SlotPlan]:
    """The slots with their autoscalers (components/planning/autoscaling.py decides)."""
    spec = ctx.spec
    if spec.autoscaling is None or not ctx.profile.autoscaling:
        return slots
    planned = issues.accept(
        plan_autoscaling(
            spec.autoscaling,
            AutoscalingContext(
                deployment=spec.name,
                namespace=ctx.namespace,
                environment=ctx.environment,
                engine=engine,
                idle=spec.rollout.idle,
                slots=tuple(slots),
                kubernetes=ctx.stack.kubernetes,
                replicas_set=spec.replicas is not None,
                has_pools=bool(spec.pools),
                stable_service=identity.stable_service(spec.name),
                service_port=SERVICE_PORT,
                startup_timeout_seconds=spec.startup_timeout_seconds,
                response_timeout_seconds=route.timeout_seconds if route else None,
            ),
        )
    )
    if planned is None:
        return slots
    return [
        replace(
            slot,
            autoscaling=planned[slot.workload_name],
            replicas=_starting_replicas(planned[slot.workload_name]),
        )
        for slot in slots
    ]


def _starting_replicas(autoscaling: AutoscalingPlan) -> int:
    """What the plan reports as a slot's count: the floor it serves at, or what it is held at."""
    if autoscaling.held_replicas is not None:
        return autoscaling.held_replicas
    return autoscaling.min_replicas
