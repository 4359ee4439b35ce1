"""A canary that moves by itself (`rollout.progressive`), handed to Flagger. Pure.

Flagger (flagger.app/v1beta1, v1.44) takes over one target Deployment: it copies it to
`<name>-primary`, which serves, scales the target to zero, creates the Services `<name>`
(the apex, selecting the primary), `<name>-primary` and `<name>-canary`, and, with the
Gateway API provider (`gatewayapi:v1`, any Gateway API implementation) and `gatewayRefs`,
the HTTPRoute `<name>` (named after the apex Service) whose weights it moves. When the
target's pod template changes it scales the target up, moves the canary's weight through
`stepWeights` every `interval` while the metric checks pass, copies the target to the primary
and scales the target down again; `threshold` failed checks roll it back.

So what modelstack plans here, and what it leaves alone:
- one workload `<name>` (the target), whose `spec.replicas` Flagger sets from then on: the
  target keeps it out of later applies (ignoreChanges), so `pulumi up` never fights it;
- no `<name>` Service and no HTTPRoute for the deployment: Flagger creates both (an existing
  Service of that name would be taken over and rewritten); the route's path, hosts and
  timeout become the Canary's `service` fields instead;
- one MetricTemplate per check, over the engine's own series on the target's pods (the
  candidate), queried from `modelstack:kubernetes.prometheus`. Flagger fills `{{ interval }}`
  in; every stack value in the query is a quoted PromQL string;
- with autoscaling, the target's autoscaler stays modelstack's and the Canary names it
  (`autoscalerRef`): Flagger copies it to `<name>-primary` over its primary and owns the copy
  (pkg/canary/scaled_object_reconciler.go, hpa_reconciler.go at v1.44.0). A ScaledObject's
  Prometheus triggers select the target's pods, so the copy gets its own queries
  (`primaryScalerQueries`, keyed by trigger name), built by the same builder over the
  primary's pods: Flagger's fallback rewrites the target's name wherever it occurs in the
  query text. Between analyses Flagger pauses the original (the annotation
  `autoscaling.keda.sh/paused-replicas: "0"`, which modelstack never renders on a serving
  slot's ScaledObject, so server-side apply leaves it to Flagger) and resumes it for one.
  Flagger rewrites its copy at a promotion only (pkg/controller/scheduler.go): a change to
  `autoscaling` reaches the primary with the next version it promotes.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from components import identity
from components.catalog.engines import ENGINES, Engine
from components.catalog.engines.request_metrics import RequestMetrics
from components.planning.plan_model import RoutePlan, SlotPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.progressive_plan import (
    MetricCheckPlan,
    PrimaryScalerPlan,
    ProgressivePlan,
)
from components.planning.promql import error_ratio, quantile
from components.planning.scaling_queries import LATENCY_QUANTILE, pod_selector, workload_query
from components.spec_progressive import ProgressiveSpec

# Flagger's template variable for the metric's own window (its Go template fills it in).
INTERVAL_VARIABLE = "{{ interval }}"
# Failed checks before Flagger rolls back: one bad interval may be a burst of long prompts.
FAILED_CHECKS = 2
PROVIDER = "gatewayapi:v1"
# Flagger's label for the Deployments it selects by (its default -selector-labels include it).
SELECTOR_LABEL = identity.APP_NAME
SCALER_KINDS = {"hpa": "HorizontalPodAutoscaler", "keda": "ScaledObject"}


def plan_progressive(
    ctx: PlanningContext,
    issues: IssueCollector,
    engine: Engine,
    slots: Sequence[SlotPlan],
    route: RoutePlan | None,
    service_port: int,
    rollout_seconds: int,
) -> ProgressivePlan | None:
    """The Canary and its checks, or None (problems reported, every one at once)."""
    progressive = ctx.spec.rollout.progressive
    if progressive is None:
        return None
    key = ("rollout", "progressive")
    if not ctx.profile.progressive_delivery:
        issues.report(*key, message=str(ctx.profile.progressive_delivery.refusal))
        return None
    settings = ctx.stack.kubernetes
    before = len(issues.issues)
    if settings.gateway is None:
        issues.report(
            *key,
            message="Flagger's Gateway API provider moves an HTTPRoute's weights: set "
            "modelstack:kubernetes.gateway (any Gateway API implementation)",
        )
    if route is None:
        issues.report(*key, message="Flagger weighs the deployment's route: add route: {path: ...}")
    if settings.prometheus is None:
        issues.report(
            *key,
            message="the checks are Prometheus queries: set modelstack:kubernetes.prometheus "
            "(e.g. http://prometheus.monitoring:9090)",
        )
    _refuse_combinations(ctx, issues, slots)
    target = slots[0].workload_name
    checks = _checks(ctx, issues, engine.name, engine.request_metrics, progressive, target)
    if len(issues.issues) > before or route is None or settings.gateway is None:
        return None
    primary = identity.flagger_primary(target)
    autoscaler = _primary_scaler(ctx, engine, slots[0])
    scaler_copy = (
        () if autoscaler is None else ((SCALER_KINDS[autoscaler.kind], autoscaler.primary_name),)
    )
    return ProgressivePlan(
        canary=ctx.spec.name,
        target=target,
        primary=primary,
        step_weights=tuple(progressive.steps),
        interval=progressive.interval,
        failed_checks=FAILED_CHECKS,
        progress_deadline_seconds=rollout_seconds,
        service_port=service_port,
        gateway_name=settings.gateway.name,
        gateway_namespace=settings.gateway.namespace,
        path=route.path,
        hosts=route.hosts,
        timeout_seconds=route.timeout_seconds,
        prometheus=str(settings.prometheus),
        checks=tuple(checks),
        flagger_owns=(
            ("Deployment", primary),
            ("Service", identity.stable_service(ctx.spec.name)),
            ("Service", primary),
            ("Service", identity.flagger_canary_service(target)),
            ("HTTPRoute", identity.stable_service(ctx.spec.name)),
            *scaler_copy,
        ),
        autoscaler=autoscaler,
    )


def _primary_scaler(
    ctx: PlanningContext, engine: Engine, target: SlotPlan
) -> PrimaryScalerPlan | None:
    """The target's autoscaler for the Canary's autoscalerRef, with the primary's queries."""
    autoscaling = target.autoscaling
    if autoscaling is None:
        return None
    primary = identity.flagger_primary(target.workload_name)
    queries = []
    for metric in autoscaling.metrics:
        if metric.query is None:
            continue  # cpu and memory: read from the scale target's own pods
        query = workload_query(
            metric.type, engine.request_metrics, ctx.namespace, primary, target.gpu_count
        )
        if query is None:
            raise ValueError(f"{metric.type} has a query over {target.workload_name} only")
        queries.append((metric.trigger, query))
    return PrimaryScalerPlan(
        kind=autoscaling.kind,
        name=autoscaling.name,
        primary_name=identity.flagger_primary(autoscaling.name),
        primary_queries=tuple(queries),
    )


