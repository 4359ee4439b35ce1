"""What each environment implies, in one place (DESIGN section 4).

A deployment may override a default (an explicit `replicas`), never a rule
(prod runs at least two replicas).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class AlertDefaults:
    """Alerts where the stack file says nothing: prod alerts sooner and on less."""

    enabled: bool
    error_rate_percent: float
    latency_p95_seconds: float
    # Prometheus' `for` of the error, latency and no-replica alerts.
    for_seconds: int
    # How long an engine pod may stay Pending (a GPU node scaling up, a large image pulling).
    pending_for_seconds: int
    severity: str


@dataclass(frozen=True)
class EnvironmentDefaults:
    name: str
    default_replicas: int
    min_replicas: int
    pod_disruption_budget: bool
    # `pulumi destroy` refuses protected resources: weights take hours to fetch again.
    protect_cache: bool
    protect_secrets: bool
    spread_across_nodes: bool
    # Floating tags (`latest`, no tag) make two `pulumi up` runs deploy different code.
    require_pinned_images: bool
    alerts: AlertDefaults
    # The images modelstack chooses (wait container, loaders) by digest too, where known.
    pin_helper_digests: bool = False
    # `debugAccess` (a shell in the engines' pods) only with `allowInProd: true`.
    refuse_debug_access: bool = False


ENVIRONMENTS: dict[str, EnvironmentDefaults] = {
    "dev": EnvironmentDefaults(
        name="dev",
        default_replicas=1,
        min_replicas=0,
        pod_disruption_budget=False,
        protect_cache=False,
        protect_secrets=False,
        spread_across_nodes=False,
        require_pinned_images=False,
        alerts=AlertDefaults(
            enabled=False,
            error_rate_percent=10,
            latency_p95_seconds=120,
            for_seconds=900,
            pending_for_seconds=3600,
            severity="info",
        ),
    ),
    "staging": EnvironmentDefaults(
        name="staging",
        default_replicas=1,
        min_replicas=1,
        pod_disruption_budget=True,
        protect_cache=False,
        protect_secrets=False,
        spread_across_nodes=True,
        require_pinned_images=True,
        alerts=AlertDefaults(
            enabled=True,
            error_rate_percent=5,
            latency_p95_seconds=60,
            for_seconds=600,
            pending_for_seconds=1800,
            severity="warning",
        ),
    ),
    "prod": EnvironmentDefaults(
        name="prod",
        default_replicas=2,
        min_replicas=2,
        pod_disruption_budget=True,
        protect_cache=True,
        protect_secrets=True,
        spread_across_nodes=True,
        require_pinned_images=True,
        alerts=AlertDefaults(
            enabled=True,
            error_rate_percent=1,
            latency_p95_seconds=30,
            for_seconds=300,
            pending_for_seconds=900,
            severity="critical",
        ),
        pin_helper_digests=True,
        refuse_debug_access=True,
    ),
}
