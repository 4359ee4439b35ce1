"""How requests reach a deployment on Kubernetes: route, backends and their weights, policy.

Pure: from the deployment's slots and pools and the stack's gateway settings to a
TrafficPlan, or the reasons the cluster cannot do what the stack file asks.

Which Services receive traffic:
- `<name>` (stable) selects the serving slot: rolling and blue-green route to it, so a
  blue-green switch changes only its selector.
- `<name>-<pool>` selects one pool of the serving slot: pools route to these, with the
  pool's weight (weighted) or as fallback (failover), so a switch changes only selectors.
- `<name>-blue`, `<name>-green` select a slot: canary routes to both with its weights, so
  moving the weight changes only the route.
- inference_aware routes to an InferencePool per slot instead (inference_routing.py): a
  switch or a canary weight moves the route's backendRefs only.
"""

from __future__ import annotations

from components import identity as names
from components.planning.inference_routing_plan import InferenceRoutingPlan
from components.planning.plan_model import (
    BackendRef,
    LoadBalancerPlan,
    RoutePlan,
    SlotPlan,
    TrafficPlan,
)
from components.spec import KubernetesSettings
from components.spec_traffic import HealthCheckSpec

ENVOY = "envoy-gateway"


def plan_traffic(
    deployment: str,
    strategy: str,
    serving_slot: str,
    slots: list[SlotPlan],
    balancer: LoadBalancerPlan,
    route: RoutePlan | None,
    settings: KubernetesSettings,
    inference: InferenceRoutingPlan | None = None,
) -> TrafficPlan | list[tuple[tuple[str, ...], str]]:
    """The traffic plan, or (key path, message) problems."""
    problems: list[tuple[tuple[str, ...], str]] = []
    gateway, ingress = settings.gateway, settings.ingress
    via = None
    if route is not None:
        if gateway and ingress:
            problems.append(
                (("route",), "kubernetes.gateway and kubernetes.ingress are both set: keep one")
            )
        elif gateway:
            via = "gateway"
        elif ingress:
            via = "ingress"
        else:
            problems.append(
                (
                    ("route",),
                    "a route needs kubernetes.gateway (Gateway API) or kubernetes.ingress "
                    "in the stack settings",
                )
            )
    if (
        via == "ingress"
        and ingress
        and ingress.class_name != "nginx"
        and route
        and route.path != "/"
    ):
        problems.append(
            (
                ("route", "path"),
                f"an Ingress of class {ingress.class_name} cannot strip the prefix {route.path}: "
                "use path / (with hosts), class nginx (ingress-nginx), or a Gateway",
            )
        )
    envoy = via == "gateway" and gateway is not None and gateway.implementation == ENVOY
    pooled = any(slot.pool for slot in slots)
    envoy_without_route = route is None and gateway is not None and gateway.implementation == ENVOY
    problems += _capabilities(strategy, balancer, via, envoy, pooled, envoy_without_route)

    pool_services: dict[str, str] = {}
    serving = [slot for slot in slots if slot.slot == serving_slot]
    if inference is not None:
        backends = tuple(
            BackendRef(pool.name, pool.weight, inference_pool=True) for pool in inference.routed
        )
    elif strategy == "canary":
        backends = tuple(
            BackendRef(names.slot_service(deployment, slot.slot), slot.traffic_percent)
            for slot in slots
            if not slot.pool
        )
    elif pooled:
        lowest = min(slot.priority for slot in serving)
        refs = []
        for slot in serving:
            assert slot.pool is not None
            service = names.pool_service(deployment, slot.pool)
            pool_services[service] = slot.pool
            # Equal per-pod shares unless the stack weighs the pools.
            weight = slot.weight if balancer.algorithm == "weighted" else max(slot.replicas, 1)
            fallback = balancer.algorithm == "failover" and slot.priority > lowest
            refs.append(BackendRef(service, weight, fallback))
        backends = tuple(refs)
    else:
        backends = (BackendRef(names.stable_service(deployment), 1),)

    holding = next(
        (
            slot.autoscaling.request_holding
            for slot in slots
            if slot.autoscaling is not None and slot.autoscaling.request_holding is not None
        ),
        None,
    )
    host_rewrite = None
    if holding is not None and via is not None:
        if via != "gateway":
            problems.append(
                (
                    ("autoscaling", "scaleToZero"),
                    "scale to zero holds requests in the KEDA HTTP add-on's interceptor, in "
                    "another namespace: an Ingress cannot route there, use a Gateway",
                )
            )
        else:
            # The interceptor holds each request while a replica loads, then forwards it.
            address, _, port = holding.interceptor.rpartition(":")
            service, _, namespace = address.partition(".")
            backends = (BackendRef(service, 1, namespace=namespace, port=int(port)),)
            host_rewrite = holding.host
    if problems:
        return problems
    public_url = None
    if via and route and route.check and route.hosts and not route.hosts[0].startswith("*"):
        scheme = gateway.scheme if via == "gateway" and gateway else "https"
        public_url = f"{scheme}://{route.hosts[0]}{route.path.rstrip('/')}/v1"
    return TrafficPlan(
        via=via,
        backends=backends,
        pool_services=pool_services,
        envoy_policy=envoy,
        service_affinity=balancer.stickiness == "source-ip" and not envoy,
        gateway_name=gateway.name if gateway else None,
        gateway_namespace=gateway.namespace if gateway else None,
        gateway_scheme=gateway.scheme if gateway else "https",
        ingress_class=ingress.class_name if ingress else None,
        public_url=public_url,
        host_rewrite=host_rewrite,
        inference=inference,
    )


