"""What a diff is made of: resources that change, their field changes, and what each costs.

Every structure here is plain data: the comparison builds it, formatters only read it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class _Absent:
    """A field that does not exist on one side (distinct from an explicit null)."""

    _instance: _Absent | None = None

    def __new__(cls) -> _Absent:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "(absent)"


ABSENT: Any = _Absent()


@dataclass(frozen=True)
class Named:
    """A list item matched by its `name` (containers, env, volumes), not by its position."""

    name: str


PathSegment = str | int | Named
FieldPath = tuple[PathSegment, ...]


class Consequence(StrEnum):
    UPDATE = "update"  # applied in place (a verdict of this kind is only a note)
    REPLACE = "replace"  # deleted and created again
    REFUSED = "refused"  # rejected: `pulumi up` stops with an error

    @property
    def blocking(self) -> bool:
        """What CI should stop for: anything but an in-place update."""
        return self is not Consequence.UPDATE


@dataclass(frozen=True)
class Verdict:
    consequence: Consequence
    reason: str


@dataclass(frozen=True)
class FieldChange:
    path: FieldPath
    old: Any
    new: Any
    verdict: Verdict | None = None


class Status(StrEnum):
    ADDED = "added"
    REMOVED = "removed"
    CHANGED = "changed"
    RENAMED = "renamed"  # a removed and an added resource that are the same thing


@dataclass(frozen=True)
class ResourceDiff:
    id: str
    type: str
    name: str
    status: Status
    kind: str | None = None  # the Kubernetes kind, when the resource has a manifest
    deployment: str | None = None  # modelstack.io/deployment of the manifest
    fields: tuple[FieldChange, ...] = ()  # the manifest
    options: tuple[FieldChange, ...] = ()  # Pulumi resource options, parent, provider
    notes: tuple[Verdict, ...] = ()  # about the resource as a whole
    previous_id: str | None = None  # for RENAMED: the resource it replaces

    @property
    def verdicts(self) -> tuple[Verdict, ...]:
        found = [change.verdict for change in (*self.fields, *self.options) if change.verdict]
        return (*self.notes, *found)

    @property
    def blocking(self) -> tuple[Verdict, ...]:
        return tuple(v for v in self.verdicts if v.consequence.blocking)

    @property
    def previous_name(self) -> str | None:
        return self.previous_id.rsplit("::", 1)[-1] if self.previous_id else None

    @property
    def label(self) -> str:
        """'Deployment llama-chat-blue' for manifests, the Pulumi type otherwise."""
        return f"{self.kind or self.type} {self.name}"


@dataclass(frozen=True)
class Diff:
    resources: tuple[ResourceDiff, ...]
    # What a reviewer cares about, in words ("llama-chat: traffic blue -> green").
    summary: tuple[str, ...] = field(default=())

    @property
    def changed(self) -> bool:
        return bool(self.resources)

    @property
    def blocking(self) -> tuple[ResourceDiff, ...]:
        """Resources that would be replaced, or whose update would be refused."""
        return tuple(resource for resource in self.resources if resource.blocking)

    def count(self, status: Status) -> int:
        return sum(1 for resource in self.resources if resource.status is status)
