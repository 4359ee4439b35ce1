"""The alerts part of a Kubernetes plan: one PrometheusRule per deployment, decided."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlertRulePlan:
    # The alert's name (Prometheus: letters and digits), the same for every deployment.
    alert: str
    expression: str
    # How long the expression must hold before the alert fires.
    for_seconds: int
    summary: str


@dataclass(frozen=True)
class AlertsPlan:
    name: str
    group: str
    severity: str
    # The labels the user's Prometheus selects rules by: the stack's ServiceMonitor labels.
    selector_labels: dict[str, str]
    # Labels on every alert: which deployment it is about.
    alert_labels: dict[str, str]
    rules: tuple[AlertRulePlan, ...]
