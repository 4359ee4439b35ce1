"""A small layered (Sugiyama-style) layout: layers top to bottom, few crossings, centred rows.

Knows nothing about Kubernetes: boxes with a size, a layer and optionally a box they sit
beside (drawn right of it in the same layer), plus the edges that should not cross.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

GAP_X = 56.0  # between boxes in a layer: room for a sideways edge and its label
GAP_Y = 64.0  # between layers: room for edge labels
SWEEPS = 4


@dataclass(frozen=True)
class Box:
    id: str
    width: float
    height: float
    layer: int
    beside: str | None = None
    sort_key: str = ""


@dataclass(frozen=True)
class Placed:
    x: float  # top-left corner
    y: float
    width: float
    height: float
    layer: int  # the compacted layer index (empty layers removed)

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    @property
    def bottom(self) -> float:
        return self.y + self.height


@dataclass(frozen=True)
class Layout:
    boxes: dict[str, Placed]
    width: float
    height: float
    rows: tuple[tuple[str, ...], ...]  # box ids per layer, left to right


def layered_layout(boxes: list[Box], edges: list[tuple[str, str]]) -> Layout:
    by_id = {box.id: box for box in boxes}
    main = [box for box in boxes if box.beside not in by_id]
    layers = sorted({box.layer for box in main})
    rows = [
        sorted((b.id for b in main if b.layer == layer), key=lambda i: by_id[i].sort_key)
        for layer in layers
    ]
    neighbours = _neighbours(edges, by_id)
    for sweep in range(SWEEPS):
        order = range(1, len(rows)) if sweep % 2 == 0 else range(len(rows) - 2, -1, -1)
        for index in order:
            reference = rows[index - 1] if sweep % 2 == 0 else rows[index + 1]
            rows[index] = _by_barycentre(rows[index], reference, neighbours)
    rows = [_with_beside(row, boxes) for row in rows]
    return _coordinates(rows, by_id)


def _neighbours(edges: list[tuple[str, str]], by_id: dict[str, Box]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = defaultdict(set)
    for source, target in edges:
        # Boxes beside another act through it: their edges do not pull the order.
        if source in by_id and target in by_id and not by_id[source].beside:
            found[source].add(target)
            found[target].add(source)
    return found


def _by_barycentre(
    row: list[str], reference: list[str], neighbours: dict[str, set[str]]
) -> list[str]:
    positions = {box_id: index for index, box_id in enumerate(reference)}

    def key(item: tuple[int, str]) -> tuple[float, int]:
        index, box_id = item
        linked = [positions[n] for n in neighbours.get(box_id, ()) if n in positions]
        # Unlinked boxes keep their place relative to the row's width.
        centre = sum(linked) / len(linked) if linked else index * len(reference) / max(len(row), 1)
        return centre, index

    return [box_id for _, box_id in sorted(enumerate(row), key=key)]


def _with_beside(row: list[str], boxes: list[Box]) -> list[str]:
    result = []
    for box_id in row:
        result.append(box_id)
        result += sorted((b.id for b in boxes if b.beside == box_id), key=lambda i: i)
    return result


def _coordinates(rows: list[list[str]], by_id: dict[str, Box]) -> Layout:
    widths = [sum(by_id[i].width for i in row) + GAP_X * (len(row) - 1) for row in rows]
    total_width = max(widths, default=0.0)
    placed: dict[str, Placed] = {}
    y = 0.0
    for layer, (row, row_width) in enumerate(zip(rows, widths, strict=True)):
        x = (total_width - row_width) / 2
        height = max(by_id[i].height for i in row)
        for box_id in row:
            box = by_id[box_id]
            # Boxes in a layer share a centre line, whatever their height.
            placed[box_id] = Placed(x, y + (height - box.height) / 2, box.width, box.height, layer)
            x += box.width + GAP_X
        y += height + GAP_Y
    return Layout(placed, total_width, max(y - GAP_Y, 0.0), tuple(tuple(row) for row in rows))
