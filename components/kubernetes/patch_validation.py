"""Apply a deployment's `patches:` to its rendered objects, and find the ones that fail.

Both run on the same bodies: the check before anything is registered (called from
planning/stack_validation.py through build_plan), the application in ModelDeployment.
"""

from __future__ import annotations

from typing import Any

from components import identity
from components.errors import ConfigIssue, key_path
from components.json_patch import PatchError, apply_operation
from components.kubernetes.deployment_objects import deployment_objects
from components.plan import DeploymentPlan
from components.spec_patches import PatchSpec


def _target(body: dict[str, Any]) -> tuple[str, str]:
    return body["kind"], body["metadata"]["name"]


def patched(body: dict[str, Any], patches: tuple[PatchSpec, ...]) -> dict[str, Any]:
    """`body` with every patch aimed at it applied in stack-file order (validated already)."""
    for patch in patches:
        if (patch.target.kind, patch.target.name) == _target(body):
            for operation in patch.ops:
                body = apply_operation(body, operation)
            annotations = body["metadata"].setdefault("annotations", {})
            # Says, in the cluster and in `modelstack validate`, that the stack file changed it.
            annotations[identity.PATCHED_ANNOTATION] = "true"
    return body


def patch_issues(plan: DeploymentPlan, index: int) -> list[ConfigIssue]:
    """Stack-file errors for patches whose target is unknown or whose operations fail."""
    patches = plan.on_kubernetes.patches
    if not patches:
        return []
    bodies = {_target(body): body for body in deployment_objects(plan)}
    issues = []
    for number, patch in enumerate(patches):
        where = ("deployments", index, "patches", number)
        body = bodies.get((patch.target.kind, patch.target.name))
        if body is None:
            known = ", ".join(f"{kind}/{name}" for kind, name in sorted(bodies))
            issues.append(
                ConfigIssue(
                    key_path(*where, "target"),
                    f"this deployment renders no {patch.target.kind} named "
                    f"{patch.target.name!r}: its objects are {known}",
                )
            )
            continue
        for op_number, operation in enumerate(patch.ops):
            try:
                body = apply_operation(body, operation)
            except PatchError as error:
                issues.append(ConfigIssue(key_path(*where, "ops", op_number), str(error)))
                break
        # Later patches of the same object see this one's changes, as at deployment time.
        bodies[_target(body)] = body
    return issues
