"""A slot's facts -> its conditions, status and report: the same rules for every target.

A target's status module reads what runs (Kubernetes objects, Docker containers) and says
what it found, per slot, as `SlotFacts`: where the cache loader stands, how many engine
replicas are ready and what keeps the others from serving, what the route does, and each
in the target's own words (a condition's message names a Job or a container). Everything
decided from there is decided here, once: which condition holds and with what reason,
which problem counts first, each cause reported once, and the slot's status.

The ladder, in order: the cache (CacheReady), then the engines (RuntimeReady), then the
route (RoutingReady); Ready is the first of them that is not ready. The slot's status
reads them with its problems: a slot scaled to zero is STOPPED; a problem makes it ERROR or
FAILED, unless the slot still serves through some replicas and its route (DEGRADED);
nothing under way is REQUESTED; one past the window the plan gives it is OVERDUE; and the
rest is DEPLOYED, DEPLOYING or INITIALIZING by how far the ladder got. Progressing and
Degraded say the same from the status: coming up within the window, and serving in part.
A canary that a controller moves (`CanaryFacts`) adds its word: an analysis under way holds
RoutingReady at CanaryAnalysis, a rollback is a problem (DEGRADED while the serving copy
answers), and an analysis with nothing changing past its window is OVERDUE.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from components.status.model import (
    Condition,
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    ExpectedSlot,
    Instance,
    Problem,
    SlotReport,
    problem_status,
)
from components.status.progressive_canary import CanaryReport

# -- what a target found --------------------------------------------------------------------


class LoaderState(StrEnum):
    """Where the loader that fills the slot's cache stands."""

    ABSENT = "absent"  # not there: not created yet, or removed since
    WAITING = "waiting"  # created, not started
    COPYING = "copying"  # at work (its problems say when an attempt cannot start)
    FAILED = "failed"  # gave up (its problems say why)
    COMPLETE = "complete"  # finished: the cache holds the model


@dataclass(frozen=True)
class CacheFacts:
    # None: the model is read where it is; nothing fills a cache.
    loader: LoaderState | None
    # The loader's state in the target's words ("loader Job x is copying the model").
    message: str = ""
    # Why filling the cache fails: a loader that gave up, attempts that cannot start.
    problems: tuple[Problem, ...] = ()
    # No loader left, but the engines show the cache was complete: the evidence, else None.
    found_by_engines: str | None = None
    # Still copying after the plan's window for a download: the window and the evidence.
    overdue: str | None = None


@dataclass(frozen=True)
class RuntimeFacts:
    # Replicas the target aims for (an autoscaler may have changed the plan's count).
    desired: int
    ready: int
    # What the engines do, in the target's words ("1/2 replicas ready, ...").
    message: str
    # Why engines do not serve, most specific first.
    problems: tuple[Problem, ...] = ()
    # The workload object does not exist yet (Kubernetes: the Deployment). Targets whose
    # replicas are the workload (Docker containers) never say so.
    missing: bool = False
    # Scaled to zero on purpose (a missing workload is not stopped, it is not there yet).
    stopped: bool = False
    # Every replica ready on the current configuration, nothing else left.
    complete: bool = False
    # Some engine runs and loads the model, not answering yet.
    loading: bool = False
    # Scaled to zero, but engines still run until the target removes them.
    winding_down: bool = False
    # Ready replicas that run what the stack file asks for now and that requests reach; 0
    # where the target cannot tell (replicas of an earlier version still around).
    answering: int = 0
    # Still coming up after the window the plan gives it: the window and the evidence, in
    # the target's words (None: within it, or the target cannot tell).
    overdue: str | None = None


class RouteState(StrEnum):
    """What the route does for the slot; `ROUTE_CONDITIONS` says what each state means."""

    CONFIGURING = "configuring"  # not in place yet (missing, or starting)
    SWITCHING = "switching"  # still points where the stack file no longer says
    DOWN = "down"  # the proxy that routes (the docker gateway) does not run
    UNHEALTHY = "unhealthy"  # it runs and fails its health check
    SERVING = "serving"  # the serving slot, reached through the stable route
    # In place, but reaching the engines only in part: a Gateway refuses the route or some
    # of its backends, or the docker gateway cannot reach some engines.
    INCOMPLETE = "incomplete"
    SLOT_ROUTE = "slot-route"  # not serving; reachable through a route of its own
    IDLE = "idle"  # not serving, and nothing routes to it by design
    # A canary analysis under way: the serving copy answers, a candidate gets a share until
    # the controller that moves it (Flagger) promotes it or rolls it back.
    ANALYSING = "analysing"


ROUTE_CONDITIONS: dict[RouteState, tuple[bool, str]] = {
    RouteState.CONFIGURING: (False, "ConfiguringRoute"),
    RouteState.SWITCHING: (False, "Switching"),
    RouteState.DOWN: (False, "GatewayDown"),
    RouteState.UNHEALTHY: (False, "GatewayUnhealthy"),
    RouteState.SERVING: (True, "RouteReady"),
    RouteState.INCOMPLETE: (False, "RouteIncomplete"),
    RouteState.SLOT_ROUTE: (True, "SlotRoute"),
    RouteState.IDLE: (True, "Idle"),
    RouteState.ANALYSING: (False, "CanaryAnalysis"),
}


