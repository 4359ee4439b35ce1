"""Existing OpenAI-compatible services behind the route (issue 16 item 1): `external`
endpoints become Envoy Gateway Backends that the deployment's HTTPRoute weighs, checks and
falls back between, like a served model's pods."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.commands.status import text
from components.diff.compare import compare
from components.errors import StackConfigError
from components.graph.docker_topology import build_docker_topology
from components.graph.kubernetes_topology import build_kubernetes_topology
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from components.planning.stack_validation import validated_plan
from components.status.model import StackExpectation
from components.status.report_rollup import stack_report
from tests.conftest import render_document
from tests.support.hostile import check_nginx

STACK_FILE = "stacks/Pulumi.test.yaml"
GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}
ENDPOINTS = [
    {"url": "http://10.0.0.5:8000/v1", "weight": 3},
    {"url": "http://llm-a.internal.example.com:8000/v1", "weight": 1},
    {"url": "https://llm.eu-west.example.com/v1", "priority": 1},
]


def _deployment(**changes: Any) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "name": "chat",
        "route": {"path": "/chat", "hosts": ["llm.example.com"]},
        "external": {"endpoints": copy.deepcopy(ENDPOINTS)},
    }
    deployment.update(changes)
    return {key: value for key, value in deployment.items() if value is not None}


def _raw(*deployments: dict[str, Any], **stack: Any) -> dict[str, Any]:
    return {
        "environment": stack.pop("environment", "staging"),
        "target": stack.pop("target", "kubernetes"),
        "kubernetes": stack.pop("kubernetes", {"namespace": "ml", "gateway": dict(GATEWAY)}),
        "deployments": list(deployments) or [_deployment()],
        **stack,
    }


def _issues(raw: dict[str, Any]) -> dict[str, str]:
    with pytest.raises(StackConfigError) as raised:
        validated_plan(raw, set(), STACK_FILE)
    found: dict[str, str] = {}
    for issue in raised.value.issues:
        found[issue.path] = " | ".join(filter(None, [found.get(issue.path), issue.message]))
    return found


def _render(directory: Path, raw: dict[str, Any]) -> Render:
    directory.mkdir(exist_ok=True)
    document = {"config": {f"modelstack:{key}": value for key, value in raw.items()}}
    return render_document(directory, document)


def _objects(render: Render) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render.objects}


# -- the render ----------------------------------------------------------------------------


def test_each_endpoint_is_a_backend_the_route_weighs(
    tmp_path: Path, schema_validator: SchemaValidator
) -> None:
    objects = _objects(_render(tmp_path, _raw()))
    assert sorted(objects) == [
        ("Backend", "chat-external-0"),
        ("Backend", "chat-external-1"),
        ("Backend", "chat-external-2"),
        ("BackendTrafficPolicy", "chat"),
        ("HTTPRoute", "chat"),
    ]
    assert schema_validator.validate_all(list(objects.values())) == []
    ip, fqdn, backup = (objects["Backend", f"chat-external-{i}"]["spec"] for i in range(3))
    assert ip == {"endpoints": [{"ip": {"address": "10.0.0.5", "port": 8000}}]}
    assert fqdn == {
        "endpoints": [{"fqdn": {"hostname": "llm-a.internal.example.com", "port": 8000}}]
    }
    # https: the system CAs verify the service's certificate for its own name; priority 1
    # is Envoy's fallback, used only when the priority-0 endpoints are unhealthy.
    assert backup == {
        "endpoints": [{"fqdn": {"hostname": "llm.eu-west.example.com", "port": 443}}],
        "tls": {"wellKnownCACertificates": "System", "sni": "llm.eu-west.example.com"},
        "fallback": True,
    }
    (rule,) = objects["HTTPRoute", "chat"]["spec"]["rules"]
    assert rule["backendRefs"] == [
        {"group": "gateway.envoyproxy.io", "kind": "Backend", "name": f"chat-external-{i}",
         "weight": weight}
        for i, weight in enumerate((3, 1, 1))
    ]  # fmt: skip
    # Several host names: the client's Host goes through (no rewrite to one of them).
    assert rule["filters"][0]["urlRewrite"] == {
        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/"}
    }


def test_the_policy_checks_the_model_list_ejects_after_three_failures_and_probes_again(
    tmp_path: Path,
) -> None:
    policy = _objects(_render(tmp_path, _raw()))["BackendTrafficPolicy", "chat"]["spec"]
    health = policy["healthCheck"]
    assert health["active"]["http"]["path"] == "/v1/models"
    assert health["active"]["unhealthyThreshold"] == 3
    assert health["passive"]["consecutive5XxErrors"] == 3
    assert health["passive"]["baseEjectionTime"] == "30s"
    assert policy["targetRefs"] == [
        {"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "name": "chat"}
    ]


def test_a_shared_prefix_is_what_the_route_rewrites_to_and_one_host_is_sent(
    tmp_path: Path,
) -> None:
    endpoints = [
        {"url": "https://api.example.com/openai/v1"},
        {"url": "https://api.example.com:8443/openai/v1/", "priority": 2},
    ]
    raw = _raw(_deployment(external={"endpoints": endpoints}))
    objects = _objects(_render(tmp_path, raw))
    (rule,) = objects["HTTPRoute", "chat"]["spec"]["rules"]
    assert rule["filters"][0]["urlRewrite"] == {
        "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/openai"},
        "hostname": "api.example.com",
    }
    health = objects["BackendTrafficPolicy", "chat"]["spec"]["healthCheck"]
    assert health["active"]["http"]["path"] == "/openai/v1/models"
    assert objects["Backend", "chat-external-1"]["spec"]["endpoints"] == [
        {"fqdn": {"hostname": "api.example.com", "port": 8443}}
    ]


def test_the_outputs_say_what_the_deployment_routes_to(tmp_path: Path) -> None:
    outputs = _render(tmp_path, _raw()).outputs["deployments"]["chat"]
    assert outputs["endpoint"] == "https://llm.example.com/chat/v1"
    assert outputs["routePath"] == "/chat"
    assert [e["url"] for e in outputs["external"]] == [e["url"] for e in ENDPOINTS]


def test_the_connectivity_check_asks_the_model_list_through_the_gateway(tmp_path: Path) -> None:
    check = _render(tmp_path, _raw()).other_files["checks/chat-endpoint-check.yaml"]["inputs"]
    assert check["url"] == "https://llm.example.com/chat/v1/models"
    # A service that wants a key answers 401 without it: that too shows the route reaches it.
    assert check["guarded"] is True


# -- review --------------------------------------------------------------------------------


def test_a_weight_edit_changes_only_the_route_and_reads_as_weights(tmp_path: Path) -> None:
    before = _render(tmp_path / "before", _raw())
    heavier = _deployment()
    heavier["external"]["endpoints"][1]["weight"] = 3
    after = _render(tmp_path / "after", _raw(heavier))
    result = compare(before, after)
    changed = [r.id for r in result.resources]
    assert len(changed) == 1 and "HTTPRoute" in changed[0], changed
    assert any(line.startswith("chat: weights chat-external-0 60%") for line in result.summary)


def test_priority_and_address_edits_read_in_words(tmp_path: Path) -> None:
    before = _render(tmp_path / "before", _raw())
    edited = _deployment()
    edited["external"]["endpoints"][2]["priority"] = 0
    edited["external"]["endpoints"][0]["url"] = "http://10.0.0.6:8000/v1"
    summary = compare(before, _render(tmp_path / "after", _raw(edited))).summary
    assert "chat-external-2: backup -> serving" in summary, summary
    assert (
        "chat-external-0: external endpoint http://10.0.0.5:8000/v1 -> http://10.0.0.6:8000/v1"
        in summary
    ), summary
    added = _deployment()
    added["external"]["endpoints"].append({"url": "http://10.0.0.7:8000/v1"})
    summary = compare(before, _render(tmp_path / "added", _raw(added))).summary
    assert "chat: new external endpoint chat-external-3" in summary, summary


def test_the_picture_draws_each_endpoint_behind_the_route(tmp_path: Path) -> None:
    topology = build_kubernetes_topology(_render(tmp_path, _raw()), "external")
    backends = {n.name: n for n in topology.nodes.values() if n.kind == "Backend"}
    assert sorted(backends) == ["chat-external-0", "chat-external-1", "chat-external-2"]
    assert backends["chat-external-2"].lines == ["https://llm.eu-west.example.com/v1", "backup"]
    route = next(n for n in topology.nodes.values() if n.kind == "HTTPRoute")
    shares = {e.target: e.label for e in topology.edges if e.source == route.id}
    assert shares[backends["chat-external-0"].id] == "60%"


# -- the spec ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("http://user:pass@10.0.0.5:8000/v1", "credentials do not belong in the URL"),
        ("http://token@llm.example.com/v1", "credentials do not belong in the URL"),
        ("http://10.0.0.5:8000/v1?key=x", "an OpenAI base URL"),
        ("http://10.0.0.5:8000", "an OpenAI base URL"),
        ("ftp://10.0.0.5/v1", "an OpenAI base URL"),
        ("http://LLM.example.com/v1", "an OpenAI base URL"),
        ("http://llm.example.com/v1\n", "an OpenAI base URL"),
        ("http://llm.example.com:70000/v1", "outside 1-65535"),
        ("http://llm.example.com/a/../v1", "no '.' or '..'"),
    ],
)
def test_bad_urls_are_refused_at_their_key(url: str, words: str) -> None:
    found = _issues(_raw(_deployment(external={"endpoints": [{"url": url}]})))
    assert words in found["deployments[0].external.endpoints[0].url"]


def test_a_deployment_runs_a_model_or_routes_to_endpoints() -> None:
    both = _deployment(model={"source": "hf://meta-llama/Llama-3.1-8B-Instruct"})
    neither = _deployment(external=None)
    found = _issues(_raw(both, {**neither, "name": "other"}))
    assert "not both" in found["deployments[0].external"]
    assert "priority 1" in found["deployments[0].external"]  # how failover is said instead
    assert "required" in found["deployments[1].model"]


@pytest.mark.parametrize(
    ("key", "value"),
    [("engine", "vllm"), ("replicas", 2), ("gpu", {"type": "L4"}), ("state", "stopped")],
)
def test_engine_keys_are_refused_on_an_external_deployment(key: str, value: Any) -> None:
    found = _issues(_raw(_deployment(**{key: value})))
    assert "does not apply to an external deployment" in found[f"deployments[0].{key}"]


def test_repeated_urls_and_no_serving_endpoint_are_refused() -> None:
    twice = [{"url": "http://10.0.0.5:8000/v1"}, {"url": "http://10.0.0.5:8000/v1/"}]
    backups = [{"url": "http://10.0.0.5:8000/v1", "priority": 1}]
    found = _issues(
        _raw(
            _deployment(external={"endpoints": twice}),
            _deployment(name="other", route={"path": "/other"}, external={"endpoints": backups}),
        )
    )
    assert "each URL once" in found["deployments[0].external.endpoints"]
    assert "priority 0" in found["deployments[1].external.endpoints"]


# -- the plan ------------------------------------------------------------------------------


def _docker(**changes: Any) -> dict[str, Any]:
    endpoints = [
        {"url": "http://10.0.0.5:8000/openai/v1", "weight": 3},
        {"url": "https://llm.eu-west.example.com/openai/v1", "priority": 1},
    ]
    deployment = _deployment(route={"path": "/remote"}, external={"endpoints": endpoints})
    deployment.update(changes)
    return {"environment": "dev", "target": "docker", "deployments": [deployment]}


def test_on_docker_each_endpoint_is_an_nginx_server_reached_by_its_own_scheme(
    tmp_path: Path,
) -> None:
    render = _render(tmp_path, _docker())
    config = render.other_files["checks/gateway-config.yaml"]["inputs"]["config"]
    upstream = config.split("upstream chat {")[1].split("}")[0]
    servers = [line.strip() for line in upstream.splitlines() if "server " in line]
    assert [s.split(" ", 2)[2] for s in servers] == [
        "weight=3 max_fails=3 fail_timeout=10s;",
        "max_fails=3 fail_timeout=10s backup;",
    ]
    # The route's prefix becomes the services' own; https checks the certificate by name.
    assert "proxy_pass http://chat/openai/;" in config
    remote = config.split("# engine llm.eu-west.example.com:443")[1].split("# end engine")[0]
    assert "proxy_pass https://$engine;" in remote
    assert 'set $engine "llm.eu-west.example.com:443";' in remote
    assert 'proxy_set_header Host "llm.eu-west.example.com";' in remote
    assert 'proxy_ssl_name "llm.eu-west.example.com";' in remote
    assert "proxy_ssl_verify on;" in remote
    local = config.split("# engine 10.0.0.5:8000")[1].split("# end engine")[0]
    assert 'proxy_set_header Host "10.0.0.5:8000";' in local and "proxy_ssl" not in local
    check_nginx(config, tmp_path)  # the whole config loads (nginx -t)
    outputs = render.outputs["deployments"]["chat"]
    assert outputs["endpoint"] == "http://127.0.0.1:8080/remote/v1"
    check = render.other_files["checks/chat-endpoint-check.yaml"]["inputs"]
    assert check["url"] == "http://127.0.0.1:8080/remote/v1/models"


def test_on_docker_the_picture_draws_each_endpoint_behind_its_route(tmp_path: Path) -> None:
    topology = build_docker_topology(_render(tmp_path, _docker()), "external")
    drawn = {n.id: n.name for n in topology.nodes.values() if n.kind == "External endpoint"}
    assert sorted(drawn.values()) == ["10.0.0.5:8000", "llm.eu-west.example.com:443"]
    labels = {drawn[e.target]: e.label for e in topology.edges if e.target in drawn}
    assert labels == {"10.0.0.5:8000": "weight 3", "llm.eu-west.example.com:443": "backup"}


def test_on_docker_what_nginx_open_source_cannot_check_is_refused() -> None:
    found = _issues(
        _docker(loadBalancer={"stickySessions": True, "healthCheck": {"path": "/v1/models"}})
    )
    assert "passively" in found["deployments[0].loadBalancer.healthCheck.path"]
    assert "cannot keep backup servers" in found["deployments[0].external.endpoints"]


@pytest.mark.parametrize(
    "kubernetes",
    [
        {"namespace": "ml"},
        {"namespace": "ml", "ingress": {"className": "nginx"}},
        {"namespace": "ml", "gateway": {**GATEWAY, "implementation": "standard"}},
    ],
)
def test_anything_but_envoy_gateway_is_refused(kubernetes: dict[str, Any]) -> None:
    message = _issues(_raw(kubernetes=kubernetes))["deployments[0].external"]
    assert "implementation: envoy-gateway" in message and "enableBackend" in message


def test_route_prefix_and_balancer_problems_are_reported_at_once() -> None:
    endpoints = [{"url": "http://a.example.com/v1"}, {"url": "http://b.example.com/x/v1"}]
    no_route = _deployment(route=None, name="plain")
    mixed = _deployment(
        external={"endpoints": endpoints}, loadBalancer={"algorithm": "inference_aware"}
    )
    found = _issues(_raw(no_route, mixed))
    assert "through its route" in found["deployments[0].route"]
    assert "('/x') differs" in found["deployments[1].external.endpoints[1].url"]
    assert "not pods" in found["deployments[1].loadBalancer.algorithm"]


def test_its_route_may_not_take_a_served_models_path() -> None:
    served = {
        "name": "llama",
        "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
        "engine": "vllm",
        "gpu": {"type": "L4", "count": 1},
        "route": {"path": "/chat", "hosts": ["llm.example.com"]},
    }
    found = _issues(_raw(served, _deployment()))
    assert "already the route of deployments[0]" in found["deployments[1].route.path"]


def test_the_readme_examples_plan(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Existing endpoints as backends (Kubernetes and docker)")[1]
    example = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    raw = {key.removeprefix("modelstack:"): value for key, value in example.items()}
    raw.setdefault("environment", "prod")
    raw.setdefault("target", "kubernetes")
    plan, _ = validated_plan(raw, set(), STACK_FILE)
    (routed,) = plan.external
    assert [e.fallback for e in routed.endpoints] == [False, True]
    docker = yaml.safe_load(section.split("```yaml\n")[2].split("```")[0])
    raw = {"environment": "dev", "target": "docker"}
    raw.update({key.removeprefix("modelstack:"): value for key, value in docker.items()})
    plan, _ = validated_plan(raw, set(), STACK_FILE)
    (routed,) = plan.external
    assert routed.endpoint == "http://127.0.0.1:8080/remote/v1"


# -- status --------------------------------------------------------------------------------


def test_status_names_it_as_run_elsewhere_not_as_unmanaged() -> None:
    plan, _ = validated_plan(_raw(), set(), STACK_FILE)
    expectation = StackExpectation.from_plan("test", plan)
    # The route and Backends carry the deployment's label: they are the stack file's own.
    report = stack_report(expectation, (), ["chat", "gone"])
    assert report.unmanaged == ("gone",)
    assert report.external == ("chat",)
    assert "chat  routes to external endpoints: modelstack runs nothing there" in text(report)
