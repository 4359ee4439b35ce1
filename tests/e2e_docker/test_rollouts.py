"""A version bump and a blue-green switch under streaming load lose no request.

Load: 4 clients, each a fresh connection per request, 8 tokens 0.25 s apart (2 s streams), on
loopback through the gateway's published port, bounded in count and time.
"""

from __future__ import annotations

import time
from collections.abc import Callable

import pytest

from tests.e2e_docker.documents import dev_document
from tests.e2e_docker.load import StreamingLoad
from tests.e2e_docker.stack import DockerStack
from tests.support.fake_engine import free_port

pytestmark = pytest.mark.e2e_docker


def _hostnames(stack: DockerStack, names: list[str] | set[str]) -> dict[str, str]:
    """Container hostname (what the stand-in answers with) -> container name."""
    return {stack.api.inspect(name)["Config"]["Hostname"]: name for name in names}


def test_a_version_bump_under_streaming_load_loses_no_request(
    make_stack: Callable[[str], DockerStack],
) -> None:
    port = free_port()
    stack = make_stack("bump")
    before = stack.apply(dev_document("e2e-bump", port))
    old = _hostnames(stack, before.engines.values())
    with StreamingLoad(port, "/qwen-tiny") as load:
        time.sleep(3)
        bumped = stack.apply(
            dev_document("e2e-bump", port, image="ghcr.io/ggml-org/llama.cpp:server-b11400")
        )
        time.sleep(3)
    new = _hostnames(stack, bumped.engines.values())
    assert set(bumped.engines.values()).isdisjoint(before.engines.values())
    assert sorted(bumped.removed) == sorted(before.engines.values())
    assert len(load.results) >= 20
    assert load.failures() == []
    # Streams on the old engines were running when the switch came, and all ended whole
    # before their containers were stopped: the drain waited for them.
    on_old = [r for r in load.results if r.engine in old]
    assert bumped.removing_at is not None
    assert on_old and max(r.finished for r in on_old) <= bumped.removing_at
    assert {r.engine for r in load.results[-8:]} <= set(new)


def test_a_blue_green_switch_under_streaming_load_loses_no_request(
    make_stack: Callable[[str], DockerStack],
) -> None:
    port = free_port()
    stack = make_stack("bluegreen")
    rollout = {
        "strategy": "blue-green",
        "active": "blue",
        "slots": {"green": {"image": "ghcr.io/ggml-org/llama.cpp:server-b11400"}},
    }
    first = stack.apply(dev_document("e2e-bg", port, replicas=1, rollout=rollout))
    names = _hostnames(stack, first.engines.values())
    blue = {host for host, name in names.items() if "-blue-" in name}
    green = {host for host, name in names.items() if "-green-" in name}
    assert len(blue) == len(green) == 1
    with StreamingLoad(port, "/qwen-tiny") as load:
        time.sleep(3)
        switching_at = time.monotonic()
        switched = stack.apply(
            dev_document("e2e-bg", port, replicas=1, rollout={**rollout, "active": "green"})
        )
        switched_at = time.monotonic()
        time.sleep(4)
    # Only the gateway config changed: the same containers, none removed.
    assert switched.engines == first.engines and switched.removed == []
    assert len(load.results) >= 20
    assert load.failures() == []
    assert {r.engine for r in load.results if r.finished < switching_at} == blue
    assert {r.engine for r in load.results if r.started > switched_at} == green
