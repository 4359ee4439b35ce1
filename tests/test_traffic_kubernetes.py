"""Traffic on Kubernetes: HTTPRoute or Ingress, Envoy Gateway policies, canary, pools."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.offline.render import Render
from tests.conftest import (
    deployments_of,
    find_object,
    render_document,
    stack_document,
    with_changes,
)

GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}


def _prod(**chat_changes: Any) -> dict[str, Any]:
    """The prod stack with a gateway, and changes to its first deployment (llama-chat)."""
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"]["gateway"] = dict(GATEWAY)
    chat = deployments_of(document)[0]
    chat["route"] = {"path": "/{namespace}/chat/{name}", "hosts": ["llm.example.com"]}
    chat.update(chat_changes)
    return document


def _render(tmp_path: Path, document: dict[str, Any]) -> Render:
    return render_document(tmp_path, document)


def _objects(render: Render, kind: str) -> list[dict[str, Any]]:
    return [o for o in render.objects if o["kind"] == kind]


def _changed_files(before: Render, after: Render, prefix: str = "kubernetes/") -> list[str]:
    """Changed documents among the cluster's objects (checks re-run by design)."""
    old, new = before.object_files(), after.object_files()
    return sorted(
        name
        for name in set(old) | set(new)
        if name.startswith(prefix) and old.get(name) != new.get(name)
    )


def test_route_with_path_template_rewrite_and_streaming_timeouts(
    tmp_path: Path, schema_validator
) -> None:
    render = _render(tmp_path, _prod())
    route = find_object(render, "HTTPRoute", "llama-chat")
    assert route["spec"]["parentRefs"][0]["name"] == "inference-gateway"
    assert route["spec"]["parentRefs"][0]["namespace"] == "gateways"
    assert route["spec"]["hostnames"] == ["llm.example.com"]
    rule = route["spec"]["rules"][0]
    assert rule["matches"] == [
        {"path": {"type": "PathPrefix", "value": "/ml-prod/chat/llama-chat"}}
    ]
    assert rule["filters"][0]["urlRewrite"]["path"]["replacePrefixMatch"] == "/"
    assert rule["timeouts"] == {"request": "300s", "backendRequest": "300s"}
    # Blue-green routes to the stable Service: a switch never touches the route.
    assert rule["backendRefs"] == [
        {"kind": "Service", "name": "llama-chat", "port": 80, "weight": 1}
    ]
    assert schema_validator.validate_all(render.objects) == []


@pytest.mark.parametrize(
    ("balancer", "expected"),
    [
        ({"algorithm": "round_robin"}, {"type": "RoundRobin"}),
        ({"algorithm": "least_connections"}, {"type": "LeastRequest"}),
        (
            {"algorithm": "ip_hash"},
            {"type": "ConsistentHash", "consistentHash": {"type": "SourceIP"}},
        ),
        (
            {"stickySessions": True},
            {"type": "ConsistentHash", "consistentHash": {"type": "SourceIP"}},
        ),
        (
            {"stickySessions": "cookie"},
            {
                "type": "ConsistentHash",
                "consistentHash": {
                    "type": "Cookie",
                    "cookie": {"name": "modelstack-session", "ttl": "3600s"},
                },
            },
        ),
    ],
)
def test_every_algorithm_maps_to_a_valid_envoy_policy(
    tmp_path: Path, schema_validator, balancer: dict[str, Any], expected: dict[str, Any]
) -> None:
    render = _render(tmp_path, _prod(loadBalancer=balancer))
    policy = find_object(render, "BackendTrafficPolicy", "llama-chat")
    assert policy["spec"]["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "llama-chat"}
    ]
    assert policy["spec"]["loadBalancer"] == expected
    assert schema_validator.validate_all(render.objects) == []


