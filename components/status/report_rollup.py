"""Slot facts -> slot, deployment and stack reports, the same for both targets.

A target hands over a function that finds the facts of one slot (kubernetes_facts.py,
docker_facts.py); slot_rules.py turns each into a slot report, and this module rolls them
up: a deployment's status from its slots', the stack's report with what is left over.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

from components.status.debug_commands import commands
from components.status.model import (
    DeploymentReport,
    DeploymentStatus,
    ExpectedDeployment,
    ExpectedSlot,
    InstanceRole,
    SlotReport,
    StackExpectation,
    StackReport,
)
from components.status.slot_rules import SlotFacts, slot_report

# What a target found for one slot of one deployment.
FactsOfSlot = Callable[[ExpectedDeployment, ExpectedSlot], SlotFacts]

# Slowest first: a deployment is as far as its slowest slot. A slot serving in part counts
# as further than one still coming up, and not as far as one serving fully.
_PROGRESS = (
    DeploymentStatus.REQUESTED,
    DeploymentStatus.DEPLOYING,
    DeploymentStatus.INITIALIZING,
    DeploymentStatus.DEGRADED,
    DeploymentStatus.DEPLOYED,
)


def deployment_status(slots: Sequence[SlotReport]) -> DeploymentStatus:
    """Any failing slot decides, then one past its window; else nothing serving means
    STOPPED; else the slowest slot."""
    statuses = {slot.status for slot in slots}
    for bad in (DeploymentStatus.FAILED, DeploymentStatus.ERROR, DeploymentStatus.OVERDUE):
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
        route_path=expected.route_path,
        debug_commands=_debug_commands(expected, slots),
    )


def _debug_commands(expected: ExpectedDeployment, slots: tuple[SlotReport, ...]) -> tuple[str, ...]:
    """Per workload, commands that name its ready engines first (none found: only those that
    need no instance name)."""
    if expected.debug_access is None:
        return ()
    found: list[str] = []
    for planned, slot in zip(expected.slots, slots, strict=True):
        engines = sorted(
            (i for i in slot.instances if i.role is InstanceRole.ENGINE),
            key=lambda instance: not instance.ready,
        )
        names = [i.name for i in engines]
        grouped = planned.group_size is not None
        found += commands(expected.debug_access, slot.workload, names, grouped)
    return tuple(found)


def stack_report(
    expectation: StackExpectation,
    deployments: tuple[DeploymentReport, ...],
    labelled: Iterable[str | None],
) -> StackReport:
    """The stack's report (both targets). `labelled`: the deployment label of everything found
    under the stack's namespace; those it no longer declares are reported as unmanaged."""
    declared = {deployment.name for deployment in expectation.deployments}
    declared |= set(expectation.external)
    return StackReport(
        stack=expectation.stack,
        target=expectation.target,
        namespace=expectation.namespace,
        context=expectation.context,
        deployments=deployments,
        unmanaged=tuple(sorted({name for name in labelled if name and name not in declared})),
        external=expectation.external,
    )


def report_from_facts(
    expectation: StackExpectation, facts_of: FactsOfSlot, labelled: Iterable[str | None]
) -> StackReport:
    """The stack's report: every slot the stack file expects, from what the target found."""
    deployments = tuple(
        deployment_report(
            deployment,
            tuple(slot_report(slot, facts_of(deployment, slot)) for slot in deployment.slots),
        )
        for deployment in expectation.deployments
    )
    return stack_report(expectation, deployments, labelled)
