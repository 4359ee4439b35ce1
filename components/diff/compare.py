"""Two renders in, a structured Diff out: the pure comparison behind `modelstack diff`."""

from __future__ import annotations

from typing import Any

from components.diff.diff_model import (
    Consequence,
    Diff,
    FieldChange,
    ResourceDiff,
    Status,
    Verdict,
)
from components.diff.entries import Entry, entries_of, records_of
from components.diff.immutable_fields import judge_field
from components.diff.phrases import describe
from components.diff.renames import pair_renames
from components.diff.resource_options import (
    option_changes,
    removal_notes,
    replacement_notes,
)
from components.diff.tree_diff import tree_changes
from components.rendered.objects import RenderLike, namespace_of

Records = dict[str, dict[str, Any]]
_STATUS_ORDER = {Status.CHANGED: 0, Status.RENAMED: 1, Status.ADDED: 2, Status.REMOVED: 3}


def compare(before: RenderLike, after: RenderLike) -> Diff:
    """Every resource that is added, removed, renamed or changed from `before` to `after`."""
    old, new = entries_of(before), entries_of(after)
    old_records, new_records = records_of(before), records_of(after)
    resources = []
    for resource_id in sorted(old.keys() & new.keys()):
        changed = _changed(old[resource_id], new[resource_id], old_records, new_records)
        if changed is not None:
            resources.append(changed)
    removed = [old[i] for i in sorted(old.keys() - new.keys())]
    added = [new[i] for i in sorted(new.keys() - old.keys())]
    pairs, renamed_deployments = pair_renames(removed, added)
    paired = {entry.id for pair in pairs for entry in pair}
    resources += [_renamed(a, b, old_records, new_records) for a, b in pairs]
    resources += [_arrived(entry) for entry in added if entry.id not in paired]
    resources += [_departed(entry) for entry in removed if entry.id not in paired]
    resources.sort(key=lambda r: (not r.blocking, _STATUS_ORDER[r.status], r.id))
    summary = describe(resources, old, new, renamed_deployments)
    return Diff(tuple(resources), summary)


def manifest_changes(
    kind: str, before: dict[str, Any] | None, after: dict[str, Any] | None
) -> tuple[FieldChange, ...]:
    """Field changes of one document, each judged against the immutable-field rules."""
    if before is None or after is None:
        return () if before == after else (FieldChange((), before, after),)
    return tuple(
        FieldChange(path, old, new, judge_field(kind, path, old, new, before, after))
        for path, old, new in tree_changes(before, after)
    )


def _changed(old: Entry, new: Entry, before: Records, after: Records) -> ResourceDiff | None:
    fields = manifest_changes(new.kind_key, old.body, new.body)
    options = option_changes(old.id, new.id, before, after)
    if not fields and not options:
        return None
    notes: tuple[Verdict, ...] = ()
    if _replaces(fields) or _replaces(options):
        # The provider deletes first when the replacement keeps its name and namespace.
        same_name = (
            new.is_kubernetes
            and _replaces(fields)
            and namespace_of(old.body or {}) == namespace_of(new.body or {})
        )
        notes = replacement_notes(old.record, new.record, same_name)
    return _resource(new, Status.CHANGED, fields=fields, options=options, notes=notes)


def _renamed(old: Entry, new: Entry, before: Records, after: Records) -> ResourceDiff:
    notes = list(removal_notes(old.record))
    if new.body is None:
        consequence = Consequence.UPDATE if new.is_component else Consequence.REPLACE
        what = (
            "a component: its children carry the change"
            if new.is_component
            else "Pulumi deletes it and creates it under the new name"
        )
        notes.insert(0, Verdict(consequence, f"renamed from {old.name}: {what}"))
    return _resource(
        new,
        Status.RENAMED,
        fields=manifest_changes(new.kind_key, old.body, new.body),
        options=option_changes(old.id, new.id, before, after),
        notes=tuple(notes),
        previous_id=old.id,
    )


def _arrived(entry: Entry) -> ResourceDiff:
    return _resource(entry, Status.ADDED)


def _departed(entry: Entry) -> ResourceDiff:
    return _resource(entry, Status.REMOVED, notes=removal_notes(entry.record))


def _resource(entry: Entry, status: Status, **details: Any) -> ResourceDiff:
    return ResourceDiff(
        id=entry.id,
        type=entry.type,
        name=entry.name,
        status=status,
        kind=entry.kind,
        deployment=entry.deployment,
        **details,
    )


def _replaces(changes: tuple[FieldChange, ...]) -> bool:
    return any(
        change.verdict is not None and change.verdict.consequence is Consequence.REPLACE
        for change in changes
    )