def _capabilities(
    strategy: str,
    balancer: LoadBalancerPlan,
    via: str | None,
    envoy: bool,
    pooled: bool,
    envoy_without_route: bool = False,
) -> list[tuple[tuple[str, ...], str]]:
    """What this cluster's traffic layer cannot do, with the key that asks for it."""
    problems = []
    needs_envoy = "needs Envoy Gateway (kubernetes.gateway with implementation: envoy-gateway)"
    if envoy_without_route:
        # The gateway is there; its policy attaches to the deployment's HTTPRoute.
        needs_envoy = (
            "needs a route: Envoy Gateway applies it to the deployment's HTTPRoute "
            "(add route: {path: ...})"
        )
    if strategy == "canary":
        if via != "gateway":
            problems.append(
                (
                    ("rollout", "strategy"),
                    "canary splits traffic with HTTPRoute weights: "
                    "give the deployment a route and the stack a kubernetes.gateway",
                )
            )
        if pooled:
            problems.append(
                (("pools",), "canary with pools is not supported: use blue-green with pools")
            )
    if envoy:
        return problems
    if balancer.algorithm in ("least_connections", "ip_hash", "failover"):
        problems.append((("loadBalancer", "algorithm"), f"{balancer.algorithm} {needs_envoy}"))
    if balancer.algorithm == "weighted" and via != "gateway":
        problems.append(
            (("loadBalancer", "algorithm"), "weighted pools need a route through a Gateway")
        )
    if balancer.stickiness == "cookie":
        problems.append((("loadBalancer", "stickySessions"), f"cookie stickiness {needs_envoy}"))
    if balancer.health_check_customized:
        problems.append(
            (
                ("loadBalancer", "healthCheck"),
                f"active and passive health checks {needs_envoy}; without it, readiness "
                "probes already take unready pods out of the Service",
            )
        )
    return problems


# nginx's name for each algorithm's way of picking a server (weights and backups are per server).
_GATEWAY_BALANCING = {
    "round_robin": "round_robin",
    "weighted": "round_robin",
    "failover": "round_robin",
    "least_connections": "least_connections",
    "ip_hash": "ip_hash",
}
_PASSIVE_ONLY = (
    "the docker gateway (nginx open source) checks servers passively only: a server that "
    "fails unhealthyThreshold times within intervalSeconds rests that long; Docker's own "
    "health check asks the engine's health path"
)


def plan_gateway_traffic(
    slots: list[SlotPlan], balancer: LoadBalancerPlan, health: HealthCheckSpec
) -> TrafficPlan | list[tuple[tuple[str, ...], str]]:
    """The docker gateway's traffic: one backend per serving workload, its servers' weight.

    Every container of a backend workload is one nginx server. nginx weighs servers and
    keeps backups with any balancing (except backups with ip_hash), so pool weights and
    priorities apply whatever the algorithm; nginx keeps one backup level: every priority
    above the lowest. Or the (key path, message) problems of what nginx cannot do.
    """
    problems = gateway_capabilities({slot.priority for slot in slots}, balancer, health)
    if problems:
        return problems
    serving = [slot for slot in slots if slot.serving and slot.replicas > 0]
    lowest_priority = min((slot.priority for slot in serving), default=0)
    backends = tuple(
        BackendRef(
            slot.workload_name,
            _server_weight(slot, serving),
            slot.priority > lowest_priority,
        )
        for slot in serving
    )
    return nginx_traffic(backends, balancer)


def nginx_traffic(
    backends: tuple[BackendRef, ...], balancer: LoadBalancerPlan, path_rewrite: str = "/"
) -> TrafficPlan:
    """The docker gateway's traffic over `backends` (engine workloads or external endpoints)."""
    # Sticky sessions pin a client by its address: nginx's ip_hash.
    balancing = "ip_hash" if balancer.stickiness else _GATEWAY_BALANCING[balancer.algorithm]
    return TrafficPlan(
        via="nginx",
        backends=backends,
        pool_services={},
        envoy_policy=False,
        service_affinity=False,
        balancing=balancing,
        path_rewrite=path_rewrite,
    )


def gateway_capabilities(
    priorities: set[int], balancer: LoadBalancerPlan, health: HealthCheckSpec
) -> list[tuple[tuple[str, ...], str]]:
    """What the stack file asks of the docker gateway that nginx cannot do (`priorities`: of
    the pools, or of external endpoints)."""
    problems = []
    defaults = HealthCheckSpec()
    for key, name in (
        ("path", "path"),
        ("timeout_seconds", "timeoutSeconds"),
        ("healthy_threshold", "healthyThreshold"),
    ):
        if getattr(health, key) != getattr(defaults, key):
            problems.append(
                (("loadBalancer", "healthCheck", name), f"{_PASSIVE_ONLY}: remove {name}")
            )
    hashed = balancer.stickiness is not None or balancer.algorithm == "ip_hash"
    # failover with sticky sessions is refused with the load balancer already.
    if hashed and balancer.algorithm != "failover" and len(priorities) > 1:
        problems.append(
            (
                ("pools",),
                "nginx's ip_hash (ip_hash, or stickySessions) cannot keep backup servers: "
                "give every pool the same priority, or use another algorithm",
            )
        )
    return problems


def _server_weight(slot: SlotPlan, serving: list[SlotPlan]) -> int:
    """A server's share: its pool's weight times its slot's traffic share (canary)."""
    if len({s.slot for s in serving}) == 1:
        return slot.weight
    # Canary: spread each slot's percent over its servers, in proportion to pool weights.
    slot_total = sum(s.weight * s.replicas for s in serving if s.slot == slot.slot)
    return max(1, round(slot.traffic_percent * slot.weight * 100 / slot_total))
