"""A docker stack's containers -> its StackReport. Pure and deterministic.

The docker counterpart of kubernetes_facts.derive_stack: the facts of every slot the stack
file expects (docker_facts.py) through the rules both targets share (slot_rules.py,
report_rollup.py). A reader fetches what `logs_wanted` names, then calls
`derive_docker_stack` (docker_reader.py).
"""

from __future__ import annotations

from components.identity import DEPLOYMENT
from components.status.docker_containers import (
    DockerSnapshot,
    StackContainers,
    container_name,
    labels_of,
    logs_wanted,
)
from components.status.docker_facts import slot_facts
from components.status.model import StackExpectation, StackReport
from components.status.report_rollup import report_from_facts

__all__ = ["DockerSnapshot", "container_name", "derive_docker_stack", "logs_wanted"]


def derive_docker_stack(expectation: StackExpectation, snapshot: DockerSnapshot) -> StackReport:
    containers = StackContainers(expectation.namespace, snapshot)
    # Containers left under the stack's namespace of deployments it no longer declares.
    labelled = (labels_of(container).get(DEPLOYMENT) for container in containers.by_name.values())
    return report_from_facts(
        expectation, lambda deployment, slot: slot_facts(deployment, slot, containers), labelled
    )
