"""The plan part of loadBalancer.algorithm inference_aware (decided in inference_routing.py)."""

from __future__ import annotations

from dataclasses import dataclass

from components.catalog.endpoint_picker import PickerEngine


@dataclass(frozen=True)
class InferencePoolPlan:
    slot: str
    # The InferencePool's name; its picker's objects share `picker`.
    name: str
    picker: str
    # The slot's share of the route: blue-green 100 or 0, canary its weight, rolling 100.
    weight: int


@dataclass(frozen=True)
class InferenceRoutingPlan:
    pools: tuple[InferencePoolPlan, ...]
    # The engine's port: what the pool's targetPorts name and the picker scrapes.
    target_port: int
    metrics_path: str
    engine: PickerEngine
    image: str
    # Per picker: 0 when the deployment is stopped, 2 with leader election where the
    # environment asks for two of everything (prod), else 1 (upstream's advice).
    replicas: int
    # Why the plan looks the way it does, for `modelstack render` readers and tests.
    reasons: tuple[str, ...]

    @property
    def leader_election(self) -> bool:
        return self.replicas > 1

    @property
    def routed(self) -> tuple[InferencePoolPlan, ...]:
        """The pools the HTTPRoute sends to (weight above zero)."""
        return tuple(pool for pool in self.pools if pool.weight > 0)
