"""How requests enter: Gateway API HTTPRoute (or Ingress), Envoy Gateway policy and fallbacks."""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests import labels
from components.kubernetes.manifests.endpoint_picker import route_backend
from components.plan import DeploymentPlan
from components.planning.plan_model import BackendRef, ExternalPlan, RoutePlan, TrafficPlan

GATEWAY_API = "gateway.networking.k8s.io"
ENVOY_GATEWAY = "gateway.envoyproxy.io"
# Seed 002: eject after consecutive failures, keep probing, let healthy ones return.
EJECTION = "30s"
RETRIES = 2
SESSION_COOKIE = "modelstack-session"
SESSION_COOKIE_TTL = "3600s"


# What has a route: a served model, or a deployment routed to external endpoints.
Routed = DeploymentPlan | ExternalPlan


def _route_and_traffic(deployment: Routed) -> tuple[RoutePlan, TrafficPlan]:
    assert deployment.route is not None and deployment.traffic is not None
    return deployment.route, deployment.traffic


def _metadata(deployment: Routed, name: str, component: str) -> dict[str, Any]:
    return {
        "name": name,
        "namespace": deployment.namespace,
        "labels": labels.common(deployment, component),
    }


def http_route(deployment: Routed) -> dict[str, Any]:
    route, traffic = _route_and_traffic(deployment)
    timeout = f"{route.timeout_seconds}s"
    spec: dict[str, Any] = {
        "parentRefs": [
            {
                "group": GATEWAY_API,
                "kind": "Gateway",
                "name": traffic.gateway_name,
                "namespace": traffic.gateway_namespace,
            }
        ],
        "rules": [
            {
                "matches": [{"path": {"type": "PathPrefix", "value": route.path}}],
                # Engines serve the OpenAI API from their root: strip the route's prefix.
                "filters": [{"type": "URLRewrite", "urlRewrite": _rewrite(traffic)}],
                "backendRefs": backend_refs(deployment),
                # Responses stream for as long as generation runs: gateways' defaults cut them.
                "timeouts": {"request": timeout, "backendRequest": timeout},
            }
        ],
    }
    if route.hosts:
        spec["hostnames"] = list(route.hosts)
    return {
        "apiVersion": f"{GATEWAY_API}/v1",
        "kind": "HTTPRoute",
        "metadata": _metadata(deployment, deployment.name, "route"),
        "spec": spec,
    }


def _rewrite(traffic: TrafficPlan) -> dict[str, Any]:
    path = {"type": "ReplacePrefixMatch", "replacePrefixMatch": traffic.path_rewrite}
    rewrite: dict[str, Any] = {"path": path}
    if traffic.host_rewrite:
        # The KEDA HTTP add-on's interceptor (or an external service) routes by Host.
        rewrite["hostname"] = traffic.host_rewrite
    return rewrite


def backend_refs(deployment: Routed) -> list[dict[str, Any]]:
    """The route's backendRefs (the shared endpoint's rule for the deployment has the same)."""
    assert deployment.traffic is not None
    return [_backend_ref(deployment, ref) for ref in deployment.traffic.backends]


def _backend_ref(deployment: Routed, ref: BackendRef) -> dict[str, Any]:
    if ref.inference_pool:
        return route_backend(ref.service, ref.weight)
    if ref.external:
        name, weight = ref.service, ref.weight
        return {"group": ENVOY_GATEWAY, "kind": "Backend", "name": name, "weight": weight}
    assert isinstance(deployment, DeploymentPlan)
    if ref.fallback:
        return {
            "group": ENVOY_GATEWAY,
            "kind": "Backend",
            "name": fallback_backend_name(ref),
            "weight": ref.weight,
        }
    backend: dict[str, Any] = {
        "kind": "Service",
        "name": ref.service,
        "port": ref.port or deployment.service_port,
        "weight": ref.weight,
    }
    if ref.namespace:
        # Cross-namespace: the target namespace needs a ReferenceGrant for this route.
        backend["namespace"] = ref.namespace
    return backend


def fallback_backend_name(ref: BackendRef) -> str:
    return f"{ref.service}-fallback"


def fallback_backends(deployment: DeploymentPlan) -> list[dict[str, Any]]:
    """Envoy Gateway Backends marked fallback: used only when the primaries are unhealthy."""
    _, traffic = _route_and_traffic(deployment)
    return [
        {
            "apiVersion": f"{ENVOY_GATEWAY}/v1alpha1",
            "kind": "Backend",
            "metadata": _metadata(deployment, fallback_backend_name(ref), "route"),
            "spec": {
                "endpoints": [
                    {
                        "fqdn": {
                            "hostname": f"{ref.service}.{deployment.namespace}.svc.cluster.local",
                            "port": deployment.service_port,
                        }
                    }
                ],
                "fallback": True,
            },
        }
        for ref in traffic.backends
        if ref.fallback and not ref.external
    ]


