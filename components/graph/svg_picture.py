"""The topology as an SVG picture, drawn with our own layered layout (no external tools).

One box per deployment, laid out top to bottom (route, Service, slots, loader and cache);
the serving slot is green and labelled SERVING, an idle slot grey and dashed, route
weights sit on the traffic edges. Text widths are estimated from character counts, so
nodes are sized generously.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from dataclasses import dataclass

from components.graph.layered_layout import Box, Layout, Placed, layered_layout
from components.graph.model import Edge, EdgeKind, Node, Role, State, Topology

PAD = 12.0  # inside a node
GROUP_PAD = 22.0
GROUP_HEADER = 46.0
GROUP_GAP = 28.0
MAX_ROW_WIDTH = 1280.0
MAX_CHARS = 40
CAPTION, TITLE, LINE = 10.0, 13.0, 11.0  # font sizes
POD = 9.0  # one square per replica

# fill, stroke per role
ROLE_COLORS: dict[Role, tuple[str, str]] = {
    Role.ROUTE: ("#f5f0ff", "#8250df"),
    Role.BALANCER: ("#ddf4ff", "#0969da"),
    Role.WORKLOAD: ("#ffffff", "#57606a"),
    Role.LOADER: ("#fff8c5", "#9a6700"),
    Role.CACHE: ("#fff1e5", "#bc4c00"),
    Role.AUTOSCALER: ("#e0f7f4", "#1b7c83"),
    Role.POLICY: ("#f6f8fa", "#57606a"),
}
SERVING = ("#dafbe1", "#1a7f37")
IDLE = ("#f6f8fa", "#8c959f")
# color, width, dash pattern per edge kind
EDGE_STYLES: dict[EdgeKind, tuple[str, float, str | None]] = {
    EdgeKind.TRAFFIC: ("#0969da", 2.0, None),
    EdgeKind.MOUNTS: ("#6e7781", 1.4, None),
    EdgeKind.FILLS: ("#9a6700", 1.4, "6 4"),
    EdgeKind.AFTER: ("#8c959f", 1.2, "2 3"),
    EdgeKind.SCALES: ("#1b7c83", 1.4, "6 4"),
    EdgeKind.ATTACHES: ("#8250df", 1.2, "2 3"),
}
SERVING_EDGE = ("#1a7f37", 3.0, None)
STYLE = """
text { font-family: 'DejaVu Sans', Verdana, Arial, sans-serif; fill: #1f2328; }
.caption { font-size: 10px; fill: #57606a; letter-spacing: 0.04em; }
.title { font-size: 13px; font-weight: bold; }
.line { font-size: 11px; }
.idle text { fill: #8c959f; }
.node text.badge { font-size: 9px; font-weight: bold; fill: #ffffff; letter-spacing: 0.06em; }
.edge-label { font-size: 10px; fill: #57606a; }
.weight { font-size: 11px; font-weight: bold; fill: #0969da; }
.group-title { font-size: 15px; font-weight: bold; }
.group-subtitle { font-size: 11px; fill: #57606a; }
.heading { font-size: 18px; font-weight: bold; }
"""


def text_width(text: str, size: float, bold: bool = False) -> float:
    # DejaVu Sans averages about 0.6 em per character; capitals and bold run wider.
    capitals = sum(1 for character in text if character.isupper())
    return (len(text) + 0.2 * capitals) * size * (0.66 if bold else 0.61)


def clip(text: str) -> str:
    return text if len(text) <= MAX_CHARS else "…" + text[-(MAX_CHARS - 1) :]


@dataclass(frozen=True)
class _Content:
    caption: str
    badge: str | None
    title: str
    lines: tuple[str, ...]
    pods: int | None


def _content(node: Node) -> _Content:
    badge = {State.SERVING: "SERVING", State.IDLE: "IDLE"}.get(node.state)
    caption = " · ".join([node.kind.upper(), *node.notes])
    pods = node.replicas if node.role is Role.WORKLOAD else None
    if node.role is Role.WORKLOAD and pods is None:
        pods = 1
    return _Content(caption, badge, node.name, tuple(clip(line) for line in node.lines), pods)


def _size(content: _Content) -> tuple[float, float]:
    badge = text_width(content.badge, 9, True) + 16 if content.badge else 0
    widths = [
        text_width(content.caption, CAPTION) + badge + 8,
        text_width(content.title, TITLE, True),
        *(text_width(line, LINE) for line in content.lines),
    ]
    height = PAD * 2 + 14 + 18 + 15 * len(content.lines)
    if content.pods:
        height += POD + 6
    return max(max(widths) + PAD * 2, 150.0), height


def render_svg(topology: Topology) -> str:
    contents = {node_id: _content(node) for node_id, node in topology.nodes.items()}
    layouts = {
        group.name: _group_layout(group.nodes, topology, contents) for group in topology.groups
    }
    origins, width, height = _arrange(topology, layouts)
    legend_top = height + 12
    svg = ET.Element(
        "svg",
        {
            "xmlns": "http://www.w3.org/2000/svg",
            "width": _n(width),
            "height": _n(legend_top + 40),
            "viewBox": f"0 0 {_n(width)} {_n(legend_top + 40)}",
            "role": "img",
        },
    )
    ET.SubElement(svg, "title").text = topology.title
    ET.SubElement(svg, "style").text = STYLE
    _markers(svg)
    ET.SubElement(svg, "rect", {"width": "100%", "height": "100%", "fill": "#ffffff"})
    _text(svg, GROUP_GAP, 34, topology.title, "heading")
    placed: dict[str, Placed] = {}
    for group in topology.groups:
        ox, oy = origins[group.name]
        layout = layouts[group.name]
        _group_box(svg, group.title, group.subtitle, ox, oy, layout)
        for node_id, box in layout.boxes.items():
            placed[node_id] = Placed(
                box.x + ox + GROUP_PAD, box.y + oy + GROUP_HEADER, box.width, box.height, box.layer
            )
    rows = {node_id: row for layout in layouts.values() for row in layout.rows for node_id in row}
    edges_layer = ET.SubElement(svg, "g", {"class": "edges"})
    labels = []
    for edge, path, middle in _edge_paths(topology, placed, rows):
        color, width_, dash = _edge_style(edge, topology)
        attributes = {
            "d": path,
            "fill": "none",
            "stroke": color,
            "stroke-width": _n(width_),
            "marker-end": f"url(#arrow-{color[1:]})",
            "class": f"edge {edge.kind.value}",
        }
        if dash:
            attributes["stroke-dasharray"] = dash
        ET.SubElement(edges_layer, "path", attributes)
        if edge.label:
            labels.append((edge, middle))
    for node_id, box in placed.items():
        _node(svg, topology.nodes[node_id], contents[node_id], box)
    for edge, (x, y) in labels:
        _edge_label(svg, edge, x, y)
    _legend(svg, GROUP_GAP, legend_top)
    ET.indent(svg)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(svg, encoding="unicode") + "\n"


def _group_layout(
    node_ids: tuple[str, ...], topology: Topology, contents: dict[str, _Content]
) -> Layout:
    boxes = []
    for node_id in node_ids:
        node = topology.nodes[node_id]
        width, height = _size(contents[node_id])
        boxes.append(Box(node_id, width, height, node.layer, node.beside, node.name))
    members = set(node_ids)
    edges = [
        (e.source, e.target) for e in topology.edges if e.source in members and e.target in members
    ]
    return layered_layout(boxes, edges)


def _arrange(
    topology: Topology, layouts: dict[str, Layout]
) -> tuple[dict[str, tuple[float, float]], float, float]:
    """Groups left to right, wrapping into rows; every group in a row gets the row's height."""
    origins: dict[str, tuple[float, float]] = {}
    x, y, row_height, width = GROUP_GAP, 56.0, 0.0, 0.0
    feeders = _groups_feeding_others(topology)
    for group in topology.groups:
        layout = layouts[group.name]
        group_width = layout.width + 2 * GROUP_PAD
        # Below a shared entry the groups stay in one row: its edges never cross a group.
        if x > GROUP_GAP and x + group_width > MAX_ROW_WIDTH and not feeders:
            x, y, row_height = GROUP_GAP, y + row_height + GROUP_GAP, 0.0
        origins[group.name] = (x, y)
        row_height = max(row_height, layout.height + GROUP_HEADER + GROUP_PAD)
        x += group_width + GROUP_GAP
        width = max(width, x)
        if group.name in feeders:
            # An entry the other groups share (the docker gateway) sits on a row above them.
            x, y, row_height = GROUP_GAP, y + row_height + GROUP_GAP, 0.0
    for name in feeders:
        group_width = layouts[name].width + 2 * GROUP_PAD
        origins[name] = (max(GROUP_GAP, (width - group_width) / 2), origins[name][1])
    return origins, max(width, 480.0), y + row_height


def _groups_feeding_others(topology: Topology) -> set[str]:
    group_of = {node_id: group.name for group in topology.groups for node_id in group.nodes}
    return {
        group_of[edge.source]
        for edge in topology.edges
        if edge.source in group_of
        and edge.target in group_of
        and group_of[edge.source] != group_of[edge.target]
    }


def _group_box(
    svg: ET.Element, title: str, subtitle: str | None, x: float, y: float, layout: Layout
) -> None:
    group = ET.SubElement(svg, "g", {"class": "group", "data-name": title})
    ET.SubElement(
        group,
        "rect",
        {
            "x": _n(x),
            "y": _n(y),
            "width": _n(layout.width + 2 * GROUP_PAD),
            "height": _n(layout.height + GROUP_HEADER + GROUP_PAD),
            "rx": "12",
            "fill": "#fbfcfd",
            "stroke": "#d0d7de",
        },
    )
    _text(group, x + GROUP_PAD, y + 24, title, "group-title")
    if subtitle:
        _text(group, x + GROUP_PAD, y + 38, subtitle, "group-subtitle")


def _node(svg: ET.Element, node: Node, content: _Content, box: Placed) -> None:
    fill, stroke = ROLE_COLORS[node.role]
    stroke_width, dash = "1.5", None
    if node.state is State.SERVING:
        (fill, stroke), stroke_width = SERVING, "3"
    elif node.state is State.IDLE:
        (fill, stroke), dash = IDLE, "6 4"
    group = ET.SubElement(
        svg,
        "g",
        {
            "class": f"node {node.role.value} {node.state.value}",
            "data-kind": node.kind,
            "data-name": node.name,
        },
    )
    ET.SubElement(group, "title").text = f"{node.kind} {node.name}"
    rect = {
        "x": _n(box.x),
        "y": _n(box.y),
        "width": _n(box.width),
        "height": _n(box.height),
        "rx": "8",
        "fill": fill,
        "stroke": stroke,
        "stroke-width": stroke_width,
    }
    if dash:
        rect["stroke-dasharray"] = dash
    if node.role is Role.CACHE:
        rect["rx"] = "14"  # a softer shape for storage
    ET.SubElement(group, "rect", rect)
    left, y = box.x + PAD, box.y + PAD + 9
    _text(group, left, y, content.caption, "caption")
    if content.badge:
        _badge(group, content.badge, box.x + box.width - PAD, y - 9, stroke)
    y += 18
    _text(group, left, y, content.title, "title")
    for line in content.lines:
        y += 15
        _text(group, left, y, line, "line")
    if content.pods:
        _pods(
            group, content.pods, left, y + 7, stroke if node.state is not State.PLAIN else "#57606a"
        )


def _badge(parent: ET.Element, text: str, right: float, top: float, color: str) -> None:
    width = text_width(text, 9, True) + 12
    ET.SubElement(
        parent,
        "rect",
        {
            "x": _n(right - width),
            "y": _n(top - 1),
            "width": _n(width),
            "height": "13",
            "rx": "6.5",
            "fill": color,
        },
    )
    _text(parent, right - width / 2, top + 9, text, "badge", anchor="middle")


def _pods(parent: ET.Element, count: int, left: float, top: float, color: str) -> None:
    shown = min(count, 12)
    for index in range(shown):
        ET.SubElement(
            parent,
            "rect",
            {
                "x": _n(left + index * (POD + 3)),
                "y": _n(top),
                "width": _n(POD),
                "height": _n(POD),
                "rx": "2",
                "fill": color,
                "class": "pod",
            },
        )
    if count > shown:
        _text(parent, left + shown * (POD + 3) + 2, top + POD, f"+{count - shown}", "line")


def _edge_style(edge: Edge, topology: Topology) -> tuple[str, float, str | None]:
    target = topology.nodes[edge.target]
    if edge.kind is EdgeKind.TRAFFIC and target.state is State.SERVING:
        return SERVING_EDGE
    return EDGE_STYLES[edge.kind]


def _edge_paths(
    topology: Topology, placed: dict[str, Placed], rows: dict[str, tuple[str, ...]]
) -> list[tuple[Edge, str, tuple[float, float]]]:
    edges = [e for e in topology.edges if e.source in placed and e.target in placed]
    # Within one row of one group; an edge between groups runs by where the boxes are.
    sideways = {
        e
        for e in edges
        if placed[e.source].layer == placed[e.target].layer and e.target in rows[e.source]
    }
    ports_out = _ports(edges, placed, sideways, outgoing=True)
    ports_in = _ports(edges, placed, sideways, outgoing=False)
    result = []
    for edge in edges:
        source, target = placed[edge.source], placed[edge.target]
        if edge in sideways:
            result.append((edge, *_sideways(source, target, rows[edge.source], edge)))
            continue
        down = target.y > source.bottom  # a lower layer, or a group on a lower row
        x1 = ports_out.get(edge, source.center_x)
        x2 = ports_in.get(edge, target.center_x)
        y1 = source.bottom if down else source.y
        y2 = target.y - 2 if down else target.bottom + 2
        bend = (y2 - y1) * 0.45
        path = _curve((x1, y1), (x1, y1 + bend), (x2, y2 - bend), (x2, y2))
        result.append((edge, path, ((x1 + x2) / 2, (y1 + y2) / 2)))
    return result


def _ports(
    edges: list[Edge], placed: dict[str, Placed], sideways: set[Edge], outgoing: bool
) -> dict[Edge, float]:
    """Spread the edges leaving (or entering) a box across its width, in target order."""
    by_box: dict[str, list[Edge]] = {}
    for edge in edges:
        if edge in sideways:
            continue
        by_box.setdefault(edge.source if outgoing else edge.target, []).append(edge)
    ports = {}
    for box_id, box_edges in by_box.items():
        box = placed[box_id]
        other = (
            (lambda e: placed[e.target].center_x)
            if outgoing
            else (lambda e: placed[e.source].center_x)
        )
        ordered = sorted(box_edges, key=other)
        for index, edge in enumerate(ordered):
            ports[edge] = box.x + box.width * (index + 1) / (len(ordered) + 1)
    return ports


def _sideways(
    source: Placed, target: Placed, row: tuple[str, ...], edge: Edge
) -> tuple[str, tuple[float, float]]:
    adjacent = abs(row.index(edge.source) - row.index(edge.target)) == 1
    if adjacent:
        rightwards = target.x > source.x
        x1 = source.x + source.width if rightwards else source.x
        x2 = target.x - 2 if rightwards else target.x + target.width + 2
        y = (max(source.y, target.y) + min(source.bottom, target.bottom)) / 2
        return f"M {_n(x1)} {_n(y)} L {_n(x2)} {_n(y)}", ((x1 + x2) / 2, y - 11)
    # Not neighbours: pass under the boxes in between.
    y1, y2 = source.bottom, target.bottom + 2
    low = max(y1, y2) + 30
    x1, x2 = source.center_x, target.center_x
    return _curve((x1, y1), (x1, low), (x2, low), (x2, y2)), ((x1 + x2) / 2, low - 8)


def _curve(*points: tuple[float, float]) -> str:
    """A cubic Bezier path through start, two control points and end."""
    (x0, y0), *rest = points
    return f"M {_n(x0)} {_n(y0)} C " + " ".join(f"{_n(x)} {_n(y)}" for x, y in rest)


def _edge_label(svg: ET.Element, edge: Edge, x: float, y: float) -> None:
    assert edge.label is not None
    css = "weight" if edge.weight is not None else "edge-label"
    size = 11.0 if edge.weight is not None else 10.0
    width = text_width(edge.label, size, edge.weight is not None) + 8
    group = ET.SubElement(svg, "g", {"class": f"label {edge.kind.value}"})
    ET.SubElement(
        group,
        "rect",
        {
            "x": _n(x - width / 2),
            "y": _n(y - 8),
            "width": _n(width),
            "height": "15",
            "rx": "3",
            "fill": "#ffffff",
            "fill-opacity": "0.9",
        },
    )
    _text(group, x, y + 3.5, edge.label, css, anchor="middle")


def _legend(svg: ET.Element, x: float, y: float) -> None:
    legend = ET.SubElement(svg, "g", {"class": "legend"})
    for label, (fill, stroke), dash in (("serving", SERVING, None), ("idle", IDLE, "6 4")):
        attributes = {
            "x": _n(x),
            "y": _n(y),
            "width": "22",
            "height": "14",
            "rx": "3",
            "fill": fill,
            "stroke": stroke,
        }
        if dash:
            attributes["stroke-dasharray"] = "4 3"
        ET.SubElement(legend, "rect", attributes)
        _text(legend, x + 28, y + 11, label, "line")
        x += 90
    for kind in (
        EdgeKind.TRAFFIC,
        EdgeKind.MOUNTS,
        EdgeKind.FILLS,
        EdgeKind.AFTER,
        EdgeKind.SCALES,
    ):
        color, width, dash = EDGE_STYLES[kind]
        line = {
            "x1": _n(x),
            "y1": _n(y + 7),
            "x2": _n(x + 28),
            "y2": _n(y + 7),
            "stroke": color,
            "stroke-width": _n(width),
        }
        if dash:
            line["stroke-dasharray"] = dash
        ET.SubElement(legend, "line", line)
        _text(legend, x + 34, y + 11, kind.value, "line")
        x += 100


def _markers(svg: ET.Element) -> None:
    defs = ET.SubElement(svg, "defs")
    colors = {style[0] for style in EDGE_STYLES.values()} | {SERVING_EDGE[0]}
    for color in sorted(colors):
        marker = ET.SubElement(
            defs,
            "marker",
            {
                "id": f"arrow-{color[1:]}",
                "viewBox": "0 0 10 10",
                "refX": "9",
                "refY": "5",
                # Fixed size: thick serving edges would otherwise get oversized heads.
                "markerUnits": "userSpaceOnUse",
                "markerWidth": "9",
                "markerHeight": "9",
                "orient": "auto-start-reverse",
            },
        )
        ET.SubElement(marker, "path", {"d": "M 0 0 L 10 5 L 0 10 z", "fill": color})


def _text(
    parent: ET.Element, x: float, y: float, text: str, css: str, anchor: str = "start"
) -> None:
    attributes = {"x": _n(x), "y": _n(y), "class": css}
    if anchor != "start":
        attributes["text-anchor"] = anchor
    ET.SubElement(parent, "text", attributes).text = text


def _n(value: float) -> str:
    """Coordinates with one decimal at most: stable, small files."""
    return f"{value:.1f}".rstrip("0").rstrip(".")