def _refuse_combinations(
    ctx: PlanningContext, issues: IssueCollector, slots: Sequence[SlotPlan]
) -> None:
    spec = ctx.spec
    autoscaling = spec.autoscaling
    # Flagger copies the autoscaler to its primary, which serves: neither copy may idle at
    # zero. Flagger halts an analysis while the primary is at zero (pkg/canary/
    # deployment_ready.go), and its route sends to the primary's Service regardless.
    if autoscaling is not None and autoscaling.scale_to_zero.enabled:
        issues.report(
            "autoscaling",
            "scaleToZero",
            "enabled",
            message="the KEDA HTTP add-on holds requests for one workload behind the <name> "
            "Service, but Flagger's route sends to its own primary and canary Services, and "
            "its copy of the ScaledObject would count the requests held for the candidate: "
            "nothing would wake the primary. Remove scaleToZero with progressive",
        )
    if autoscaling is not None and autoscaling.outside_windows == "zero":
        issues.report(
            "autoscaling",
            "outsideWindows",
            message="Flagger copies the ScaledObject, idleReplicaCount included, to its "
            "primary, which serves: outside the windows its route would send to no replica, "
            "and Flagger halts an analysis while the primary is at zero. Use outsideWindows: "
            "range (the windows raise the floor of both copies)",
        )
    if spec.state == "stopped":
        issues.report(
            "state",
            message="Flagger's primary copy serves and is not modelstack's to scale: keep "
            "state: running, or remove progressive first",
        )
    if spec.pools:
        issues.report(
            "pools", message="Flagger weighs one Deployment against its primary: remove pools"
        )
    if spec.load_balancer.algorithm in ("inference_aware", "inference-aware"):
        issues.report(
            "loadBalancer",
            "algorithm",
            message="Flagger's route sends to its Services, not to InferencePools: use "
            "round_robin or least_connections with progressive",
        )
    if any(slot.group is not None for slot in slots):
        issues.report(
            "gpu",
            "nodes",
            message="Flagger takes over Deployments, and a model over several nodes is a "
            "LeaderWorkerSet: use gpu.nodes: 1 or a canary without progressive",
        )


