"""Labels: Kubernetes recommended labels, modelstack's own, and the user's tags."""

from __future__ import annotations

import re

from components import identity
from components.catalog.multi_node import LEADER_INDEX, WORKER_INDEX_LABEL
from components.identity import DEPLOYMENT, ENGINE, MANAGED_BY, PART_OF, POOL, SLOT
from components.plan import DeploymentPlan, SlotPlan
from components.planning.plan_model import ExternalPlan

_LABEL_VALUE_BAD = re.compile(r"[^A-Za-z0-9._-]+")


def slot_selector(deployment: DeploymentPlan, slot: str) -> dict[str, str]:
    """Every pod of a slot, across pools: what the slot and stable Services select."""
    return {DEPLOYMENT: deployment.name, SLOT: slot}


def serving_selector(deployment: DeploymentPlan, slot: str) -> dict[str, str]:
    """The pods of a slot that answer requests: all of them, or a group's leaders only."""
    selector = slot_selector(deployment, slot)
    if any(s.group for s in deployment.slots):
        # Pools agree on gpu.nodes (planning/group_steps.py): every workload is a group.
        selector[WORKER_INDEX_LABEL] = LEADER_INDEX
    return selector


def workload_selector(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    """The pods of one workload. Immutable on a Deployment: never add to it."""
    selector = slot_selector(deployment, slot.slot)
    if slot.pool:
        selector[POOL] = slot.pool
    if deployment.kubernetes is not None and deployment.kubernetes.progressive is not None:
        # Flagger finds pods by this label; its primary copy's pods get `<name>-primary`.
        selector[identity.APP_NAME] = deployment.name
    return selector


def common(deployment: DeploymentPlan | ExternalPlan, component: str) -> dict[str, str]:
    return {
        **deployment.tags,
        identity.APP_NAME: deployment.name,
        identity.COMPONENT: component,
        identity.PART_OF_KEY: PART_OF,
        identity.MANAGED_BY_KEY: MANAGED_BY,
        DEPLOYMENT: deployment.name,
    }


def for_slot(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    """Objects about a slot that outlive its versions (a version bump leaves them alone)."""
    return {
        **common(deployment, identity.ENGINE_COMPONENT),
        **workload_selector(deployment, slot),
        identity.INSTANCE: slot.workload_name,
        ENGINE: slot.engine.name,
    }


def for_workload(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    """The slot's Deployment and pods: they also say which version they run."""
    return {
        **for_slot(deployment, slot),
        identity.VERSION: image_version(slot.engine.image),
    }


def image_version(image: str) -> str:
    """The tag (or short digest) of an image, as a valid label value."""
    if "@sha256:" in image:
        return "sha256-" + image.rsplit("@sha256:", 1)[1][:12]
    name = image.rsplit("/", 1)[-1]
    tag = name.rsplit(":", 1)[1] if ":" in name else "latest"
    return _LABEL_VALUE_BAD.sub("-", tag)[:63].strip("-._") or "unknown"
