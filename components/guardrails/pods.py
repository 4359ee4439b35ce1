"""Pod templates inside workload kinds, and the containers they run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.guardrails.subject import Subject
from components.guardrails.wire import items, mapping
from components.nested_values import dig

# Where each workload kind keeps its pod spec.
_POD_SPEC_PATHS: dict[str, tuple[str, ...]] = {
    "Deployment": ("spec", "template", "spec"),
    "StatefulSet": ("spec", "template", "spec"),
    "DaemonSet": ("spec", "template", "spec"),
    "ReplicaSet": ("spec", "template", "spec"),
    "Job": ("spec", "template", "spec"),
    "CronJob": ("spec", "jobTemplate", "spec", "template", "spec"),
    "Pod": ("spec",),
}


@dataclass(frozen=True)
class Container:
    name: str
    # "container" or "init container": reports say which list to look in.
    role: str
    body: Mapping[str, Any]

    @property
    def label(self) -> str:
        return f"{self.role} '{self.name}'"


# A LeaderWorkerSet (leaderworkerset.x-k8s.io) has two templates: its leaders run the
# leader template, or the worker template when it has none (LWS v0.10.0 API).
_GROUP_KIND = "LeaderWorkerSet"
_GROUP_TEMPLATES = ("spec", "leaderWorkerTemplate")


def pod_spec(subject: Subject) -> Mapping[str, Any] | None:
    """The pod spec of a Kubernetes workload (a LeaderWorkerSet's leaders'); None for every
    other resource."""
    template = _template(subject)
    spec = template.get("spec") if template is not None else None
    return spec if isinstance(spec, Mapping) else None


def pod_specs(subject: Subject) -> list[Mapping[str, Any]]:
    """Every pod spec a workload runs: one, or a LeaderWorkerSet's leaders' and workers'."""
    leader = pod_spec(subject)
    if leader is None:
        return []
    if subject.provider != "kubernetes" or subject.kind != _GROUP_KIND:
        return [leader]
    worker = dig(subject.props, *_GROUP_TEMPLATES, "workerTemplate", "spec")
    return [leader] + ([worker] if isinstance(worker, Mapping) and worker is not leader else [])


def pod_labels(subject: Subject) -> Mapping[str, Any]:
    """Labels of the pods a Deployment (or other template kind) creates."""
    return mapping(dig(_template(subject) or {}, "metadata", "labels"))


def _template(subject: Subject) -> Mapping[str, Any] | None:
    if subject.provider != "kubernetes":
        return None
    if subject.kind == _GROUP_KIND:
        templates = mapping(dig(subject.props, *_GROUP_TEMPLATES))
        template = templates.get("leaderTemplate") or templates.get("workerTemplate")
        return template if isinstance(template, Mapping) else None
    path = _POD_SPEC_PATHS.get(subject.kind)
    if path is None:
        return None
    template = dig(subject.props, *path[:-1])
    return template if isinstance(template, Mapping) else None


def containers(spec: Mapping[str, Any]) -> list[Container]:
    found = []
    for key, role in (("initContainers", "init container"), ("containers", "container")):
        for body in items(spec.get(key)):
            body = mapping(body)
            found.append(Container(str(body.get("name") or "?"), role, body))
    return found


def workload_containers(subject: Subject) -> list[Container]:
    """The containers of every pod spec the workload runs (see pod_specs)."""
    return [container for spec in pod_specs(subject) for container in containers(spec)]