def backend_traffic_policy(deployment: Routed) -> dict[str, Any]:
    """Algorithm, stickiness, active and passive health checks and retries for the route."""
    return {
        "apiVersion": f"{ENVOY_GATEWAY}/v1alpha1",
        "kind": "BackendTrafficPolicy",
        "metadata": _metadata(deployment, deployment.name, "traffic-policy"),
        "spec": {
            "targetRefs": [{"group": GATEWAY_API, "kind": "HTTPRoute", "name": deployment.name}],
            **_balancing(deployment),
            "retry": retry_policy(),
            **_stopped_response(deployment),
        },
    }


def retry_policy() -> dict[str, Any]:
    """Only failures before a response started: a generation is never sent twice."""
    return {
        "numRetries": RETRIES,
        "retryOn": {
            "triggers": ["connect-failure", "refused-stream", "retriable-status-codes"],
            "httpStatusCodes": [503],
        },
        "perRetry": {"backOff": {"baseInterval": "100ms", "maxInterval": "1s"}},
    }


def _balancing(deployment: Routed) -> dict[str, Any]:
    """How Envoy picks an endpoint and checks them; with an InferencePool the picker picks
    (among ready pods), so neither applies."""
    balancer = deployment.load_balancer
    if deployment.traffic is not None and deployment.traffic.inference is not None:
        return {}
    health = balancer.health_check
    interval = f"{health.interval_seconds}s"
    return {
        "loadBalancer": _load_balancer(balancer.algorithm, balancer.stickiness),
        "healthCheck": {
            "active": {
                "type": "HTTP",
                "http": {"path": health.path, "expectedStatuses": [200]},
                "interval": interval,
                "timeout": f"{health.timeout_seconds}s",
                "unhealthyThreshold": health.unhealthy_threshold,
                "healthyThreshold": health.healthy_threshold,
            },
            "passive": {
                "consecutive5XxErrors": health.unhealthy_threshold,
                "interval": interval,
                "baseEjectionTime": EJECTION,
                "maxEjectionPercent": 100,
            },
        },
    }


def _stopped_response(deployment: Routed) -> dict[str, Any]:
    """A stopped deployment's route answers 503 with a body that says why, at once."""
    if deployment.state != "stopped":
        return {}
    body = (
        f'{{"error": {{"message": "{deployment.name} is stopped (state: stopped in the '
        'stack file)", "type": "unavailable"}}'
    )
    return {
        "responseOverride": [
            {
                "match": {"statusCodes": [{"type": "Value", "value": 503}]},
                "response": {
                    "contentType": "application/json",
                    "body": {"type": "Inline", "inline": body},
                },
            }
        ]
    }


def _load_balancer(algorithm: str, stickiness: str | None) -> dict[str, Any]:
    if stickiness == "cookie":
        return {
            "type": "ConsistentHash",
            "consistentHash": {
                "type": "Cookie",
                "cookie": {"name": SESSION_COOKIE, "ttl": SESSION_COOKIE_TTL},
            },
        }
    if stickiness == "source-ip" or algorithm == "ip_hash":
        return {"type": "ConsistentHash", "consistentHash": {"type": "SourceIP"}}
    if algorithm == "least_connections":
        return {"type": "LeastRequest"}
    # round_robin, weighted (weights live on the route) and failover (fallback backends).
    return {"type": "RoundRobin"}


def ingress(deployment: DeploymentPlan) -> dict[str, Any]:
    """For clusters without Gateway API; prefix rewrite and timeouts as ingress-nginx reads them."""
    route, traffic = _route_and_traffic(deployment)
    prefix = route.path.rstrip("/")
    backend = {
        "service": {"name": deployment.stable_service, "port": {"number": deployment.service_port}}
    }
    rewrite = prefix != ""
    path = {
        "path": f"{prefix}(/|$)(.*)" if rewrite else "/",
        "pathType": "ImplementationSpecific" if rewrite else "Prefix",
        "backend": backend,
    }
    hosts = list(route.hosts) or [None]
    rules = [{"http": {"paths": [path]}, **({"host": host} if host else {})} for host in hosts]
    annotations = {
        "nginx.ingress.kubernetes.io/proxy-read-timeout": str(route.timeout_seconds),
        "nginx.ingress.kubernetes.io/proxy-send-timeout": str(route.timeout_seconds),
        "nginx.ingress.kubernetes.io/proxy-buffering": "off",
    }
    if rewrite:
        annotations["nginx.ingress.kubernetes.io/use-regex"] = "true"
        annotations["nginx.ingress.kubernetes.io/rewrite-target"] = "/$2"
    metadata = _metadata(deployment, deployment.name, "route")
    metadata["annotations"] = annotations
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": metadata,
        "spec": {"ingressClassName": traffic.ingress_class, "rules": rules},
    }
