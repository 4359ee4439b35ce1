"""gpu-placement: a GPU pod without the GPU taint's toleration never schedules, and one without
node placement can land on the wrong GPU type."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import containers, pod_specs
from components.guardrails.subject import Subject, stack_deployment
from components.guardrails.wire import as_int, items, mapping
from components.nested_values import dig

GPU_RESOURCES = ("nvidia.com/gpu", "amd.com/gpu")


def requested_gpu_resources(spec: Mapping[str, Any]) -> list[str]:
    """GPU resource names any container asks for (limits, or requests alone)."""
    found = []
    for container in containers(spec):
        for section in ("limits", "requests"):
            for resource in GPU_RESOURCES:
                count = as_int(dig(container.body, "resources", section, resource))
                if count and resource not in found:
                    found.append(resource)
    return found


def tolerates(spec: Mapping[str, Any], resource: str) -> bool:
    for toleration in items(spec.get("tolerations")):
        toleration = mapping(toleration)
        key = toleration.get("key")
        if key == resource:
            return True
        # An empty key with Exists tolerates every taint.
        if not key and toleration.get("operator") == "Exists":
            return True
    return False


def has_node_placement(spec: Mapping[str, Any]) -> bool:
    if mapping(spec.get("nodeSelector")):
        return True
    terms = items(
        dig(
            spec,
            "affinity",
            "nodeAffinity",
            "requiredDuringSchedulingIgnoredDuringExecution",
            "nodeSelectorTerms",
        )
    )
    return any(
        items(dig(term, "matchExpressions")) or items(dig(term, "matchFields")) for term in terms
    )


def check_gpu_placement(subject: Subject) -> list[str]:
    # A LeaderWorkerSet's leaders and workers both request GPUs: each is placed alike.
    found = [message for spec in pod_specs(subject) for message in _placement(subject, spec)]
    return list(dict.fromkeys(found))


def _placement(subject: Subject, spec: Mapping[str, Any]) -> list[str]:
    resources = requested_gpu_resources(spec)
    if not resources:
        return []
    where = stack_deployment(subject)
    messages = [
        f"requests {resource} but tolerates no '{resource}' taint: set"
        f" `modelstack:kubernetes.cloud` (gke, eks, aks or generic) so {where} gets the GPU"
        " node pool's toleration"
        for resource in resources
        if not tolerates(spec, resource)
    ]
    if not has_node_placement(spec):
        messages.append(
            f"requests {', '.join(resources)} with no nodeSelector or required"
            f" node affinity: set `gpu.type` on {where} and `modelstack:kubernetes.cloud` to your"
            " cluster's label scheme"
        )
    return messages


GPU_PLACEMENT = ResourceGuardrail(
    name="gpu-placement",
    description=(
        "Pods that request nvidia.com/gpu or amd.com/gpu tolerate that GPU taint and are placed"
        " on GPU nodes with a nodeSelector or a required node affinity."
    ),
    remediation="Set `gpu.type` on the deployment and `modelstack:kubernetes.cloud` in the stack.",
    check=check_gpu_placement,
)
