"""Field-level differences between two JSON-like trees, and how to write their paths.

Lists of uniquely named items (containers, env, volumes, ports) are matched by name, so
inserting one env var reports one addition instead of shifting every later item; other
lists are aligned with a sequence match for the same reason.
"""

from __future__ import annotations

import difflib
import json
import re
from collections.abc import Iterator
from typing import Any

from components.diff.diff_model import ABSENT, FieldPath, Named

_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")


def tree_changes(old: Any, new: Any, path: FieldPath = ()) -> Iterator[tuple[FieldPath, Any, Any]]:
    """(path, old, new) for every leaf or subtree that differs; ABSENT marks a missing side."""
    if isinstance(old, dict) and isinstance(new, dict):
        for key in sorted(set(old) | set(new)):
            yield from tree_changes(old.get(key, ABSENT), new.get(key, ABSENT), (*path, key))
    elif isinstance(old, list) and isinstance(new, list):
        yield from _list_changes(old, new, path)
    elif old != new:
        yield path, old, new


def _list_changes(
    old: list[Any], new: list[Any], path: FieldPath
) -> Iterator[tuple[FieldPath, Any, Any]]:
    old_names, new_names = _names(old), _names(new)
    if old_names is not None and new_names is not None:
        old_items = dict(zip(old_names, old, strict=True))
        new_items = dict(zip(new_names, new, strict=True))
        # Named items keep the order they have on either side.
        for name in [*old_names, *(n for n in new_names if n not in old_items)]:
            yield from tree_changes(
                old_items.get(name, ABSENT), new_items.get(name, ABSENT), (*path, Named(name))
            )
        return
    matcher = difflib.SequenceMatcher(a=_keys(old), b=_keys(new), autojunk=False)
    for tag, old_start, old_end, new_start, new_end in matcher.get_opcodes():
        if tag == "equal":
            continue
        pairs = max(old_end - old_start, new_end - new_start)
        for offset in range(pairs):
            i, j = old_start + offset, new_start + offset
            before = old[i] if i < old_end else ABSENT
            after = new[j] if j < new_end else ABSENT
            yield from tree_changes(before, after, (*path, j if j < new_end else i))


def _names(items: list[Any]) -> list[str] | None:
    if not items or not all(isinstance(item, dict) and "name" in item for item in items):
        return None
    names = [str(item["name"]) for item in items]
    return names if len(set(names)) == len(names) else None


def _keys(items: list[Any]) -> list[str]:
    return [json.dumps(item, sort_keys=True, default=str) for item in items]


def format_path(path: FieldPath) -> str:
    """spec.selector["modelstack.io/slot"], spec.template.spec.containers[engine].args[3]."""
    text = ""
    for segment in path:
        if isinstance(segment, Named):
            text += f"[{segment.name}]"
        elif isinstance(segment, int):
            text += f"[{segment}]"
        elif _PLAIN_KEY.fullmatch(segment):
            text += f".{segment}" if text else segment
        else:
            text += f'["{segment}"]'
    return text


def keys_of(path: FieldPath) -> tuple[str | None, ...]:
    """The path with list positions blanked: what tables of rules and phrases match on."""
    return tuple(segment if isinstance(segment, str) else None for segment in path)
