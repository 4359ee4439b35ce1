"""What only one target reads of the whole stack, beside the deployments' own target parts."""

from __future__ import annotations

from dataclasses import dataclass

from components.planning.shared_endpoint_plan import SharedEndpointPlan


@dataclass(frozen=True)
class KubernetesStackPart:
    create_namespace: bool
    # kubeconfig context to deploy to; None: the current context.
    kube_context: str | None
    # One HTTPRoute for every model, routed by the body's `model` (None: not asked for).
    shared_endpoint: SharedEndpointPlan | None = None


@dataclass(frozen=True)
class DockerStackPart:
    # Where the load balancer listens on the host.
    gateway_address: str
    gateway_port: int
    # How long the gateway may wait for its config (loaders, then engines).
    gateway_start_seconds: int
    # nginx routes <path>/... by the body's `model` (None: not asked for).
    shared_endpoint: SharedEndpointPlan | None = None
