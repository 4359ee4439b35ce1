"""Planning steps for how a deployment is reached: balancing, route, traffic, observability."""

from __future__ import annotations

from components.catalog.engines import Engine
from components.planning.inference_routing import ALGORITHM as INFERENCE_AWARE
from components.planning.inference_routing import plan_inference_routing
from components.planning.plan_model import (
    HealthCheckPlan,
    LoadBalancerPlan,
    RoutePlan,
    SlotPlan,
    TrafficPlan,
)
from components.planning.planning_context import IssueCollector, PlanningContext, Pool
from components.planning.route_path import resolve_route_path
from components.planning.traffic import plan_gateway_traffic, plan_traffic
from components.spec import MonitoringSettings
from components.spec_progressive import workload_strategy
from components.spec_traffic import HealthCheckSpec


def plan_load_balancer(
    ctx: PlanningContext, issues: IssueCollector, engine: Engine, pools: list[Pool]
) -> LoadBalancerPlan:
    spec = ctx.spec.load_balancer
    if spec.algorithm == "weighted" and len(pools) < 2:
        issues.report(
            "loadBalancer",
            "algorithm",
            message="weighted splits requests across pools: declare pools with weights",
        )
    if spec.algorithm == "failover" and len({pool.priority for pool in pools}) < 2:
        issues.report(
            "loadBalancer",
            "algorithm",
            message="failover needs pools with at least two priorities (0 serves, 1 backs up)",
        )
    if spec.stickiness and spec.algorithm == "failover":
        issues.report(
            "loadBalancer",
            "stickySessions",
            message="sticky sessions hash clients to servers and cannot keep backups idle: "
            "use them with round_robin, ip_hash or weighted",
        )
    health = spec.health_check
    return LoadBalancerPlan(
        algorithm=spec.algorithm,
        stickiness=spec.stickiness,
        health_check_customized=health != HealthCheckSpec(),
        health_check=health_check_plan(health, engine.health_path),
    )


def health_check_plan(health: HealthCheckSpec, default_path: str) -> HealthCheckPlan:
    """The stack file's health checks, on `default_path` unless it names a path."""
    return HealthCheckPlan(
        path=health.path or default_path,
        interval_seconds=health.interval_seconds,
        timeout_seconds=health.timeout_seconds,
        unhealthy_threshold=health.unhealthy_threshold,
        healthy_threshold=health.healthy_threshold,
    )


def plan_route(ctx: PlanningContext, issues: IssueCollector) -> RoutePlan | None:
    route = ctx.spec.route
    if route is None and not ctx.profile.own_gateway:
        return None
    template = route.path if route else "/{name}"
    try:
        path = resolve_route_path(template, ctx.spec.name, ctx.namespace, ctx.spec.tags)
    except ValueError as error:
        issues.report("route", "path", message=str(error))
        return None
    return RoutePlan(
        path=path,
        hosts=tuple(route.hosts) if route else (),
        timeout_seconds=route.timeout_seconds if route else 300,
        check=route.check if route else True,
    )


def plan_deployment_traffic(
    ctx: PlanningContext,
    issues: IssueCollector,
    slots: list[SlotPlan],
    balancer: LoadBalancerPlan,
    route: RoutePlan | None,
) -> TrafficPlan | None:
    rollout = ctx.spec.rollout
    if ctx.profile.own_gateway:
        if balancer.algorithm == INFERENCE_AWARE:
            return None  # the target's profile refused it
        planned = plan_gateway_traffic(slots, balancer, ctx.spec.load_balancer.health_check)
        return issues.accept(planned)
    autoscaling = ctx.spec.autoscaling
    inference = issues.accept(
        plan_inference_routing(
            ctx.spec.name,
            workload_strategy(rollout.strategy, rollout.progressive),
            slots,
            balancer,
            route,
            ctx.stack.kubernetes,
            ctx.environment,
            stopped=ctx.spec.state == "stopped",
            scale_to_zero=autoscaling is not None and autoscaling.scale_to_zero.enabled,
        )
    )
    if balancer.algorithm == INFERENCE_AWARE and inference is None:
        return None
    planned = plan_traffic(
        ctx.spec.name,
        workload_strategy(rollout.strategy, rollout.progressive),
        rollout.active or "main",
        slots,
        balancer,
        route,
        ctx.stack.kubernetes,
        inference,
    )
    return issues.accept(planned)


def plan_monitoring(ctx: PlanningContext, engine: Engine) -> MonitoringSettings | None:
    settings = ctx.stack.kubernetes.monitoring
    if not ctx.profile.monitoring_objects or not settings.enabled:
        return None
    # Ollama exports no metrics: nothing to scrape or chart.
    return settings if engine.metrics_path else None


def network_peers(ctx: PlanningContext) -> tuple[str, ...] | None:
    """Namespaces allowed to reach the engines, when the stack turns network policies on."""
    settings = ctx.stack.kubernetes
    if not ctx.profile.network_policies or not settings.network_policies:
        return None
    peers = [settings.monitoring_namespace, *settings.allowed_namespaces]
    if settings.gateway is not None:
        peers.insert(0, settings.gateway.namespace)
    autoscaling = ctx.spec.autoscaling
    if autoscaling is not None and autoscaling.scale_to_zero.enabled:
        # Held requests reach the engines from the KEDA HTTP add-on's interceptor.
        peers.append(settings.keda_http_add_on.namespace)
    return tuple(dict.fromkeys(peers))


def endpoint(ctx: PlanningContext, route: RoutePlan | None) -> str:
    """The URL clients call."""
    if ctx.profile.own_gateway:
        docker = ctx.stack.docker
        prefix = route.path.rstrip("/") if route else ""
        return f"http://{docker.bind_address}:{docker.port}{prefix}/v1"
    return f"http://{ctx.spec.name}.{ctx.namespace}.svc.cluster.local/v1"
