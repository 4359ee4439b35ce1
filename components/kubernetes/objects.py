"""Turn a manifest body into the matching pulumi-kubernetes resource."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_RESOURCES: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
}
# Top-level manifest keys -> the resource class's keyword arguments.
_ARGUMENTS = {"metadata": "metadata", "spec": "spec", "stringData": "string_data", "type": "type"}


def create(body: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Register `body` under its own metadata.name, so Pulumi and Kubernetes names agree."""
    resource_class = _RESOURCES[(body["apiVersion"], body["kind"])]
    arguments = {_ARGUMENTS[key]: value for key, value in body.items() if key in _ARGUMENTS}
    return resource_class(body["metadata"]["name"], **arguments, opts=opts)
