"""`modelstack graph`: Mermaid and SVG pictures that show which slot serves."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pytest

from components.cli import EXIT_OK, main
from components.graph.mermaid import mermaid_id, render_mermaid
from components.graph.model import EdgeKind, Role, State, Topology
from components.graph.svg_picture import IDLE, SERVING, render_svg
from components.graph.topology import build_topology
from components.offline.render import Render
from components.rendered.nginx_routes import UpstreamServer, parse_routes
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


# -- docker stacks: gateway -> route -> engine containers -> cache and loader ------------------


def _docker(tmp_path: Path, **changes: Any) -> Topology:
    document = stack_document("dev")
    deployments_of(document)[0].update(changes)
    return build_topology(render_document(tmp_path, document), "dev")


def _by_name(topology: Topology) -> dict[str, Any]:
    return {node.name: node for node in topology.nodes.values()}


def _edges(topology: Topology) -> set[tuple[str, EdgeKind, str, str | None]]:
    names = {node_id: node.name for node_id, node in topology.nodes.items()}
    return {(names[e.source], e.kind, names[e.target], e.label) for e in topology.edges}


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> Topology:
    return build_topology(
        render_document(tmp_path_factory.mktemp("dev"), stack_document("dev")), "dev"
    )


def test_docker_stack_draws_gateway_route_engines_cache_and_loader(dev: Topology) -> None:
    nodes = _by_name(dev)
    gateway, route = nodes["modelstack-dev-gateway"], nodes["/qwen-tiny/"]
    engines = nodes["qwen-tiny"]
    (loader,) = dev.nodes_of(Role.LOADER)
    (cache,) = dev.nodes_of(Role.CACHE)
    assert (gateway.role, gateway.group) == (Role.ROUTE, "")
    assert (route.role, route.group) == (Role.BALANCER, "qwen-tiny")
    assert "upstream qwen_tiny · round robin" in route.lines
    assert (engines.role, engines.state, engines.replicas) == (Role.WORKLOAD, State.SERVING, 2)
    assert engines.lines[:2] == ["llamacpp · llama.cpp:server-b11382", "2 containers"]
    assert cache.name == "modelstack-dev-qwen-tiny-cache" and "kept on delete" in cache.notes
    assert loader.name.startswith("modelstack-dev-qwen-tiny-fetch-")
    assert _edges(dev) == {
        ("modelstack-dev-gateway", EdgeKind.TRAFFIC, "/qwen-tiny/", None),
        ("/qwen-tiny/", EdgeKind.TRAFFIC, "qwen-tiny", None),
        ("qwen-tiny", EdgeKind.MOUNTS, cache.name, "mounts"),
        (loader.name, EdgeKind.FILLS, cache.name, "fills"),
        ("qwen-tiny", EdgeKind.AFTER, loader.name, "after"),
    }
    assert [group.title for group in dev.groups] == ["gateway", "qwen-tiny"]
    assert dev.groups[1].subtitle == "http://127.0.0.1:8080/qwen-tiny/v1"


def test_docker_mermaid_and_svg(dev: Topology) -> None:
    text = render_mermaid(dev)
    gateway = mermaid_id("docker:index/container:Container::gateway")
    route = mermaid_id("modelstack:nginx:Route::qwen-tiny")
    engines = mermaid_id("modelstack:docker:Containers::qwen-tiny")
    assert f"{gateway} --> {route}" in text and f"{route} ==> {engines}" in text
    assert "<b>qwen-tiny</b> · SERVING" in text
    root = ET.fromstring(render_svg(dev))
    boxes = {
        g.get("data-name"): g
        for g in root.iter(f"{SVG}g")
        if "group" in (g.get("class") or "").split()
    }
    gateway_top = float(boxes["gateway"].find(f"{SVG}rect").get("y"))  # type: ignore[union-attr]
    deployment_top = float(boxes["qwen-tiny"].find(f"{SVG}rect").get("y"))  # type: ignore[union-attr]
    assert gateway_top < deployment_top  # the gateway sits above what it feeds
    pods = [r for r in root.iter(f"{SVG}rect") if r.get("class") == "pod"]
    assert len(pods) == 2


def test_docker_blue_green_marks_the_slot_the_gateway_serves(tmp_path: Path) -> None:
    rollout = {
        "strategy": "blue-green",
        "active": "blue",
        "slots": {"green": {"model": {"revision": "v2"}}},
    }
    nodes = _by_name(_docker(tmp_path, rollout=rollout))
    assert nodes["qwen-tiny-blue"].state is State.SERVING
    assert nodes["qwen-tiny-green"].state is State.IDLE
    switched = _by_name(_docker(tmp_path, rollout={**rollout, "active": "green"}))
    assert switched["qwen-tiny-green"].state is State.SERVING
    assert switched["qwen-tiny-blue"].state is State.IDLE
    # Each slot's model revision has its own loader; both fill the one cache.
    assert len([n for n in switched.values() if n.role is Role.LOADER]) == 2


def test_docker_canary_weights_label_the_route_edges(tmp_path: Path) -> None:
    canary = {"strategy": "canary", "active": "blue", "canaryWeight": 20}
    topology = _docker(tmp_path, rollout=canary)
    shares = {
        (target, label) for _, kind, target, label in _edges(topology) if kind is EdgeKind.TRAFFIC
    }
    assert {("qwen-tiny-blue", "80%"), ("qwen-tiny-green", "20%")} <= shares
    assert {n.state for n in topology.nodes_of(Role.WORKLOAD)} == {State.SERVING}
    assert "==>|20%|" in render_mermaid(topology)


def test_docker_pools_weighted_and_failover(tmp_path: Path) -> None:
    pools = [
        {"name": "big", "replicas": 1, "weight": 3, "resources": {"cpu": "4", "memory": "4Gi"}},
        {"name": "small", "replicas": 1, "weight": 1, "priority": 1},
    ]
    # On docker a declared priority always makes backups (nginx keeps them with any balancing).
    shares = [{k: v for k, v in pool.items() if k != "priority"} for pool in pools]
    weighted = _docker(
        tmp_path, pools=shares, replicas=None, loadBalancer={"algorithm": "weighted"}
    )
    labels = {t: label for _, kind, t, label in _edges(weighted) if kind is EdgeKind.TRAFFIC}
    assert labels["qwen-tiny-big"] == "75%" and labels["qwen-tiny-small"] == "25%"
    assert "slot main · pool big" in _by_name(weighted)["qwen-tiny-big"].lines
    failover = _docker(tmp_path, pools=pools, replicas=None, loadBalancer={"algorithm": "failover"})
    labels = {t: label for _, kind, t, label in _edges(failover) if kind is EdgeKind.TRAFFIC}
    assert labels["qwen-tiny-big"] is None and labels["qwen-tiny-small"] == "backup"


def test_docker_stopped_deployment_keeps_route_cache_and_loader(tmp_path: Path) -> None:
    topology = _docker(tmp_path, state="stopped")
    nodes = _by_name(topology)
    assert topology.nodes_of(Role.WORKLOAD) == []
    assert "answers 503: is stopped" in nodes["/qwen-tiny/"].lines
    assert len(topology.nodes_of(Role.CACHE)) == 1 and len(topology.nodes_of(Role.LOADER)) == 1
    ET.fromstring(render_svg(topology))


def test_docker_graph_command_writes_both_files(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["graph", "--stack", "dev", "--out", str(tmp_path)]) == EXIT_OK
    mermaid = (tmp_path / "topology.mmd").read_text()
    assert mermaid.startswith("%% modelstack · dev · namespace modelstack-dev")
    assert "modelstack-dev-gateway" in mermaid
    ET.parse(tmp_path / "topology.svg")
    assert "topology.svg" in capsys.readouterr().out


def test_nginx_routes_are_read_from_the_config_syntax() -> None:
    config = """
    http {
        # a comment with { braces } and ; semicolons
        upstream chat { least_conn; server a:8000 weight=3 max_fails=3;
                        server b:8000 max_fails=3 fail_timeout=10s backup; keepalive 32; }
        server {
            listen 0.0.0.0:8080; server_name chat.example.com api.example.com;
            location = /-/health { return 200 "ok\\n"; }
            location /chat/ { proxy_pass http://chat/; proxy_read_timeout 600s; }
            location /off/ {
                return 503 '{"error": {"message": "off is stopped (state: stopped)"}}';
            }
        }
    }
    """
    chat, off = parse_routes(config)
    assert (chat.path, chat.upstream, chat.balancing, chat.read_timeout) == (
        "/chat/",
        "chat",
        "least_conn",
        "600s",
    )
    assert chat.hosts == ("chat.example.com", "api.example.com")
    assert chat.servers == (UpstreamServer("a:8000", 3), UpstreamServer("b:8000", 1, True))
    assert (off.upstream, off.answer[0]) == (None, "503")
    assert '"off is stopped (state: stopped)"' in off.answer[1]
