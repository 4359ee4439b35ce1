"""Autoscaler manifests: an HPA (autoscaling/v2) or a KEDA ScaledObject per slot workload,
and the KEDA HTTP add-on's HTTPScaledObject for a deployment that scales to zero. Pure.

Custom resources pass to the cluster verbatim, so everything here is camelCase already.
Where several metrics (and active windows) apply, HPA, and KEDA through the HPA it
manages, compute a replica count for each and take the highest: no combining here.
"""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels, workloads
from components.plan import DeploymentPlan, SlotPlan
from components.planning.autoscaling_plan import (
    AutoscalingPlan,
    RequestHoldingPlan,
    ScalingMetricPlan,
    ScalingRulesPlan,
    ScheduleWindowPlan,
)
from components.planning.promql import number

KEDA_API = "keda.sh/v1alpha1"
HTTP_ADD_ON_API = "http.keda.sh/v1alpha1"
# KEDA scales the target to this count and stops autoscaling it (an idle blue-green slot).
PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"
# Our own ScaledObject carries the add-on's trigger next to the others: the add-on must not
# create a second ScaledObject for the same workload (KEDA allows one per workload).
SKIP_SCALED_OBJECT = "httpscaledobject.keda.sh/skip-scaledobject-creation"
# A threshold no query reaches: the metric still sizes the workload but never wakes it
# from zero (KEDA's activation), so only requests or a window do.
NEVER_ACTIVATES = "1e12"


def autoscaler(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, Any]:
    """The slot's HPA or ScaledObject; the slot must have an autoscaling plan."""
    plan = slot.autoscaling
    assert plan is not None, f"{slot.workload_name} has no autoscaler"
    if plan.kind == "hpa":
        return horizontal_pod_autoscaler(deployment, slot, plan)
    return scaled_object(deployment, slot, plan)


def horizontal_pod_autoscaler(
    deployment: DeploymentPlan, slot: SlotPlan, plan: AutoscalingPlan
) -> dict[str, Any]:
    # A held slot keeps its count with min = max: HPA has no pause.
    low = plan.min_replicas if plan.held_replicas is None else plan.held_replicas
    high = plan.max_replicas if plan.held_replicas is None else plan.held_replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": _metadata(deployment, slot, plan.name),
        "spec": {
            "scaleTargetRef": _target(deployment, plan.workload),
            "minReplicas": low,
            "maxReplicas": high,
            "metrics": [_resource_metric(metric) for metric in plan.metrics],
            "behavior": _behavior(plan),
        },
    }


def scaled_object(
    deployment: DeploymentPlan, slot: SlotPlan, plan: AutoscalingPlan
) -> dict[str, Any]:
    metadata = _metadata(deployment, slot, plan.name)
    if plan.held_replicas is not None:
        metadata["annotations"] = {PAUSED_REPLICAS: str(plan.held_replicas)}
    spec: dict[str, Any] = {
        "scaleTargetRef": _target(deployment, plan.workload),
        "minReplicaCount": plan.min_replicas,
        "maxReplicaCount": plan.max_replicas,
    }
    if plan.idle_replicas is not None:
        # Zero only while every trigger is inactive; min..max whenever one is active.
        spec["idleReplicaCount"] = plan.idle_replicas
        spec["cooldownPeriod"] = plan.cooldown_seconds
    spec["advanced"] = {"horizontalPodAutoscalerConfig": {"behavior": _behavior(plan)}}
    spec["triggers"] = _triggers(plan)
    return {
        "apiVersion": KEDA_API,
        "kind": "ScaledObject",
        "metadata": metadata,
        "spec": spec,
    }


