"""Plans a deployment that routes to existing OpenAI-compatible services (`external`).

No model, engine, GPU, cache or slot steps: the route, the balancer and health checks are
planned as for a served model, and each endpoint becomes one backend of the route (an Envoy
Gateway Backend, so the gateway checks and ejects it like a pod). Endpoints of the lowest
priority share requests by weight; every higher priority is one backup level (Envoy's
fallback), as with pools.
"""

from __future__ import annotations

import ipaddress

from components import identity
from components.errors import ConfigIssue
from components.planning.plan_model import (
    BackendRef,
    ExternalEndpointPlan,
    ExternalPlan,
    LoadBalancerPlan,
    RoutePlan,
    TrafficPlan,
)
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.serving_steps import endpoint as gateway_url
from components.planning.serving_steps import health_check_plan, plan_route
from components.planning.traffic import gateway_capabilities, nginx_traffic
from components.spec import DeploymentSpec, GatewayRef, StackSpec
from components.spec_identifiers import OPENAI_BASE_URL

ENVOY = "envoy-gateway"
DEFAULT_PORTS = {"http": 80, "https": 443}
# What the active health check asks, under the endpoint's prefix (a cheap request that every
# OpenAI-compatible server answers).
HEALTH_PATH = "/v1/models"


def plan_external_deployment(
    stack: StackSpec, spec: DeploymentSpec, index: int
) -> tuple[ExternalPlan | None, list[ConfigIssue]]:
    """The external deployment's plan (None when anything is wrong) and every problem found."""
    issues = IssueCollector(index)
    planned = _plan(PlanningContext.of(stack, spec, index), issues)
    return (None if issues.found else planned), issues.issues


def _plan(ctx: PlanningContext, issues: IssueCollector) -> ExternalPlan | None:
    spec = ctx.spec
    own_gateway = ctx.profile.own_gateway
    gateway = ctx.stack.kubernetes.gateway
    if not own_gateway and (gateway is None or gateway.implementation != ENVOY):
        # A Service without selector could stand in for `standard` and Ingress, but neither
        # would check, eject or prefer endpoints: refused rather than half done.
        issues.report(
            "external",
            message="external endpoints become Envoy Gateway Backends: set "
            "kubernetes.gateway with implementation: envoy-gateway (its "
            "extensionApis.enableBackend: true)",
        )
        return None
    if not own_gateway and spec.route is None:
        issues.report(
            "route",
            message="an external deployment is reached only through its route: add "
            "route: {path: ...}",
        )
        return None
    route = plan_route(ctx, issues)
    endpoints, prefix = _endpoints(ctx, issues)
    balancer = _load_balancer(ctx, issues, prefix)
    if own_gateway:
        _nginx_limits(ctx, issues, balancer, endpoints)
    if route is None or issues.found:
        return None
    backends = tuple(BackendRef(e.backend, e.weight, e.fallback, external=True) for e in endpoints)
    if own_gateway:
        # The docker gateway: one nginx upstream server per endpoint, backups for priorities
        # above the lowest.
        traffic = nginx_traffic(backends, balancer, prefix or "/")
        url = gateway_url(ctx, route)
    else:
        assert gateway is not None
        traffic = _envoy_traffic(gateway, route, backends, endpoints, prefix)
        where = f"(route {route.path}/v1 on {gateway.namespace}/{gateway.name})"
        url = traffic.public_url or where
    return ExternalPlan(
        name=spec.name,
        description=spec.description,
        namespace=ctx.namespace,
        tags=dict(spec.tags),
        route=route,
        load_balancer=balancer,
        traffic=traffic,
        endpoints=endpoints,
        endpoint=url,
    )


