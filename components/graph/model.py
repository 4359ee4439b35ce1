"""The content of a picture, whichever target it was drawn from: nodes in roles, edges by
kind, groups per deployment. kubernetes_topology.py and docker_topology.py build it;
mermaid.py and svg_picture.py draw it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any


class Role(StrEnum):
    ROUTE = "route"
    BALANCER = "balancer"
    WORKLOAD = "workload"
    LOADER = "loader"
    CACHE = "cache"
    AUTOSCALER = "autoscaler"
    POLICY = "policy"


class State(StrEnum):
    SERVING = "serving"
    IDLE = "idle"
    PLAIN = "plain"


class EdgeKind(StrEnum):
    TRAFFIC = "traffic"
    MOUNTS = "mounts"
    FILLS = "fills"
    AFTER = "after"
    SCALES = "scales"
    ATTACHES = "attaches"


# Top to bottom; autoscalers and policies sit beside what they act on instead.
LAYERS: dict[Role, int] = {
    Role.ROUTE: 0,
    Role.BALANCER: 1,
    Role.WORKLOAD: 2,
    Role.LOADER: 3,
    Role.CACHE: 3,
}


@dataclass
class Node:
    id: str
    kind: str
    name: str
    role: Role
    group: str  # the modelstack deployment ("" for shared objects)
    component: str | None  # app.kubernetes.io/component
    lines: list[str]
    state: State = State.PLAIN
    replicas: int | None = None  # workloads: pods to draw
    beside: str | None = None  # the node this one sits next to
    notes: list[str] = field(default_factory=list)  # "protected", "retained"

    @property
    def layer(self) -> int:
        return LAYERS.get(self.role, 0)


@dataclass(frozen=True)
class Edge:
    source: str
    target: str
    kind: EdgeKind
    label: str | None = None
    weight: int | None = None  # traffic share in percent where a route splits


@dataclass(frozen=True)
class Group:
    name: str
    title: str
    subtitle: str | None
    nodes: tuple[str, ...]


@dataclass
class Topology:
    title: str
    groups: list[Group]
    nodes: dict[str, Node]
    edges: list[Edge]

    def nodes_of(self, role: Role) -> list[Node]:
        return [node for node in self.nodes.values() if node.role is role]


def add_resource_notes(resources: list[dict[str, Any]], nodes: dict[str, Node]) -> None:
    """Pulumi options a reviewer must not miss (both targets)."""
    for record in resources:
        node = nodes.get(record["id"])
        if node is None:
            continue
        if record.get("protect"):
            node.notes.append("protected")
        if record.get("retainOnDelete"):
            node.notes.append("kept on delete")
