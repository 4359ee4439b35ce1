"""A Kubernetes render as a picture's content: who sends traffic where, what mounts what,
what scales what.

Nodes are the objects a reviewer reasons about (routes, Services, workloads, loader Jobs,
caches, autoscalers); edges come from the manifests' own references (backendRefs, Service
selectors, volumes, scaleTargetRef, targetRefs) and from Pulumi dependencies. A workload
reached by traffic is serving; one its siblings serve around is idle. New kinds need an
entry in ROLES (and, to say more than their name, one in node_text.DESCRIBERS).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

from components.catalog.multi_node import LEADER_INDEX, WORKER_INDEX_LABEL
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
from components.graph.node_text import GROUP_KIND, describe, pod_spec, pod_template
from components.identity import EXTERNAL_ENDPOINT, METRICS_ENDPOINT, SLOT_ENDPOINT
from components.rendered.objects import (
    RenderLike,
    component_of,
    deployment_of,
    kind_key,
    name_of,
    namespace_of,
    object_id,
)

ROLES: dict[str, Role] = {
    "gateway.networking.k8s.io/HTTPRoute": Role.ROUTE,
    "gateway.networking.k8s.io/GRPCRoute": Role.ROUTE,
    "networking.k8s.io/Ingress": Role.ROUTE,
    "core/Service": Role.BALANCER,
    "apps/Deployment": Role.WORKLOAD,
    "apps/StatefulSet": Role.WORKLOAD,
    "leaderworkerset.x-k8s.io/LeaderWorkerSet": Role.WORKLOAD,
    "batch/Job": Role.LOADER,
    "core/PersistentVolumeClaim": Role.CACHE,
    "autoscaling/HorizontalPodAutoscaler": Role.AUTOSCALER,
    "keda.sh/ScaledObject": Role.AUTOSCALER,
    "gateway.envoyproxy.io/BackendTrafficPolicy": Role.POLICY,
    # The shared endpoint: the body-based router's ext-proc, attached to the shared route.
    "gateway.envoyproxy.io/EnvoyExtensionPolicy": Role.POLICY,
    # rollout.progressive: Flagger's Canary, drawn beside the Deployment it takes over.
    "flagger.app/Canary": Role.POLICY,
    # inference_aware: the route sends to a slot's pool, the pool to the slot's pods and (per
    # request) to its endpoint picker's Service.
    "inference.networking.k8s.io/InferencePool": Role.BALANCER,
    # external.endpoints: a service modelstack does not run (pools' fallbacks are not drawn).
    "gateway.envoyproxy.io/Backend": Role.BALANCER,
}
# What a route's backendRef or a pool's endpointPickerRef may name, drawn as traffic.
_BACKEND_KINDS = ("Service", "InferencePool", "Backend")


def build_kubernetes_topology(render: RenderLike, title: str) -> Topology:
    objects = {object_id(obj): obj for obj in render.objects if _drawn(obj)}
    nodes = {node_id: _node(node_id, obj) for node_id, obj in objects.items()}
    index = _Index(objects)
    edges = [
        *_route_edges(objects, index),
        *_selector_edges(objects),
        *_picker_edges(objects, index),
        *_volume_edges(objects, index),
        *_dependency_edges(render.resources, nodes),
        *_beside_edges(objects, index, nodes),
    ]
    nodes, edges = _without_unused_slot_services(nodes, edges)
    _mark_states(nodes, edges)
    add_resource_notes(render.resources, nodes)
    _add_replica_lines(nodes, edges)
    return Topology(title, _groups(nodes, render.outputs), nodes, edges)


def _drawn(obj: dict[str, Any]) -> bool:
    if kind_key(obj) == "gateway.envoyproxy.io/Backend":
        return component_of(obj) == EXTERNAL_ENDPOINT
    return kind_key(obj) in ROLES


def _node(node_id: str, obj: dict[str, Any]) -> Node:
    kind = kind_key(obj)
    replicas = obj.get("spec", {}).get("replicas") if ROLES[kind] is Role.WORKLOAD else None
    return Node(
        id=node_id,
        kind=obj["kind"],
        name=name_of(obj),
        role=ROLES[kind],
        group=deployment_of(obj) or "",
        component=component_of(obj),
        lines=describe(kind, obj),
        replicas=replicas,
    )


class _Index:
    """Find drawn objects by what manifests reference: kind and name in a namespace."""

    def __init__(self, objects: dict[str, dict[str, Any]]) -> None:
        self._by_name = {
            (obj["kind"], namespace_of(obj), name_of(obj)): node_id
            for node_id, obj in objects.items()
        }

    def find(self, kind: str, namespace: str, name: str) -> str | None:
        return self._by_name.get((kind, namespace, name))


def _route_edges(objects: dict[str, dict[str, Any]], index: _Index) -> list[Edge]:
    edges = []
    for node_id, obj in objects.items():
        if ROLES[kind_key(obj)] is not Role.ROUTE:
            continue
        namespace = namespace_of(obj)
        for backends in _backend_sets(obj):
            total = sum(weight for *_, weight in backends)
            split = len(backends) > 1 and total > 0
            for kind, name, backend_namespace, weight in backends:
                target = index.find(kind, backend_namespace or namespace, name)
                if target is None:
                    continue
                share = round(100 * weight / total) if split else None
                label = f"{share}%" if share is not None else None
                edges.append(Edge(node_id, target, EdgeKind.TRAFFIC, label, share))
    return edges


def _backend_sets(route: dict[str, Any]) -> list[list[tuple[str, str, str | None, int]]]:
    """Per rule: (kind, name, namespace, weight); Ingress paths count as weight 1."""
    spec = route.get("spec", {})
    sets = []
    for rule in spec.get("rules") or []:
        refs = rule.get("backendRefs")
        if refs is not None:
            sets.append(
                [
                    (
                        str(ref.get("kind", "Service")),
                        str(ref.get("name")),
                        ref.get("namespace"),
                        int(ref.get("weight", 1)),
                    )
                    for ref in refs
                    if ref.get("kind", "Service") in _BACKEND_KINDS
                ]
            )
            continue
        for path in (rule.get("http") or {}).get("paths") or []:
            service = path.get("backend", {}).get("service", {})
            if service.get("name"):
                sets.append([("Service", str(service["name"]), None, 1)])
    default = spec.get("defaultBackend", {}).get("service", {})
    if default.get("name"):
        sets.append([("Service", str(default["name"]), None, 1)])
    return sets


def _selector_edges(objects: dict[str, dict[str, Any]]) -> list[Edge]:
    workloads = [
        (node_id, obj) for node_id, obj in objects.items() if ROLES[kind_key(obj)] is Role.WORKLOAD
    ]
    edges = []
    for node_id, obj in objects.items():
        selector = _pod_selector(obj)
        if not selector:
            continue
        for workload_id, workload in workloads:
            if namespace_of(workload) == namespace_of(obj) and _selects(
                selector, _pod_labels(workload)
            ):
                edges.append(Edge(node_id, workload_id, EdgeKind.TRAFFIC))
    return edges


def _pod_labels(workload: dict[str, Any]) -> dict[str, str]:
    """The labels of the pods Services select: a LeaderWorkerSet's leaders also carry the
    worker index LWS sets on them, "0" (catalog/multi_node.py)."""
    labels = dict(pod_template(workload).get("metadata", {}).get("labels") or {})
    if workload["kind"] == GROUP_KIND:
        labels[WORKER_INDEX_LABEL] = LEADER_INDEX
    return labels


def _pod_selector(obj: dict[str, Any]) -> dict[str, str] | None:
    """A Service's selector, or an InferencePool's matchLabels."""
    selector = obj.get("spec", {}).get("selector")
    if obj["kind"] == "InferencePool":
        return (selector or {}).get("matchLabels")
    return selector if obj["kind"] == "Service" else None


def _picker_edges(objects: dict[str, dict[str, Any]], index: _Index) -> list[Edge]:
    """A pool asks its endpoint picker (a Service) which pod takes each request."""
    edges = []
    for node_id, obj in objects.items():
        ref = (
            obj.get("spec", {}).get("endpointPickerRef") if obj["kind"] == "InferencePool" else None
        )
        target = index.find("Service", namespace_of(obj), str(ref.get("name"))) if ref else None
        if target is not None:
            edges.append(Edge(node_id, target, EdgeKind.TRAFFIC, "picks"))
    return edges


def _selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(key) == value for key, value in selector.items())


def _volume_edges(objects: dict[str, dict[str, Any]], index: _Index) -> list[Edge]:
    edges = []
    for node_id, obj in objects.items():
        role = ROLES[kind_key(obj)]
        if role not in (Role.WORKLOAD, Role.LOADER):
            continue
        for volume in pod_spec(obj).get("volumes") or []:
            claim = (volume.get("persistentVolumeClaim") or {}).get("claimName")
            target = index.find("PersistentVolumeClaim", namespace_of(obj), str(claim))
            if claim and target:
                kind = EdgeKind.FILLS if role is Role.LOADER else EdgeKind.MOUNTS
                edges.append(Edge(node_id, target, kind, kind.value))
    return edges


def _dependency_edges(resources: list[dict[str, Any]], nodes: dict[str, Node]) -> list[Edge]:
    """A workload that waits for a loader Job: the Job fills what the workload reads."""
    edges = []
    for record in resources:
        source = nodes.get(record["id"])
        if source is None or source.role is not Role.WORKLOAD:
            continue
        for dependency in record.get("dependsOn") or []:
            target = nodes.get(dependency)
            if target is not None and target.role is Role.LOADER:
                edges.append(Edge(source.id, target.id, EdgeKind.AFTER, "after"))
    return edges


def _beside_edges(
    objects: dict[str, dict[str, Any]], index: _Index, nodes: dict[str, Node]
) -> list[Edge]:
    """Autoscalers and policies: an edge to what they act on, and a place next to it."""
    edges = []
    for node_id, obj in objects.items():
        role = ROLES[kind_key(obj)]
        if role not in _TARGET_REFS:
            continue
        edge_kind, read_refs = _TARGET_REFS[role]
        for ref in read_refs(obj.get("spec", {})):
            kind, name = str(ref.get("kind", "Deployment")), str(ref.get("name"))
            target = index.find(kind, namespace_of(obj), name)
            if target is None:
                continue
            edges.append(Edge(node_id, target, edge_kind, edge_kind.value))
            node = nodes[node_id]
            node.beside = node.beside or target
            # The group is the target's: a policy on a shared route stays with it.
            node.group = nodes[target].group
    return edges


def _scale_target(spec: dict[str, Any]) -> list[dict[str, Any]]:
    return [spec["scaleTargetRef"]] if spec.get("scaleTargetRef") else []


def _policy_targets(spec: dict[str, Any]) -> list[dict[str, Any]]:
    single = [spec["targetRef"]] if spec.get("targetRef") else []
    return [*(spec.get("targetRefs") or []), *single]


_TARGET_REFS: dict[Role, tuple[EdgeKind, Callable[[dict[str, Any]], list[dict[str, Any]]]]] = {
    Role.AUTOSCALER: (EdgeKind.SCALES, _scale_target),
    Role.POLICY: (EdgeKind.ATTACHES, _policy_targets),
}


def _without_unused_slot_services(
    nodes: dict[str, Node], edges: list[Edge]
) -> tuple[dict[str, Node], list[Edge]]:
    """Per-slot Services exist to test a slot; drawn only when a route sends traffic to them.

    The metrics Service selects every slot but carries no requests: never drawn.
    """
    routed = {edge.target for edge in edges if nodes[edge.source].role is Role.ROUTE}
    hidden = {
        node_id
        for node_id, node in nodes.items()
        if (node.component == SLOT_ENDPOINT and node_id not in routed)
        or node.component == METRICS_ENDPOINT
    }
    kept = {node_id: node for node_id, node in nodes.items() if node_id not in hidden}
    return kept, [e for e in edges if e.source not in hidden and e.target not in hidden]


def _mark_states(nodes: dict[str, Node], edges: list[Edge]) -> None:
    """Serving: reached by traffic from an entry (a route, or a Service no route feeds)."""
    outgoing: dict[str, list[Edge]] = defaultdict(list)
    fed = set()
    for edge in edges:
        if edge.kind is EdgeKind.TRAFFIC:
            outgoing[edge.source].append(edge)
            fed.add(edge.target)
    entries = [
        node_id
        for node_id, node in nodes.items()
        # An InferencePool takes requests only from a route (the idle slot's from none).
        if node.role in (Role.ROUTE, Role.BALANCER)
        and node_id not in fed
        and node.kind != "InferencePool"
    ]
    reached, queue = set(entries), list(entries)
    while queue:
        for edge in outgoing[queue.pop()]:
            if edge.weight != 0 and edge.target not in reached:
                reached.add(edge.target)
                queue.append(edge.target)
    serving_groups = {
        nodes[node_id].group for node_id in reached if nodes[node_id].role is Role.WORKLOAD
    }
    for node in nodes.values():
        if node.role is not Role.WORKLOAD:
            continue
        if node.id in reached:
            node.state = State.SERVING
        elif node.group in serving_groups:
            node.state = State.IDLE


def _add_replica_lines(nodes: dict[str, Node], edges: list[Edge]) -> None:
    scalers = {edge.target: edge.source for edge in edges if edge.kind is EdgeKind.SCALES}
    for node in nodes.values():
        if node.role is not Role.WORKLOAD:
            continue
        if node.id in scalers and node.replicas is None:
            text = "replicas: autoscaled"
        elif node.replicas == 0:
            text = "0 replicas (scaled to zero)"
        else:
            count = 1 if node.replicas is None else node.replicas
            text = f"{count} replica{'s' if count != 1 else ''}"
        node.lines.insert(1, text)


def _groups(nodes: dict[str, Node], outputs: dict[str, Any]) -> list[Group]:
    members: dict[str, list[str]] = defaultdict(list)
    for node_id, node in nodes.items():
        members[node.group].append(node_id)
    summaries = outputs.get("deployments") or {}
    groups = []
    for name in sorted(members, key=lambda n: (n != "", n)):
        summary = summaries.get(name) or {}
        title = name or "shared"
        subtitle = summary.get("endpoint") if isinstance(summary, dict) else None
        groups.append(Group(name, title, subtitle, tuple(sorted(members[name]))))
    return groups
