"""The shared endpoint in words, on either target: which model names it routes where.

It belongs to the stack, not to a deployment: "shared endpoint /v1 added: chat, coder",
"shared endpoint /v1: + support-bot (llama-chat), - llama-chat", "shared endpoint removed".
Kubernetes: the shared HTTPRoute's header matches and each rule's first backend; docker: the
table in the gateway's nginx config (rendered/nginx_routes.py reads it) and each upstream.
"""

from __future__ import annotations

from typing import Any

from components.diff.entries import Entry
from components.identity import SHARED_ENDPOINT
from components.rendered.nginx_routes import parse_shared_endpoint
from components.rendered.objects import component_of

_ROUTE = "gateway.networking.k8s.io/HTTPRoute"
_DYNAMIC = "pulumi-python:dynamic:Resource"


def describe_shared_endpoint(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    old, new = _shared(before), _shared(after)
    if old is None and new is None:
        return []
    if old is None:
        assert new is not None
        return [f"shared endpoint {new[0]} added: {', '.join(sorted(new[1])) or 'no models'}"]
    if new is None:
        return [f"shared endpoint {old[0]} removed"]
    lines = [f"shared endpoint: path {old[0]} -> {new[0]}"] if old[0] != new[0] else []
    (_, was), (path, now) = old, new
    changes = [f"+ {name} ({now[name]})" for name in sorted(now) if name not in was]
    changes += [f"- {name}" for name in sorted(was) if name not in now]
    changes += [
        f"~ {name} {was[name]} -> {now[name]}"
        for name in sorted(now)
        if name in was and was[name] != now[name]
    ]
    if changes:
        lines.append(f"shared endpoint {path}: {', '.join(changes)}")
    return lines


def _shared(entries: dict[str, Entry]) -> tuple[str, dict[str, str]] | None:
    """(path, model name -> where it goes), or None: no shared endpoint."""
    for entry in entries.values():
        body = entry.body
        if body is None:
            continue
        if entry.kind_key == _ROUTE and component_of(body) == SHARED_ENDPOINT:
            return _from_route(body)
        if entry.type == _DYNAMIC and "config_path" in body and isinstance(body.get("config"), str):
            shared = parse_shared_endpoint(body["config"])
            return (shared.path, shared.models) if shared else None
    return None


def _from_route(route: dict[str, Any]) -> tuple[str, dict[str, str]]:
    path, models = "", {}
    for rule in route.get("spec", {}).get("rules") or []:
        backends = [str(ref.get("name")) for ref in rule.get("backendRefs") or []]
        for match in rule.get("matches") or []:
            value = match.get("path", {}).get("value", "")
            headers = match.get("headers") or []
            if match.get("path", {}).get("type") == "PathPrefix":
                path = path or str(value)
            for header in headers:
                models[str(header.get("value"))] = ", ".join(backends)
    return path, models
