"""A deployment's PrometheusRule (monitoring.coreos.com/v1), translated from its AlertsPlan.

The rule carries the stack's ServiceMonitor labels: a Prometheus that selects the
ServiceMonitors by them (kube-prometheus-stack: `release`) selects the rule the same way.
"""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels
from components.plan import DeploymentPlan
from components.planning.alerts_plan import AlertRulePlan, AlertsPlan


def prometheus_rule(deployment: DeploymentPlan, plan: AlertsPlan) -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "PrometheusRule",
        "metadata": {
            "name": plan.name,
            "namespace": deployment.namespace,
            "labels": {
                **labels.common(deployment, identity.ALERT_RULES),
                **plan.selector_labels,
            },
        },
        "spec": {
            "groups": [
                {"name": plan.group, "rules": [_rule(plan, rule) for rule in plan.rules]},
            ]
        },
    }


def _rule(plan: AlertsPlan, rule: AlertRulePlan) -> dict[str, Any]:
    return {
        "alert": rule.alert,
        "expr": rule.expression,
        "for": duration(rule.for_seconds),
        "labels": {"severity": plan.severity, **plan.alert_labels},
        "annotations": {"summary": rule.summary},
    }


def duration(seconds: int) -> str:
    """Prometheus' duration in its largest whole unit: 300 -> "5m", 5400 -> "90m"."""
    for unit, size in (("h", 3600), ("m", 60)):
        if seconds % size == 0:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"
