"""After a deployment is up, ask it for its model list through the endpoint users call.

`pulumi up` fails with a clear message when the endpoint does not answer in time, so a
deployment that is "created" but unreachable never passes as done (seed 002's
connectivity test). A dynamic provider: it runs where Pulumi runs, so the endpoint must
be reachable from there (always on docker; on Kubernetes only through a public route).
"""

from __future__ import annotations

import json
import time
import urllib.error
import urllib.request
from typing import Any

import pulumi
from pulumi.dynamic import CreateResult, DiffResult, ResourceProvider, UpdateResult


class EndpointCheckFailed(Exception):
    pass


def probe(
    url: str,
    expect_model: str | None,
    timeout_seconds: float,
    interval: float,
    guarded: bool = False,
) -> str:
    """GET `url` until it answers 200 (listing `expect_model`, if given), or 401 when the
    engine requires an API key (the check holds no key); the last body."""
    deadline = time.monotonic() + timeout_seconds
    last = "no attempt"
    while True:
        try:
            with urllib.request.urlopen(url, timeout=min(10.0, timeout_seconds)) as response:
                body = response.read().decode("utf-8", "replace")
            if expect_model is None or expect_model in _model_ids(body):
                return body
            last = f"answered, but without model '{expect_model}': {body[:200]}"
        except urllib.error.HTTPError as error:
            if guarded and error.code == 401:
                return "401: the engine requires its API key"
            last = f"HTTP {error.code} {error.reason}"
        except (urllib.error.URLError, OSError) as error:
            last = str(getattr(error, "reason", error))
        if time.monotonic() + interval > deadline:
            raise EndpointCheckFailed(
                f"{url} did not answer within {timeout_seconds:g} s (last attempt: {last}). "
                "Check the engine's logs; the deployment is created but not serving."
            )
        time.sleep(interval)


def _model_ids(body: str) -> set[str]:
    try:
        return {str(model.get("id")) for model in json.loads(body).get("data", [])}
    except (ValueError, AttributeError, TypeError):
        return set()


class EndpointCheckProvider(ResourceProvider):
    """Runs the probe on create and whenever what it checks (or a trigger) changes."""

    def create(self, props: dict[str, Any]) -> CreateResult:
        self._run(props)
        return CreateResult(id_=props["url"], outs=props)

    def update(self, _id: str, _olds: dict[str, Any], news: dict[str, Any]) -> UpdateResult:
        self._run(news)
        return UpdateResult(outs=news)

    def diff(self, _id: str, olds: dict[str, Any], news: dict[str, Any]) -> DiffResult:
        keys = ("url", "expect_model", "trigger")
        changed = [key for key in keys if olds.get(key) != news.get(key)]
        return DiffResult(changes=bool(changed), replaces=[], delete_before_replace=False)

    @staticmethod
    def _run(props: dict[str, Any]) -> None:
        probe(
            props["url"],
            props.get("expect_model"),
            float(props.get("timeout_seconds", 120)),
            float(props.get("interval_seconds", 2)),
            bool(props.get("guarded", False)),
        )


class EndpointCheck(pulumi.dynamic.Resource):
    def __init__(
        self,
        name: str,
        url: pulumi.Input[str],
        expect_model: str | None,
        trigger: pulumi.Input[str],
        timeout_seconds: int = 300,
        opts: pulumi.ResourceOptions | None = None,
        guarded: bool = False,
    ) -> None:
        props: dict[str, Any] = {
            "url": url,
            "expect_model": expect_model,
            "trigger": trigger,
            "timeout_seconds": timeout_seconds,
            "interval_seconds": 2,
        }
        if guarded:
            props["guarded"] = True  # only then: unguarded checks render as before
        super().__init__(EndpointCheckProvider(), name, props, opts)
