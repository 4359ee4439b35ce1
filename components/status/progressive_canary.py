"""A progressive canary in status's words: what the plan expects of Flagger's Canary, and what
the report says of it (its phase, the candidate's share, failed checks).

Only the Kubernetes target hands a canary to Flagger (`rollout.progressive`), but these are
words of the shared report (model.py, slot_rules.py); kubernetes_canary_facts.py fills them in.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from components.spec_alerts import duration_seconds

if TYPE_CHECKING:
    from components.planning.plan_model import DeploymentPlan


@dataclass(frozen=True)
class ExpectedCanary:
    """The Canary a progressive deployment renders, and the names Flagger derives from it."""

    name: str
    # The Deployment modelstack keeps (the candidate) and Flagger's copy that serves.
    target: str
    primary: str
    # The Canary's progressDeadlineSeconds (the plan's rollout window) and analysis interval.
    deadline_seconds: int
    interval_seconds: int

    @classmethod
    def of(cls, deployment: DeploymentPlan) -> ExpectedCanary | None:
        """The deployment's Canary, if its plan hands the rollout to Flagger."""
        part = deployment.kubernetes
        if part is None or part.progressive is None:
            return None
        plan = part.progressive
        return cls(
            name=plan.canary,
            target=plan.target,
            primary=plan.primary,
            deadline_seconds=plan.progress_deadline_seconds,
            interval_seconds=duration_seconds(plan.interval),
        )

    @property
    def stuck_after_seconds(self) -> int:
        """How long a Canary at work may show no change before it counts as stuck: Flagger
        rolls back a candidate not ready within progressDeadlineSeconds, and looks once per
        interval, so a Canary unchanged for both has nothing moving it."""
        return self.deadline_seconds + self.interval_seconds


@dataclass(frozen=True)
class CanaryReport:
    """Where Flagger's analysis of the candidate stands, as the Canary's status says."""

    name: str
    # Flagger's phase (Initializing ... Succeeded, Failed); None: no status yet, or no Canary.
    phase: str | None
    # Percent of requests sent to the candidate.
    weight: int
    failed_checks: int
    iterations: int
    # When Flagger last changed the status (RFC 3339), None without a status.
    last_transition: str | None
    # The Promoted condition's message, in Flagger's words ("" without one).
    message: str
    # One line for people: "Progressing, 25% to the candidate, 0 failed checks".
    summary: str


def canary_json(report: CanaryReport | None) -> dict[str, Any] | None:
    if report is None:
        return None
    return {
        "name": report.name,
        "phase": report.phase,
        "canaryWeight": report.weight,
        "failedChecks": report.failed_checks,
        "iterations": report.iterations,
        "lastTransitionTime": report.last_transition,
        "message": report.message,
        "summary": report.summary,
    }
