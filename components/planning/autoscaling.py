"""Autoscaling: from a deployment's `autoscaling` block to one autoscaler per slot. Pure.

What gets decided here:
- the kind: an HPA (autoscaling/v2) when every metric is cpu or memory and nothing else is
  asked; otherwise a KEDA ScaledObject (request metrics from Prometheus, GPU utilization
  from the DCGM exporter, schedule windows as cron triggers, scale to zero);
- one query per metric from the engine catalog's series names;
- which slots scale: slots that receive traffic scale between min and max; a slot that
  does not (the idle blue-green slot) is held at its own setting, min (`idle: keep`) or
  zero (`idle: scale-to-zero`), by pausing its autoscaler rather than by `spec.replicas`,
  so a switch never moves ownership of the replica count between Pulumi and the autoscaler;
- scale to zero: KEDA scales to zero when idle and the HTTP add-on's interceptor holds the
  first request while a replica loads the model.

Several metrics and windows at once: HPA and KEDA compute a replica count per metric
(and per active window) and take the highest, within min and max. So the busiest signal
wins, overlapping windows give the larger minimum, and a window never lowers the count.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from components import identity
from components.catalog.engines import ENGINES, Engine
from components.cron_expressions import guided_window
from components.environments import EnvironmentDefaults
from components.planning.autoscaling_plan import (
    AutoscalingPlan,
    RequestHoldingPlan,
    ScalingMetricPlan,
    ScalingPolicyPlan,
    ScalingRulesPlan,
    ScheduleWindowPlan,
)
from components.planning.plan_model import SlotPlan
from components.planning.scaling_queries import (
    request_query,
    workload_query,
)
from components.spec import KubernetesSettings
from components.spec_autoscaling import AutoscalingSpec, MetricSpec, ScaleUpSpec

Problem = tuple[tuple[str | int, ...], str]

RESOURCE_METRICS = frozenset({"cpu", "memory"})
REQUEST_METRICS = frozenset(
    {"concurrency", "queue", "throughput", "latency", "kv-cache", "ttft", "itl"}
)
# One figure for the workload (a p95, a mean over the pods), not a sum over replicas: KEDA
# compares it with the target as is.
WORKLOAD_VALUE_METRICS = frozenset({"latency", "ttft", "itl", "kv-cache"})
# Zero outside windows: KEDA's own cooldown before the last replica goes.
WINDOW_COOLDOWN_SECONDS = 300
# In-flight requests per replica the HTTP add-on aims for when no concurrency target is set:
# high enough that the engine metrics, not the interceptor, drive scaling beyond one replica.
DEFAULT_INTERCEPTOR_CONCURRENCY = 100
# The KEDA HTTP add-on Helm chart's Service names and ports.
EXTERNAL_SCALER = "keda-add-ons-http-external-scaler"
EXTERNAL_SCALER_PORT = 9090
INTERCEPTOR = "keda-add-ons-http-interceptor-proxy"
INTERCEPTOR_PORT = 8080
# Without a route: as long as a route's default timeout. The add-on's own default (well
# under a second) would cut every generation that takes longer to send its headers.
DEFAULT_RESPONSE_HEADER_SECONDS = 300


@dataclass(frozen=True)
class AutoscalingContext:
    """What the plan already decided that autoscaling depends on."""

    deployment: str
    namespace: str
    environment: EnvironmentDefaults
    engine: Engine
    # Rollout: which slot idles, and what it keeps while idle.
    idle: str
    slots: Sequence[SlotPlan]
    kubernetes: KubernetesSettings
    replicas_set: bool
    has_pools: bool
    stable_service: str
    service_port: int
    startup_timeout_seconds: int
    # The route's timeout; None without a route.
    response_timeout_seconds: int | None


def plan_autoscaling(
    spec: AutoscalingSpec, context: AutoscalingContext
) -> dict[str, AutoscalingPlan] | list[Problem]:
    """Workload name -> its autoscaler, or problems at key paths under the deployment."""
    planner = _Planner(spec, context)
    plans = planner.plan()
    return planner.problems or plans


class _Planner:
    def __init__(self, spec: AutoscalingSpec, context: AutoscalingContext) -> None:
        self.spec = spec
        self.context = context
        self.problems: list[Problem] = []

    def problem(self, *path: str | int, message: str) -> None:
        self.problems.append((("autoscaling", *path), message))

    def plan(self) -> dict[str, AutoscalingPlan]:
        spec, context = self.spec, self.context
        self._check_fit()
        floor = self._floor()
        # Each slot's autoscaler reads its own pods' series.
        metrics = {slot.workload_name: self._metrics(slot) for slot in context.slots}
        if not spec.metric_list and not spec.schedule:
            self.problem(
                "metric",
                message="required: a metric to scale on (metric + target, or metrics: [...]), "
                "or schedule windows",
            )
        serving = [slot for slot in context.slots if slot.serving]
        if spec.scale_to_zero.enabled and len(serving) > 1:
            self.problem(
                "scaleToZero",
                "enabled",
                message="requests are held for one serving workload; a canary serves two",
            )
        if self.problems:
            # One problem per metric, not one per slot.
            self.problems = list(dict.fromkeys(self.problems))
            return {}
        zero_when_idle = spec.scale_to_zero.enabled or spec.outside_windows == "zero"
        held = {slot.workload_name: self._held(slot, floor) for slot in context.slots}
        resource_only = bool(spec.metric_list) and all(
            metric.type in RESOURCE_METRICS for _, metric in spec.metric_list
        )
        # HPA cannot hold a workload at zero nor read windows: those need KEDA.
        kind = (
            "hpa"
            if resource_only and not spec.schedule and not zero_when_idle and 0 not in held.values()
            else "keda"
        )
        holding = self._request_holding(serving[0]) if spec.scale_to_zero.enabled else None
        return {
            slot.workload_name: AutoscalingPlan(
                kind=kind,
                name=slot.workload_name,
                workload=slot.workload_name,
                min_replicas=floor,
                max_replicas=spec.max,
                metrics=tuple(m for m in metrics[slot.workload_name] if m is not None),
                scale_up=_rules(spec.behavior.scale_up),
                scale_down=_rules(spec.behavior.scale_down),
                windows=self._windows(),
                idle_replicas=0 if zero_when_idle else None,
                cooldown_seconds=self._cooldown(),
                held_replicas=held[slot.workload_name],
                prometheus=context.kubernetes.prometheus,
                request_holding=holding if slot.serving else None,
            )
            for slot in context.slots
        }

    def _metrics(self, slot: SlotPlan) -> list[ScalingMetricPlan | None]:
        metrics = [self._metric(path, metric, slot) for path, metric in self.spec.metric_list]
        if self.spec.outside_windows == "zero":
            # Only a window opens the workload; metrics size it while it is open.
            return [replace(m, wakes=False) if m else None for m in metrics]
        return metrics

    # -- rules that need the environment, the rollout and the cluster ---------------------

    def _check_fit(self) -> None:
        context, spec = self.context, self.spec
        if context.replicas_set:
            self.problems.append(
                (
                    ("replicas",),
                    "set replicas or autoscaling, not both: autoscaling.min and max bound the "
                    "replica count",
                )
            )
        if context.has_pools:
            self.problem(
                message="autoscaling with pools is not supported: each pool would need its own "
                "range; set replicas per pool"
            )
        environment = context.environment
        if environment.min_replicas > 1:
            reason = f"{environment.name} keeps at least {environment.min_replicas} replicas "
            if spec.scale_to_zero.enabled:
                self.problem(
                    "scaleToZero",
                    "enabled",
                    message=reason + "serving: scale to zero is for dev and staging",
                )
            if spec.outside_windows == "zero":
                self.problem(
                    "outsideWindows",
                    message=reason + "serving: use outsideWindows: range",
                )

    def _floor(self) -> int:
        environment, spec = self.context.environment, self.spec
        if spec.min is None:
            floor = environment.default_replicas
            if floor > spec.max:
                self.problem(
                    "max",
                    message=f"is below {environment.name}'s default of {floor} replicas: "
                    "set min or raise max",
                )
            return floor
        if spec.min < environment.min_replicas:
            self.problem(
                "min",
                message=f"{environment.name} runs at least {environment.min_replicas} replicas "
                f"(got {spec.min})",
            )
        return spec.min

    def _held(self, slot: SlotPlan, floor: int) -> int | None:
        """The count a slot without traffic keeps: its own setting, not the autoscaler's."""
        if slot.serving:
            return None
        return 0 if self.context.idle == "scale-to-zero" else floor

    # -- metrics ----------------------------------------------------------------------------

    def _metric(
        self, path: tuple[str | int, ...], metric: MetricSpec, slot: SlotPlan
    ) -> ScalingMetricPlan | None:
        if metric.type in RESOURCE_METRICS:
            return ScalingMetricPlan(metric.type, metric.target, metric_type="Utilization")
        context = self.context
        if context.kubernetes.prometheus is None:
            self.problem(
                *path,
                message=f"{metric.type} is read from Prometheus: set modelstack:kubernetes "
                "prometheus (e.g. http://prometheus.monitoring:9090)",
            )
            return None
        if metric.type == "gpu":
            return self._gpu_metric(path, metric, slot)
        engine = context.engine
        series = engine.request_metrics
        if series is None:
            self.problem(
                *path,
                message=f"{engine.name} exports no request metrics: scale on cpu or memory, "
                f"or set replicas ({', '.join(exporters_of(metric.type))} export "
                f"{metric.type})",
            )
            return None
        query = workload_query(
            metric.type, series, context.namespace, slot.workload_name, slot.gpu_count
        )
        if query is None:
            available = [
                name
                for name in sorted(REQUEST_METRICS)
                if request_query(name, series, "") is not None
            ]
            self.problem(
                *path,
                message=f"{engine.name} exports no series for {metric.type} "
                f"(it can scale on {', '.join(available)}); "
                f"{', '.join(exporters_of(metric.type))} export it",
            )
            return None
        return ScalingMetricPlan(
            metric.type,
            metric.target,
            query=query,
            metric_type="Value" if metric.type in WORKLOAD_VALUE_METRICS else "AverageValue",
        )

    def _gpu_metric(
        self, path: tuple[str | int, ...], metric: MetricSpec, slot: SlotPlan
    ) -> ScalingMetricPlan | None:
        if slot.hardware != "nvidia":
            where = "on CPU" if slot.hardware == "cpu" else "on AMD GPUs"
            self.problem(
                *path,
                message=f"gpu utilization comes from NVIDIA's DCGM exporter; this deployment "
                f"runs {where}",
            )
            return None
        context = self.context
        query = workload_query("gpu", None, context.namespace, slot.workload_name, slot.gpu_count)
        # An idle model still shows some GPU activity: utilization never wakes a workload.
        return ScalingMetricPlan("gpu", metric.target, query=query, wakes=False)

    # -- windows, zero, behavior ------------------------------------------------------------

    def _windows(self) -> tuple[ScheduleWindowPlan, ...]:
        windows = []
        for window in self.spec.schedule:
            if window.start is not None and window.end is not None:
                start, end = window.start, window.end
            else:
                start, end = guided_window(
                    list(window.days or []), window.wake_up or "", window.cool_down or ""
                )
            windows.append(ScheduleWindowPlan(window.timezone, start, end, window.min_replicas))
        return tuple(windows)

    def _cooldown(self) -> int | None:
        if self.spec.scale_to_zero.enabled:
            return self.spec.scale_to_zero.cooldown_seconds
        if self.spec.outside_windows == "zero":
            return WINDOW_COOLDOWN_SECONDS
        return None

    def _request_holding(self, slot: SlotPlan) -> RequestHoldingPlan:
        context = self.context
        add_on = context.kubernetes.keda_http_add_on.namespace
        concurrency = next(
            (m.target for _, m in self.spec.metric_list if m.type == "concurrency"),
            DEFAULT_INTERCEPTOR_CONCURRENCY,
        )
        return RequestHoldingPlan(
            name=identity.request_interceptor_route(context.deployment),
            workload=slot.workload_name,
            service=context.stable_service,
            port=context.service_port,
            host=f"{context.stable_service}.{context.namespace}.svc.cluster.local",
            interceptor=f"{INTERCEPTOR}.{add_on}:{INTERCEPTOR_PORT}",
            scaler_address=f"{EXTERNAL_SCALER}.{add_on}:{EXTERNAL_SCALER_PORT}",
            concurrency_target=max(1, round(concurrency)),
            condition_wait_seconds=context.startup_timeout_seconds,
            response_header_seconds=context.response_timeout_seconds
            or DEFAULT_RESPONSE_HEADER_SECONDS,
        )


def exporters_of(metric: str) -> list[str]:
    """The engines whose catalog series can feed `metric`."""
    return [
        engine.name
        for engine in ENGINES.values()
        if engine.request_metrics and request_query(metric, engine.request_metrics, "")
    ]


def _rules(direction: ScaleUpSpec) -> ScalingRulesPlan:
    return ScalingRulesPlan(
        stabilization_seconds=direction.stabilization_seconds,
        select_policy=direction.select_policy,
        policies=tuple(
            ScalingPolicyPlan(policy.type, policy.value, policy.period_seconds)
            for policy in direction.policies
        ),
    )
