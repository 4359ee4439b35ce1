"""Pair a removed resource with an added one when they are the same thing under a new name.

Pulumi sees a rename as a delete and a create; for a reviewer it is a replacement of one
object. Two passes: objects identical once their own name and their deployment's name
are blanked out (a pure rename), then, for deployments found renamed that way, the rest
of their resources by name or by role (kind, component, slot, pool).
"""

from __future__ import annotations

from collections import defaultdict
from typing import Any

from components.diff.entries import Entry
from components.identity import COMPONENT, POOL, SLOT
from components.rendered.objects import labels_of

Pair = tuple[Entry, Entry]


def pair_renames(removed: list[Entry], added: list[Entry]) -> tuple[list[Pair], dict[str, str]]:
    """Renamed pairs (old, new) and the deployments renamed (old name -> new name)."""
    pairs = _identical_once_unnamed(removed, added)
    deployments = {
        old.deployment: new.deployment
        for old, new in pairs
        if old.deployment and new.deployment and old.deployment != new.deployment
    }
    paired = {entry.id for pair in pairs for entry in pair}
    left_old = [entry for entry in removed if entry.id not in paired]
    left_new = [entry for entry in added if entry.id not in paired]
    pairs += _within_renamed_deployments(left_old, left_new, deployments)
    return pairs, deployments


def _identical_once_unnamed(removed: list[Entry], added: list[Entry]) -> list[Pair]:
    candidates: dict[tuple[str, str], list[Entry]] = defaultdict(list)
    for entry in added:
        if entry.body is not None:
            candidates[(entry.type, _unnamed(entry))].append(entry)
    pairs = []
    for entry in removed:
        if entry.body is None:
            continue
        matches = candidates.get((entry.type, _unnamed(entry)), [])
        if len(matches) == 1:
            pairs.append((entry, matches.pop()))
    return pairs


def _unnamed(entry: Entry) -> str:
    names = sorted({entry.name, entry.deployment or entry.name}, key=len, reverse=True)
    return repr(_blank(entry.body, names))


def _blank(value: Any, names: list[str]) -> Any:
    if isinstance(value, dict):
        return {key: _blank(item, names) for key, item in value.items()}
    if isinstance(value, list):
        return [_blank(item, names) for item in value]
    if isinstance(value, str):
        for index, name in enumerate(names):
            value = value.replace(name, f"\0{index}")
    return value


def _within_renamed_deployments(
    removed: list[Entry], added: list[Entry], deployments: dict[str, str]
) -> list[Pair]:
    by_name = {(entry.type, entry.name): entry for entry in added}
    pairs = []
    for entry in removed:
        old_deployment = _owner(entry, deployments)
        if old_deployment is None:
            continue
        new_deployment = deployments[old_deployment]
        renamed = new_deployment + entry.name[len(old_deployment) :]
        match = by_name.get((entry.type, renamed)) or _same_role(entry, added, new_deployment)
        if match is not None and all(match is not new for _, new in pairs):
            pairs.append((entry, match))
    return pairs


def _owner(entry: Entry, deployments: dict[str, str]) -> str | None:
    if entry.deployment in deployments:
        return entry.deployment
    if entry.body is not None:
        return None
    # Bodiless resources (the deployment's component) carry the name only.
    for old in deployments:
        if entry.name == old or entry.name.startswith(f"{old}-"):
            return old
    return None


def _same_role(entry: Entry, added: list[Entry], deployment: str) -> Entry | None:
    role = _role(entry)
    matches = [
        other
        for other in added
        if other.type == entry.type and other.deployment == deployment and _role(other) == role
    ]
    return matches[0] if len(matches) == 1 else None


def _role(entry: Entry) -> tuple[str | None, ...]:
    labels = labels_of(entry.body) if entry.body else {}
    return (labels.get(COMPONENT), labels.get(SLOT), labels.get(POOL))
