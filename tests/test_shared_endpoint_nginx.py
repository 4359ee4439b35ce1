"""The docker gateway's shared endpoint, run for real: Debian's nginx with njs
(libnginx-mod-http-js) in front of stand-in engines, routing by the body's `model`.

Every request here talks to 127.0.0.0/8 only.
"""

from __future__ import annotations

import http.client
import json
import os
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.docker.gateway_config import GatewayConfig, GatewayRoute, UpstreamServer
from components.docker.gateway_files import NJS_MODULE, script_text
from components.docker.shared_endpoint import shared_gateway
from components.planning.shared_endpoint_plan import SharedEndpointPlan, SharedModel
from components.rendered.nginx_routes import parse_shared_endpoint
from tests.support.fake_engine import FakeEngine, free_port
from tests.support.nginx_process import NginxProcess, nginx_available

# CI installs nginx and njs: there a missing one fails instead of skipping.
pytestmark = pytest.mark.skipif(
    not (nginx_available() and Path(NJS_MODULE).exists()) and not os.environ.get("CI"),
    reason="nginx or its njs module (libnginx-mod-http-js) is not installed",
)

QWEN = "Qwen/Qwen2.5-0.5B-Instruct"
# Quotes, a backslash and a dollar: the JSON and nginx quoting must keep them as they are.
ODD = "it's a \\ $model"


class PathEngine:
    """A stand-in that answers every POST with the path it received (the rewrite's result)."""

    def __init__(self) -> None:
        self.port = free_port()
        self.paths: list[str] = []
        engine = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                self.rfile.read(int(self.headers.get("Content-Length") or 0))
                engine.paths.append(self.path)
                data = json.dumps({"path": self.path}).encode()
                self.send_response(200)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

        self._server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self._server.serve_forever, daemon=True).start()

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()


class SharedGatewayProcess:
    def __init__(self, directory: Path, path: str, engines: dict[str, str]) -> None:
        """`engines`: deployment name -> its one engine's address."""
        self.port = free_port()
        self.path = path
        self.nginx = NginxProcess(directory)
        script = directory / "shared_endpoint.js"
        script.write_text(script_text())
        # An empty address: the deployment is stopped (its route answers 503 and says so).
        routes = tuple(
            GatewayRoute(
                name,
                f"/{name}",
                60,
                None,
                (UpstreamServer(address),) if address else (),
                3,
                10,
                unavailable_reason="is stopped",
            )
            for name, address in engines.items()
        )
        models = [SharedModel(QWEN, "qwen"), SharedModel("llama", "llama")]
        models += [SharedModel(ODD, "llama"), SharedModel("llama-sql", "llama", adapter_of="llama")]
        plan = SharedEndpointPlan(path, (), tuple(sorted(models, key=lambda m: m.name)))
        self.config = GatewayConfig(
            listen_address="127.0.0.1",
            listen_port=self.port,
            routes=routes,
            runtime_dir=str(directory),
            error_log=str(directory / "error.log"),
            access_log="off",
            resolver=None,
            shared=shared_gateway(plan, {name: name for name in engines}, str(script)),
        )
        self.nginx.write(self.config.render())
        self.nginx.start(f"http://127.0.0.1:{self.port}/-/health")

    def request(
        self, method: str, path: str, body: bytes | str | None = None
    ) -> tuple[int, dict[str, str], bytes]:
        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=20)
        try:
            headers = {"Content-Type": "application/json"}
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            return response.status, dict(response.getheaders()), response.read()
        finally:
            connection.close()

    def chat(self, payload: dict[str, Any]) -> tuple[int, dict[str, str], bytes]:
        return self.request("POST", f"{self.path}/chat/completions", json.dumps(payload))


@pytest.fixture
def engines() -> Iterator[dict[str, FakeEngine]]:
    started = {
        "qwen": FakeEngine("engine-qwen", served_name=QWEN).start(),
        "llama": FakeEngine("engine-llama", served_name="llama").start(),
    }
    yield started
    for engine in started.values():
        engine.stop()


@pytest.fixture
def gateway(tmp_path: Path, engines: dict[str, FakeEngine]) -> Iterator[SharedGatewayProcess]:
    addresses = {name: engine.address for name, engine in engines.items()}
    process = SharedGatewayProcess(tmp_path / "nginx", "/v1", addresses)
    yield process
    process.nginx.stop()


def test_each_model_reaches_its_own_deployment(gateway: SharedGatewayProcess) -> None:
    for model, engine in [(QWEN, "engine-qwen"), ("llama", "engine-llama")] * 3:
        status, headers, _ = gateway.chat({"model": model, "messages": []})
        assert (status, headers.get("X-Engine")) == (200, engine)
    # An adapter goes to the deployment that serves it; so does a name with odd characters.
    for model in ("llama-sql", ODD):
        status, headers, _ = gateway.chat({"model": model, "messages": []})
        assert (status, headers.get("X-Engine")) == (200, "engine-llama")


