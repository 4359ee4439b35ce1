"""A change of a multi-line text value (the gateway's nginx.conf) as a unified diff.

A config file squeezed into one escaped line hides what moved; a unified diff (difflib's,
three lines of context) shows it as `git diff` would. The hunks are kept as data too, for
`--output json`.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from typing import Any

_HUNK_HEADER = re.compile(r"^@@ -(\d+)(?:,(\d+))? \+(\d+)(?:,(\d+))? @@")
CONTEXT_LINES = 3


@dataclass(frozen=True)
class Hunk:
    old_start: int
    old_lines: int
    new_start: int
    new_lines: int
    lines: tuple[str, ...]  # each starts with " ", "-" or "+"

    @property
    def header(self) -> str:
        return f"@@ -{self.old_start},{self.old_lines} +{self.new_start},{self.new_lines} @@"


@dataclass(frozen=True)
class TextDiff:
    hunks: tuple[Hunk, ...]

    @property
    def added(self) -> int:
        return sum(line.startswith("+") for hunk in self.hunks for line in hunk.lines)

    @property
    def removed(self) -> int:
        return sum(line.startswith("-") for hunk in self.hunks for line in hunk.lines)

    def unified(self, name: str) -> list[str]:
        """The diff as `diff -u` writes it, files named after the field."""
        lines = [f"--- {name} (before)", f"+++ {name} (after)"]
        for hunk in self.hunks:
            lines += [hunk.header, *hunk.lines]
        return lines

    def describe(self) -> str:
        return f"{_lines(self.added)} added, {_lines(self.removed)} removed"


def text_diff(old: Any, new: Any) -> TextDiff | None:
    """The unified diff of two texts when either spans lines; None for other values."""
    if not isinstance(old, str) or not isinstance(new, str) or "\n" not in old + new:
        return None
    output = difflib.unified_diff(old.splitlines(), new.splitlines(), lineterm="", n=CONTEXT_LINES)
    hunks: list[Hunk] = []
    header: re.Match[str] | None = None
    body: list[str] = []
    for line in output:
        match = _HUNK_HEADER.match(line)
        if match:
            if header is not None:
                hunks.append(_hunk(header, body))
            header, body = match, []
        elif header is not None:
            body.append(line)
        # Before the first hunk: the ---/+++ file lines, written again by unified().
    if header is not None:
        hunks.append(_hunk(header, body))
    return TextDiff(tuple(hunks))


def _hunk(header: re.Match[str], body: list[str]) -> Hunk:
    # A count left out of the header means one line (unified diff format).
    old_start, old_lines, new_start, new_lines = header.groups()
    return Hunk(
        int(old_start),
        int(old_lines or 1),
        int(new_start),
        int(new_lines or 1),
        tuple(body),
    )


def _lines(count: int) -> str:
    return f"{count} line" if count == 1 else f"{count} lines"
