"""Plans one deployment: the steps in order, each a function over the frozen context.

Each step reads the `PlanningContext`, takes what earlier steps decided as arguments and
reports problems to the one `IssueCollector`; this module only chains them:
target support -> pools and GPUs -> models per slot -> engine -> cache and loaders ->
workloads per slot and pool -> images -> balancer, route, autoscalers, traffic.
"""

from __future__ import annotations

import math

from components import identity
from components.errors import ConfigIssue
from components.planning.adapter_steps import check_runtime_loading, plan_runtime_adapters
from components.planning.alert_rules import plan_alerts
from components.planning.cache_steps import Loaders, hf_token, plan_cache
from components.planning.engine_steps import (
    api_key_delivery,
    check_engine_args,
    choose_deployment_engine,
)
from components.planning.group_steps import check_groups
from components.planning.hardware_steps import pool_gpu
from components.planning.image_steps import check_pinned_images
from components.planning.model_steps import adapter_locations, as_served_by, plan_model
from components.planning.plan_model import DeploymentPlan, ProbePlan
from components.planning.planning_context import SERVICE_PORT, IssueCollector, PlanningContext
from components.planning.progressive_delivery import plan_progressive
from components.planning.serving_steps import (
    endpoint,
    plan_deployment_traffic,
    plan_load_balancer,
    plan_route,
)
from components.planning.slot_steps import (
    SlotInputs,
    deployment_pools,
    plan_workload,
    slot_specs,
    traffic_split,
    with_autoscalers,
)
from components.planning.target_part_steps import plan_docker_part, plan_kubernetes_part
from components.planning.target_support import check_target_support
from components.planning.timeouts import plan_timeouts
from components.spec import DeploymentSpec, StackSpec
from components.spec_progressive import workload_strategy

PROBE_PERIOD_SECONDS = 10


def plan_deployment(
    stack: StackSpec, spec: DeploymentSpec, index: int
) -> tuple[DeploymentPlan | None, list[ConfigIssue]]:
    """The deployment's plan (None when anything is wrong) and every problem found."""
    issues = IssueCollector(index)
    planned = _plan(PlanningContext.of(stack, spec, index), issues)
    return (None if issues.found else planned), issues.issues


def _plan(ctx: PlanningContext, issues: IssueCollector) -> DeploymentPlan | None:
    spec = ctx.spec
    rollout = spec.rollout
    check_target_support(ctx, issues)
    pools = deployment_pools(ctx, issues)
    gpus = {pool.name: pool_gpu(issues, pool) for pool in pools}
    if issues.found:
        # Unknown GPUs leave the hardware unknown: engine checks would only mislead.
        return None
    overrides = slot_specs(ctx)
    read = {slot: plan_model(ctx, issues, slot, override) for slot, override in overrides.items()}
    models = {slot: model for slot, model in read.items() if model is not None}
    if len(models) != len(read):
        return None
    formats = {model.format for model in models.values()}
    if len(formats) > 1:
        issues.report("rollout", "slots", message="both slots must serve the same model format")
        return None
    engine = choose_deployment_engine(ctx, issues, formats.pop(), pools, gpus)
    if engine is None:
        return None
    api_key = api_key_delivery(ctx, issues, engine)
    served = {slot: as_served_by(ctx, issues, engine, slot, m) for slot, m in models.items()}
    models = {slot: model for slot, model in served.items() if model is not None}
    if len(models) != len(served):
        return None
    check_engine_args(ctx, issues, engine)
    adapter_sources = adapter_locations(ctx, issues, engine)
    check_runtime_loading(ctx, issues, engine)
    cache = plan_cache(ctx, issues, models, [location for _, location in adapter_sources])
    check_groups(ctx, issues, engine, pools, cache)
    sources = [m.location for m in models.values()] + [loc for _, loc in adapter_sources]
    token = hf_token(ctx, sources)
    loaders = Loaders(ctx, cache, token)
    # Requests name an adapter by the id the engine gives it over the serving slot's model.
    base = models.get(rollout.active or "main") or next(iter(models.values()))
    adapters = loaders.adapters(
        adapter_sources, lambda name: engine.adapter_model_id(base.served_name, name)
    )
    shared = SlotInputs(engine, traffic_split(ctx), adapters, api_key)
    slots = [
        plan_workload(
            ctx,
            issues,
            slot,
            override,
            pool,
            gpus[pool.name],
            models[slot],
            loaders.for_location(models[slot].location, models[slot].served_name),
            shared,
        )
        for slot, override in overrides.items()
        for pool in pools
    ]
    check_pinned_images(ctx, issues, slots)
    load_balancer = plan_load_balancer(ctx, issues, engine, pools)
    route = plan_route(ctx, issues)
    if spec.state == "running":
        # Stopped: no autoscaler; on start Pulumi drops spec.replicas again, the
        # Deployment defaults to one replica and the autoscaler takes over from there.
        slots = with_autoscalers(ctx, issues, engine, slots, route)
    traffic = plan_deployment_traffic(ctx, issues, slots, load_balancer, route)
    workloads = [s.workload_name for s in slots]
    if rollout.progressive is not None:
        # Flagger's primary copy serves: the alerts watch it as well as the candidate.
        workloads.append(identity.flagger_primary(workloads[0]))
    alerts = plan_alerts(ctx, issues, engine.request_metrics, workloads)
    timeouts = plan_timeouts(spec.startup_timeout_seconds)
    progressive = plan_progressive(
        ctx, issues, engine, slots, route, SERVICE_PORT, timeouts.rollout_seconds
    )
    if issues.found:
        return None
    any_gpu = any(slot.gpu_count for slot in slots)
    on_kubernetes = ctx.profile.kubernetes_objects
    return DeploymentPlan(
        name=spec.name,
        description=spec.description,
        environment=ctx.environment,
        namespace=ctx.namespace,
        strategy=workload_strategy(rollout.strategy, rollout.progressive),
        serving_slot=rollout.active or "main",
        slots=tuple(slots),
        probes=ProbePlan(
            path=engine.health_path,
            startup_failure_threshold=math.ceil(
                spec.startup_timeout_seconds / PROBE_PERIOD_SECONDS
            ),
            period_seconds=PROBE_PERIOD_SECONDS,
        ),
        cache=cache,
        loaders=loaders.planned,
        external_claims=tuple(
            sorted({location.pvc_claim for location in sources if location.pvc_claim})
        ),
        adapters=shared.adapters,
        runtime_adapters=plan_runtime_adapters(
            ctx,
            engine,
            shared.adapters,
            api_key.env if api_key else None,
        ),
        hf_token_secret=token.created_secret,
        stable_service=identity.stable_service(spec.name),
        service_port=SERVICE_PORT,
        timeouts=timeouts,
        load_balancer=load_balancer,
        route=route,
        endpoint=endpoint(ctx, route),
        state=spec.state,
        tags=dict(spec.tags),
        traffic=traffic,
        kubernetes=(
            plan_kubernetes_part(ctx, engine, api_key, any_gpu, alerts, progressive)
            if on_kubernetes
            else None
        ),
        docker=None if on_kubernetes else plan_docker_part(timeouts),
    )
