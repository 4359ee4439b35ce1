"""streaming-route-timeouts: a token stream lasts minutes; a proxy that gives up after a
default 15-60 s cuts answers off mid-sentence."""

from __future__ import annotations

import re

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.subject import Subject, stack_deployment
from components.guardrails.wire import items, mapping

MIN_SECONDS = 60
READ_TIMEOUT = "nginx.ingress.kubernetes.io/proxy-read-timeout"
_INGRESS_CLASS_ANNOTATION = "kubernetes.io/ingress.class"
# Gateway API Duration: 1h, 30m, 300s, 500ms, 1m30s (Go duration units it allows).
_DURATION = re.compile(r"(?:\d+(?:h|m|s|ms))+")
_DURATION_PART = re.compile(r"(\d+)(ms|h|m|s)")
_UNIT_SECONDS = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}


def duration_seconds(text: object) -> float | None:
    if not isinstance(text, str) or not _DURATION.fullmatch(text):
        return None
    return sum(int(n) * _UNIT_SECONDS[unit] for n, unit in _DURATION_PART.findall(text))


def _timeout_problem(value: object, field: str) -> str | None:
    seconds = duration_seconds(value)
    if seconds is None:
        return f"{field} {value!r} is not a duration"
    # 0s turns the timeout off, which a stream is happy with.
    if seconds == 0 or seconds >= MIN_SECONDS:
        return None
    return f"{field} is {value}"


def _check_http_route(subject: Subject) -> list[str]:
    fix = f"set `route.timeoutSeconds` to {MIN_SECONDS} or more on {stack_deployment(subject)}"
    messages = []
    for index, rule in enumerate(items(subject.spec("rules"))):
        timeouts = mapping(mapping(rule).get("timeouts"))
        field = f"rules[{index}].timeouts"
        if "request" not in timeouts:
            messages.append(
                f"{field}.request is unset, so the Gateway's default (often"
                f" shorter than a generation) applies: {fix}"
            )
        for key in ("request", "backendRequest"):
            if key in timeouts:
                problem = _timeout_problem(timeouts[key], f"{field}.{key}")
                if problem:
                    messages.append(f"{problem}: {fix}")
    return messages


def _is_ingress_nginx(subject: Subject) -> bool:
    class_name = subject.spec("ingressClassName") or subject.annotations.get(
        _INGRESS_CLASS_ANNOTATION
    )
    uses_its_annotations = any(
        str(key).startswith("nginx.ingress.kubernetes.io/") for key in subject.annotations
    )
    return uses_its_annotations or "nginx" in str(class_name or "")


def _check_ingress(subject: Subject) -> list[str]:
    if not _is_ingress_nginx(subject):
        return []
    fix = f"set `route.timeoutSeconds` to {MIN_SECONDS} or more on {stack_deployment(subject)}"
    value = subject.annotations.get(READ_TIMEOUT)
    if value is None:
        # The controller-wide default lives in its ConfigMap, out of this stack's sight.
        return [f"has no {READ_TIMEOUT} annotation: {fix}"]
    text = str(value).strip().removesuffix("s")
    if not text.isdigit() or int(text) < MIN_SECONDS:
        return [f"has {READ_TIMEOUT}: {value!r}: {fix}"]
    return []


def check_route_timeouts(subject: Subject) -> list[str]:
    if subject.is_kubernetes("HTTPRoute", "gateway.networking.k8s.io"):
        return _check_http_route(subject)
    if subject.is_kubernetes("Ingress", "networking.k8s.io"):
        return _check_ingress(subject)
    return []


STREAMING_ROUTE_TIMEOUTS = ResourceGuardrail(
    name="streaming-route-timeouts",
    description=(
        "Routes to engines wait long enough for streamed answers: HTTPRoute rules set"
        f" timeouts.request (and backendRequest, if set) to at least {MIN_SECONDS}s or 0s;"
        f" ingress-nginx Ingresses set proxy-read-timeout to at least {MIN_SECONDS}."
    ),
    remediation=f"Set `route.timeoutSeconds` (at least {MIN_SECONDS}) on the deployment.",
    check=check_route_timeouts,
)