def test_an_unknown_model_is_openais_404(gateway: SharedGatewayProcess) -> None:
    status, headers, body = gateway.chat({"model": "gpt-4o", "messages": []})
    assert status == 404
    assert headers["Content-Type"] == "application/json"
    assert json.loads(body) == {
        "error": {
            "message": "The model `gpt-4o` does not exist.",
            "type": "invalid_request_error",
            "param": "model",
            "code": "model_not_found",
        }
    }
    # A model name is never a key of another object's prototype.
    status, _, _ = gateway.chat({"model": "constructor", "messages": []})
    assert status == 404


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("{not json", "We could not parse the JSON body of your request."),
        ("", "We could not parse the JSON body of your request."),
        ('{"messages": []}', "you must provide a model parameter"),
        ('{"model": 7}', "you must provide a model parameter"),
        ('["llama"]', "you must provide a model parameter"),
    ],
)
def test_a_body_without_a_model_is_a_400(
    gateway: SharedGatewayProcess, body: str, message: str
) -> None:
    status, headers, answer = gateway.request("POST", "/v1/chat/completions", body)
    assert status == 400
    assert headers["Content-Type"] == "application/json"
    assert json.loads(answer)["error"]["message"] == message
    assert json.loads(answer)["error"]["type"] == "invalid_request_error"


def test_models_lists_every_served_model(gateway: SharedGatewayProcess) -> None:
    status, headers, body = gateway.request("GET", "/v1/models")
    assert status == 200
    assert headers["Content-Type"] == "application/json"
    document = json.loads(body)
    assert document["object"] == "list"
    assert [model["id"] for model in document["data"]] == sorted([QWEN, "llama", ODD, "llama-sql"])
    status, _, body = gateway.request("GET", f"/v1/models/{QWEN}")
    assert (status, json.loads(body)["id"]) == (200, QWEN)
    status, _, body = gateway.request("GET", "/v1/models/gpt-4o")
    assert (status, json.loads(body)["error"]["code"]) == (404, "model_not_found")
    # Review tools read the same table back from the config, quotes and all.
    shared = parse_shared_endpoint(gateway.config.render())
    assert shared is not None and shared.models[ODD] == "llama"


def test_streams_pass_through_as_produced(
    gateway: SharedGatewayProcess, engines: dict[str, FakeEngine]
) -> None:
    connection = http.client.HTTPConnection("127.0.0.1", gateway.port, timeout=20)
    payload = {"model": "llama", "stream": True, "max_tokens": 4, "chunk_interval": 0.3}
    connection.request("POST", "/v1/chat/completions", body=json.dumps(payload))
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("Transfer-Encoding") == "chunked"
    arrived = []
    for _ in range(4):
        line = response.readline()
        arrived.append(time.perf_counter())
        assert line.startswith(b"data: ")
        response.readline()
    assert b"[DONE]" in response.read()
    connection.close()
    # Each event left nginx while the engine was still producing the next one.
    sent = engines["llama"].chunk_sent_at[-4:]
    assert all(got - out < 0.25 for got, out in zip(arrived, sent, strict=True))
    assert arrived[-1] - arrived[0] > 0.6


def test_a_large_prompt_is_routed(gateway: SharedGatewayProcess) -> None:
    prompt = "word " * 220_000  # about 1 MB
    status, headers, _ = gateway.chat({"prompt": prompt, "model": QWEN})
    assert (status, headers.get("X-Engine")) == (200, "engine-qwen")
    # `model` after the prompt: the whole body is read before routing.
    body = '{"prompt": "' + prompt + '", "model": "llama"}'
    status, headers, _ = gateway.request("POST", "/v1/completions", body)
    assert (status, headers.get("X-Engine")) == (200, "engine-llama")


def test_per_deployment_routes_keep_working(gateway: SharedGatewayProcess) -> None:
    for name in ("qwen", "llama"):
        status, headers, _ = gateway.request("POST", f"/{name}/v1/chat/completions", "{}")
        assert (status, headers.get("X-Engine")) == (200, f"engine-{name}")


def test_another_base_path_reaches_the_engines_v1(tmp_path: Path) -> None:
    engine = PathEngine()
    try:
        process = SharedGatewayProcess(
            tmp_path / "nginx", "/openai.v1", {"qwen": engine.address, "llama": engine.address}
        )
        try:
            status, _, body = process.chat({"model": QWEN})
            assert (status, json.loads(body)) == (200, {"path": "/v1/chat/completions"})
            status, _, _ = process.request("POST", "/openaixv1/chat/completions", "{}")
            assert status >= 400  # not the shared endpoint: '.' is matched as itself
        finally:
            process.nginx.stop()
    finally:
        engine.stop()
    assert engine.paths == ["/v1/chat/completions"]


def test_a_stopped_deployments_model_gets_its_routes_503(tmp_path: Path) -> None:
    engine = FakeEngine("engine-qwen", served_name=QWEN).start()
    try:
        process = SharedGatewayProcess(
            tmp_path / "nginx", "/v1", {"qwen": engine.address, "llama": ""}
        )
        try:
            status, _, body = process.chat({"model": "llama", "messages": []})
            assert status == 503
            assert json.loads(body)["error"]["message"] == "llama is stopped"
            status, headers, _ = process.chat({"model": QWEN, "messages": []})
            assert (status, headers.get("X-Engine")) == (200, "engine-qwen")
        finally:
            process.nginx.stop()
    finally:
        engine.stop()
