"""One OpenAI base URL for the whole stack on a real Docker Engine: the gateway container's
nginx (Debian's, with njs as the production image has it) reads each request's `model` and
sends it to the deployment that serves it.

The gateway is created as pulumi-docker creates it, with the njs script uploaded before the
start; engines are stand-ins that answer with their container's hostname (X-Engine).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e_docker.documents import dev_document
from tests.e2e_docker.load import StreamingLoad, get, post
from tests.e2e_docker.stack import Applied, DockerStack
from tests.support.fake_engine import free_port

pytestmark = pytest.mark.e2e_docker

NAMESPACE = "e2e-shared"
SHARED = "/v1"


def _two_models(port: int, *, second: bool = True) -> dict[str, Any]:
    """The dev stack (qwen-tiny, two engines) and, with `second`, qwen-small (one engine),
    both behind the shared endpoint."""
    document = dev_document(NAMESPACE, port)
    document["config"]["modelstack:docker"]["sharedEndpoint"] = {"path": SHARED}
    if second:
        small = copy.deepcopy(document["config"]["modelstack:deployments"][0])
        small.update(name="qwen-small", replicas=1)
        document["config"]["modelstack:deployments"].append(small)
    return document


def _engines_of(stack: DockerStack, applied: Applied, deployment: str) -> set[str]:
    """Hostnames (what the stand-ins answer with) of one deployment's engine containers."""
    return {
        stack.api.inspect(name)["Config"]["Hostname"]
        for name in applied.engines.values()
        if name.startswith(f"{NAMESPACE}-{deployment}-")
    }


def _chat(port: int, model: str) -> tuple[int, str, str]:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
    return post(port, f"{SHARED}/chat/completions", json.dumps(body).encode())


def test_the_shared_endpoint_routes_by_model_and_follows_the_stack(
    make_stack: Callable[[str], DockerStack],
) -> None:
    port = free_port()
    stack = make_stack("shared")
    applied = stack.apply(_two_models(port))
    tiny = _engines_of(stack, applied, "qwen-tiny")
    small = _engines_of(stack, applied, "qwen-small")
    assert len(tiny) == 2 and len(small) == 1

    # Each model reaches only its own deployment's engines (round robin over qwen-tiny's two).
    answered_tiny = {_chat(port, "qwen-tiny")[1] for _ in range(8)}
    answered_small = {_chat(port, "qwen-small")[1] for _ in range(4)}
    assert answered_tiny == tiny
    assert answered_small == small

    # OpenAI's errors: an unknown model is a 404 naming it, a body without `model` a 400.
    status, engine, text = _chat(port, "gpt-4o")
    assert (status, engine) == (404, "")
    error = json.loads(text)["error"]
    assert error["code"] == "model_not_found" and "gpt-4o" in error["message"]
    status, engine, text = post(port, f"{SHARED}/chat/completions", b"not json")
    assert (status, engine) == (400, "")
    assert json.loads(text)["error"]["type"] == "invalid_request_error"

    # The models list is the stack's, answered by the gateway.
    status, _, text = get(port, f"{SHARED}/models")
    assert status == 200
    assert sorted(model["id"] for model in json.loads(text)["data"]) == ["qwen-small", "qwen-tiny"]

    # Streams come through whole, and each deployment's own route still works beside it.
    # (StreamingLoad appends /v1/chat/completions to the route prefix; the shared one is /v1.)
    stream = StreamingLoad(port, "", tokens=4, chunk_interval=0.05, model="qwen-small")
    result = stream.request()
    assert result.ok and result.engine in small
    status, engine, _ = get(port, "/qwen-tiny/v1/models")
    assert status == 200 and engine in tiny

    # Taking a model out rewrites and reloads the config: the same gateway container, and the
    # removed model is unknown from then on.
    gateway = stack.api.inspect(f"{NAMESPACE}-gateway")["Id"]
    stack.apply(_two_models(port, second=False))
    assert stack.api.inspect(f"{NAMESPACE}-gateway")["Id"] == gateway
    assert _chat(port, "qwen-small")[0] == 404
    assert {_chat(port, "qwen-tiny")[1] for _ in range(6)} == tiny
    status, _, text = get(port, f"{SHARED}/models")
    assert [model["id"] for model in json.loads(text)["data"]] == ["qwen-tiny"]
