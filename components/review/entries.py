"""A render as a set of resources, each with its record (resources.json) and its manifest.

Resources without a manifest (components, providers) still count: their options and
parents decide URNs. Manifests without a record (hand-built inputs) still count too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.review.identity import RenderLike, deployment_of, object_id, type_token

# Types in this package are the project's own components: logical, nothing in the cluster.
COMPONENT_PACKAGE = "modelstack"


@dataclass(frozen=True)
class Entry:
    id: str
    type: str
    name: str
    record: dict[str, Any] | None
    body: dict[str, Any] | None

    @property
    def kind(self) -> str | None:
        return self.body.get("kind") if self.body else None

    @property
    def deployment(self) -> str | None:
        return deployment_of(self.body) if self.body else None

    @property
    def is_component(self) -> bool:
        return self.type.split(":", 1)[0] == COMPONENT_PACKAGE


def entries_of(render: RenderLike) -> dict[str, Entry]:
    records = {record["id"]: record for record in render.resources}
    bodies = {object_id(obj): obj for obj in render.objects}
    entries = {}
    for resource_id in sorted(set(records) | set(bodies)):
        record, body = records.get(resource_id), bodies.get(resource_id)
        if record is not None:
            type_, name = record["type"], record["name"]
        else:
            assert body is not None
            type_, name = type_token(body), body["metadata"]["name"]
        entries[resource_id] = Entry(resource_id, type_, name, record, body)
    return entries


def records_of(render: RenderLike) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in render.resources}
