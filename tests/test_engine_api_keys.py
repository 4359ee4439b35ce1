"""Engine API keys: a Pulumi secret per deployment, read by the engine from a Secret."""

from __future__ import annotations

import http.server
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.checks.endpoint_check import EndpointCheckFailed, probe
from tests.conftest import find_object, find_resource, render_document
from tests.support.hostile import document_with, dump, run_render

KEY = {"secure": "v1:ciphertext"}


def _with_key(base: str, name: str, **changes: Any) -> dict[str, Any]:
    return document_with(base, {f"config.modelstack:engineApiKeys.{name}": KEY, **changes})


def _env(deployment: dict[str, Any]) -> list[dict[str, Any]]:
    return deployment["spec"]["template"]["spec"]["containers"][0]["env"]


@pytest.mark.parametrize(
    ("base", "index", "name", "variable"),
    [
        ("staging", 0, "llama-chat", "VLLM_API_KEY"),
        ("prod", 2, "summarizer-cpu", "LLAMA_API_KEY"),
    ],
)
def test_the_key_reaches_the_engine_from_a_secret_never_argv(
    tmp_path: Path, base: str, index: int, name: str, variable: str
) -> None:
    render = render_document(tmp_path, _with_key(base, name))
    secret = find_object(render, "Secret", f"{name}-api-key")
    # Redacted in the render: the value was a Pulumi secret all the way.
    assert secret["stringData"] == {"api-key": "[secret]"}
    workloads = [
        o for o in render.objects if o["kind"] == "Deployment" and o["metadata"]["name"] == name
    ]
    assert workloads
    for workload in workloads:
        reference = {"secretKeyRef": {"name": f"{name}-api-key", "key": "api-key"}}
        assert {"name": variable, "valueFrom": reference} in _env(workload)
        args = workload["spec"]["template"]["spec"]["containers"][0]["args"]
        assert not any("api-key" in arg or "api_key" in arg for arg in args)
    engine = find_resource(render, "kubernetes:apps/v1:Deployment", name)
    assert f"kubernetes:core/v1:Secret::{name}-api-key" in engine["dependsOn"]


def test_without_a_key_nothing_changes(tmp_path: Path) -> None:
    render = render_document(tmp_path, document_with("staging", {}))
    assert not [o for o in render.objects if o["metadata"]["name"].endswith("-api-key")]


@pytest.mark.parametrize(
    ("base", "name", "changes", "fragment"),
    [
        pytest.param(
            "staging",
            "llama-chat",
            {"deployments[0].engine": "sglang"},
            "SGLang reads its API key only from the command line",
            id="sglang",
        ),
        pytest.param("dev", "qwen-tiny", {}, "not supported yet on docker", id="docker"),
        pytest.param("staging", "llama-chaat", {}, "no deployment named 'llama-chaat'", id="typo"),
        pytest.param(
            "staging",
            "llama-chat",
            {"deployments[0].env.VLLM_API_KEY": {"secretKeyRef": {"name": "s", "key": "k"}}},
            "engineApiKeys.llama-chat sets VLLM_API_KEY: remove one of them",
            id="set-twice",
        ),
    ],
)
def test_a_key_the_engine_cannot_take_is_refused(
    tmp_path: Path, base: str, name: str, changes: dict[str, Any], fragment: str
) -> None:
    outcome = run_render(tmp_path, dump(_with_key(base, name, **changes)))
    assert outcome.code == 2, outcome.stderr
    assert fragment in outcome.stderr


def test_a_plain_key_is_refused(tmp_path: Path) -> None:
    document = document_with("staging", {"config.modelstack:engineApiKeys": {"llama-chat": "x"}})
    outcome = run_render(tmp_path, dump(document))
    assert outcome.code == 2
    assert "modelstack:engineApiKeys: must be a secret: `pulumi config set --secret --path" in (
        outcome.stderr
    )


class _Unauthorized(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(401)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def guarded_server() -> Iterator[str]:
    server = http.server.HTTPServer(("127.0.0.1", 0), _Unauthorized)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/v1/models"
    finally:
        server.shutdown()
        server.server_close()


def test_the_endpoint_check_takes_401_as_serving_only_when_guarded(guarded_server: str) -> None:
    assert "401" in probe(guarded_server, "m", timeout_seconds=2, interval=0.1, guarded=True)
    with pytest.raises(EndpointCheckFailed, match="HTTP 401"):
        probe(guarded_server, "m", timeout_seconds=0.3, interval=0.1)