def test_health_checks_and_retries(tmp_path: Path, schema_validator) -> None:
    health = {"path": "/ready", "intervalSeconds": 5, "timeoutSeconds": 2}
    health |= {"unhealthyThreshold": 3, "healthyThreshold": 2}
    render = _render(tmp_path, _prod(loadBalancer={"healthCheck": health}))
    spec = find_object(render, "BackendTrafficPolicy", "llama-chat")["spec"]
    assert spec["healthCheck"]["active"] == {
        "type": "HTTP",
        "http": {"path": "/ready", "expectedStatuses": [200]},
        "interval": "5s",
        "timeout": "2s",
        "unhealthyThreshold": 3,
        "healthyThreshold": 2,
    }
    # Three consecutive 5xx eject a server; it returns after the ejection time.
    assert spec["healthCheck"]["passive"]["consecutive5XxErrors"] == 3
    assert spec["healthCheck"]["passive"]["baseEjectionTime"] == "30s"
    assert "connect-failure" in spec["retry"]["retryOn"]["triggers"]
    assert spec["retry"]["retryOn"]["httpStatusCodes"] == [503]
    assert schema_validator.validate_all(render.objects) == []


def test_the_engine_health_path_is_the_default_check(tmp_path: Path) -> None:
    render = _render(tmp_path, _prod())
    spec = find_object(render, "BackendTrafficPolicy", "llama-chat")["spec"]
    assert spec["healthCheck"]["active"]["http"]["path"] == "/health"


def test_a_standard_gateway_gets_no_envoy_policy_and_plain_sticky_sessions(
    tmp_path: Path,
) -> None:
    document = _prod(loadBalancer={"stickySessions": True})
    document["config"]["modelstack:kubernetes"]["gateway"]["implementation"] = "standard"
    render = _render(tmp_path, document)
    assert not _objects(render, "BackendTrafficPolicy")
    assert find_object(render, "Service", "llama-chat")["spec"]["sessionAffinity"] == "ClientIP"


def test_what_a_plain_gateway_cannot_do_is_an_error(tmp_path: Path) -> None:
    document = _prod(loadBalancer={"algorithm": "least_connections"})
    document["config"]["modelstack:kubernetes"]["gateway"]["implementation"] = "standard"
    with pytest.raises(pulumi.RunError, match=r"loadBalancer.algorithm: least_connections needs"):
        _render(tmp_path, document)


def test_canary_weights_move_only_the_route(tmp_path: Path, schema_validator) -> None:
    canary = {"strategy": "canary", "active": "blue", "canaryWeight": 10}
    canary["slots"] = {"green": {"model": {"revision": "main"}}}
    before = _render(tmp_path, _prod(rollout=canary))
    refs = find_object(before, "HTTPRoute", "llama-chat")["spec"]["rules"][0]["backendRefs"]
    assert refs == [
        {"kind": "Service", "name": "llama-chat-blue", "port": 80, "weight": 90},
        {"kind": "Service", "name": "llama-chat-green", "port": 80, "weight": 10},
    ]
    assert schema_validator.validate_all(before.objects) == []
    after = _render(tmp_path, _prod(rollout={**canary, "canaryWeight": 30}))
    assert _changed_files(before, after) == ["kubernetes/httproute-llama-chat.yaml"]


def test_blue_green_switch_with_a_route_changes_only_the_stable_service(tmp_path: Path) -> None:
    before = _render(tmp_path, _prod())

    def switch(document: dict) -> None:
        deployments_of(document)[0]["rollout"]["active"] = "green"

    after = _render(tmp_path, with_changes(_prod(), switch))
    assert _changed_files(before, after) == ["kubernetes/service-llama-chat.yaml"]
    # The endpoint is checked again after the switch.
    assert _changed_files(before, after, "checks/") == ["checks/llama-chat-endpoint-check.yaml"]


POOLS = [
    {"name": "h100", "gpu": {"type": "H100", "count": 1}, "replicas": 2, "weight": 3},
    {
        "name": "l4",
        "gpu": {"type": "L4", "count": 1},
        "replicas": 2,
        "weight": 1,
        "priority": 1,
        "resources": {"cpu": "4", "memory": "24Gi"},
    },
]


