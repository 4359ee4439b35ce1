"""The topology as a Mermaid flowchart: renders on GitHub and in most Markdown viewers.

A subgraph per deployment; shapes by role (cylinder for a cache, hexagon for an
autoscaler); the serving slot in bold green with "SERVING", an idle slot grey and dashed;
route weights as edge labels.
"""

from __future__ import annotations

import re

from components.graph.model import Edge, EdgeKind, Node, Role, State, Topology

_SHAPES: dict[Role, tuple[str, str]] = {
    Role.ROUTE: ("([", "])"),
    Role.BALANCER: ("[", "]"),
    Role.WORKLOAD: ("[", "]"),
    Role.LOADER: ("[[", "]]"),
    Role.CACHE: ("[(", ")]"),
    Role.AUTOSCALER: ("{{", "}}"),
    Role.POLICY: (">", "]"),
}
_ARROWS: dict[EdgeKind, str] = {
    EdgeKind.TRAFFIC: "-->",
    EdgeKind.MOUNTS: "-->",
    EdgeKind.FILLS: "-.->",
    EdgeKind.AFTER: "-.->",
    EdgeKind.SCALES: "-.->",
    EdgeKind.ATTACHES: "-.->",
}
CLASSES = {
    "serving": "fill:#dafbe1,stroke:#1a7f37,stroke-width:3px,color:#1f2328,font-weight:bold",
    "idle": "fill:#f6f8fa,stroke:#8c959f,stroke-dasharray:5 4,color:#8c959f",
    "cache": "fill:#fff1e5,stroke:#bc4c00",
    "loader": "fill:#fff8c5,stroke:#9a6700",
    "balancer": "fill:#ddf4ff,stroke:#0969da",
    "route": "fill:#f5f0ff,stroke:#8250df",
    "autoscaler": "fill:#e0f7f4,stroke:#1b7c83",
}
_UNSAFE = re.compile(r"[^A-Za-z0-9_]")


def mermaid_id(node_id: str) -> str:
    """'kubernetes:apps/v1:Deployment::llama-chat-blue' -> 'deployment_llama_chat_blue'."""
    type_, _, name = node_id.partition("::")
    kind = type_.rsplit(":", 1)[-1]
    return _UNSAFE.sub("_", f"{kind}_{name}".lower())


def render_mermaid(topology: Topology, source: str = "") -> str:
    lines = [f"%% {topology.title}"]
    if source:
        lines.append(f"%% {source}")
    lines.append("flowchart TB")
    for group in topology.groups:
        label = _escape(_group_label(group.title, group.subtitle))
        lines.append(f'  subgraph {_group_id(group.name)}["{label}"]')
        lines.append("    direction TB")
        lines += [f"    {_node(topology.nodes[node_id])}" for node_id in group.nodes]
        lines.append("  end")
    lines += [f"  {_edge(edge, topology)}" for edge in topology.edges]
    lines += [f"  classDef {name} {style}" for name, style in CLASSES.items()]
    for name in CLASSES:
        members = [mermaid_id(n.id) for n in topology.nodes.values() if _class_of(n) == name]
        if members:
            lines.append(f"  class {','.join(members)} {name}")
    return "\n".join(lines) + "\n"


def _group_id(name: str) -> str:
    return "group_" + (_UNSAFE.sub("_", name) or "shared")


def _group_label(title: str, subtitle: str | None) -> str:
    return f"{title} · {subtitle}" if subtitle else title


def _node(node: Node) -> str:
    opening, closing = _SHAPES[node.role]
    head = f"<b>{node.name}</b>"
    if node.state is State.SERVING:
        head += " · SERVING"
    elif node.state is State.IDLE:
        head += " · idle"
    caption = " · ".join([node.kind, *node.notes])
    label = "<br/>".join(
        _escape(part) if i else part for i, part in enumerate([head, caption, *node.lines])
    )
    return f'{mermaid_id(node.id)}{opening}"{label}"{closing}'


def _edge(edge: Edge, topology: Topology) -> str:
    arrow = _ARROWS[edge.kind]
    if edge.kind is EdgeKind.TRAFFIC and topology.nodes[edge.target].state is State.SERVING:
        arrow = "==>"  # the path requests take
    label = f"|{_escape(edge.label)}|" if edge.label else ""
    return f"{mermaid_id(edge.source)} {arrow}{label} {mermaid_id(edge.target)}"


def _class_of(node: Node) -> str | None:
    if node.state is State.SERVING:
        return "serving"
    if node.state is State.IDLE:
        return "idle"
    return node.role.value if node.role.value in CLASSES else None


def _escape(text: str) -> str:
    # Mermaid reads entity codes inside quoted labels; quotes would end the label.
    return text.replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")
