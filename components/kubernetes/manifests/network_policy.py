"""NetworkPolicies: engines answer only the gateway, monitoring and listed namespaces;
loaders reach the model source; nothing else gets in or out."""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels
from components.plan import DeploymentPlan

NAMESPACE_NAME = "kubernetes.io/metadata.name"
_DNS = [{"protocol": "UDP", "port": 53}, {"protocol": "TCP", "port": 53}]
# Model sources (Hugging Face, S3, GCS, registries) speak HTTPS; HTTP for mirrors.
_SOURCE_PORTS = [{"protocol": "TCP", "port": 443}, {"protocol": "TCP", "port": 80}]


def engine_policy(deployment: DeploymentPlan) -> dict[str, Any]:
    peers = deployment.on_kubernetes.network_peers
    assert peers is not None
    ports = sorted({slot.engine.port for slot in deployment.slots})
    return _policy(
        deployment,
        f"{deployment.name}-engines",
        identity.ENGINE_COMPONENT,
        ingress=[
            {
                "from": [
                    {"namespaceSelector": {"matchLabels": {NAMESPACE_NAME: namespace}}}
                    for namespace in peers
                ]
                + _picker_peers(deployment),
                "ports": [{"protocol": "TCP", "port": port} for port in ports],
            },
            *_group_rules(deployment, "from"),
        ],
        # Engines load from the cache volume: name resolution is all they may need.
        egress=[{"ports": _DNS}, *_group_rules(deployment, "to")],
    )


def _group_rules(deployment: DeploymentPlan, direction: str) -> list[dict[str, Any]]:
    """gpu.nodes > 1: a group's pods exchange tensors (NCCL, on ports the engine picks) and
    reach their leader's rendezvous port, so engines of the deployment reach each other."""
    if not any(slot.group for slot in deployment.slots):
        return []
    engines = {identity.DEPLOYMENT: deployment.name, identity.COMPONENT: identity.ENGINE_COMPONENT}
    return [{direction: [{"podSelector": {"matchLabels": engines}}]}]


def _picker_peers(deployment: DeploymentPlan) -> list[dict[str, Any]]:
    """inference_aware: the endpoint pickers read the engines' metrics on the engine port."""
    if deployment.traffic is None or deployment.traffic.inference is None:
        return []
    picker = {identity.DEPLOYMENT: deployment.name, identity.COMPONENT: identity.ENDPOINT_PICKER}
    return [{"podSelector": {"matchLabels": picker}}]


def loader_policy(deployment: DeploymentPlan) -> dict[str, Any]:
    return _policy(
        deployment,
        f"{deployment.name}-loaders",
        identity.MODEL_LOADER,
        ingress=[],
        egress=[{"ports": _DNS}, {"ports": _SOURCE_PORTS}],
    )


def _policy(
    deployment: DeploymentPlan,
    name: str,
    component: str,
    ingress: list[dict[str, Any]],
    egress: list[dict[str, Any]],
) -> dict[str, Any]:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "NetworkPolicy",
        "metadata": {
            "name": name,
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.NETWORK_POLICY),
        },
        "spec": {
            "podSelector": {
                "matchLabels": {
                    identity.DEPLOYMENT: deployment.name,
                    identity.COMPONENT: component,
                }
            },
            # Both directions listed: whatever no rule allows is denied.
            "policyTypes": ["Ingress", "Egress"],
            "ingress": ingress,
            "egress": egress,
        },
    }
