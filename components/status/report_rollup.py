"""Slot reports -> deployment and stack reports, the same for both targets."""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from components.status.model import (
    Condition,
    ConditionType,
    DeploymentReport,
    DeploymentStatus,
    ErrorCode,
    ExpectedDeployment,
    Problem,
    SlotReport,
    StackExpectation,
    StackReport,
)


def ready_condition(*conditions: Condition) -> Condition:
    failing = [condition for condition in conditions if not condition.status]
    if not failing:
        return Condition(ConditionType.READY, True, "Ready", "cache, runtime and routing ready")
    return Condition(ConditionType.READY, False, failing[0].reason, failing[0].message)


def distinct_problems(problems: tuple[Problem, ...]) -> tuple[Problem, ...]:
    """Each cause once: replicas of a slot usually fail the same way."""
    seen: dict[tuple[ErrorCode, str], Problem] = {}
    for problem in problems:
        seen.setdefault((problem.code, problem.message), problem)
    return tuple(seen.values())


_PROGRESS = (
    DeploymentStatus.REQUESTED,
    DeploymentStatus.DEPLOYING,
    DeploymentStatus.INITIALIZING,
    DeploymentStatus.DEPLOYED,
)


def deployment_status(slots: Sequence[SlotReport]) -> DeploymentStatus:
    """Any failing slot decides; else nothing serving means STOPPED; else the slowest slot."""
    statuses = {slot.status for slot in slots}
    for bad in (DeploymentStatus.FAILED, DeploymentStatus.ERROR):
        if bad in statuses:
            return bad
    serving = [slot for slot in slots if slot.serving]
    if all(slot.status is DeploymentStatus.STOPPED for slot in serving):
        return DeploymentStatus.STOPPED
    running = [slot.status for slot in slots if slot.status is not DeploymentStatus.STOPPED]
    return min(running, key=_PROGRESS.index)


def deployment_report(
    expected: ExpectedDeployment, slots: tuple[SlotReport, ...]
) -> DeploymentReport:
    """A deployment's report from its slots' (both targets)."""
    return DeploymentReport(
        name=expected.name,
        status=deployment_status(slots),
        endpoint=expected.endpoint,
        serving_slot=expected.serving_slot,
        hardware=expected.hardware,
        slots=slots,
    )


def stack_report(
    expectation: StackExpectation,
    deployments: tuple[DeploymentReport, ...],
    labelled: Iterable[str | None],
) -> StackReport:
    """The stack's report (both targets). `labelled`: the deployment label of everything found
    under the stack's namespace; those it no longer declares are reported as unmanaged."""
    declared = {deployment.name for deployment in expectation.deployments}
    return StackReport(
        stack=expectation.stack,
        target=expectation.target,
        namespace=expectation.namespace,
        context=expectation.context,
        deployments=deployments,
        unmanaged=tuple(sorted({name for name in labelled if name and name not in declared})),
    )
