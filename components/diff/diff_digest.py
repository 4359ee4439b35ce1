"""What every diff format says first: the verdict per resource, the counts, the exit code."""

from __future__ import annotations

from components.diff.diff_model import Consequence, Diff, ResourceDiff, Status, Verdict

# `modelstack diff` exit codes; 2 (bad input) is shared with every subcommand.
EXIT_NO_CHANGES = 0
EXIT_CHANGES = 1
EXIT_REPLACES = 3

_STATUS_WORDS = {
    Status.CHANGED: "changed",
    Status.RENAMED: "renamed",
    Status.ADDED: "added",
    Status.REMOVED: "removed",
}
SIGNS = {Status.CHANGED: "~", Status.RENAMED: "±", Status.ADDED: "+", Status.REMOVED: "-"}


def exit_code(diff: Diff) -> int:
    if diff.blocking:
        return EXIT_REPLACES
    return EXIT_CHANGES if diff.changed else EXIT_NO_CHANGES


def headline(resource: ResourceDiff) -> Verdict | None:
    """The verdict a reviewer must see first: a refusal before a replacement."""
    blocking = resource.blocking
    for consequence in (Consequence.REFUSED, Consequence.REPLACE):
        for verdict in blocking:
            if verdict.consequence is consequence:
                return verdict
    return None


def counts(diff: Diff) -> str:
    parts = [
        f"{diff.count(status)} {word}"
        for status, word in _STATUS_WORDS.items()
        if diff.count(status)
    ]
    text = ", ".join(parts) if parts else "no changes"
    if diff.blocking:
        text += f"; {len(diff.blocking)} replaced or refused"
    return text


def blocking_lines(diff: Diff) -> list[str]:
    """'REPLACE Job x: reason' for every resource that would be replaced or refused."""
    lines = []
    for resource in diff.blocking:
        verdict = headline(resource)
        assert verdict is not None
        lines.append(f"{verdict.consequence.upper()} {resource.label}: {verdict.reason}")
    return lines
