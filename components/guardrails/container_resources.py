"""container-resources: without requests the scheduler over-packs nodes; without limits one
runaway engine starves its neighbours."""

from __future__ import annotations

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import containers, pod_spec
from components.guardrails.subject import Subject, stack_deployment
from components.guardrails.wire import dig

REQUIRED = (
    ("requests", "cpu"),
    ("requests", "memory"),
    ("limits", "cpu"),
    ("limits", "memory"),
)


def check_container_resources(subject: Subject) -> list[str]:
    spec = pod_spec(subject)
    if spec is None:
        return []
    messages = []
    for container in containers(spec):
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
    return messages


CONTAINER_RESOURCES = ResourceGuardrail(
    name="container-resources",
    description=(
        "Every container, init containers and loader Jobs included, sets CPU and memory"
        " requests and limits."
    ),
    remediation="Set `resources: {cpu: ..., memory: ...}` on the deployment in the stack file.",
    check=check_container_resources,
)
