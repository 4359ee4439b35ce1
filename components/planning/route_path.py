"""Route paths from templates: `/{namespace}/chat/{name}`, `/{labels.team}/{name}`."""

from __future__ import annotations

import re

MAX_PATH = 200
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")
_UNSAFE = re.compile(r"[^a-z0-9._~/-]")


def resolve_route_path(template: str, name: str, namespace: str, tags: dict[str, str]) -> str:
    """The concrete path prefix; ValueError naming the placeholder or rule that fails."""

    def substitute(match: re.Match[str]) -> str:
        key = match.group(1)
        if key == "name":
            return name
        if key == "namespace":
            return namespace
        if key.startswith("labels."):
            label = key.removeprefix("labels.")
            if label not in tags:
                known = ", ".join(sorted(tags)) or "none"
                raise ValueError(f"{{{key}}}: the deployment has no tag '{label}' (tags: {known})")
            return tags[label]
        raise ValueError(
            f"unknown placeholder {{{key}}}: use {{name}}, {{namespace}}, {{labels.KEY}}"
        )

    path = _PLACEHOLDER.sub(substitute, template).lower()
    if "{" in path or "}" in path:
        raise ValueError(f"unbalanced braces in '{template}'")
    path = re.sub(r"/+", "/", path)
    path = path.rstrip("/") or "/"
    if _UNSAFE.search(path):
        raise ValueError(f"'{path}' has characters that are not URL-safe")
    if len(path) > MAX_PATH:
        raise ValueError(f"'{path}' is {len(path)} characters; at most {MAX_PATH}")
    return path
