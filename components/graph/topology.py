"""A render as a picture's content, from whichever target rendered it."""

from __future__ import annotations

from components.graph.docker_topology import build_docker_topology, is_docker_render
from components.graph.kubernetes_topology import build_kubernetes_topology
from components.graph.model import Topology
from components.rendered.objects import RenderLike


def build_topology(render: RenderLike, title: str) -> Topology:
    if is_docker_render(render):
        return build_docker_topology(render, title)
    return build_kubernetes_topology(render, title)