def _pooled(**changes: Any) -> dict[str, Any]:
    document = _prod(pools=POOLS, **changes)
    chat = deployments_of(document)[0]
    del chat["gpu"]
    del chat["replicas"]
    return document


def test_weighted_pools_are_deployments_and_services_weighed_by_the_route(
    tmp_path: Path, schema_validator
) -> None:
    render = _render(tmp_path, _pooled(loadBalancer={"algorithm": "weighted"}))
    deployments = {o["metadata"]["name"] for o in _objects(render, "Deployment")}
    assert {"llama-chat-blue-h100", "llama-chat-blue-l4", "llama-chat-green-l4"} <= deployments
    l4 = find_object(render, "Deployment", "llama-chat-blue-l4")["spec"]["template"]["spec"]
    assert l4["nodeSelector"] == {"karpenter.k8s.aws/instance-gpu-name": "l4"}
    assert find_object(render, "Deployment", "llama-chat-blue-l4")["spec"]["selector"][
        "matchLabels"
    ] == {
        "modelstack.io/deployment": "llama-chat",
        "modelstack.io/slot": "blue",
        "modelstack.io/pool": "l4",
    }
    pool_service = find_object(render, "Service", "llama-chat-l4")
    assert pool_service["spec"]["selector"] == {
        "modelstack.io/deployment": "llama-chat",
        "modelstack.io/slot": "blue",
        "modelstack.io/pool": "l4",
    }
    refs = find_object(render, "HTTPRoute", "llama-chat")["spec"]["rules"][0]["backendRefs"]
    assert refs == [
        {"kind": "Service", "name": "llama-chat-h100", "port": 80, "weight": 3},
        {"kind": "Service", "name": "llama-chat-l4", "port": 80, "weight": 1},
    ]
    assert schema_validator.validate_all(render.objects) == []


def test_failover_pools_fall_back_through_an_envoy_backend(
    tmp_path: Path, schema_validator
) -> None:
    render = _render(tmp_path, _pooled(loadBalancer={"algorithm": "failover"}))
    refs = find_object(render, "HTTPRoute", "llama-chat")["spec"]["rules"][0]["backendRefs"]
    assert refs[0] == {"kind": "Service", "name": "llama-chat-h100", "port": 80, "weight": 2}
    assert refs[1] == {
        "group": "gateway.envoyproxy.io",
        "kind": "Backend",
        "name": "llama-chat-l4-fallback",
        "weight": 2,
    }
    backend = find_object(render, "Backend", "llama-chat-l4-fallback")
    assert backend["spec"] == {
        "endpoints": [
            {"fqdn": {"hostname": "llama-chat-l4.ml-prod.svc.cluster.local", "port": 80}}
        ],
        "fallback": True,
    }
    assert schema_validator.validate_all(render.objects) == []


def test_switching_a_pooled_deployment_changes_only_selectors(tmp_path: Path) -> None:
    before = _render(tmp_path, _pooled(loadBalancer={"algorithm": "weighted"}))

    def switch(document: dict) -> None:
        deployments_of(document)[0]["rollout"]["active"] = "green"

    after = _render(tmp_path, with_changes(_pooled(loadBalancer={"algorithm": "weighted"}), switch))
    assert _changed_files(before, after) == [
        "kubernetes/service-llama-chat-h100.yaml",
        "kubernetes/service-llama-chat-l4.yaml",
        "kubernetes/service-llama-chat.yaml",
    ]


