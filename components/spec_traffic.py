"""How a deployment is reached, as the stack file says it: balancing, health checks, route."""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field

from components.spec_base import SpecModel
from components.spec_identifiers import HEALTH_PATH, HOSTNAME, ROUTE_TEMPLATE


class HealthCheckSpec(SpecModel):
    # Default: the engine's own health path.
    path: Annotated[str, AfterValidator(HEALTH_PATH.check)] | None = None
    interval_seconds: Annotated[int, Field(ge=1, le=300)] = 10
    timeout_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    unhealthy_threshold: Annotated[int, Field(ge=1, le=20)] = 3
    healthy_threshold: Annotated[int, Field(ge=1, le=20)] = 1


def _snake_case(value: object) -> object:
    """`inference-aware` (issue 14's spelling) is `inference_aware`: one rule for every value."""
    return value.replace("-", "_") if isinstance(value, str) else value


Algorithm = Annotated[
    Literal[
        "round_robin", "least_connections", "ip_hash", "weighted", "failover", "inference_aware"
    ],
    BeforeValidator(_snake_case),
]


class LoadBalancerSpec(SpecModel):
    # inference_aware (Kubernetes): an InferencePool per slot and its endpoint picker choose
    # the pod per request (components/planning/inference_routing.py).
    algorithm: Algorithm = "round_robin"
    # true or source-ip: a client stays on one server by its address; cookie: by a cookie
    # the gateway sets (Envoy Gateway only).
    sticky_sessions: bool | Literal["source-ip", "cookie"] = False
    health_check: HealthCheckSpec = Field(default_factory=HealthCheckSpec)

    @property
    def stickiness(self) -> str | None:
        """None, "source-ip" or "cookie"."""
        if self.sticky_sessions is True:
            return "source-ip"
        return self.sticky_sessions or None


class RouteSpec(SpecModel):
    # Template: {name}, {namespace} and {labels.KEY} (a tag); lowercased, at most 200 characters.
    path: Annotated[str, AfterValidator(ROUTE_TEMPLATE.check)] = "/{name}"
    hosts: list[Annotated[str, AfterValidator(HOSTNAME.check)]] = Field(default_factory=list)
    # Streams last as long as generation: the default allows five minutes.
    timeout_seconds: Annotated[int, Field(ge=1, le=86400)] = 300
    # Kubernetes with hosts: after `pulumi up`, ask https://<first host><path>/v1/models.
    check: bool = True
