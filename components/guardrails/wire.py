"""Reading wire-format values that may be plain dicts and lists or pulumi-policy's proxies.

pulumi-policy hands validations Mapping and Sequence proxies (not dict and list) that
raise UnknownValueError on values unknown during preview; these helpers only use the
abstract interfaces, so both kinds read the same way.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

_EMPTY: Mapping[str, Any] = {}


def mapping(value: Any) -> Mapping[str, Any]:
    return value if isinstance(value, Mapping) else _EMPTY


def items(value: Any) -> list[Any]:
    if isinstance(value, Sequence) and not isinstance(value, str | bytes):
        return list(value)
    return []


def as_int(value: Any) -> int | None:
    """Replica counts and GPU limits: 2, 2.0 (wire numbers are floats) or '2'."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().isdigit():
        return int(value.strip())
    return None
