"""A diff as Markdown for a pull-request comment.

A summary list (replacements first), then one collapsible section per resource with a
table of its field changes; sections that would replace something come first, open.
Cells use <code> with entity escaping so pipes and backticks in values cannot break tables.
"""

from __future__ import annotations

import re

from components.diff.diff_digest import (
    SIGNS,
    blocking_lines,
    counts,
    exit_code,
    headline,
)
from components.diff.diff_model import Consequence, Diff, FieldChange, ResourceDiff
from components.diff.text_diff import text_diff
from components.diff.tree_diff import format_path
from components.diff.value_text import show_pair

_MARKS = {Consequence.REFUSED: "⛔", Consequence.REPLACE: "⚠️"}


def format_markdown(diff: Diff, title: str) -> str:
    lines = [f"### {title}", ""]
    if diff.blocking:
        lines += [
            "> [!CAUTION]",
            f"> {len(diff.blocking)} resource(s) would be replaced or refused"
            f" (exit code {exit_code(diff)}).",
            "",
        ]
    lines += ["**Summary**", ""]
    lines += [f"- **{_escape(line)}**" for line in blocking_lines(diff)]
    lines += [f"- {_escape(line)}" for line in diff.summary]
    lines += [f"- {counts(diff)}", ""]
    for resource in diff.resources:
        lines += _section(resource)
    return "\n".join(lines).rstrip() + "\n"


def _section(resource: ResourceDiff) -> list[str]:
    verdict = headline(resource)
    mark = f"{_MARKS[verdict.consequence]} {verdict.consequence.upper()} " if verdict else ""
    changes = (*resource.fields, *resource.options)
    detail = f" · {len(changes)} field(s)" if changes else ""
    was = (
        f" (was {_code(resource.previous_id.rsplit('::', 1)[-1])})" if resource.previous_id else ""
    )
    summary = (
        f"{mark}{SIGNS[resource.status]} {resource.kind or resource.type}"
        f" {_code(resource.name)}{was}{detail}"
    )
    if not changes and not resource.notes:
        return [f"- {summary}", ""]
    lines = [f"<details{' open' if verdict else ''}><summary>{summary}</summary>", ""]
    lines += [f"- {_escape(_note(note.consequence, note.reason))}" for note in resource.notes]
    if resource.notes:
        lines.append("")
    if changes:
        lines += ["| field | before | after | consequence |", "|---|---|---|---|"]
        lines += [_row(change) for change in changes]
        lines.append("")
    for change in changes:
        lines += _text_block(change)
    lines += ["</details>", ""]
    return lines


def _row(change: FieldChange) -> str:
    text = text_diff(change.old, change.new)
    if text is not None:
        old, new = "", f"{text.describe()}, diff below"
    else:
        old, new = show_pair(change.old, change.new, width=60)
    verdict = change.verdict
    why = _escape(_note(verdict.consequence, verdict.reason)) if verdict else ""
    if verdict and verdict.consequence.blocking:
        why = f"**{why}**"
    return f"| {_code(format_path(change.path))} | {_code(old)} | {_code(new)} | {why} |"


def _text_block(change: FieldChange) -> list[str]:
    """A multi-line text's change as a fenced unified diff (GitHub colours `diff` blocks)."""
    text = text_diff(change.old, change.new)
    if text is None:
        return []
    path = format_path(change.path)
    body = text.unified(path)
    # A fence longer than any backtick run inside, so the config cannot close it.
    longest = max((len(run) for line in body for run in re.findall(r"`+", line)), default=0)
    fence = "`" * max(3, longest + 1)
    return [f"{_code(path)}:", "", f"{fence}diff", *body, fence, ""]


def _note(consequence: Consequence, reason: str) -> str:
    return reason if consequence is Consequence.UPDATE else f"{consequence.upper()}: {reason}"


def _code(text: str) -> str:
    return f"<code>{_escape(text)}</code>" if text else ""


def _escape(text: str) -> str:
    # ">" stays: "blue -> green" reads as written, and only "<" can open an HTML tag.
    for raw, entity in (("&", "&amp;"), ("<", "&lt;"), ("|", "&#124;"), ("`", "&#96;")):
        text = text.replace(raw, entity)
    return text
