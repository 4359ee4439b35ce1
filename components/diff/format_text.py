"""A diff for the terminal: summary first, then what would be replaced, then every change."""

from __future__ import annotations

from collections.abc import Callable

from components.diff.diff_digest import SIGNS, blocking_lines, counts, headline
from components.diff.diff_model import Consequence, Diff, FieldChange, ResourceDiff, Verdict
from components.diff.text_diff import text_diff
from components.diff.tree_diff import format_path
from components.diff.value_text import show_pair

_COLORS = {"red": "\033[31m", "green": "\033[32m", "yellow": "\033[33m", "bold": "\033[1m"}
_RESET = "\033[0m"
_SIGN_COLORS = {"~": "yellow", "±": "red", "+": "green", "-": "red"}
# Lines of a unified diff, by their first character.
_LINE_COLORS = {"+": "green", "-": "red", "@": "bold"}
Paint = Callable[[str, str], str]  # (text, color name) -> text


def format_text(diff: Diff, title: str, color: bool = False) -> str:
    paint = _painter(color)
    lines = [paint(title, "bold"), "", "Summary"]
    lines += [f"  ! {paint(line, 'red')}" for line in blocking_lines(diff)]
    lines += [f"  - {line}" for line in diff.summary]
    lines.append(f"  {counts(diff)}")
    sections = (
        ("Would be replaced or refused", diff.blocking),
        ("Changes", tuple(r for r in diff.resources if not r.blocking)),
    )
    for heading, resources in sections:
        if resources:
            lines += ["", heading]
            for resource in resources:
                lines += _resource_lines(resource, paint)
    return "\n".join(lines) + "\n"


def _painter(color: bool) -> Paint:
    def paint(text: str, name: str) -> str:
        return f"{_COLORS[name]}{text}{_RESET}" if color and text else text

    return paint


def _resource_lines(resource: ResourceDiff, paint: Paint) -> list[str]:
    sign = SIGNS[resource.status]
    verdict = headline(resource)
    tag = f"  [{verdict.consequence}]" if verdict else ""
    head = f"  {paint(sign, _SIGN_COLORS[sign])} {resource.label}{paint(tag, 'red')}"
    if resource.previous_name:
        head += f"  (was {resource.previous_name})"
    lines = [head]
    lines += [f"      note: {_verdict_text(note)}" for note in resource.notes]
    for change in (*resource.fields, *resource.options):
        lines += _change_lines(change, paint)
    return lines


def _change_lines(change: FieldChange, paint: Paint) -> list[str]:
    path = format_path(change.path)
    unified = text_diff(change.old, change.new)
    if unified is not None:
        lines = [f"      {path}: {unified.describe()}"]
        # rstrip: a blank context line is a lone space, invisible and noisy in a terminal.
        lines += [
            f"        {_paint_diff_line(line, paint)}".rstrip() for line in unified.unified(path)
        ]
    else:
        old, new = show_pair(change.old, change.new)
        lines = [f"      {path}: {old} -> {new}"]
    if change.verdict is not None:
        text = _verdict_text(change.verdict)
        lines.append(
            "        " + (paint(text, "red") if change.verdict.consequence.blocking else text)
        )
    return lines


def _paint_diff_line(line: str, paint: Paint) -> str:
    if line.startswith(("---", "+++")):
        return paint(line, "bold")
    color = _LINE_COLORS.get(line[:1])
    return paint(line, color) if color else line


def _verdict_text(verdict: Verdict) -> str:
    if verdict.consequence is Consequence.UPDATE:
        return verdict.reason
    return f"{verdict.consequence.upper()}: {verdict.reason}"
