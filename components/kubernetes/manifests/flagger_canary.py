"""A progressive canary's Flagger objects (flagger.app/v1beta1), from its ProgressivePlan.

The Canary names the target Deployment modelstack keeps; Flagger creates the primary copy,
the `<name>`, `<name>-primary` and `<name>-canary` Services and the HTTPRoute `<name>` on the
stack's Gateway (path prefix rewritten to `/` for the engine, as modelstack's own routes do).
One MetricTemplate per check holds its PromQL; the Canary's metrics name them. With
autoscaling, `autoscalerRef` names the target's HPA or ScaledObject, which Flagger copies to
`<name>-primary` (a ScaledObject's Prometheus triggers with `primaryScalerQueries`, keyed by
trigger name: pkg/canary/scaled_object_reconciler.go at v1.44.0).
"""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels
from components.kubernetes.manifests.autoscaler import KEDA_API
from components.kubernetes.manifests.pod import PORT_NAME
from components.plan import DeploymentPlan
from components.planning.progressive_plan import (
    MetricCheckPlan,
    PrimaryScalerPlan,
    ProgressivePlan,
)

API_VERSION = "flagger.app/v1beta1"
PROVIDER = "gatewayapi:v1"


def canary(deployment: DeploymentPlan, plan: ProgressivePlan) -> dict[str, Any]:
    service: dict[str, Any] = {
        "port": plan.service_port,
        "portName": PORT_NAME,
        "targetPort": PORT_NAME,
        "gatewayRefs": [{"name": plan.gateway_name, "namespace": plan.gateway_namespace}],
        "match": [{"uri": {"prefix": plan.path}}],
        # Long enough for streamed generations, as the route modelstack renders otherwise:
        # the route's request and backendRequest timeouts.
        "timeout": f"{plan.timeout_seconds}s",
        "backendTimeout": f"{plan.timeout_seconds}s",
    }
    if plan.path != "/":
        service["rewrite"] = {"uri": "/"}
    if plan.hosts:
        service["hosts"] = list(plan.hosts)
    spec: dict[str, Any] = {
        "provider": PROVIDER,
        "targetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": plan.target},
    }
    if plan.autoscaler is not None:
        spec["autoscalerRef"] = autoscaler_ref(plan.autoscaler)
    spec.update(
        {
            "progressDeadlineSeconds": plan.progress_deadline_seconds,
            "service": service,
            "analysis": {
                "interval": plan.interval,
                "threshold": plan.failed_checks,
                "stepWeights": list(plan.step_weights),
                "metrics": [_metric(deployment, plan, check) for check in plan.checks],
            },
        }
    )
    return {
        "apiVersion": API_VERSION,
        "kind": "Canary",
        "metadata": _metadata(deployment, plan.canary),
        "spec": spec,
    }


def autoscaler_ref(scaler: PrimaryScalerPlan) -> dict[str, Any]:
    """The target's autoscaler; Flagger reads it and creates `<name>-primary` from it."""
    if scaler.kind == "hpa":
        api_version, kind = "autoscaling/v2", "HorizontalPodAutoscaler"
    else:
        api_version, kind = KEDA_API, "ScaledObject"
    ref: dict[str, Any] = {"apiVersion": api_version, "kind": kind, "name": scaler.name}
    if scaler.primary_queries:
        # Given, Flagger sets each named trigger's query and leaves the others as they are;
        # every trigger with a query is named here.
        ref["primaryScalerQueries"] = dict(scaler.primary_queries)
    return ref


def metric_template(
    deployment: DeploymentPlan, plan: ProgressivePlan, check: MetricCheckPlan
) -> dict[str, Any]:
    return {
        "apiVersion": API_VERSION,
        "kind": "MetricTemplate",
        "metadata": _metadata(deployment, check.template),
        "spec": {
            "provider": {"type": "prometheus", "address": plan.prometheus},
            "query": check.query,
        },
    }


def primary_disruption_budget(deployment: DeploymentPlan, plan: ProgressivePlan) -> dict[str, Any]:
    """Flagger copies no budget to its primary, which serves: this one covers its pods."""
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": _metadata(deployment, plan.primary),
        "spec": {
            "maxUnavailable": deployment.on_kubernetes.disruption_budget,
            "selector": {"matchLabels": {identity.APP_NAME: plan.primary}},
        },
    }


def flagger_objects(deployment: DeploymentPlan, plan: ProgressivePlan) -> list[dict[str, Any]]:
    """The MetricTemplates first: the Canary names them."""
    templates = [metric_template(deployment, plan, check) for check in plan.checks]
    budget = deployment.on_kubernetes.disruption_budget is not None
    return [
        *templates,
        canary(deployment, plan),
        *([primary_disruption_budget(deployment, plan)] if budget else []),
    ]


def _metric(
    deployment: DeploymentPlan, plan: ProgressivePlan, check: MetricCheckPlan
) -> dict[str, Any]:
    return {
        "name": check.name,
        "templateRef": {"name": check.template, "namespace": deployment.namespace},
        "thresholdRange": {"max": check.maximum},
        "interval": plan.interval,
    }


def _metadata(deployment: DeploymentPlan, name: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": deployment.namespace,
        "labels": labels.common(deployment, identity.PROGRESSIVE_DELIVERY),
    }
