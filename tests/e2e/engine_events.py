"""Reading the engine's event log (`pulumi up --event-log FILE`): what happened, in order."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


def read_events(path: Path) -> list[dict[str, Any]]:
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


def first_index(events: list[dict[str, Any]], event_kind: str, urn_suffix: str) -> int:
    """Index of the first event of this kind (resourcePreEvent, resOutputsEvent, ...) whose
    resource URN ends with `urn_suffix` (`type::name`)."""
    for index, event in enumerate(events):
        metadata = (event.get(event_kind) or {}).get("metadata") or {}
        if metadata.get("urn", "").endswith(urn_suffix):
            return index
    raise LookupError(f"no {event_kind} for {urn_suffix}")
