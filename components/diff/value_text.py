"""How values in a diff are written for people: compact, one line, long ones shortened."""

from __future__ import annotations

import json
from typing import Any

from components.diff.diff_model import ABSENT

NONE_TEXT = "(none)"
WIDTH = 72  # longest value shown in full; beyond it, the part that differs is kept


def show_value(value: Any) -> str:
    if value is ABSENT:
        return NONE_TEXT
    if isinstance(value, str):
        return value
    return json.dumps(value, sort_keys=True, separators=(", ", ": "), default=str)


def show_pair(old: Any, new: Any, width: int = WIDTH) -> tuple[str, str]:
    """Both sides as single lines; when long, cut the shared start and end and keep the rest."""
    before, after = _one_line(show_value(old)), _one_line(show_value(new))
    if max(len(before), len(after)) <= width:
        return before, after
    start = _common_prefix(before, after)
    end = _common_prefix(before[start:][::-1], after[start:][::-1])
    keep = 12  # context either side of the difference
    head = max(start - keep, 0)
    before = _clip(before, head, len(before) - max(end - keep, 0), width)
    after = _clip(after, head, len(after) - max(end - keep, 0), width)
    return before, after


def _one_line(text: str) -> str:
    return text.replace("\n", "\\n")


def _common_prefix(a: str, b: str) -> int:
    count = 0
    for x, y in zip(a, b, strict=False):
        if x != y:
            break
        count += 1
    return count


def _clip(text: str, start: int, stop: int, width: int) -> str:
    part = text[start:stop]
    if len(part) > width:
        part, stop = part[:width], start + width
    return ("…" if start > 0 else "") + part + ("…" if stop < len(text) else "")
