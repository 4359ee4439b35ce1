"""A diff as one JSON document (`modelstack diff --output json`) for pipelines."""

from __future__ import annotations

import json
from typing import Any

from components.diff.diff_model import ABSENT, Diff, FieldChange, Named, Verdict
from components.diff.text_diff import TextDiff, text_diff


def format_json(diff: Diff, title: str) -> str:
    document = {
        "title": title,
        "changed": diff.changed,
        "summary": list(diff.summary),
        "blocking": [resource.id for resource in diff.blocking],
        "resources": [
            {
                "id": resource.id,
                "label": resource.label,
                "status": str(resource.status),
                "deployment": resource.deployment,
                "previousId": resource.previous_id,
                "fields": [_change(change) for change in resource.fields],
                "options": [_change(change) for change in resource.options],
                "verdicts": [_verdict(verdict) for verdict in resource.verdicts],
            }
            for resource in diff.resources
        ],
    }
    return json.dumps(document, indent=2, default=str) + "\n"


def _change(change: FieldChange) -> dict[str, Any]:
    path = ".".join(
        f"[{segment.name}]" if isinstance(segment, Named) else str(segment)
        for segment in change.path
    )
    text = text_diff(change.old, change.new)
    return {
        "path": path,
        # A field missing on one side is absent from the document (null is an explicit null).
        **({} if change.old is ABSENT else {"old": change.old}),
        **({} if change.new is ABSENT else {"new": change.new}),
        **({} if text is None else {"textDiff": _text_diff(text)}),
    }


def _text_diff(text: TextDiff) -> dict[str, Any]:
    """Multi-line texts (the gateway's nginx.conf): the unified diff's hunks as data."""
    return {
        "added": text.added,
        "removed": text.removed,
        "hunks": [
            {
                "oldStart": hunk.old_start,
                "oldLines": hunk.old_lines,
                "newStart": hunk.new_start,
                "newLines": hunk.new_lines,
                "lines": list(hunk.lines),
            }
            for hunk in text.hunks
        ],
    }


def _verdict(verdict: Verdict) -> dict[str, str]:
    return {"consequence": str(verdict.consequence), "reason": verdict.reason}
