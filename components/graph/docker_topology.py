"""A docker render as a picture's content: gateway -> route -> engine containers -> cache.

Read from the render's docker/ documents (containers, volumes) and the gateway config in
checks/: nginx (the gateway container) sends each deployment's route to the servers of its
upstream; those servers are engine containers, drawn as one node per slot and pool with a
square per replica. Containers the upstream lists are serving, their siblings idle; weights
(canary, weighted pools) label the edges, failover pools are marked backup. Below: the
cache volume, the loader containers that fill it, and which engines wait for which loader.
The result is the same Topology as for Kubernetes, so mermaid.py and svg_picture.py draw it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from components.graph.model import (
    Edge,
    EdgeKind,
    Group,
    Node,
    Role,
    State,
    Topology,
    add_resource_notes,
)
from components.graph.node_text import short_image
from components.identity import (
    COMPONENT,
    DEPLOYMENT,
    ENGINE,
    ENGINE_COMPONENT,
    GATEWAY_COMPONENT,
    MODEL_LOADER,
    POOL,
    SHARED_ENDPOINT,
    SLOT,
    parse_engine_name,
)
from components.rendered.nginx_routes import (
    NginxRoute,
    SharedEndpoint,
    parse_routes,
    parse_shared_endpoint,
)
from components.rendered.objects import RenderLike, other_documents

CONTAINER = "docker:index/container:Container"
DYNAMIC = "pulumi-python:dynamic:Resource"
VOLUME = "docker:index/volume:Volume"
BALANCING_NAMES = {None: "round robin", "least_conn": "least connections", "ip_hash": "ip hash"}


def is_docker_render(render: RenderLike) -> bool:
    """No Kubernetes objects, but docker resources: the docker target."""
    return not render.objects and any(
        str(document["type"]).startswith("docker:") for document in other_documents(render)
    )


@dataclass(frozen=True)
class _Resource:
    """A docker resource document: Pulumi id, logical name and inputs."""

    id: str
    name: str
    inputs: dict[str, Any]

    @property
    def labels(self) -> dict[str, str]:
        return {str(i.get("label")): str(i.get("value")) for i in self.inputs.get("labels") or []}

    @property
    def docker_name(self) -> str:
        return str(self.inputs.get("name") or self.name)


def _resources(render: RenderLike, type_: str) -> list[_Resource]:
    return sorted(
        (
            _Resource(f"{doc['type']}::{doc['name']}", str(doc["name"]), doc.get("inputs") or {})
            for doc in other_documents(render)
            if doc["type"] == type_
        ),
        key=lambda resource: resource.id,
    )


def _gateway_config(render: RenderLike) -> str:
    """The nginx.conf the gateway runs (the in-place config resource's input)."""
    for document in other_documents(render):
        inputs = document.get("inputs") or {}
        if "config_path" in inputs and isinstance(inputs.get("config"), str):
            return str(inputs["config"])
    return ""


def build_docker_topology(render: RenderLike, title: str) -> Topology:
    # Loaders are containers run to completion by a dynamic resource (docker/loader.py).
    loaders = [r for r in _resources(render, DYNAMIC) if r.labels.get(COMPONENT) == MODEL_LOADER]
    containers = _resources(render, CONTAINER) + loaders
    by_component: dict[str, list[_Resource]] = defaultdict(list)
    for container in containers:
        by_component[container.labels.get(COMPONENT, "")].append(container)
    nodes: dict[str, Node] = {}
    edges: list[Edge] = []

    engines = _engine_nodes(by_component[ENGINE_COMPONENT], nodes)
    config = _gateway_config(render)
    routes = parse_routes(config)
    deployments = render.outputs.get("deployments") or {}
    for gateway in by_component[GATEWAY_COMPONENT]:
        nodes[gateway.id] = _gateway_node(gateway)
    route_ids: dict[str, str] = {}
    for route in routes:
        deployment = _deployment_of(route, engines, deployments)
        if deployment is None:
            continue
        route_node = _route_node(route, deployment, render)
        nodes[route_node.id] = route_node
        route_ids[route.upstream or ""] = route_node.id
        edges += [
            Edge(g.id, route_node.id, EdgeKind.TRAFFIC) for g in by_component[GATEWAY_COMPONENT]
        ]
        edges += _traffic_edges(route, route_node.id, engines)
        edges += _external_servers(route, route_node, engines, nodes)
    shared = parse_shared_endpoint(config)
    if shared is not None:
        node = _shared_node(shared)
        nodes[node.id] = node
        edges += [Edge(g.id, node.id, EdgeKind.TRAFFIC) for g in by_component[GATEWAY_COMPONENT]]
        edges += _shared_edges(shared, node.id, route_ids)
    _mark_states(engines, edges, nodes)

    volumes = {volume.docker_name: volume for volume in _resources(render, VOLUME)}
    for volume in volumes.values():
        nodes[volume.id] = _cache_node(volume)
    for loader in by_component[MODEL_LOADER]:
        nodes[loader.id] = _loader_node(loader)
        edges += _mount_edges(loader.id, [loader], volumes, EdgeKind.FILLS)
    for group in engines.values():
        edges += _mount_edges(group.node.id, group.containers, volumes, EdgeKind.MOUNTS)
    edges += _wait_edges(render.resources, engines, nodes)
    add_resource_notes(render.resources, nodes)
    return Topology(title, _groups(nodes, deployments, render), nodes, _distinct(edges))


# -- engines -----------------------------------------------------------------------------------


@dataclass
class _EngineGroup:
    node: Node
    containers: list[_Resource]

    @property
    def addresses(self) -> set[str]:
        return {container.docker_name for container in self.containers}


def _engine_nodes(containers: list[_Resource], nodes: dict[str, Node]) -> dict[str, _EngineGroup]:
    """One node per workload (slot and pool): its replicas are the containers of that name."""
    groups: dict[str, _EngineGroup] = {}
    for container in containers:
        parsed = parse_engine_name(container.name)
        workload = parsed.workload if parsed else container.name
        if workload not in groups:
            node = Node(
                id=f"modelstack:docker:Containers::{workload}",
                kind="Containers",
                name=workload,
                role=Role.WORKLOAD,
                group=container.labels.get(DEPLOYMENT, ""),
                component=ENGINE_COMPONENT,
                lines=_engine_lines(container),
                replicas=0,
            )
            groups[workload] = _EngineGroup(node, [])
            nodes[node.id] = node
        group = groups[workload]
        group.containers.append(container)
        group.node.replicas = len(group.containers)
    for group in groups.values():
        count = len(group.containers)
        group.node.lines.insert(1, f"{count} container{'s' if count != 1 else ''}")
    return groups


def _engine_lines(container: _Resource) -> list[str]:
    inputs, labels = container.inputs, container.labels
    image = short_image(str(inputs.get("image", "")))
    head = " · ".join(part for part in (labels.get(ENGINE), image) if part)
    where = " · ".join(
        part for part in (labels.get(SLOT), labels.get(POOL) and f"pool {labels[POOL]}") if part
    )
    return [line for line in (head, _hardware(inputs), f"slot {where}" if where else "") if line]


def _hardware(inputs: dict[str, Any]) -> str:
    memory = int(inputs.get("memory") or 0)  # MiB, as the provider takes it
    size = "?" if not memory else f"{memory // 1024}Gi" if memory % 1024 == 0 else f"{memory}Mi"
    requests = inputs.get("deviceRequests") or []
    gpus = sum(int(request.get("count") or 0) for request in requests)
    if gpus:
        driver = requests[0].get("driver") or "gpu"
        return f"{gpus} x GPU ({driver}) · {size}"
    if inputs.get("devices"):
        return f"AMD GPU devices · {size}"
    return f"CPU {inputs.get('cpus', '?')} · {size}"


# -- gateway and routes ------------------------------------------------------------------------


def _gateway_node(gateway: _Resource) -> Node:
    ports = [
        f"{port.get('ip', '0.0.0.0')}:{port.get('external')} -> :{port.get('internal')}"
        for port in gateway.inputs.get("ports") or []
    ]
    return Node(
        id=gateway.id,
        kind="Container",
        name=gateway.docker_name,
        role=Role.ROUTE,
        group="",
        component=GATEWAY_COMPONENT,
        lines=[f"nginx · {short_image(str(gateway.inputs.get('image', '')))}", *ports],
    )


def _shared_node(shared: SharedEndpoint) -> Node:
    return Node(
        id="modelstack:nginx:SharedEndpoint::shared",
        kind="Route",
        name=shared.path,
        role=Role.BALANCER,
        group="",
        component=SHARED_ENDPOINT,
        lines=["shared endpoint, routed by the body's model (njs)", f"{len(shared.models)} models"],
    )


def _shared_edges(shared: SharedEndpoint, node_id: str, route_ids: dict[str, str]) -> list[Edge]:
    """To each deployment's route, labelled with the model names it serves."""
    names: dict[str, list[str]] = defaultdict(list)
    for model, upstream in shared.models.items():
        names[upstream].append(model)
    return [
        Edge(node_id, route_ids[upstream], EdgeKind.TRAFFIC, ", ".join(sorted(models)))
        for upstream, models in sorted(names.items())
        if upstream in route_ids
    ]


def _deployment_of(
    route: NginxRoute, engines: dict[str, _EngineGroup], deployments: dict[str, Any]
) -> str | None:
    """Whose route: its servers' deployment, else (nothing running) the endpoint with its path."""
    addresses = {server.address.rsplit(":", 1)[0] for server in route.servers}
    for group in engines.values():
        if addresses & group.addresses:
            return group.node.group
    for name, summary in deployments.items():
        endpoint = summary.get("endpoint") if isinstance(summary, dict) else None
        if endpoint and urlsplit(str(endpoint)).path.removesuffix("/v1") + "/" == route.path:
            return str(name)
    return None


def _route_node(route: NginxRoute, deployment: str, render: RenderLike) -> Node:
    lines = [" ".join(route.hosts)] if route.hosts else []
    if route.upstream and route.servers:
        balancing = BALANCING_NAMES.get(route.balancing, route.balancing)
        lines.append(f"upstream {route.upstream} · {balancing}")
    if route.read_timeout:
        lines.append(f"read timeout {route.read_timeout}")
    if route.answer:
        lines.append(f"answers {route.answer[0]}: {_answer_reason(route.answer)}")
    if _checked(render, deployment):
        lines.append("checked after pulumi up (/v1/models)")
    return Node(
        id=f"modelstack:nginx:Route::{deployment}",
        kind="Route",
        name=route.path,
        role=Role.BALANCER,
        group=deployment,
        component="route",
        lines=lines,
    )


def _answer_reason(answer: tuple[str, ...]) -> str:
    body = answer[-1] if len(answer) > 1 else ""
    # '{"error": {"message": "<upstream> is stopped (state: ...)", ...}}': the reason only.
    match = re.search(r'"message":\s*"[^" ]+ ([^"(]*)', body)
    return match.group(1).strip() if match else "no servers"


def _checked(render: RenderLike, deployment: str) -> bool:
    return any(
        document.get("name") == f"{deployment}-endpoint-check"
        for document in other_documents(render)
    )


def _traffic_edges(
    route: NginxRoute, route_id: str, engines: dict[str, _EngineGroup]
) -> list[Edge]:
    """Route -> each engine group it proxies to; shares where the weights split traffic."""
    shares: dict[str, tuple[int, bool]] = {}
    for server in route.servers:
        name = server.address.rsplit(":", 1)[0]
        group = next((g for g in engines.values() if name in g.addresses), None)
        if group is None:
            continue
        weight, backup = shares.get(group.node.id, (0, True))
        shares[group.node.id] = (weight + server.weight, backup and server.backup)
    primary_total = sum(weight for weight, backup in shares.values() if not backup)
    primaries = sum(1 for _, backup in shares.values() if not backup)
    edges = []
    for target, (weight, backup) in shares.items():
        if backup:
            edges.append(Edge(route_id, target, EdgeKind.TRAFFIC, "backup"))
        elif primaries > 1 and primary_total:
            share = round(100 * weight / primary_total)
            edges.append(Edge(route_id, target, EdgeKind.TRAFFIC, f"{share}%", share))
        else:
            edges.append(Edge(route_id, target, EdgeKind.TRAFFIC))
    return edges


def _external_servers(
    route: NginxRoute, route_node: Node, engines: dict[str, _EngineGroup], nodes: dict[str, Node]
) -> list[Edge]:
    """Servers no engine container stands for: external endpoints, one node each."""
    known = {address for group in engines.values() for address in group.addresses}
    edges = []
    for server in route.servers:
        if server.address.rsplit(":", 1)[0] in known:
            continue
        node = Node(
            id=f"external::{route.upstream}-{server.address}",
            kind="External endpoint",
            name=server.address,
            role=Role.WORKLOAD,
            group=route_node.group,
            component=None,
            lines=["not run by modelstack"],
        )
        nodes[node.id] = node
        label = "backup" if server.backup else f"weight {server.weight}"
        edges.append(Edge(route_node.id, node.id, EdgeKind.TRAFFIC, label))
    return edges


def _mark_states(
    engines: dict[str, _EngineGroup], edges: list[Edge], nodes: dict[str, Node]
) -> None:
    """Serving: the gateway's upstream lists it. Idle: a sibling serves and it does not."""
    routed = {edge.target for edge in edges if edge.kind is EdgeKind.TRAFFIC}
    serving_groups = {nodes[node_id].group for node_id in routed if node_id in nodes}
    for group in engines.values():
        node = group.node
        if node.id in routed:
            node.state = State.SERVING
        elif node.group in serving_groups:
            node.state = State.IDLE


# -- cache and loaders -------------------------------------------------------------------------


def _cache_node(volume: _Resource) -> Node:
    return Node(
        id=volume.id,
        kind="Volume",
        name=volume.docker_name,
        role=Role.CACHE,
        group=volume.labels.get(DEPLOYMENT, ""),
        component=volume.labels.get(COMPONENT),
        lines=["model cache"],
    )


def _loader_node(loader: _Resource) -> Node:
    return Node(
        id=loader.id,
        kind="Container",
        name=loader.docker_name,
        role=Role.LOADER,
        group=loader.labels.get(DEPLOYMENT, ""),
        component=MODEL_LOADER,
        lines=[short_image(str(loader.inputs.get("image", ""))), "runs once, must exit 0"],
    )


def _mount_edges(
    source: str, containers: list[_Resource], volumes: dict[str, _Resource], kind: EdgeKind
) -> list[Edge]:
    mounted = {
        str(mount.get("source"))
        for container in containers
        for mount in container.inputs.get("mounts") or []
    }
    return [
        Edge(source, volumes[name].id, kind, kind.value)
        for name in sorted(mounted)
        if name in volumes
    ]


def _wait_edges(
    resources: list[dict[str, Any]], engines: dict[str, _EngineGroup], nodes: dict[str, Node]
) -> list[Edge]:
    """Engines start after their loaders: Pulumi dependencies from engine to loader."""
    depends = {record["id"]: record.get("dependsOn") or [] for record in resources}
    edges = []
    for group in engines.values():
        loaders = {
            dependency
            for container in group.containers
            for dependency in depends.get(container.id, [])
            if dependency in nodes and nodes[dependency].role is Role.LOADER
        }
        edges += [
            Edge(group.node.id, loader, EdgeKind.AFTER, "after") for loader in sorted(loaders)
        ]
    return edges


# -- groups ------------------------------------------------------------------------------------


def _groups(nodes: dict[str, Node], deployments: dict[str, Any], render: RenderLike) -> list[Group]:
    members: dict[str, list[str]] = defaultdict(list)
    for node_id, node in nodes.items():
        members[node.group].append(node_id)
    namespace = render.outputs.get("namespace")
    groups = []
    for name in sorted(members, key=lambda n: (n != "", n)):
        if name:
            summary = deployments.get(name) or {}
            subtitle = summary.get("endpoint") if isinstance(summary, dict) else None
            groups.append(Group(name, name, subtitle, tuple(sorted(members[name]))))
        else:
            subtitle = f"docker network {namespace}" if namespace else None
            groups.append(Group(name, "gateway", subtitle, tuple(sorted(members[name]))))
    return groups


def _distinct(edges: list[Edge]) -> list[Edge]:
    return list(dict.fromkeys(edges))
