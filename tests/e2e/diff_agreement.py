"""`modelstack diff`'s verdicts in the engine's vocabulary, to hold them against `pulumi preview`.

`modelstack diff` renders both sides offline and judges each change from its own tables; the
real engine asks the real provider. Both are reduced here to `{operation: [type::name]}`
over custom resources (components carry no state of their own, and the engine shows them as
`same` even when their children change).
"""

from __future__ import annotations

from typing import Any

from components.diff.compare import compare
from components.diff.diff_model import Consequence, ResourceDiff, Status

# What `modelstack diff` predicts for resources the engine would refuse to touch.
REFUSED = "refused"


def predicted(before: Any, after: Any) -> dict[str, list[str]]:
    """Operations `modelstack diff` predicts from two renders."""
    by_op: dict[str, set[str]] = {}
    for resource in compare(before, after).resources:
        if resource.type.startswith("modelstack:"):
            continue
        for op, name in _operations(resource):
            by_op.setdefault(op, set()).add(name)
    return {op: sorted(names) for op, names in sorted(by_op.items())}


def _operations(resource: ResourceDiff) -> list[tuple[str, str]]:
    name = f"{resource.type}::{resource.name}"
    consequences = {verdict.consequence for verdict in resource.verdicts}
    if resource.status is Status.ADDED:
        return [("create", name)]
    if resource.status is Status.REMOVED:
        return [(REFUSED if Consequence.REFUSED in consequences else "delete", name)]
    if resource.status is Status.RENAMED:
        previous = f"{resource.type}::{resource.previous_name}"
        if Consequence.REFUSED in consequences:
            return [("create", name), (REFUSED, previous)]
        return [("create", name), ("delete", previous)]
    if Consequence.REFUSED in consequences:
        return [(REFUSED, name)]
    if Consequence.REPLACE in consequences:
        return [("replace", name)]
    return [("update", name)]


def engine_operations(changed: dict[str, list[str]]) -> dict[str, list[str]]:
    """The engine's changes without components (see the module docstring)."""
    kept = {
        op: [n for n in names if not n.startswith("modelstack:")] for op, names in changed.items()
    }
    return {op: names for op, names in kept.items() if names}
