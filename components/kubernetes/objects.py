"""Turn a manifest body into the matching pulumi-kubernetes resource."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

_RESOURCES: dict[tuple[str, str], Any] = {
    ("v1", "Namespace"): k8s.core.v1.Namespace,
    ("v1", "Secret"): k8s.core.v1.Secret,
    ("v1", "ConfigMap"): k8s.core.v1.ConfigMap,
    ("v1", "Service"): k8s.core.v1.Service,
    ("v1", "PersistentVolumeClaim"): k8s.core.v1.PersistentVolumeClaim,
    ("apps/v1", "Deployment"): k8s.apps.v1.Deployment,
    ("batch/v1", "Job"): k8s.batch.v1.Job,
    ("policy/v1", "PodDisruptionBudget"): k8s.policy.v1.PodDisruptionBudget,
    ("autoscaling/v2", "HorizontalPodAutoscaler"): k8s.autoscaling.v2.HorizontalPodAutoscaler,
    ("networking.k8s.io/v1", "Ingress"): k8s.networking.v1.Ingress,
    ("networking.k8s.io/v1", "NetworkPolicy"): k8s.networking.v1.NetworkPolicy,
    # An endpoint picker's identity and what it may read (inference_aware).
    ("v1", "ServiceAccount"): k8s.core.v1.ServiceAccount,
    ("rbac.authorization.k8s.io/v1", "Role"): k8s.rbac.v1.Role,
    ("rbac.authorization.k8s.io/v1", "RoleBinding"): k8s.rbac.v1.RoleBinding,
}
# Top-level manifest keys -> the resource class's keyword arguments.
_ARGUMENTS = {
    "metadata": "metadata",
    "spec": "spec",
    "stringData": "string_data",
    "type": "type",
    "data": "data",
    "rules": "rules",
    "roleRef": "role_ref",
    "subjects": "subjects",
}


def create(body: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.CustomResource:
    """Register `body` under its own metadata.name, so Pulumi and Kubernetes names agree.

    Kinds without a typed class (Gateway API, Envoy Gateway, KEDA, Prometheus Operator)
    become CustomResources, whose specs pass to the cluster verbatim (camelCase already).
    """
    name = body["metadata"]["name"]
    resource_class = _RESOURCES.get((body["apiVersion"], body["kind"]))
    if resource_class is None:
        return k8s.apiextensions.CustomResource(
            name,
            api_version=body["apiVersion"],
            kind=body["kind"],
            metadata=body["metadata"],
            spec=body.get("spec"),
            opts=opts,
        )
    arguments = {_ARGUMENTS[key]: value for key, value in body.items() if key in _ARGUMENTS}
    return resource_class(name, **arguments, opts=opts)