def _envoy_traffic(
    gateway: GatewayRef,
    route: RoutePlan,
    backends: tuple[BackendRef, ...],
    endpoints: tuple[ExternalEndpointPlan, ...],
    prefix: str,
) -> TrafficPlan:
    hosts = {e.host for e in endpoints if not e.is_ip}
    public_url = None
    if route.check and route.hosts and not route.hosts[0].startswith("*"):
        public_url = f"{gateway.scheme}://{route.hosts[0]}{route.path.rstrip('/')}/v1"
    return TrafficPlan(
        via="gateway",
        backends=backends,
        pool_services={},
        envoy_policy=True,
        service_affinity=False,
        gateway_name=gateway.name,
        gateway_namespace=gateway.namespace,
        gateway_scheme=gateway.scheme,
        public_url=public_url,
        # Services behind their own ingress route by Host: send theirs when there is one.
        host_rewrite=hosts.pop() if len(hosts) == 1 else None,
        path_rewrite=prefix or "/",
    )


def _nginx_limits(
    ctx: PlanningContext,
    issues: IssueCollector,
    balancer: LoadBalancerPlan,
    endpoints: tuple[ExternalEndpointPlan, ...],
) -> None:
    """What nginx open source cannot do: active checks, and backups with ip_hash."""
    issues.report_all(gateway_capabilities({0}, balancer, ctx.spec.load_balancer.health_check))
    hashed = balancer.stickiness is not None or balancer.algorithm == "ip_hash"
    if hashed and any(endpoint.fallback for endpoint in endpoints):
        issues.report(
            "external",
            "endpoints",
            message="nginx's ip_hash (ip_hash, or stickySessions) cannot keep backup servers: "
            "give every endpoint the same priority, or use another algorithm",
        )


def _endpoints(
    ctx: PlanningContext, issues: IssueCollector
) -> tuple[tuple[ExternalEndpointPlan, ...], str]:
    """Each endpoint's address, and the path prefix they share (one rewrite per route)."""
    assert ctx.spec.external is not None
    specs = ctx.spec.external.endpoints
    lowest = min(endpoint.priority for endpoint in specs)
    planned, prefixes = [], {}
    for index, endpoint in enumerate(specs):
        match = OPENAI_BASE_URL.pattern.fullmatch(endpoint.url)
        assert match is not None, "the spec checked the URL"
        scheme, host, port = match.group("scheme"), match.group("host"), match.group("port")
        prefixes.setdefault(match.group("prefix"), index)
        is_ip = _is_ipv4(host)
        planned.append(
            ExternalEndpointPlan(
                backend=identity.external_backend(ctx.spec.name, index),
                url=endpoint.url.rstrip("/"),
                scheme=scheme,
                host=host,
                port=int(port) if port else DEFAULT_PORTS[scheme],
                is_ip=is_ip,
                weight=endpoint.weight,
                priority=endpoint.priority,
                fallback=endpoint.priority > lowest,
            )
        )
    if len(prefixes) > 1:
        first, *others = prefixes
        for prefix in others:
            issues.report(
                "external",
                "endpoints",
                prefixes[prefix],
                "url",
                message=f"its path before /v1 ('{prefix}') differs from endpoints"
                f"[{prefixes[first]}]'s ('{first}'): the route rewrites one prefix for all; "
                "give each prefix its own deployment",
            )
    return tuple(planned), next(iter(prefixes), "")


def _load_balancer(ctx: PlanningContext, issues: IssueCollector, prefix: str) -> LoadBalancerPlan:
    spec = ctx.spec.load_balancer
    if spec.algorithm == "inference_aware":
        issues.report(
            "loadBalancer",
            "algorithm",
            message="inference_aware picks among engine pods by their metrics; external "
            "endpoints are not pods: use round_robin or least_connections",
        )
    return LoadBalancerPlan(
        algorithm=spec.algorithm,
        stickiness=spec.stickiness,
        health_check_customized=True,
        health_check=health_check_plan(spec.health_check, f"{prefix}{HEALTH_PATH}"),
    )


def _is_ipv4(host: str) -> bool:
    try:
        ipaddress.IPv4Address(host)
    except ValueError:
        return False
    return True
