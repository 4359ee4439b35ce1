"""Envoy Gateway Backends for a deployment's external endpoints (one per address)."""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels
from components.kubernetes.manifests.traffic import ENVOY_GATEWAY
from components.planning.plan_model import ExternalEndpointPlan, ExternalPlan


def external_backends(deployment: ExternalPlan) -> list[dict[str, Any]]:
    """The route's backends: Envoy resolves, checks and ejects each like a Service's pods."""
    return [_backend(deployment, endpoint) for endpoint in deployment.endpoints]


def _backend(deployment: ExternalPlan, endpoint: ExternalEndpointPlan) -> dict[str, Any]:
    address = {"address": endpoint.host} if endpoint.is_ip else {"hostname": endpoint.host}
    spec: dict[str, Any] = {
        "endpoints": [{"ip" if endpoint.is_ip else "fqdn": {**address, "port": endpoint.port}}],
    }
    if endpoint.scheme == "https":
        # Verify the service's certificate against the system CAs, for its own name.
        tls: dict[str, Any] = {"wellKnownCACertificates": "System"}
        if not endpoint.is_ip:
            tls["sni"] = endpoint.host
        spec["tls"] = tls
    if endpoint.fallback:
        spec["fallback"] = True
    return {
        "apiVersion": f"{ENVOY_GATEWAY}/v1alpha1",
        "kind": "Backend",
        "metadata": {
            "name": endpoint.backend,
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.EXTERNAL_ENDPOINT),
            # The address as the stack file gives it, for people reading the cluster.
            "annotations": {identity.EXTERNAL_URL: endpoint.url},
        },
        "spec": spec,
    }
