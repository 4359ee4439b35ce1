"""A render as a set of resources, each with its record (resources.json) and its document.

Resources without a document (components, providers) still count: their options and
parents decide URNs. Documents without a record (hand-built inputs) still count too.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from components.rendered.objects import (
    RenderLike,
    deployment_of,
    kind_key,
    object_id,
    other_documents,
    type_token,
)

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
    def is_kubernetes(self) -> bool:
        return self.body is not None and "apiVersion" in self.body

    @property
    def kind(self) -> str | None:
        """'Deployment' for Kubernetes objects, 'Container' for docker:index/container:Container."""
        if self.body is None:
            return None
        return str(self.body["kind"]) if self.is_kubernetes else self.type.rsplit(":", 1)[-1]

    @property
    def kind_key(self) -> str:
        """What the rule tables match: 'apps/Deployment', or the Pulumi type for the rest."""
        return kind_key(self.body) if self.is_kubernetes and self.body else self.type

    @property
    def deployment(self) -> str | None:
        return deployment_of(self.body) if self.body else None

    @property
    def is_component(self) -> bool:
        return self.type.split(":", 1)[0] == COMPONENT_PACKAGE


def entries_of(render: RenderLike) -> dict[str, Entry]:
    records = {record["id"]: record for record in render.resources}
    bodies = {object_id(obj): obj for obj in render.objects}
    # Other targets' resources: their inputs are what the provider compares.
    bodies |= {
        f"{doc['type']}::{doc['name']}": doc.get("inputs") or {} for doc in other_documents(render)
    }
    entries = {}
    for resource_id in sorted(set(records) | set(bodies)):
        record, body = records.get(resource_id), bodies.get(resource_id)
        if record is not None:
            type_, name = record["type"], record["name"]
        elif body is not None and "apiVersion" in body:
            type_, name = type_token(body), body["metadata"]["name"]
        else:
            type_, _, name = resource_id.partition("::")
        entries[resource_id] = Entry(resource_id, type_, name, record, body)
    return entries


def records_of(render: RenderLike) -> dict[str, dict[str, Any]]:
    return {record["id"]: record for record in render.resources}
