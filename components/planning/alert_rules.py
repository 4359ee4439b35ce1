"""Alerts: a deployment's PrometheusRule, decided from its own `alerts`, the stack's
`monitoring.alerts` and the environment's defaults (in that order, field by field). Pure.

Four alerts, each over this deployment's objects only:
- error rate: the engine's failed requests in percent of all (engines with both series);
- p95 latency: the engine's end-to-end histogram (engines that export one);
- no ready replicas: a slot's Deployment wants replicas and has none available
  (kube-state-metrics); a slot held at zero wants none, so it never fires;
- engine pods pending: a pod stuck in Pending (no GPU node free, an image that never pulls).

Engine series are selected by the namespace and pod names Prometheus attaches to scraped
targets (scaling_queries.pod_selector, as autoscaling does), kube-state-metrics series by
their `namespace`, `deployment` and `pod` labels.
"""

from __future__ import annotations

from collections.abc import Sequence

from components import identity
from components.catalog.engines.request_metrics import RequestMetrics
from components.planning.alerts_plan import AlertRulePlan, AlertsPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.promql import error_ratio, names_pattern, number, quantile, string
from components.planning.scaling_queries import LATENCY_QUANTILE, pod_selector
from components.spec_alerts import AlertsSpec, duration_seconds

# Long enough to smooth single slow requests, short enough to alert within minutes.
ALERT_WINDOW = "5m"
# On every alert: the deployment it is about (Prometheus label names take no '-' or '.').
DEPLOYMENT_LABEL = "modelstack_deployment"


def plan_alerts(
    ctx: PlanningContext,
    issues: IssueCollector,
    series: RequestMetrics | None,
    workloads: Sequence[str],
) -> AlertsPlan | None:
    """The deployment's alerts, or None where there are none (problems reported)."""
    own, monitoring = ctx.spec.alerts, ctx.stack.kubernetes.monitoring
    if not ctx.profile.monitoring_objects:
        if own != AlertsSpec():
            issues.report(
                "alerts",
                message="alerts are PrometheusRules: they need the kubernetes target with "
                "modelstack:kubernetes.monitoring.enabled: true",
            )
        return None
    if not monitoring.enabled:
        needs = "alerts read what the ServiceMonitor scrapes: set monitoring.enabled: true"
        if own.enabled:
            issues.report("alerts", "enabled", message=needs)
        if monitoring.alerts.enabled and ctx.index == 0:
            # A stack key: said once, by the first deployment.
            issues.report_stack_key("kubernetes", "monitoring", "alerts", "enabled", message=needs)
        return None
    settings = _merged(own, monitoring.alerts)
    defaults = ctx.environment.alerts
    if not (settings.enabled if settings.enabled is not None else defaults.enabled):
        return None
    wait = duration_seconds(settings.for_) if settings.for_ else defaults.for_seconds
    pending = (
        duration_seconds(settings.pending_for)
        if settings.pending_for
        else defaults.pending_for_seconds
    )
    name = ctx.spec.name
    rules = [
        *_engine_rules(
            series,
            pod_selector(ctx.namespace, *workloads),
            error_percent=settings.error_rate_percent or defaults.error_rate_percent,
            latency_seconds=settings.latency_p95_seconds or defaults.latency_p95_seconds,
            wait=wait,
            deployment=name,
        ),
        _no_ready_replicas(ctx, workloads, wait),
        AlertRulePlan(
            alert="ModelstackEnginePodPending",
            expression=f"kube_pod_status_phase{{{pod_selector(ctx.namespace, *workloads)},"
            f"phase={string('Pending')}}} == 1",
            for_seconds=pending,
            summary=f"An engine pod of {name} cannot start: no node with free GPUs "
            "(or CPU and memory), or its image does not pull",
        ),
    ]
    return AlertsPlan(
        name=identity.alert_rules(name),
        group=f"modelstack.{ctx.namespace}.{name}",
        severity=defaults.severity,
        selector_labels=dict(monitoring.service_monitor_labels),
        alert_labels={DEPLOYMENT_LABEL: name, "namespace": ctx.namespace},
        rules=tuple(rules),
    )


def _merged(own: AlertsSpec, stack: AlertsSpec) -> AlertsSpec:
    """The deployment's fields where it sets them, the stack's elsewhere."""
    values = {
        field: getattr(own, field) if getattr(own, field) is not None else getattr(stack, field)
        for field in AlertsSpec.model_fields
    }
    return AlertsSpec.model_construct(**values)


def _engine_rules(
    series: RequestMetrics | None,
    selector: str,
    *,
    error_percent: float,
    latency_seconds: float,
    wait: int,
    deployment: str,
) -> list[AlertRulePlan]:
    rules: list[AlertRulePlan] = []
    if series is None:
        return rules
    if series.failed and series.completed:
        ratio = error_ratio(series.failed, series.completed, selector, ALERT_WINDOW)
        rules.append(
            AlertRulePlan(
                alert="ModelstackHighErrorRate",
                expression=f"100 * {ratio} > {number(error_percent)}",
                for_seconds=wait,
                summary=f"More than {number(error_percent)}% of {deployment}'s requests fail",
            )
        )
    if series.latency_bucket:
        p95 = quantile(LATENCY_QUANTILE, series.latency_bucket, selector, ALERT_WINDOW)
        rules.append(
            AlertRulePlan(
                alert="ModelstackHighLatency",
                expression=f"{p95} > {number(latency_seconds)}",
                for_seconds=wait,
                summary=f"{deployment}'s p95 latency is above {number(latency_seconds)} s",
            )
        )
    return rules


def _no_ready_replicas(ctx: PlanningContext, workloads: Sequence[str], wait: int) -> AlertRulePlan:
    deployments = (
        f"namespace={string(ctx.namespace)},deployment=~{string(names_pattern(workloads))}"
    )
    autoscaling = ctx.spec.autoscaling
    # Waking from zero loads the model: no replica is ready until then, by design.
    cold_starts = autoscaling is not None and (
        autoscaling.scale_to_zero.enabled or autoscaling.outside_windows == "zero"
    )
    return AlertRulePlan(
        alert="ModelstackNoReadyReplicas",
        expression=(
            f"kube_deployment_status_replicas_available{{{deployments}}} < 1 "
            f"and on (namespace, deployment) kube_deployment_spec_replicas{{{deployments}}} > 0"
        ),
        for_seconds=max(wait, ctx.spec.startup_timeout_seconds) if cold_starts else wait,
        summary=f"A workload of {ctx.spec.name} wants replicas and has none ready",
    )
