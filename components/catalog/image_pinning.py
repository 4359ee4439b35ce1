"""What a pinned image is: one definition for the planner (refused at plan time in staging
and prod) and the pinned-image-tags guardrail (validate, policy pack).

A digest names exact bytes; a version tag is pinned by convention; a missing tag means
`:latest` (https://docs.docker.com/reference/cli/docker/image/pull/#pull-an-image-from-docker-hub),
and registries move the tags below on every release or build.
"""

from __future__ import annotations

FLOATING_TAGS = frozenset({"latest", "nightly", "edge", "main", "master"})


def image_problem(image: object) -> str | None:
    """Why `image` is not pinned, or None when it has a fixed tag or a digest."""
    if not isinstance(image, str) or not image.strip():
        return "has no image"
    if "@" in image:
        return None  # repo@sha256:... (with or without a tag) names exact bytes
    last_segment = image.rsplit("/", 1)[-1]  # registry:5000/repo has a port, not a tag
    if ":" not in last_segment:
        return f"uses '{image}' without a tag (the runtime pulls :latest)"
    tag = last_segment.split(":", 1)[1]
    if not tag:
        return f"uses '{image}' with an empty tag"
    if tag in FLOATING_TAGS:
        return f"uses '{image}', a floating tag"
    return None
