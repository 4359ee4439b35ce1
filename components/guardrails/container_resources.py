"""container-resources: without requests the scheduler over-packs nodes; without limits one
runaway engine starves its neighbours."""

from __future__ import annotations

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import workload_containers
from components.guardrails.subject import Subject, stack_deployment
from components.nested_values import dig

REQUIRED = (
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
)


def check_container_resources(subject: Subject) -> list[str]:
    messages = []
    for container in workload_containers(subject):
        missing = [
            f"{kind}.{resource}"
            for kind, resource in REQUIRED
            if dig(container.body, "resources", kind, resource) in (None, "")
        ]
        if missing:
            messages.append(
                f"{container.label} has no resources.{', resources.'.join(missing)}: set"
                f" `resources: {{cpu: ..., memory: ...}}` on {stack_deployment(subject)}"
                " (modelstack derives requests and limits from it)"
            )
    # A LeaderWorkerSet's leaders and workers run the same containers: say it once.
    return list(dict.fromkeys(messages))


CONTAINER_RESOURCES = ResourceGuardrail(
    name="container-resources",
    description=(
        "Every container, init containers and loader Jobs included, sets CPU and memory"
        " requests and limits."
    ),
    remediation="Set `resources: {cpu: ..., memory: ...}` on the deployment in the stack file.",
    check=check_container_resources,
)
