"""Reading nested JSON-like values (rendered objects, API answers) without a KeyError."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any


def dig(value: Any, *path: str) -> Any:
    """value[path[0]][path[1]]...; None where a step is missing or not a mapping."""
    for key in path:
        if not isinstance(value, Mapping):
            return None
        value = value.get(key)
    return value
