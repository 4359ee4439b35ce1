"""pinned-image-tags: a floating tag makes two `pulumi up` runs deploy different code."""

from __future__ import annotations

from components.catalog.image_pinning import FLOATING_TAGS, image_problem
from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import workload_containers
from components.guardrails.subject import Subject, stack_deployment

# The container the stack file's `image:` sets; the others come from modelstack's code.
ENGINE_CONTAINER = "engine"
# The docker target pulls every image through one of these (its `name` is the reference).
DOCKER_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"


def check_pinned_images(subject: Subject) -> list[str]:
    if subject.type == DOCKER_REMOTE_IMAGE:
        problem = image_problem(subject.props.get("name"))
        return [f"{problem}: {_how_to_pin(True, subject)}"] if problem else []
    messages = []
    for container in workload_containers(subject):
        problem = image_problem(container.body.get("image"))
        if problem:
            from_stack = container.name == ENGINE_CONTAINER
            messages.append(f"{container.label} {problem}: {_how_to_pin(from_stack, subject)}")
    # A LeaderWorkerSet's leaders and workers run the same containers: say it once.
    return list(dict.fromkeys(messages))


def _how_to_pin(from_stack: bool, subject: Subject) -> str:
    if from_stack:
        return (
            "set `image: <repository>:<version>` or `<repository>@sha256:<digest>` on"
            f" {stack_deployment(subject)} (or on its rollout slot)"
        )
    return (
        "this image comes from modelstack's own defaults (engine catalog, loader and wait"
        " images), not the stack file: pin it there"
    )


PINNED_IMAGE_TAGS = ResourceGuardrail(
    name="pinned-image-tags",
    description=(
        "Every container image (engines, init containers, loader Jobs; docker images on the"
        " docker target) has a fixed tag or a digest: no missing tag and no floating tag"
        f" ({', '.join(sorted(FLOATING_TAGS))})."
    ),
    remediation="Set `image: <repository>:<version>` (or `@sha256:<digest>`) in the stack file.",
    check=check_pinned_images,
)
