"""The shared endpoint (one OpenAI base URL, routed by the body's `model`): spec, plan, renders."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest
import yaml

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
