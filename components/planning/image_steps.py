"""Planning step: pinned images where the environment requires them.

The rule is components/catalog/image_pinning.py's, shared with the pinned-image-tags guardrail
(tests/test_planning_steps.py checks both agree); here it is a stack-file error with the key
path of the `image:` that set the image.
"""

from __future__ import annotations

from components.catalog.image_pinning import FLOATING_TAGS, image_problem
from components.planning.plan_model import SlotPlan
from components.planning.planning_context import IssueCollector, PlanningContext


def check_pinned_images(
    ctx: PlanningContext, issues: IssueCollector, slots: list[SlotPlan]
) -> None:
    environment = ctx.environment
    if not environment.require_pinned_images:
        return
    for slot in slots:
        problem = image_problem(slot.engine.image)
        if problem is None:
            continue
        override = ctx.spec.rollout.slots.get(slot.slot)  # type: ignore[call-overload]
        path = (
            ("rollout", "slots", slot.slot, "image") if override and override.image else ("image",)
        )
        issues.report(
            *path,
            message=f"the image {problem}: {environment.name} needs a version tag "
            f"or a digest (not {', '.join(sorted(FLOATING_TAGS))})",
        )
