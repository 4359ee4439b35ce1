"""The stack's shared endpoint on Kubernetes: one HTTPRoute routed by the body's `model`.

The body-based router (components/catalog/body_based_router.py) copies `model` into a
header as an Envoy external processor, attached by an Envoy Gateway EnvoyExtensionPolicy to
this route only (so stacks that share the Gateway never read each other's bodies). Envoy
then chooses the route's rule again by that header: one rule per deployment, with the same
backendRefs as the deployment's own route. `<path>/models` and an unknown model are answered
by Envoy Gateway HTTPRouteFilters (direct responses).
"""

from __future__ import annotations

import json
from typing import Any

from components import identity
from components.catalog import body_based_router as bbr
from components.kubernetes.manifests.security import container_security, pod_security
from components.kubernetes.manifests.traffic import (
    ENVOY_GATEWAY,
    GATEWAY_API,
    backend_refs,
    retry_policy,
)
from components.plan import DeploymentPlan, StackPlan
from components.planning.shared_endpoint import OBJECT_PREFIX
from components.planning.shared_endpoint_plan import SharedEndpointPlan

ROUTE = OBJECT_PREFIX
ROUTER = f"{OBJECT_PREFIX}-bbr"
MODELS_FILTER = f"{OBJECT_PREFIX}-models"
NOT_FOUND_FILTER = f"{OBJECT_PREFIX}-not-found"
ENGINE_BASE = "/v1"
# Envoy fills `%...%` command operators into direct-response bodies, so the name cannot be
# quoted safely: the message names no model.
NOT_FOUND = {
    "error": {
        "message": "The model named in the request's `model` field does not exist.",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }
}


def shared_endpoint_objects(stack: StackPlan) -> list[dict[str, Any]]:
    """Every object of the stack's shared endpoint (none unless the stack file asks)."""
    plan = stack.on_kubernetes.shared_endpoint
    if plan is None:
        return []
    deployments = {deployment.name: deployment for deployment in stack.deployments}
    objects = [
        _service_account(stack),
        _router(stack, plan),
        _router_service(stack),
        _extension_policy(stack),
        _traffic_policy(stack),
        _direct_response(stack, MODELS_FILTER, 200, plan.models_document()),
        _direct_response(stack, NOT_FOUND_FILTER, 404, NOT_FOUND),
        http_route(stack, plan, deployments),
    ]
    if plan.router_disruption_budget:
        objects.append(_disruption_budget(stack, plan))
    return objects


def http_route(
    stack: StackPlan, plan: SharedEndpointPlan, deployments: dict[str, DeploymentPlan]
) -> dict[str, Any]:
    assert plan.gateway is not None, "planned for Kubernetes"
    name, namespace = plan.gateway
    prefix = {"path": {"type": "PathPrefix", "value": plan.path}}
    # Answered by Envoy at once; the timeout only keeps one rule of the route like the others.
    answered = {"request": f"{max(plan.timeouts.values())}s"}
    rules: list[dict[str, Any]] = [
        {
            "matches": [
                {"path": {"type": "Exact", "value": f"{plan.path}/models"}, "method": "GET"}
            ],
            "filters": [_extension_ref(MODELS_FILTER)],
            "timeouts": answered,
        }
    ]
    for deployment_name in plan.deployments:
        deployment = deployments[deployment_name]
        timeout = f"{plan.timeouts[deployment_name]}s"
        rule: dict[str, Any] = {
            "matches": [
                {**prefix, "headers": [{"type": "Exact", "name": bbr.MODEL_HEADER, "value": model}]}
                for model in plan.names_of(deployment_name)
            ],
            "backendRefs": backend_refs(deployment),
            "timeouts": {"request": timeout, "backendRequest": timeout},
        }
        rewrite = _rewrite(plan, deployment)
        if rewrite:
            rule["filters"] = [{"type": "URLRewrite", "urlRewrite": rewrite}]
        rules.append(rule)
    # No header (no `model`, or a body that is not JSON) or a name no rule matches.
    rules.append(
        {"matches": [prefix], "filters": [_extension_ref(NOT_FOUND_FILTER)], "timeouts": answered}
    )
    spec: dict[str, Any] = {
        "parentRefs": [
            {"group": GATEWAY_API, "kind": "Gateway", "name": name, "namespace": namespace}
        ],
        "rules": rules,
    }
    if plan.hosts:
        spec["hostnames"] = list(plan.hosts)
    return _object(stack, f"{GATEWAY_API}/v1", "HTTPRoute", ROUTE, {"spec": spec})


def _rewrite(plan: SharedEndpointPlan, deployment: DeploymentPlan) -> dict[str, Any]:
    rewrite: dict[str, Any] = {}
    if plan.path != ENGINE_BASE:
        # Engines serve the OpenAI API under /v1.
        rewrite["path"] = {"type": "ReplacePrefixMatch", "replacePrefixMatch": ENGINE_BASE}
    traffic = deployment.traffic
    if traffic is not None and traffic.host_rewrite:
        # Scale to zero: the KEDA interceptor routes by Host, as on the deployment's route.
        rewrite["hostname"] = traffic.host_rewrite
    return rewrite


