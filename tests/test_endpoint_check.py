"""The post-deploy connectivity check, against real HTTP servers on loopback."""

from __future__ import annotations

import threading
import time

import pytest

from components.checks.endpoint_check import (
    EndpointCheckFailed,
    EndpointCheckProvider,
    probe,
)
from tests.support.fake_engine import FakeEngine, free_port


def _props(url: str, **changes: object) -> dict[str, object]:
    props: dict[str, object] = {
        "url": url,
        "expect_model": "fake",
        "trigger": "1",
        "timeout_seconds": 5,
        "interval_seconds": 0.1,
    }
    props.update(changes)
    return props


def test_a_serving_endpoint_passes() -> None:
    engine = FakeEngine("up").start()
    try:
        result = EndpointCheckProvider().create(_props(f"http://{engine.address}/v1/models"))
        assert result.id == f"http://{engine.address}/v1/models"
        assert engine.requests == 1
    finally:
        engine.stop()


def test_an_endpoint_that_comes_up_late_passes_within_the_timeout() -> None:
    engine = FakeEngine("late", port=free_port())
    timer = threading.Timer(0.8, engine.start)
    timer.start()
    try:
        started = time.monotonic()
        probe(f"http://{engine.address}/v1/models", "fake", timeout_seconds=5, interval=0.1)
        assert 0.7 < time.monotonic() - started < 4
    finally:
        timer.join()
        engine.stop()


def test_a_silent_endpoint_fails_up_with_a_clear_message() -> None:
    url = f"http://127.0.0.1:{free_port()}/v1/models"
    started = time.monotonic()
    with pytest.raises(EndpointCheckFailed) as failure:
        EndpointCheckProvider().create(_props(url, timeout_seconds=1))
    assert time.monotonic() - started < 3
    message = str(failure.value)
    assert url in message and "did not answer within 1 s" in message
    assert "refused" in message.lower()


def test_an_unhealthy_endpoint_reports_its_status() -> None:
    engine = FakeEngine("sick").start()
    engine.status = 503
    try:
        with pytest.raises(EndpointCheckFailed, match="HTTP 503"):
            probe(f"http://{engine.address}/v1/models", None, timeout_seconds=0.5, interval=0.1)
    finally:
        engine.stop()


def test_the_wrong_model_is_not_a_pass() -> None:
    engine = FakeEngine("other").start()
    try:
        with pytest.raises(EndpointCheckFailed, match="without model 'llama-chat'"):
            probe(
                f"http://{engine.address}/v1/models",
                "llama-chat",
                timeout_seconds=0.5,
                interval=0.1,
            )
    finally:
        engine.stop()


def test_the_check_runs_again_when_the_deployment_changes() -> None:
    provider = EndpointCheckProvider()
    olds = _props("http://127.0.0.1:1/v1/models")
    assert not provider.diff("id", olds, dict(olds)).changes
    assert provider.diff("id", olds, {**olds, "trigger": "2"}).changes