@dataclass(frozen=True)
class RouteFacts:
    state: RouteState
    # The route in the target's words ("Service llama selects this slot").
    message: str
    # Why nothing (or not everything) reaches the slot: a gateway that stopped, a route a
    # Gateway refuses, engines the docker gateway cannot reach.
    problems: tuple[Problem, ...] = ()


@dataclass(frozen=True)
class CanaryFacts:
    """A canary that a controller moves by itself (Flagger): where its analysis stands."""

    report: CanaryReport
    # The controller gave up on the candidate and rolled it back: what it says of why.
    problems: tuple[Problem, ...] = ()
    # At work, with nothing changing past its window: the window and the evidence.
    overdue: str | None = None


@dataclass(frozen=True)
class SlotFacts:
    """Everything a target found for one slot of the plan."""

    cache: CacheFacts
    runtime: RuntimeFacts
    route: RouteFacts
    # Loaders and engines, as the target shows them.
    instances: tuple[Instance, ...] = ()
    # Something of the slot is on the target: engines, or a loader with work left (the
    # target says which count). False: the slot is REQUESTED.
    underway: bool = True
    # A progressive canary's analysis (None: the slot's rollout is the target's own).
    canary: CanaryFacts | None = None

    @property
    def rollback_problems(self) -> tuple[Problem, ...]:
        """What the controller moving a canary says of a rollback (none without one)."""
        return self.canary.problems if self.canary else ()

    @property
    def overdue(self) -> str | None:
        """Why the slot is past its window, if it is: the engines, the cache, the canary."""
        canary = self.canary.overdue if self.canary else None
        return self.runtime.overdue or self.cache.overdue or canary


def loader_overdue(what: str, copying_seconds: float | None, window: int | None) -> str | None:
    """A loader copying for longer than the plan's window for a download (both targets)."""
    if copying_seconds is None or window is None or copying_seconds <= window:
        return None
    return (
        f"{what} has copied for {copying_seconds:.0f}s, past its {window}s window: `pulumi up` "
        "stopped waiting; the engines start once it completes and `pulumi up` runs again"
    )


# -- conditions -----------------------------------------------------------------------------


def _failed(kind: ConditionType, reason: str, problems: tuple[Problem, ...]) -> Condition:
    first = problems[0]
    return Condition(kind, False, reason, f"{first.code.value}: {first.message}")


def cache_condition(facts: CacheFacts) -> Condition:
    kind = ConditionType.CACHE_READY
    if facts.loader is None:
        return Condition(kind, True, "NoDownload", "the model is read where it is; no cache")
    if facts.loader is LoaderState.COMPLETE:
        return Condition(kind, True, "CacheWarm", facts.message)
    if facts.problems:
        return _failed(kind, "CacheFailed", facts.problems)
    if facts.loader is LoaderState.ABSENT and facts.found_by_engines:
        return Condition(kind, True, "CacheWarm", facts.found_by_engines)
    return Condition(kind, False, _WAITING_REASONS[facts.loader], facts.message)


_WAITING_REASONS = {
    LoaderState.ABSENT: "WaitingForCache",
    LoaderState.WAITING: "WaitingForCache",
    LoaderState.COPYING: "CacheWarming",
    LoaderState.FAILED: "CacheFailed",  # without a problem to show: the target's words
}


def runtime_condition(facts: RuntimeFacts) -> Condition:
    kind = ConditionType.RUNTIME_READY
    if facts.missing:
        return Condition(kind, False, "CreatingRuntime", facts.message)
    if facts.stopped:
        return Condition(kind, False, "Stopped", facts.message)
    if facts.problems:
        return _failed(kind, "RuntimeFailed", facts.problems)
    if facts.complete:
        return Condition(kind, True, "RuntimeReady", facts.message)
    return Condition(kind, False, "CreatingRuntime", facts.message)


def routing_condition(facts: RouteFacts) -> Condition:
    status, reason = ROUTE_CONDITIONS[facts.state]
    return Condition(ConditionType.ROUTING_READY, status, reason, facts.message)


def ready_condition(*conditions: Condition) -> Condition:
    """Ready: every condition is; else the first that is not, with its reason."""
    failing = [condition for condition in conditions if not condition.status]
    if not failing:
        return Condition(ConditionType.READY, True, "Ready", "cache, runtime and routing ready")
    return Condition(ConditionType.READY, False, failing[0].reason, failing[0].message)


