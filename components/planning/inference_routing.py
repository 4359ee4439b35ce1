"""loadBalancer.algorithm inference_aware: an InferencePool per slot and its endpoint picker.

Pure: from the deployment's slots, balancer and route and the stack's Kubernetes settings to
an InferenceRoutingPlan, or the (key path, message) problems of what cannot work.

Why one pool per slot (not one per deployment): a pool selects pods by label, so a pool over
`<name>` would need its selector changed on a blue-green switch, and its picker would lose
its prefix-cache state with every switch. With one pool per slot the switch moves the
HTTPRoute's backendRef from pool to pool (one object changes, as it does for Services) and
canary weighs the two pools on the route.

Hardware pools (`pools:`) stay in one InferencePool per slot: the picker scores every pod of
the slot by its queue and KV cache, which replaces pool weights and priorities (refused when
set: they would silently do nothing). `weighted` and `failover` are other algorithms: one
deployment has one.
"""

from __future__ import annotations

from collections.abc import Sequence

from components import identity
from components.catalog import endpoint_picker as epp
from components.environments import EnvironmentDefaults
from components.planning.inference_routing_plan import InferencePoolPlan, InferenceRoutingPlan
from components.planning.plan_model import LoadBalancerPlan, RoutePlan, SlotPlan
from components.spec import KubernetesSettings

ALGORITHM = "inference_aware"

Problem = tuple[tuple[str, ...], str]


def plan_inference_routing(
    deployment: str,
    strategy: str,
    slots: Sequence[SlotPlan],
    balancer: LoadBalancerPlan,
    route: RoutePlan | None,
    settings: KubernetesSettings,
    environment: EnvironmentDefaults,
    *,
    stopped: bool = False,
    scale_to_zero: bool = False,
) -> InferenceRoutingPlan | list[Problem] | None:
    """The plan (None: another algorithm), or every problem at once."""
    if balancer.algorithm != ALGORITHM:
        return None
    # The docker target's refusal is its profile's (target_profiles.py inference_routing).
    problems = _refusals(slots, balancer, route, settings, scale_to_zero)
    engine_plan = slots[0].engine
    picker_engine = epp.ENGINES.get(engine_plan.name)
    if picker_engine is None:
        problems.append(
            (
                ("loadBalancer", "algorithm"),
                f"the endpoint picker (gateway-api-inference-extension {epp.RELEASE}) reads the "
                f"metrics of {' and '.join(sorted(epp.ENGINES))} only; {engine_plan.name} "
                "exports none it understands: use one of those engines, or least_connections",
            )
        )
    pools = _pools(deployment, strategy, slots)
    workloads = {slot.workload_name for slot in slots}
    for pool in pools:
        if pool.picker in workloads:
            problems.append(
                (
                    ("pools",),
                    f"a pool's workload is named {pool.picker}, the name of the endpoint picker "
                    "of an InferencePool: rename the pool",
                )
            )
    if problems or picker_engine is None:
        return problems
    replicas = 0 if stopped else (2 if environment.min_replicas >= 2 else 1)
    return InferenceRoutingPlan(
        pools=pools,
        target_port=engine_plan.port,
        # Checked above: both engines the picker reads serve metrics.
        metrics_path=engine_plan.metrics_path or "/metrics",
        engine=picker_engine,
        image=epp.IMAGE,
        replicas=replicas,
        reasons=_reasons(pools, picker_engine, engine_plan.metrics_path, replicas, environment),
    )


def _pools(
    deployment: str, strategy: str, slots: Sequence[SlotPlan]
) -> tuple[InferencePoolPlan, ...]:
    """One pool per slot, slots in plan order (main | blue, green)."""
    shares = {slot.slot: slot.traffic_percent for slot in slots}
    pools = []
    for slot, weight in shares.items():
        name = identity.inference_pool(deployment, slot, strategy)
        pools.append(InferencePoolPlan(slot, name, identity.endpoint_picker(name), weight))
    return tuple(pools)


def _refusals(
    slots: Sequence[SlotPlan],
    balancer: LoadBalancerPlan,
    route: RoutePlan | None,
    settings: KubernetesSettings,
    scale_to_zero: bool,
) -> list[Problem]:
    algorithm = ("loadBalancer", "algorithm")
    problems: list[Problem] = []
    if settings.gateway is None:
        problems.append(
            (
                algorithm,
                "inference_aware routes through an InferencePool, which only a Gateway API "
                "HTTPRoute can name (an Ingress cannot): set kubernetes.gateway",
            )
        )
    elif route is None:
        problems.append(
            (
                algorithm,
                "inference_aware needs a route: only requests through the deployment's "
                "HTTPRoute reach the endpoint picker (add route: {path: ...})",
            )
        )
    if balancer.stickiness is not None:
        problems.append(
            (
                ("loadBalancer", "stickySessions"),
                "the endpoint picker chooses a pod per request (prefix-cache affinity keeps "
                "similar prompts together): remove stickySessions with inference_aware",
            )
        )
    if balancer.health_check_customized:
        problems.append(
            (
                ("loadBalancer", "healthCheck"),
                "the endpoint picker picks only ready pods and reads their metrics; gateway "
                "health checks do not apply to an InferencePool: remove healthCheck",
            )
        )
    if len({(slot.weight, slot.priority) for slot in slots}) > 1:
        problems.append(
            (
                ("pools",),
                "inference_aware scores every pod of the slot by its load, across pools: pool "
                "weights and priorities would do nothing, remove them (or use weighted or "
                "failover)",
            )
        )
    if scale_to_zero:
        problems.append(
            (
                ("autoscaling", "scaleToZero"),
                "scale to zero routes through the KEDA HTTP add-on's interceptor, and "
                "inference_aware through an InferencePool: the route cannot do both",
            )
        )
    return problems


def _reasons(
    pools: tuple[InferencePoolPlan, ...],
    engine: epp.PickerEngine,
    metrics_path: str | None,
    replicas: int,
    environment: EnvironmentDefaults,
) -> tuple[str, ...]:
    slots = ", ".join(pool.slot for pool in pools)
    reasons = [
        f"one InferencePool per slot ({slots}): a switch or a canary weight changes only the "
        "HTTPRoute",
        f"the picker reads {engine.name} series ({engine.queued}, {engine.kv_cache_usage}) "
        f"at {metrics_path}",
    ]
    if replicas > 1:
        reasons.append(
            f"{replicas} picker replicas with leader election: {environment.name} runs at "
            "least two of every Deployment, and only the leader picks"
        )
    elif replicas == 0:
        reasons.append("no picker pods: the deployment is stopped")
    return tuple(reasons)