def request_interceptor_route(
    deployment: DeploymentPlan, holding: RequestHoldingPlan
) -> dict[str, Any]:
    """Tells the add-on's interceptor to hold requests for this host until a replica is ready."""
    return {
        "apiVersion": HTTP_ADD_ON_API,
        "kind": "HTTPScaledObject",
        "metadata": {
            "name": holding.name,
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.REQUEST_INTERCEPTOR),
            "annotations": {SKIP_SCALED_OBJECT: "true"},
        },
        "spec": {
            "hosts": [holding.host],
            "scaleTargetRef": {
                **_target(deployment, holding.workload),
                "service": holding.service,
                "port": holding.port,
            },
            "scalingMetric": {"concurrency": {"targetValue": holding.concurrency_target}},
            "timeouts": {
                "conditionWait": f"{holding.condition_wait_seconds}s",
                "responseHeader": f"{holding.response_header_seconds}s",
            },
        },
    }


def _metadata(deployment: DeploymentPlan, slot: SlotPlan, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": deployment.namespace,
        "labels": {
            **labels.common(deployment, identity.AUTOSCALER),
            identity.SLOT: slot.slot,
            identity.INSTANCE: slot.workload_name,
        },
    }


def _target(deployment: DeploymentPlan, workload: str) -> dict[str, str]:
    """The slot's Deployment, or its LeaderWorkerSet (whose scale subresource counts groups)."""
    slot = next(s for s in deployment.slots if s.workload_name == workload)
    return workloads.scale_target(slot)


def _resource_metric(metric: ScalingMetricPlan) -> dict[str, Any]:
    return {
        "type": "Resource",
        "resource": {
            "name": metric.type,
            "target": {"type": "Utilization", "averageUtilization": int(metric.target)},
        },
    }


def _behavior(plan: AutoscalingPlan) -> dict[str, Any]:
    return {"scaleUp": _rules(plan.scale_up), "scaleDown": _rules(plan.scale_down)}


def _rules(rules: ScalingRulesPlan) -> dict[str, Any]:
    body: dict[str, Any] = {
        "stabilizationWindowSeconds": rules.stabilization_seconds,
        "selectPolicy": rules.select_policy,
    }
    if rules.policies:
        body["policies"] = [
            {"type": policy.type, "value": policy.value, "periodSeconds": policy.period_seconds}
            for policy in rules.policies
        ]
    return body


def _triggers(plan: AutoscalingPlan) -> list[dict[str, Any]]:
    zero_when_idle = plan.idle_replicas == 0
    triggers = [_metric_trigger(plan, metric, zero_when_idle) for metric in plan.metrics]
    triggers += [_window_trigger(index, window) for index, window in enumerate(plan.windows)]
    holding = plan.request_holding
    if holding is not None:
        # Pending requests at the interceptor: what wakes the workload from zero.
        triggers.append(
            {
                "type": "external-push",
                "name": "held-requests",
                "metadata": {
                    "scalerAddress": holding.scaler_address,
                    "httpScaledObject": holding.name,
                },
            }
        )
    return triggers


def _metric_trigger(
    plan: AutoscalingPlan, metric: ScalingMetricPlan, zero_when_idle: bool
) -> dict[str, Any]:
    if metric.query is None:
        # cpu and memory: KEDA reads them like the HPA does (they never wake from zero).
        return {
            "type": metric.type,
            "name": metric.trigger,
            "metricType": "Utilization",
            "metadata": {"value": number(metric.target)},
        }
    metadata = {
        "serverAddress": plan.prometheus or "",
        "query": metric.query,
        "threshold": number(metric.target),
    }
    if zero_when_idle and not metric.wakes:
        metadata["activationThreshold"] = NEVER_ACTIVATES
    return {
        "type": "prometheus",
        "name": metric.trigger,
        "metricType": metric.metric_type,
        "metadata": metadata,
    }


def _window_trigger(index: int, window: ScheduleWindowPlan) -> dict[str, Any]:
    # Inside the window the trigger asks for desiredReplicas; the highest request wins.
    return {
        "type": "cron",
        "name": f"window-{index}",
        "metadata": {
            "timezone": window.timezone,
            "start": window.start,
            "end": window.end,
            "desiredReplicas": str(window.min_replicas),
        },
    }
