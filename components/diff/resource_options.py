"""What Pulumi itself does with a resource: URN moves, provider changes, protection, retention.

The render's resources.json holds each resource's parent, provider and options; these
decide whether Pulumi updates, replaces or refuses, independently of the manifest.
"""

from __future__ import annotations

from typing import Any

from components.diff.diff_model import ABSENT, Consequence, FieldChange, Verdict

# Options compared as plain values; parent and provider are judged separately below.
OPTIONS = ("protect", "retainOnDelete", "deleteBeforeReplace", "customTimeouts", "dependsOn")

_OPTION_NOTES: dict[tuple[str, bool], str] = {
    ("protect", True): "now protected: Pulumi refuses to delete or replace it",
    ("protect", False): "no longer protected: removing it from the stack deletes it",
    ("retainOnDelete", True): "now retained: removing it from the stack leaves it in the cluster",
    ("retainOnDelete", False): "no longer retained: removing it from the stack deletes it",
    ("deleteBeforeReplace", True): "a replacement now deletes it before creating the new one",
    ("deleteBeforeReplace", False): "a replacement now creates the new one first",
}

Records = dict[str, dict[str, Any]]


def option_changes(
    old_id: str, new_id: str, before: Records, after: Records
) -> tuple[FieldChange, ...]:
    """Changes of a resource's options, parent chain and provider between two renders."""
    old, new = before.get(old_id), after.get(new_id)
    if old is None or new is None:
        return ()
    changes = []
    for option in OPTIONS:
        old_value, new_value = old.get(option, ABSENT), new.get(option, ABSENT)
        if old_value != new_value:
            note = _OPTION_NOTES.get((option, bool(new_value)))
            verdict = Verdict(Consequence.UPDATE, note) if note else None
            changes.append(FieldChange((option,), old_value, new_value, verdict))
    if old_id != new_id:
        # A rename is already a delete and a create; a new parent adds nothing to that.
        return tuple(changes)
    old_chain, new_chain = ancestry(old_id, before), ancestry(new_id, after)
    if old_chain != new_chain and not new.get("aliases"):
        reason = (
            "a new parent gives it a new URN: Pulumi deletes and recreates it"
            " unless the code adds an alias"
        )
        changes.append(
            FieldChange(
                ("parent",),
                old.get("parent"),
                new.get("parent"),
                Verdict(Consequence.REPLACE, reason),
            )
        )
    if old.get("provider") != new.get("provider"):
        reason = "a different provider instance: Pulumi replaces the resource"
        changes.append(
            FieldChange(
                ("provider",),
                old.get("provider"),
                new.get("provider"),
                Verdict(Consequence.REPLACE, reason),
            )
        )
    return tuple(changes)


def ancestry(resource_id: str, records: Records) -> tuple[str, ...]:
    """Parent, grandparent, ...: every one of them is part of the resource's URN."""
    chain: list[str] = []
    current = records.get(resource_id, {}).get("parent")
    while current and current not in chain:
        chain.append(current)
        current = records.get(current, {}).get("parent")
    return tuple(chain)


def removal_notes(record: dict[str, Any] | None) -> tuple[Verdict, ...]:
    """What deleting this resource (from the stack) does beyond the deletion."""
    if record is None:
        return ()
    notes = []
    if record.get("protect"):
        notes.append(
            Verdict(
                Consequence.REFUSED,
                "protected: `pulumi up` stops instead of deleting it (unprotect it first)",
            )
        )
    if record.get("retainOnDelete"):
        notes.append(
            Verdict(Consequence.UPDATE, "retainOnDelete: it stays in the cluster, unmanaged")
        )
    return tuple(notes)


def replacement_notes(
    old: dict[str, Any] | None, new: dict[str, Any] | None, same_name: bool
) -> tuple[Verdict, ...]:
    """What a replacement of this resource implies, from its options and naming."""
    notes = []
    if (old or {}).get("protect") or (new or {}).get("protect"):
        notes.append(
            Verdict(Consequence.REFUSED, "protected: Pulumi refuses to replace it (unprotect it)")
        )
    if (old or {}).get("retainOnDelete"):
        left = (
            "the old object stays, and the replacement collides with its name"
            if same_name
            else "the old object stays in the cluster, unmanaged"
        )
        notes.append(Verdict(Consequence.UPDATE, f"retainOnDelete: {left}"))
    if same_name or (new or {}).get("deleteBeforeReplace"):
        # pulumi-kubernetes deletes first when the replacement must reuse the same name.
        notes.append(
            Verdict(Consequence.UPDATE, "deleted first, then created again: nothing in between")
        )
    return tuple(notes)
