"""Labels: Kubernetes recommended labels, modelstack's own, and the user's tags."""

from __future__ import annotations

import re

from components.plan import DeploymentPlan, SlotPlan

DEPLOYMENT = "modelstack.io/deployment"
SLOT = "modelstack.io/slot"
ENGINE = "modelstack.io/engine"
POOL = "modelstack.io/pool"
MANAGED_BY = "pulumi"
PART_OF = "modelstack"

_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def slot_selector(deployment: DeploymentPlan, slot: str) -> dict[str, str]:
    """Every pod of a slot, across pools: what the slot and stable Services select."""
    return {DEPLOYMENT: deployment.name, SLOT: slot}


def workload_selector(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    """The pods of one workload. Immutable on a Deployment: never add to it."""
    selector = slot_selector(deployment, slot.slot)
    if slot.pool:
        selector[POOL] = slot.pool
    return selector


def common(deployment: DeploymentPlan, component: str) -> dict[str, str]:
    return {
        **deployment.tags,
        "app.kubernetes.io/name": deployment.name,
        "app.kubernetes.io/component": component,
        "app.kubernetes.io/part-of": PART_OF,
        "app.kubernetes.io/managed-by": MANAGED_BY,
        DEPLOYMENT: deployment.name,
    }


def for_slot(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    """Objects about a slot that outlive its versions (a version bump leaves them alone)."""
    return {
        **common(deployment, "inference-engine"),
        **workload_selector(deployment, slot),
        "app.kubernetes.io/instance": slot.workload_name,
        ENGINE: slot.engine.name,
    }


def for_workload(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    """The slot's Deployment and pods: they also say which version they run."""
    return {
        **for_slot(deployment, slot),
        "app.kubernetes.io/version": image_version(slot.engine.image),
    }


def image_version(image: str) -> str:
    """The tag (or short digest) of an image, as a valid label value."""
    if "@sha256:" in image:
        return "sha256-" + image.rsplit("@sha256:", 1)[1][:12]
    name = image.rsplit("/", 1)[-1]
    tag = name.rsplit(":", 1)[1] if ":" in name else "latest"
    return _LABEL_VALUE_BAD.sub("-", tag)[:63].strip("-._") or "unknown"