def _checks(
    ctx: PlanningContext,
    issues: IssueCollector,
    engine: str,
    series: RequestMetrics | None,
    progressive: ProgressiveSpec,
    target: str,
) -> list[MetricCheckPlan]:
    """The error-rate and latency checks the stack file asks for, over the target's pods."""
    # The target's pods only: `<target>-primary-...` pods do not match its pattern.
    selector = pod_selector(ctx.namespace, target)
    checks = []
    if progressive.max_error_rate is not None:
        if series is None or not (series.failed and series.completed):
            issues.report(
                *("rollout", "progressive", "maxErrorRate"),
                message=f"{engine} exports no failed-request series; "
                f"{', '.join(_exporters(_has_errors))} export it (or use maxLatencyP95 alone)",
            )
        else:
            ratio = error_ratio(series.failed, series.completed, selector, INTERVAL_VARIABLE)
            checks.append(_check(ctx, "error-rate", f"100 * {ratio}", progressive.max_error_rate))
    if progressive.max_latency_p95 is not None:
        if series is None or not series.latency_bucket:
            issues.report(
                *("rollout", "progressive", "maxLatencyP95"),
                message=f"{engine} exports no request latency histogram; "
                f"{', '.join(_exporters(_has_latency))} export it",
            )
        else:
            p95 = quantile(LATENCY_QUANTILE, series.latency_bucket, selector, INTERVAL_VARIABLE)
            checks.append(_check(ctx, "latency", p95, progressive.max_latency_p95))
    return checks


def _check(ctx: PlanningContext, name: str, query: str, maximum: float) -> MetricCheckPlan:
    return MetricCheckPlan(
        name=name,
        template=identity.metric_template(ctx.spec.name, name),
        query=template_safe(query),
        maximum=maximum,
    )


def template_safe(query: str) -> str:
    """The query, checked to hold no Go template action but Flagger's `{{ interval }}`."""
    rest = query.replace(INTERVAL_VARIABLE, "")
    if "{{" in rest or "}}" in rest:
        raise ValueError(f"{query!r} holds template delimiters besides {INTERVAL_VARIABLE}")
    return query


def _has_errors(series: RequestMetrics) -> bool:
    return bool(series.failed and series.completed)


def _has_latency(series: RequestMetrics) -> bool:
    return bool(series.latency_bucket)


def _exporters(has: Callable[[RequestMetrics], bool]) -> list[str]:
    return [
        engine.name
        for engine in ENGINES.values()
        if engine.request_metrics is not None and has(engine.request_metrics)
    ]
