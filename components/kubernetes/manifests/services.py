"""Services: the stable one (serving slot), one per blue-green slot, one per pool."""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels
from components.kubernetes.manifests.pod import PORT_NAME
from components.plan import DeploymentPlan


def stable_service(deployment: DeploymentPlan) -> dict[str, Any]:
    """What clients call. A blue-green switch changes only this object's selector."""
    return _service(
        deployment,
        deployment.stable_service,
        labels.common(deployment, identity.STABLE_ENDPOINT),
        labels.serving_selector(deployment, deployment.serving_slot),
    )


def slot_service(deployment: DeploymentPlan, slot: str) -> dict[str, Any]:
    """Reaches one slot (all its pools) whether or not it serves: for tests before a switch."""
    return _service(
        deployment,
        deployment.on_kubernetes.slot_services[slot],
        {**labels.common(deployment, identity.SLOT_ENDPOINT), identity.SLOT: slot},
        labels.serving_selector(deployment, slot),
    )


def pool_service(deployment: DeploymentPlan, name: str, pool: str) -> dict[str, Any]:
    """One pool of the serving slot: routes weigh pools (or fail over) through these."""
    return _service(
        deployment,
        name,
        {**labels.common(deployment, identity.POOL_ENDPOINT), identity.POOL: pool},
        {**labels.serving_selector(deployment, deployment.serving_slot), identity.POOL: pool},
    )


def _service(
    deployment: DeploymentPlan, name: str, object_labels: dict[str, str], selector: dict[str, str]
) -> dict[str, Any]:
    spec: dict[str, Any] = {"type": "ClusterIP", "selector": selector}
    traffic = deployment.traffic
    if traffic is not None and traffic.service_affinity:
        # Plain-Kubernetes sticky sessions: kube-proxy keeps a client IP on one pod.
        spec["sessionAffinity"] = "ClientIP"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": deployment.namespace, "labels": object_labels},
        "spec": {
            **spec,
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
