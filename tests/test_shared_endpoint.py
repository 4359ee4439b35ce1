"""The shared endpoint (one OpenAI base URL, routed by the body's `model`): spec, plan, renders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.diff.compare import compare
from components.graph.topology import build_topology
from components.offline.crd_schemas import KINDS_WITHOUT_SHARED_SCHEMA
from components.offline.nginx_check import GatewayConfig as RenderedConfig
from components.offline.nginx_check import check_config, find_nginx
from components.rendered.nginx_routes import parse_routes, parse_shared_endpoint
from tests.conftest import deployments_of, render_document, stack_document
from tests.support.planned_stacks import plan_stack, stack_problems

README = Path(__file__).resolve().parent.parent / "README.md"


def _raw(document: dict[str, Any]) -> dict[str, Any]:
    raw = {k.removeprefix("modelstack:"): v for k, v in document["config"].items()}
    raw.pop("hfToken", None)
    return raw


def _docker_document(shared: dict[str, Any] | None = None) -> dict[str, Any]:
    """dev with a second deployment serving another model, and docker.sharedEndpoint."""
    document = stack_document("dev")
    first = deployments_of(document)[0]
    second = copy.deepcopy(first)
    second["name"] = "qwen-coder"
    second["model"]["servedName"] = "qwen-coder"
    deployments_of(document).append(second)
    if shared is not None:
        document["config"]["modelstack:docker"]["sharedEndpoint"] = shared
    return document


def _nginx_config(tmp_path: Path, document: dict[str, Any]) -> tuple[str, dict[str, Any]]:
    render = render_document(tmp_path, document)
    files = render.object_files()
    gateway = next(
        body["inputs"]
        for name, body in files.items()
        if name.startswith("docker/container-") and body["inputs"]["name"].endswith("gateway")
    )
    return files["checks/gateway-config.yaml"]["inputs"]["config"], gateway


# -- spec ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("path", "problem"),
    [
        ("/", "would take every path"),
        ("v1", "is not an HTTP path"),
        ("/-/v1", "the gateway's own"),
        ("/a//v1", "not a plain path"),
        ("/a/../v1", "not a plain path"),
        ("/v1\n", "is not an HTTP path"),
    ],
)
def test_a_shared_path_must_be_a_plain_prefix(path: str, problem: str) -> None:
    (found,) = stack_problems(_raw(_docker_document({"path": path})))
    assert found.startswith("docker.sharedEndpoint.path: ")
    assert problem in found


def test_docker_takes_a_path_only() -> None:
    (found,) = stack_problems(_raw(_docker_document({"path": "/v1", "hosts": ["a.example"]})))
    assert found.startswith("docker.sharedEndpoint.hosts: ")


def test_the_path_defaults_to_v1_and_loses_a_trailing_slash() -> None:
    assert plan_stack(_raw(_docker_document({}))).on_docker.shared_endpoint.path == "/v1"
    shared = plan_stack(_raw(_docker_document({"path": "/openai/v1/"}))).on_docker.shared_endpoint
    assert shared is not None and shared.path == "/openai/v1"


# -- plan ----------------------------------------------------------------------------------------


def test_the_plan_routes_each_served_name_to_its_deployment() -> None:
    shared = plan_stack(_raw(_docker_document({"path": "/v1"}))).on_docker.shared_endpoint
    assert shared is not None
    served = plan_stack(_raw(_docker_document())).deployments[0].serving.model.served_name
    assert shared.routes == {served: "qwen-tiny", "qwen-coder": "qwen-coder"}
    assert [m["id"] for m in shared.models_document()["data"]] == sorted([served, "qwen-coder"])


def test_no_shared_endpoint_unless_asked() -> None:
    assert plan_stack(_raw(_docker_document())).on_docker.shared_endpoint is None


def test_one_name_served_by_two_deployments_names_both() -> None:
    document = _docker_document({"path": "/v1"})
    deployments_of(document)[1]["model"]["servedName"] = "qwen-tiny"
    (found,) = stack_problems(_raw(document))
    assert found.startswith("deployments[1].model: 'qwen-tiny' is also served by deployments[0]")
    assert "(qwen-tiny)" in found and "docker.sharedEndpoint" in found
    # Without the shared endpoint each deployment has its own route: no conflict.
    del document["config"]["modelstack:docker"]["sharedEndpoint"]
    assert stack_problems(_raw(document)) == []


def test_the_shared_path_cannot_be_a_deployments_route() -> None:
    document = _docker_document({"path": "/qwen-coder"})
    (found,) = stack_problems(_raw(document))
    assert found.startswith("docker.sharedEndpoint.path: ")
    assert "deployments[1] (qwen-coder)" in found


# -- docker render -------------------------------------------------------------------------------


def test_the_docker_gateway_loads_njs_and_the_script(tmp_path: Path) -> None:
    config, gateway = _nginx_config(tmp_path, _docker_document({"path": "/v1"}))
    assert "load_module /usr/lib/nginx/modules/ngx_http_js_module.so;" in config
    assert "js_import shared_endpoint from /etc/nginx/modelstack-shared_endpoint.js;" in config
    (upload,) = gateway["uploads"]
    assert upload["file"] == "/etc/nginx/modelstack-shared_endpoint.js"
    assert upload["content"].startswith("// The docker gateway's shared endpoint")
    # The per-deployment routes stay; the shared locations are the gateway's own.
    assert [route.path for route in parse_routes(config)] == ["/qwen-tiny/", "/qwen-coder/"]
    shared = parse_shared_endpoint(config)
    assert shared is not None and shared.path == "/v1"
    assert shared.models == {"qwen-coder": "qwen_coder", "qwen-tiny": "qwen_tiny"}


def test_without_the_setting_the_config_has_no_njs(tmp_path: Path) -> None:
    config, gateway = _nginx_config(tmp_path, _docker_document())
    assert "js_" not in config and "load_module" not in config
    assert not gateway.get("uploads")


def test_the_rendered_config_passes_nginx_t_with_njs(tmp_path: Path) -> None:
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed")
    config, _ = _nginx_config(tmp_path, _docker_document({"path": "/openai/v1"}))
    result = check_config(RenderedConfig("checks/gateway-config.yaml", config), nginx)
    assert result.checked, result.reason
    assert result.valid, result.errors
    # Any other file a config would read is still refused unrun.
    other = config.replace("shared_endpoint from /etc", "shared_endpoint from /root")
    refused = check_config(RenderedConfig("checks/gateway-config.yaml", other), nginx)
    assert refused.valid is False and "reads other files" in refused.errors[0]


def test_routes_with_hosts_still_get_a_default_server_for_the_endpoint(tmp_path: Path) -> None:
    document = _docker_document({"path": "/v1"})
    for deployment in deployments_of(document):
        deployment["route"]["hosts"] = ["chat.example.com"]
    config, _ = _nginx_config(tmp_path, document)
    assert "default_server" in config
    assert parse_shared_endpoint(config) is not None
    nginx = find_nginx()
    if nginx is None:
        pytest.skip("nginx is not installed")
    result = check_config(RenderedConfig("checks/gateway-config.yaml", config), nginx)
    assert result.checked and result.valid, (result.reason, result.errors)


def test_the_models_document_is_json_in_the_config(tmp_path: Path) -> None:
    config, _ = _nginx_config(tmp_path, _docker_document({"path": "/v1"}))
    line = next(line for line in config.splitlines() if line.strip().startswith("return 200 '{"))
    text = line.split("return 200 ", 1)[1].rstrip(";").strip("'")
    assert json.loads(text)["object"] == "list"


def test_the_readme_docker_example_plans() -> None:
    section = README.read_text().split("### One OpenAI endpoint for every model")[1]
    examples = [yaml.safe_load(block.split("```")[0]) for block in section.split("```yaml\n")[1:3]]
    docker = next(example for example in examples if "modelstack:docker" in example)
    document = _docker_document()
    document["config"]["modelstack:docker"].update(docker["modelstack:docker"])
    assert plan_stack(_raw(document)).on_docker.shared_endpoint is not None


# -- Kubernetes ----------------------------------------------------------------------------------

GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}


def _kubernetes_document(shared: dict[str, Any] | None, **gateway: Any) -> dict[str, Any]:
    document = stack_document("prod")
    settings = {**GATEWAY, **gateway}
    if shared is not None:
        settings["sharedEndpoint"] = shared
    document["config"]["modelstack:kubernetes"]["gateway"] = settings
    return document


def _objects(tmp_path: Path, document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    render = render_document(tmp_path, document)
    return {(o["kind"], o["metadata"]["name"]): o for o in render.objects}


def test_kubernetes_shared_endpoint_objects(tmp_path: Path, schema_validator: Any) -> None:
    shared = {"path": "/v1", "hosts": ["llm.example.com"]}
    objects = _objects(tmp_path, _kubernetes_document(shared))
    route = objects[("HTTPRoute", "modelstack-shared-endpoint")]
    assert route["spec"]["hostnames"] == ["llm.example.com"]
    assert route["spec"]["parentRefs"][0]["name"] == "inference-gateway"
    rules = route["spec"]["rules"]
    # /models first, one rule per deployment, the 404 last.
    assert rules[0]["matches"][0]["path"] == {"type": "Exact", "value": "/v1/models"}
    assert rules[-1]["matches"] == [{"path": {"type": "PathPrefix", "value": "/v1"}}]
    plan = plan_stack(_raw(_kubernetes_document(shared)))
    deployments = {deployment.name: deployment for deployment in plan.deployments}
    assert len(rules) == len(deployments) + 2
    for rule in rules[1:-1]:
        names = [match["headers"][0]["value"] for match in rule["matches"]]
        (owner,) = {plan.on_kubernetes.shared_endpoint.routes[name] for name in names}
        # The same backends as the deployment's own route would have.
        refs = [ref["name"] for ref in rule["backendRefs"]]
        assert refs == [backend.service for backend in deployments[owner].traffic.backends]
        assert all(m["headers"][0]["name"] == "X-Gateway-Model-Name" for m in rule["matches"])
        assert "filters" not in rule  # /v1 is the engines' own path
    policy = objects[("EnvoyExtensionPolicy", "modelstack-shared-endpoint")]
    assert policy["spec"]["targetRefs"] == [
        {
            "group": "gateway.networking.k8s.io",
            "kind": "HTTPRoute",
            "name": "modelstack-shared-endpoint",
        }
    ]
    (processor,) = policy["spec"]["extProc"]
    assert processor["backendRefs"] == [{"name": "modelstack-shared-endpoint-bbr", "port": 9004}]
    router = objects[("Deployment", "modelstack-shared-endpoint-bbr")]
    (container,) = router["spec"]["template"]["spec"]["containers"]
    assert container["image"] == "registry.k8s.io/gateway-api-inference-extension/bbr:v1.5.0"
    assert "--secure-serving=false" in container["args"]
    assert router["spec"]["replicas"] == 2  # prod
    models = objects[("HTTPRouteFilter", "modelstack-shared-endpoint-models")]
    listed = json.loads(models["spec"]["directResponse"]["body"]["inline"])
    assert [m["id"] for m in listed["data"]] == sorted(plan.on_kubernetes.shared_endpoint.routes)
    missing = objects[("HTTPRouteFilter", "modelstack-shared-endpoint-not-found")]
    assert missing["spec"]["directResponse"]["statusCode"] == 404
    assert json.loads(missing["spec"]["directResponse"]["body"]["inline"])["error"]["code"] == (
        "model_not_found"
    )
    retries = objects[("BackendTrafficPolicy", "modelstack-shared-endpoint")]["spec"]["retry"]
    assert retries["retryOn"]["httpStatusCodes"] == [503]
    shared_objects = [o for key, o in objects.items() if key[1].startswith("modelstack-shared")]
    assert len(shared_objects) == 9
    assert schema_validator.validate_all(shared_objects) == []
    # The shared schema set has no EnvoyExtensionPolicy or HTTPRouteFilter: skipped and said
    # so, everything else checked.
    assert set(schema_validator.skipped) <= KINDS_WITHOUT_SHARED_SCHEMA
    checked = [
        o for o in shared_objects if (o["apiVersion"], o["kind"]) not in KINDS_WITHOUT_SHARED_SCHEMA
    ]
    assert len(checked) == len(shared_objects) - sum(schema_validator.skipped.values()) > 0


def test_another_path_is_rewritten_to_v1(tmp_path: Path) -> None:
    objects = _objects(tmp_path, _kubernetes_document({"path": "/openai/v1"}))
    rules = objects[("HTTPRoute", "modelstack-shared-endpoint")]["spec"]["rules"]
    assert "hostnames" not in objects[("HTTPRoute", "modelstack-shared-endpoint")]["spec"]
    for rule in rules[1:-1]:
        (rewrite,) = rule["filters"]
        assert rewrite["urlRewrite"] == {
            "path": {"type": "ReplacePrefixMatch", "replacePrefixMatch": "/v1"}
        }


def test_without_the_setting_kubernetes_renders_no_shared_objects(tmp_path: Path) -> None:
    objects = _objects(tmp_path, _kubernetes_document(None))
    assert not [key for key in objects if key[1].startswith("modelstack-shared")]


def test_a_standard_gateway_refuses_the_shared_endpoint() -> None:
    document = _kubernetes_document({"path": "/v1"}, implementation="standard")
    (found,) = stack_problems(_raw(document))
    assert found.startswith("kubernetes.gateway.sharedEndpoint: ")
    assert "envoy-gateway" in found


def test_kubernetes_hosts_are_host_names() -> None:
    (found,) = stack_problems(_raw(_kubernetes_document({"hosts": ["Bad_Host"]})))
    assert found.startswith("kubernetes.gateway.sharedEndpoint.hosts[0]: ")


def test_a_deployment_cannot_take_the_shared_objects_names() -> None:
    document = _kubernetes_document({"path": "/v1"})
    deployments_of(document)[0]["name"] = "modelstack-shared-endpoint-x"
    problems = stack_problems(_raw(document))
    assert any(
        p.startswith("deployments[0].name: names starting with modelstack-shared") for p in problems
    )


def test_the_route_limits_are_planned() -> None:
    document = _kubernetes_document({"path": "/v1"})
    first = deployments_of(document)[-1]
    for index in range(14):
        extra = copy.deepcopy(first)
        extra["name"] = f"extra-{index}"
        extra["model"]["servedName"] = f"extra-{index}"
        deployments_of(document).append(extra)
    problems = stack_problems(_raw(document))
    assert any(
        p.startswith("kubernetes.gateway.sharedEndpoint: ") and "at most 14 deployments" in p
        for p in problems
    ), problems


def test_adapters_are_routed_and_listed_by_the_id_their_engine_takes() -> None:
    document = _kubernetes_document({"path": "/v1"})
    chat, drafting = deployments_of(document)[:2]
    chat["adapters"] = [{"name": "sql-helper", "source": "hf://acme/sql-lora", "revision": "v3"}]
    drafting["engine"] = "sglang"
    drafting["adapters"] = [{"name": "legal", "source": "s3://adapters/legal-lora"}]
    shared = plan_stack(_raw(document)).on_kubernetes.shared_endpoint
    assert shared is not None
    # vLLM serves an adapter under its name; SGLang as `<served name>:<adapter>`: a request
    # naming bare `legal` would reach SGLang as a model it does not know, so it is not routed.
    assert shared.routes["sql-helper"] == "llama-chat"
    assert shared.routes["llama-70b:legal"] == "llama-70b"
    assert "legal" not in shared.routes
    listed = [model["id"] for model in shared.models_document()["data"]]
    assert {"sql-helper", "llama-70b:legal"} <= set(listed)


def test_the_readme_kubernetes_example_plans() -> None:
    section = README.read_text().split("### One OpenAI endpoint for every model")[1]
    examples = [yaml.safe_load(block.split("```")[0]) for block in section.split("```yaml\n")[1:3]]
    kubernetes = next(example for example in examples if "modelstack:kubernetes" in example)
    document = _kubernetes_document(None)
    document["config"]["modelstack:kubernetes"].update(kubernetes["modelstack:kubernetes"])
    assert plan_stack(_raw(document)).on_kubernetes.shared_endpoint is not None


# -- diff and picture ----------------------------------------------------------------------------


def _summary(tmp_path: Path, old: dict[str, Any], new: dict[str, Any]) -> tuple[str, ...]:
    return compare(
        render_document(tmp_path, old, "old"), render_document(tmp_path, new, "new")
    ).summary


def test_diff_says_what_the_shared_endpoint_routes(tmp_path: Path) -> None:
    before = _kubernetes_document(None)
    shared = _kubernetes_document({"path": "/v1"})
    assert "shared endpoint /v1 added: llama-70b, llama-chat, summarizer-cpu" in _summary(
        tmp_path, before, shared
    )
    renamed = copy.deepcopy(shared)
    deployments_of(renamed)[0]["model"]["servedName"] = "support-bot"
    assert "shared endpoint /v1: + support-bot (llama-chat), - llama-chat" in _summary(
        tmp_path, shared, renamed
    )
    docker_before, docker_after = _docker_document(), _docker_document({"path": "/v1"})
    assert "shared endpoint /v1 added: qwen-coder, qwen-tiny" in _summary(
        tmp_path, docker_before, docker_after
    )
    assert "shared endpoint /v1 removed" in _summary(tmp_path, docker_after, docker_before)


def test_the_picture_shows_the_shared_endpoint(tmp_path: Path) -> None:
    docker = build_topology(render_document(tmp_path, _docker_document({"path": "/v1"})), "t")
    (node,) = [node for node in docker.nodes.values() if node.component == "shared-endpoint"]
    labels = {edge.label for edge in docker.edges if edge.source == node.id}
    assert {"qwen-coder", "qwen-tiny"} <= labels
    kubernetes = build_topology(render_document(tmp_path, _kubernetes_document({})), "t")
    policy = next(n for n in kubernetes.nodes.values() if n.kind == "EnvoyExtensionPolicy")
    route = next(
        n
        for n in kubernetes.nodes.values()
        if n.name == "modelstack-shared-endpoint" and n.kind == "HTTPRoute"
    )
    assert any(e.source == policy.id and e.target == route.id for e in kubernetes.edges)
    assert "by model: 3 names" in route.lines