def _extension_ref(name: str) -> dict[str, Any]:
    return {
        "type": "ExtensionRef",
        "extensionRef": {"group": ENVOY_GATEWAY, "kind": "HTTPRouteFilter", "name": name},
    }


def _direct_response(
    stack: StackPlan, name: str, status: int, document: dict[str, Any]
) -> dict[str, Any]:
    # `%` starts an Envoy command operator in the body: JSON writes it \u0025 instead.
    body = json.dumps(document, separators=(",", ":")).replace("%", "\\u0025")
    spec = {
        "directResponse": {
            "contentType": "application/json",
            "statusCode": status,
            "body": {"type": "Inline", "inline": body},
        }
    }
    return _object(stack, f"{ENVOY_GATEWAY}/v1alpha1", "HTTPRouteFilter", name, {"spec": spec})


def _extension_policy(stack: StackPlan) -> dict[str, Any]:
    spec = {
        "targetRefs": [{"group": GATEWAY_API, "kind": "HTTPRoute", "name": ROUTE}],
        "extProc": [
            {
                "backendRefs": [{"name": ROUTER, "port": bbr.EXT_PROC_PORT}],
                # The router reads the body as Envoy streams it (as the chart configures).
                "processingMode": {"request": {"body": "FullDuplexStreamed"}},
            }
        ],
    }
    return _object(
        stack, f"{ENVOY_GATEWAY}/v1alpha1", "EnvoyExtensionPolicy", ROUTE, {"spec": spec}
    )


def _traffic_policy(stack: StackPlan) -> dict[str, Any]:
    """Retries as on the deployments' own routes (their balancing and health checks stay
    theirs: one policy here would apply to every deployment of the route alike)."""
    spec = {
        "targetRefs": [{"group": GATEWAY_API, "kind": "HTTPRoute", "name": ROUTE}],
        "retry": retry_policy(),
    }
    return _object(
        stack, f"{ENVOY_GATEWAY}/v1alpha1", "BackendTrafficPolicy", ROUTE, {"spec": spec}
    )


def _selector() -> dict[str, str]:
    return {identity.APP_NAME: ROUTER, identity.PART_OF_KEY: identity.PART_OF}


def _labels() -> dict[str, str]:
    return {
        **_selector(),
        identity.MANAGED_BY_KEY: identity.MANAGED_BY,
        identity.COMPONENT: identity.SHARED_ENDPOINT,
    }


def _object(
    stack: StackPlan, api_version: str, kind: str, name: str, body: dict[str, Any]
) -> dict[str, Any]:
    metadata = {"name": name, "namespace": stack.namespace, "labels": _labels()}
    return {"apiVersion": api_version, "kind": kind, "metadata": metadata, **body}


def _service_account(stack: StackPlan) -> dict[str, Any]:
    return _object(stack, "v1", "ServiceAccount", ROUTER, {})


def _router(stack: StackPlan, plan: SharedEndpointPlan) -> dict[str, Any]:
    health = {"grpc": {"port": bbr.HEALTH_PORT}}
    container = {
        "name": "bbr",
        "image": plan.router_image,
        "imagePullPolicy": "IfNotPresent",
        "args": list(bbr.ARGS),
        "ports": [
            {"name": "grpc", "containerPort": bbr.EXT_PROC_PORT, "protocol": "TCP"},
            {"name": "grpc-health", "containerPort": bbr.HEALTH_PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": bbr.METRICS_PORT, "protocol": "TCP"},
        ],
        "livenessProbe": {**health, "initialDelaySeconds": 5, "periodSeconds": 10},
        "readinessProbe": {**health, "periodSeconds": 2},
        "resources": {kind: dict(values) for kind, values in bbr.RESOURCES.items()},
        "securityContext": container_security(),
    }
    template = {
        "metadata": {"labels": _labels()},
        "spec": {
            "serviceAccountName": ROUTER,
            # The controller runtime reads its cluster config from the token (it watches nothing).
            "automountServiceAccountToken": True,
            "securityContext": pod_security(),
            "containers": [container],
        },
    }
    spec = {
        "replicas": plan.router_replicas,
        "selector": {"matchLabels": _selector()},
        "revisionHistoryLimit": 5,
        "template": template,
    }
    return _object(stack, "apps/v1", "Deployment", ROUTER, {"spec": spec})


def _router_service(stack: StackPlan) -> dict[str, Any]:
    port = {
        "name": "grpc",
        "port": bbr.EXT_PROC_PORT,
        "targetPort": bbr.EXT_PROC_PORT,
        "protocol": "TCP",
        # gRPC without TLS: Envoy speaks HTTP/2 to it.
        "appProtocol": "kubernetes.io/h2c",
    }
    spec = {"type": "ClusterIP", "selector": _selector(), "ports": [port]}
    return _object(stack, "v1", "Service", ROUTER, {"spec": spec})


def _disruption_budget(stack: StackPlan, plan: SharedEndpointPlan) -> dict[str, Any]:
    # One router: a drain may take it (the route waits); two or more: one stays.
    budget = {"minAvailable": 1} if plan.router_replicas > 1 else {"maxUnavailable": 1}
    spec = {**budget, "selector": {"matchLabels": _selector()}}
    return _object(stack, "policy/v1", "PodDisruptionBudget", ROUTER, {"spec": spec})
