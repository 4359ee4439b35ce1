"""A Flagger Canary (flagger.app/v1beta1) -> where its analysis stands, and what it means for
the route of the deployment it moves. Pure; kubernetes_facts.py counts the replicas.

What is relied on, from Flagger's source at v1.44.0 (github.com/fluxcd/flagger):
- pkg/apis/flagger/v1beta1/status.go: `status.phase` (Initializing, Initialized, Waiting,
  Progressing, WaitingPromotion, Promoting, Finalising, Succeeded, Failed, Terminating,
  Terminated), `canaryWeight`, `failedChecks`, `iterations`, `lastTransitionTime`, and
  `conditions` of type Promoted whose message says the phase in words.
- pkg/controller/controller.go: a Canary without conditions gets Initializing on Flagger's
  first sync, so a Canary with no status at all has not been seen by Flagger.
- pkg/canary/status.go: every change of phase, weight, iterations or failed checks sets
  `lastTransitionTime`, so a Canary at work whose time stands still has nothing moving it.
- pkg/controller/scheduler.go: Flagger routes everything back to the primary and scales the
  target to zero (phase Failed) after `threshold` failed checks, or when the candidate is not
  ready within progressDeadlineSeconds; why is in its Warning events on the Canary ("Halt
  ... advancement ...", "Rolling back ..."). Its status then keeps failedChecks at 0.
"""

from __future__ import annotations

from components.kubernetes.manifests.flagger_canary import API_VERSION
from components.status.kubernetes_objects import (
    Obj,
    SnapshotIndex,
    condition_of,
    dig,
    event_time,
    timestamp,
)
from components.status.log_classifiers import EVIDENCE_LIMIT, shorten
from components.status.model import ErrorCode, Problem
from components.status.progressive_canary import CanaryReport, ExpectedCanary
from components.status.slot_rules import CanaryFacts, RouteFacts, RouteState

# The reader lists them: group, version and plural of Flagger's Canaries.
CANARY_RESOURCE = (*API_VERSION.split("/"), "canaries")

INITIALIZING = "Initializing"
FAILED = "Failed"
# The candidate runs beside the primary and may get a share (Flagger scales it up first).
ANALYSIS_PHASES = frozenset(
    {"Waiting", "Progressing", "WaitingPromotion", "Promoting", "Finalising"}
)
# The primary serves everything and the candidate is at zero: after a first start, a
# promotion, or a rollback.
SETTLED_PHASES = frozenset({"Initialized", "Succeeded", FAILED})
# Phases Flagger moves out of by itself; Waiting and WaitingPromotion wait for a person.
AT_WORK_PHASES = frozenset({INITIALIZING, "Progressing", "Promoting", "Finalising"})
# Flagger's event about the rollback itself, which names no cause.
_ROLLBACK_NOTICE = "Canary failed!"


def canary_phase(canary: Obj | None) -> str | None:
    """Flagger's phase; None where the Canary is missing or Flagger has not written one."""
    phase = dig(canary, "status", "phase") if canary is not None else None
    return str(phase) if phase else None


def candidate_counts(phase: str | None) -> bool:
    """The candidate's replicas belong to the slot only while an analysis runs (Flagger
    keeps it at zero otherwise)."""
    return phase in ANALYSIS_PHASES


def canary_facts(expected: ExpectedCanary, canary: Obj | None, index: SnapshotIndex) -> CanaryFacts:
    return CanaryFacts(
        report=canary_report(expected, canary),
        problems=rollback_problems(expected, canary, index),
        overdue=canary_overdue(expected, canary, index),
    )


def canary_report(expected: ExpectedCanary, canary: Obj | None) -> CanaryReport:
    phase = canary_phase(canary)
    status = (canary or {}).get("status") or {}
    weight = int(status.get("canaryWeight") or 0)
    failed = int(status.get("failedChecks") or 0)
    promoted = condition_of(canary, "Promoted") if canary is not None else None
    message = str((promoted or {}).get("message") or "")
    if canary is None:
        # Also what a role that may not read canaries.flagger.app sees.
        summary = (
            f"Canary {expected.name} not found: `pulumi up` creates it (or this role may "
            "not read canaries.flagger.app)"
        )
    elif phase is None:
        summary = (
            f"no status yet: Flagger has not picked up Canary {expected.name} "
            "(is Flagger running, and watching this namespace?)"
        )
    else:
        checks = "check" if failed == 1 else "checks"
        summary = f"{phase}, {weight}% to the candidate, {failed} failed {checks}"
        if message:
            summary += f" ({message.rstrip('.')})"
    return CanaryReport(
        name=expected.name,
        phase=phase,
        weight=weight,
        failed_checks=failed,
        iterations=int(status.get("iterations") or 0),
        last_transition=status.get("lastTransitionTime") or None,
        message=message,
        summary=summary,
    )


