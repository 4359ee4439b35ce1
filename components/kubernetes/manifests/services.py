"""Services: one per blue-green slot, and the stable one that selects the serving slot."""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests import labels
from components.kubernetes.manifests.pod import PORT_NAME
from components.plan import DeploymentPlan
from components.planning import names


def stable_service(deployment: DeploymentPlan) -> dict[str, Any]:
    """What clients call. A blue-green switch changes only this object's selector."""
    return _service(
        deployment,
        deployment.stable_service,
        labels.common(deployment, "endpoint"),
        labels.slot_selector(deployment, deployment.serving_slot),
    )


def slot_service(deployment: DeploymentPlan, slot: str) -> dict[str, Any]:
    """Reaches one slot (all its pools) whether or not it serves: for tests before a switch."""
    return _service(
        deployment,
        names.slot_service(deployment.name, slot),
        {**labels.common(deployment, "slot-endpoint"), labels.SLOT: slot},
        labels.slot_selector(deployment, slot),
    )


def _service(
    deployment: DeploymentPlan, name: str, object_labels: dict[str, str], selector: dict[str, str]
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": deployment.namespace, "labels": object_labels},
        "spec": {
            "type": "ClusterIP",
            "selector": selector,
            "ports": [
                {
                    "name": PORT_NAME,
                    "port": deployment.service_port,
                    "targetPort": PORT_NAME,
                    "protocol": "TCP",
                    "appProtocol": "http",
                }
            ],
        },
    }