def distinct_problems(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    """Each cause once: replicas of a slot usually fail alike (the first source is kept)."""
    seen: dict[tuple[ErrorCode, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.code, problem.message), problem)
    return tuple(seen.values())


# -- the slot -------------------------------------------------------------------------------


def slot_status(
    facts: SlotFacts,
    conditions: Mapping[ConditionType, Condition],
    problems: tuple[Problem, ...],
) -> DeploymentStatus:
    runtime = facts.runtime
    if runtime.stopped and not runtime.missing:
        # Stopped in the stack file, engines still up: the target has not removed them yet.
        return DeploymentStatus.DEPLOYING if runtime.winding_down else DeploymentStatus.STOPPED
    failing = problem_status(problems)
    if failing is not None or facts.route.state is RouteState.INCOMPLETE:
        if serves_in_part(facts):
            return DeploymentStatus.DEGRADED
        if failing is not None:
            return failing
    if not facts.underway:
        return DeploymentStatus.REQUESTED
    if conditions[ConditionType.READY].status:
        return DeploymentStatus.DEPLOYED
    if facts.overdue:
        return DeploymentStatus.OVERDUE
    if conditions[ConditionType.RUNTIME_READY].status:
        return DeploymentStatus.DEPLOYING  # engines ready, the route not there yet
    if not conditions[ConditionType.CACHE_READY].status:
        return DeploymentStatus.DEPLOYING
    if runtime.loading:
        return DeploymentStatus.INITIALIZING
    return DeploymentStatus.DEPLOYING


def serves_in_part(facts: SlotFacts) -> bool:
    """Requests still reach some replica on the current configuration, whatever else fails
    (a cache that failed is never a part that serves)."""
    return (
        facts.runtime.answering > 0 and facts.route.state in _REACHING and not facts.cache.problems
    )


# Route states through which requests reach the slot (a refused Gateway route still leaves
# the in-cluster Service).
_REACHING = frozenset(
    {
        RouteState.SERVING,
        RouteState.INCOMPLETE,
        RouteState.SLOT_ROUTE,
        RouteState.IDLE,
        RouteState.ANALYSING,
    }
)
_COMING_UP = frozenset(
    {DeploymentStatus.REQUESTED, DeploymentStatus.DEPLOYING, DeploymentStatus.INITIALIZING}
)


def progressing_condition(
    facts: SlotFacts, ready: Condition, status: DeploymentStatus
) -> Condition:
    """True while the slot comes up within its window; False once overdue or settled."""
    kind = ConditionType.PROGRESSING
    if status is DeploymentStatus.OVERDUE:
        return Condition(kind, False, "ProgressDeadlineExceeded", facts.overdue or "")
    if status in _COMING_UP:
        return Condition(kind, True, "Progressing", ready.message)
    if status in (DeploymentStatus.ERROR, DeploymentStatus.FAILED):
        return Condition(kind, False, "Blocked", "held up by the problems below")
    return Condition(kind, False, "Settled", f"{status.value}: nothing left to roll out")


def degraded_condition(
    facts: SlotFacts, problems: tuple[Problem, ...], status: DeploymentStatus
) -> Condition:
    """True while the slot serves in part: what answers, and the first thing that fails."""
    kind = ConditionType.DEGRADED
    if status is DeploymentStatus.DEGRADED:
        runtime = facts.runtime
        rolled_back = facts.rollback_problems
        reason = "ReplicasFailing" if runtime.problems else "RouteIncomplete"
        if not runtime.problems and rolled_back:
            reason = "RolledBack"
        causes = runtime.problems or rolled_back or facts.route.problems or problems
        cause = f"{causes[0].code.value}: {causes[0].message}" if causes else facts.route.message
        message = f"{runtime.answering}/{runtime.desired} replicas answer; {cause}"
        return Condition(kind, True, reason, message)
    if status is DeploymentStatus.DEPLOYED:
        return Condition(kind, False, "FullyServing", "every replica and the route serve")
    return Condition(kind, False, "NotServing", f"the slot is {status.value}")


@dataclass(frozen=True)
class SlotDecision:
    conditions: dict[ConditionType, Condition]
    problems: tuple[Problem, ...]
    status: DeploymentStatus


def decide(facts: SlotFacts) -> SlotDecision:
    """Conditions (CacheReady, RuntimeReady, RoutingReady, Ready, Progressing, Degraded, in
    that order), each problem once, and the slot's status."""
    cache = cache_condition(facts.cache)
    runtime = runtime_condition(facts.runtime)
    routing = routing_condition(facts.route)
    ready = ready_condition(cache, runtime, routing)
    conditions = {condition.type: condition for condition in (cache, runtime, routing, ready)}
    problems = distinct_problems(
        facts.cache.problems
        + facts.runtime.problems
        + facts.route.problems
        + facts.rollback_problems
    )
    status = slot_status(facts, conditions, problems)
    for condition in (
        progressing_condition(facts, ready, status),
        degraded_condition(facts, problems, status),
    ):
        conditions[condition.type] = condition
    return SlotDecision(conditions, problems, status)


def slot_conditions(facts: SlotFacts) -> dict[ConditionType, Condition]:
    return decide(facts).conditions


def slot_report(slot: ExpectedSlot, facts: SlotFacts) -> SlotReport:
    decision = decide(facts)
    return SlotReport(
        slot=slot.slot,
        workload=slot.workload,
        serving=slot.serving,
        status=decision.status,
        desired_replicas=facts.runtime.desired,
        ready_replicas=facts.runtime.ready,
        conditions=tuple(decision.conditions.values()),
        instances=facts.instances,
        problems=decision.problems,
        setup=slot.setup,
        canary=facts.canary.report if facts.canary else None,
    )
