"""`modelstack graph`: Mermaid and SVG pictures that show which slot serves."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from components.cli import EXIT_OK, main
from components.offline.render import Render
from components.review.mermaid import mermaid_id, render_mermaid
from components.review.svg_picture import IDLE, SERVING, render_svg
from components.review.topology import EdgeKind, State, build_topology
from tests.conftest import deployments_of, render_document, stack_document, with_changes

SVG = "{http://www.w3.org/2000/svg}"


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> Render:
    return render_document(tmp_path_factory.mktemp("prod"), stack_document("prod"))


def _deployments(render: Render) -> list[str]:
    return sorted(o["metadata"]["name"] for o in render.objects if o["kind"] == "Deployment")


def _nodes(svg_text: str) -> dict[str, ET.Element]:
    root = ET.fromstring(svg_text)
    return {
        group.get("data-name", ""): group
        for group in root.iter(f"{SVG}g")
        if "node" in (group.get("class") or "").split()
    }


def test_mermaid_marks_the_serving_slot_and_lists_every_deployment(prod: Render) -> None:
    text = render_mermaid(build_topology(prod, "prod"))
    assert text.splitlines()[1] == "flowchart TB"
    for name in _deployments(prod):
        assert re.search(
            rf"^    {mermaid_id('kubernetes:apps/v1:Deployment::' + name)}\[", text, re.M
        )
    blue = mermaid_id("kubernetes:apps/v1:Deployment::llama-chat-blue")
    green = mermaid_id("kubernetes:apps/v1:Deployment::llama-chat-green")
    assert "<b>llama-chat-blue</b> · SERVING" in text
    assert "<b>llama-chat-green</b> · idle" in text
    serving = next(
        line for line in text.splitlines() if line.endswith(" serving") and "class " in line
    )
    assert blue in serving and green not in serving
    assert f"  class {green} idle" in text
    # Requests reach the serving slot through the stable Service (thick arrow).
    assert f"{mermaid_id('kubernetes:core/v1:Service::llama-chat')} ==> {blue}" in text


def test_svg_is_well_formed_with_a_node_per_slot(prod: Render) -> None:
    svg = render_svg(build_topology(prod, "prod"))
    nodes = _nodes(svg)
    root = ET.fromstring(svg)
    # Not from `nodes`: an autoscaler is named after its workload and would hide it there.
    workloads = sorted(
        g.get("data-name", "")
        for g in root.iter(f"{SVG}g")
        if {"node", "workload"} <= set((g.get("class") or "").split())
    )
    assert workloads == _deployments(prod)
    assert float(root.get("width", 0)) > 0 and root.find(f"{SVG}title") is not None
    assert {"llama-chat", "llama-chat-cache"} <= set(nodes)


def test_idle_slot_is_styled_apart_from_the_serving_one(prod: Render) -> None:
    nodes = _nodes(render_svg(build_topology(prod, "prod")))
    blue, green = nodes["llama-chat-blue"], nodes["llama-chat-green"]
    assert "serving" in blue.get("class", "").split()
    assert "idle" in green.get("class", "").split()
    blue_box, green_box = blue.find(f"{SVG}rect"), green.find(f"{SVG}rect")
    assert blue_box is not None and green_box is not None
    assert (blue_box.get("fill"), blue_box.get("stroke")) == SERVING
    assert (green_box.get("fill"), green_box.get("stroke")) == IDLE
    assert green_box.get("stroke-dasharray") and not blue_box.get("stroke-dasharray")
    texts = ["".join(t.itertext()) for t in green.iter(f"{SVG}text")]
    assert "IDLE" in texts and "SERVING" not in texts


def test_switching_moves_the_serving_mark(tmp_path: Path) -> None:
    def switch(document: dict[str, Any]) -> None:
        deployments_of(document)[0]["rollout"]["active"] = "green"

    render = render_document(tmp_path, with_changes(stack_document("prod"), switch))
    nodes = build_topology(render, "prod").nodes
    states = {node.name: node.state for node in nodes.values() if node.kind == "Deployment"}
    assert states["llama-chat-green"] is State.SERVING
    assert states["llama-chat-blue"] is State.IDLE
    assert states["llama-70b"] is State.SERVING


def test_route_weights_label_the_traffic_edges(prod: Render) -> None:
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {
            "name": "llama-chat",
            "namespace": "ml-prod",
            "labels": {"modelstack.io/deployment": "llama-chat"},
        },
        "spec": {
            "rules": [
                {
                    "backendRefs": [
                        {"name": "llama-chat-blue", "port": 80, "weight": 90},
                        {"name": "llama-chat-green", "port": 80, "weight": 10},
                    ]
                }
            ]
        },
    }
    routed = Render([*prod.objects, route], prod.resources, prod.outputs, [])
    topology = build_topology(routed, "prod")
    weights = sorted(e.label for e in topology.edges if e.weight is not None)
    assert weights == ["10%", "90%"]
    # Slot Services appear once a route sends traffic to them; both slots now serve.
    assert {n.name for n in topology.nodes.values() if n.kind == "Service"} >= {"llama-chat-blue"}
    states = {n.name: n.state for n in topology.nodes.values() if n.kind == "Deployment"}
    assert states["llama-chat-green"] is State.SERVING
    assert "-->|10%|" in render_mermaid(topology)
    labels = ["".join(t.itertext()) for t in ET.fromstring(render_svg(topology)).iter(f"{SVG}text")]
    assert "90%" in labels and "10%" in labels


def test_cache_and_loader_edges(prod: Render) -> None:
    topology = build_topology(prod, "prod")
    edges = {
        (topology.nodes[e.source].name, e.kind, topology.nodes[e.target].name)
        for e in topology.edges
    }
    assert ("llama-chat-blue", EdgeKind.MOUNTS, "llama-chat-cache") in edges
    fills = {
        source
        for source, kind, target in edges
        if kind is EdgeKind.FILLS and target == "llama-chat-cache"
    }
    assert len(fills) == 2  # one loader Job per revision


def test_graph_command_writes_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "--stack", "prod", "--out", str(tmp_path)]) == EXIT_OK
    assert (tmp_path / "topology.mmd").read_text().startswith("%% modelstack · prod")
    ET.parse(tmp_path / "topology.svg")
    assert "topology.svg" in capsys.readouterr().out