def canary_route(expected: ExpectedCanary, canary: Obj | None, report: CanaryReport) -> RouteFacts:
    """Flagger creates the Service and the HTTPRoute `<name>` and moves their traffic; the
    Canary's phase says where that stands (its objects carry none of modelstack's labels)."""
    phase = report.phase
    if canary is None or phase is None:
        return RouteFacts(RouteState.CONFIGURING, f"canary: {report.summary}")
    if phase in SETTLED_PHASES:
        message = f"Flagger's Service and route send everything to {expected.primary} ({phase})"
        return RouteFacts(RouteState.SERVING, message)
    if phase in ANALYSIS_PHASES:
        return RouteFacts(RouteState.ANALYSING, f"canary: {report.summary}")
    if phase == INITIALIZING:
        message = (
            f"Flagger initializes: {expected.primary}, then the Services and the route "
            f"(canary: {report.summary})"
        )
        return RouteFacts(RouteState.CONFIGURING, message)
    # Terminating, Terminated: the Canary is being deleted, and its objects with it.
    return RouteFacts(RouteState.CONFIGURING, f"Canary {expected.name} is being removed ({phase})")


def rollback_problems(
    expected: ExpectedCanary, canary: Obj | None, index: SnapshotIndex
) -> tuple[Problem, ...]:
    """Phase Failed: Flagger rolled the candidate back. What it says of why, and where to
    look (its events expire after an hour; `kubectl describe` shows those left)."""
    if canary is None or canary_phase(canary) != FAILED:
        return ()
    promoted = condition_of(canary, "Promoted") or {}
    said = str(promoted.get("message") or "phase Failed").rstrip(".")
    namespace = dig(canary, "metadata", "namespace")
    message = (
        f"Flagger rolled back {expected.target}: {said}; "
        f"`kubectl describe canary {expected.name} -n {namespace}` says why"
    )
    warnings = _warnings(expected, index)
    if warnings:
        message += ": " + "; ".join(warnings)
    return (Problem(ErrorCode.ROLLED_BACK, shorten(message), f"canary/{expected.name}"),)


def canary_overdue(
    expected: ExpectedCanary, canary: Obj | None, index: SnapshotIndex
) -> str | None:
    """A Canary Flagger never picked up, or one at work whose status stands still, past
    progressDeadlineSeconds and one interval (the window the plan gives its rollout)."""
    read_at = index.snapshot.read_at
    if canary is None or read_at is None:
        return None
    window = expected.stuck_after_seconds
    phase = canary_phase(canary)
    window_text = f"past its {window}s window (progressDeadlineSeconds and one interval)"
    if phase is None:
        created = dig(canary, "metadata", "creationTimestamp")
        waited = (read_at - timestamp(created)).total_seconds() if created else 0.0
        if waited <= window:
            return None
        return shorten(
            f"Canary {expected.name} has no status {waited:.0f}s after it was created, "
            f"{window_text}: Flagger has not picked it up; check that Flagger runs and "
            "watches this namespace (its log says which)"
        )
    if phase not in AT_WORK_PHASES:
        return None
    since = dig(canary, "status", "lastTransitionTime")
    still = (read_at - timestamp(since)).total_seconds() if since else 0.0
    if still <= window:
        return None
    text = (
        f"Canary {expected.name} has been {phase} with no change for {still:.0f}s, "
        f"{window_text}: nothing moves it (is Flagger running?)"
    )
    warnings = _warnings(expected, index)
    if warnings:
        text += f"; last event: {warnings[-1]}"
    return shorten(text)


def _warnings(expected: ExpectedCanary, index: SnapshotIndex) -> list[str]:
    """The newest two distinct Warning events Flagger recorded on the Canary, oldest first,
    leaving out the rollback notice that names no cause."""
    found: list[str] = []
    events = index.events_for("Canary", expected.name)
    for event in sorted(events, key=event_time, reverse=True):
        text = str(event.get("message") or "")
        if event.get("type") != "Warning" or text.startswith(_ROLLBACK_NOTICE):
            continue
        text = shorten(text, EVIDENCE_LIMIT)
        if text not in found:
            found.append(text)
        if len(found) == 2:
            break
    return found[::-1]