def test_ingress_for_clusters_without_gateway_api(tmp_path: Path, schema_validator) -> None:
    document = _prod()
    settings = document["config"]["modelstack:kubernetes"]
    del settings["gateway"]
    settings["ingress"] = {"className": "nginx"}
    render = _render(tmp_path, document)
    ingress = find_object(render, "Ingress", "llama-chat")
    assert ingress["spec"]["ingressClassName"] == "nginx"
    rule = ingress["spec"]["rules"][0]
    assert rule["host"] == "llm.example.com"
    assert rule["http"]["paths"][0]["path"] == "/ml-prod/chat/llama-chat(/|$)(.*)"
    assert ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/rewrite-target"] == "/$2"
    assert (
        ingress["metadata"]["annotations"]["nginx.ingress.kubernetes.io/proxy-buffering"] == "off"
    )
    assert not _objects(render, "HTTPRoute")
    assert schema_validator.validate_all(render.objects) == []


def test_an_ingress_class_that_cannot_rewrite_needs_a_root_path(tmp_path: Path) -> None:
    document = _prod()
    settings = document["config"]["modelstack:kubernetes"]
    del settings["gateway"]
    settings["ingress"] = {"className": "traefik"}
    with pytest.raises(pulumi.RunError, match=r"class traefik cannot strip the prefix"):
        _render(tmp_path, document)


@pytest.mark.parametrize(
    ("template", "fragment"),
    [
        ("/{labels.owner}/{name}", "{labels.owner}: the deployment has no tag 'owner'"),
        ("/{team}/{name}", "unknown placeholder {team}"),
        ("/" + "x" * 210, "at most 200"),
        ("/{name", "unbalanced braces"),
    ],
)
def test_route_path_template_errors(tmp_path: Path, template: str, fragment: str) -> None:
    document = _prod(route={"path": template})
    with pytest.raises(pulumi.RunError) as failure:
        _render(tmp_path, document)
    assert "deployments[0].route.path" in str(failure.value)
    assert fragment in str(failure.value)


def test_route_path_labels_are_lowercased(tmp_path: Path) -> None:
    render = _render(
        tmp_path, _prod(route={"path": "/{labels.team}/{name}"}, tags={"team": "Support"})
    )
    rule = find_object(render, "HTTPRoute", "llama-chat")["spec"]["rules"][0]
    assert rule["matches"][0]["path"]["value"] == "/support/llama-chat"


def test_a_public_route_is_checked_after_up(tmp_path: Path) -> None:
    render = _render(tmp_path, _prod())
    check = render.object_files()["checks/llama-chat-endpoint-check.yaml"]["inputs"]
    assert check["url"] == "https://llm.example.com/ml-prod/chat/llama-chat/v1/models"
    assert check["expect_model"] == "llama-chat"
    resource = next(r for r in render.resources if r["name"] == "llama-chat-endpoint-check")
    assert "kubernetes:apps/v1:Deployment::llama-chat-blue" in resource["dependsOn"]
    unchecked = _render(
        tmp_path, _prod(route={"path": "/chat", "hosts": ["llm.example.com"], "check": False})
    )
    assert "checks/llama-chat-endpoint-check.yaml" not in unchecked.object_files()


def test_scale_to_zero_routes_through_the_interceptor(tmp_path: Path, schema_validator) -> None:
    document = stack_document("staging")
    document["config"]["modelstack:kubernetes"]["gateway"] = dict(GATEWAY)
    chat = deployments_of(document)[0]
    chat["route"] = {"path": "/chat"}
    chat["autoscaling"] = {
        "min": 1,
        "max": 3,
        "metric": "concurrency",
        "target": 8,
        "scaleToZero": {"enabled": True, "cooldownSeconds": 300},
    }
    render = _render(tmp_path, document)
    rule = find_object(render, "HTTPRoute", "llama-chat")["spec"]["rules"][0]
    assert rule["backendRefs"] == [
        {
            "kind": "Service",
            "name": "keda-add-ons-http-interceptor-proxy",
            "namespace": "keda",
            "port": 8080,
            "weight": 1,
        }
    ]
    assert rule["filters"][0]["urlRewrite"]["hostname"] == "llama-chat.ml-staging.svc.cluster.local"
    assert schema_validator.validate_all(render.objects) == []
