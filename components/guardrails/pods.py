"""Pod templates inside workload kinds, and the containers they run."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from components.guardrails.subject import Subject
from components.guardrails.wire import dig, items, mapping

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


def pod_spec(subject: Subject) -> Mapping[str, Any] | None:
    """The pod spec of a Kubernetes workload; None for every other resource."""
    if subject.provider != "kubernetes":
        return None
    path = _POD_SPEC_PATHS.get(subject.kind)
    if path is None:
        return None
    spec = dig(subject.props, *path)
    return spec if isinstance(spec, Mapping) else None


def pod_labels(subject: Subject) -> Mapping[str, Any]:
    """Labels of the pods a Deployment (or other template kind) creates."""
    template_path = _POD_SPEC_PATHS.get(subject.kind, ())[:-1]
    return mapping(dig(subject.props, *template_path, "metadata", "labels"))


def containers(spec: Mapping[str, Any]) -> list[Container]:
    found = []
    for key, role in (("initContainers", "init container"), ("containers", "container")):
        for body in items(spec.get(key)):
            body = mapping(body)
            found.append(Container(str(body.get("name") or "?"), role, body))
    return found
