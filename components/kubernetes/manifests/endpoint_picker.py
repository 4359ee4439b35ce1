"""inference_aware: a slot's InferencePool and its endpoint picker, and the route's backendRef.

What the Gateway API Inference Extension's chart at v1.5.0 installs per pool
(components/catalog/endpoint_picker.py names the files), as plain dicts: the InferencePool,
and the picker's ServiceAccount, Role, RoleBinding, ConfigMap, Deployment, Service (and
PodDisruptionBudget where the environment has them).
"""

from __future__ import annotations

from typing import Any

import yaml

from components import identity
from components.catalog import endpoint_picker as epp
from components.kubernetes.manifests import labels
from components.kubernetes.manifests.security import container_security, pod_security
from components.plan import DeploymentPlan
from components.planning.inference_routing_plan import InferencePoolPlan, InferenceRoutingPlan

_CONTAINER = "epp"
_CONFIG_VOLUME = "plugins-config"
_SCRATCH = "scratch"


def inference_objects(deployment: DeploymentPlan) -> list[dict[str, Any]]:
    """Every slot's pool and picker objects (none unless the deployment is inference_aware)."""
    routing = deployment.traffic.inference if deployment.traffic else None
    if routing is None:
        return []
    return [
        body
        for pool in routing.pools
        for body in (
            inference_pool(deployment, routing, pool),
            *picker_objects(deployment, routing, pool),
        )
    ]


def inference_pool(
    deployment: DeploymentPlan, routing: InferenceRoutingPlan, pool: InferencePoolPlan
) -> dict[str, Any]:
    """The slot's engine pods, by the labels the slot's Service selects them with."""
    return {
        "apiVersion": epp.POOL_API_VERSION,
        "kind": "InferencePool",
        "metadata": _metadata(
            deployment,
            pool.name,
            {**labels.common(deployment, identity.INFERENCE_POOL), identity.SLOT: pool.slot},
        ),
        "spec": {
            "selector": {"matchLabels": labels.serving_selector(deployment, pool.slot)},
            "targetPorts": [{"number": routing.target_port}],
            "appProtocol": "http",
            "endpointPickerRef": {
                "name": pool.picker,
                "port": {"number": epp.EXT_PROC_PORT},
                "failureMode": epp.FAILURE_MODE,
            },
        },
    }


def route_backend(pool: str, weight: int) -> dict[str, Any]:
    """An HTTPRoute backendRef on a pool (no port: the pool's targetPorts say it)."""
    return {"group": epp.POOL_API_GROUP, "kind": "InferencePool", "name": pool, "weight": weight}


def picker_objects(
    deployment: DeploymentPlan, routing: InferenceRoutingPlan, pool: InferencePoolPlan
) -> list[dict[str, Any]]:
    """Everything the pool's picker runs on, in the order they are needed."""
    config = config_file(routing)
    objects = [
        _service_account(deployment, pool),
        _role(deployment, routing, pool),
        _role_binding(deployment, pool),
        _config_map(deployment, pool, config),
        _deployment(deployment, routing, pool, config),
        _service(deployment, pool),
    ]
    if deployment.environment.pod_disruption_budget:
        objects.append(_disruption_budget(deployment, routing, pool))
    return objects


def config_file(routing: InferenceRoutingPlan) -> str:
    """The picker's plugins file (EndpointPickerConfig), dumped from data."""
    extractor: dict[str, Any] = {"type": epp.METRICS_EXTRACTOR}
    if routing.engine.name != epp.DEFAULT_ENGINE:
        extractor["parameters"] = {"defaultEngine": routing.engine.name}
    document = {
        "apiVersion": epp.CONFIG_API_VERSION,
        "kind": "EndpointPickerConfig",
        "plugins": [
            *({"type": scorer} for scorer, _ in epp.SCORERS),
            {
                "type": epp.METRICS_SOURCE,
                "parameters": {
                    "scheme": "http",
                    "path": routing.metrics_path,
                    "insecureSkipVerify": True,
                },
            },
            extractor,
        ],
        "schedulingProfiles": [
            {
                "name": "default",
                "plugins": [
                    {"pluginRef": scorer, "weight": weight} for scorer, weight in epp.SCORERS
                ],
            }
        ],
    }
    return yaml.safe_dump(document, sort_keys=False)


def _metadata(deployment: DeploymentPlan, name: str, object_labels: dict[str, str]) -> dict:
    return {"name": name, "namespace": deployment.namespace, "labels": object_labels}


def _picker_object(
    deployment: DeploymentPlan,
    pool: InferencePoolPlan,
    api_version: str,
    kind: str,
    fields: dict[str, Any],
) -> dict[str, Any]:
    """One of the picker's objects: all share its name and labels."""
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": _metadata(deployment, pool.picker, _picker_labels(deployment, pool)),
        **fields,
    }


def _picker_labels(deployment: DeploymentPlan, pool: InferencePoolPlan) -> dict[str, str]:
    # No slot label: the slot and stable Services select pods by deployment and slot.
    return {**labels.common(deployment, identity.ENDPOINT_PICKER), identity.INSTANCE: pool.picker}


def _picker_selector(deployment: DeploymentPlan, pool: InferencePoolPlan) -> dict[str, str]:
    return {identity.DEPLOYMENT: deployment.name, identity.INSTANCE: pool.picker}


def _service_account(deployment: DeploymentPlan, pool: InferencePoolPlan) -> dict[str, Any]:
    return _picker_object(deployment, pool, "v1", "ServiceAccount", {})


def _role(
    deployment: DeploymentPlan, routing: InferenceRoutingPlan, pool: InferencePoolPlan
) -> dict[str, Any]:
    rules = [*epp.RULES, *(epp.LEADER_ELECTION_RULES if routing.leader_election else ())]
    return _picker_object(
        deployment,
        pool,
        "rbac.authorization.k8s.io/v1",
        "Role",
        {"rules": [dict(rule) for rule in rules]},
    )


def _role_binding(deployment: DeploymentPlan, pool: InferencePoolPlan) -> dict[str, Any]:
    return _picker_object(
        deployment,
        pool,
        "rbac.authorization.k8s.io/v1",
        "RoleBinding",
        {
            "subjects": [
                {"kind": "ServiceAccount", "name": pool.picker, "namespace": deployment.namespace}
            ],
            "roleRef": {
                "apiGroup": "rbac.authorization.k8s.io",
                "kind": "Role",
                "name": pool.picker,
            },
        },
    )


def _config_map(deployment: DeploymentPlan, pool: InferencePoolPlan, config: str) -> dict:
    return _picker_object(deployment, pool, "v1", "ConfigMap", {"data": {epp.CONFIG_FILE: config}})


def _deployment(
    deployment: DeploymentPlan,
    routing: InferenceRoutingPlan,
    pool: InferencePoolPlan,
    config: str,
) -> dict[str, Any]:
    return _picker_object(
        deployment,
        pool,
        "apps/v1",
        "Deployment",
        {
            "spec": {
                "replicas": routing.replicas,
                "selector": {"matchLabels": _picker_selector(deployment, pool)},
                # One active picker holds the prefix-cache state: the old one goes first (chart).
                "strategy": {"type": "Recreate"},
                "revisionHistoryLimit": 5,
                "template": {
                    "metadata": {
                        "labels": _picker_labels(deployment, pool),
                        "annotations": {identity.CONFIG_HASH: identity.content_hash(config)},
                    },
                    "spec": {
                        "serviceAccountName": pool.picker,
                        # It watches its pool and the pods the pool selects.
                        "automountServiceAccountToken": True,
                        "terminationGracePeriodSeconds": epp.TERMINATION_GRACE_SECONDS,
                        "securityContext": pod_security(),
                        "containers": [_container(deployment, routing, pool)],
                        "volumes": [
                            {"name": _CONFIG_VOLUME, "configMap": {"name": pool.picker}},
                            {"name": _SCRATCH, "emptyDir": {}},
                        ],
                    },
                },
            },
        },
    )


def _container(
    deployment: DeploymentPlan, routing: InferenceRoutingPlan, pool: InferencePoolPlan
) -> dict[str, Any]:
    args = ["--pool-name", pool.name, "--pool-namespace", deployment.namespace, *epp.ARGS]
    liveness, readiness = epp.HEALTH_SERVICE, epp.HEALTH_SERVICE
    if routing.leader_election:
        args.append(epp.LEADER_ELECTION_ARG)
        liveness, readiness = epp.HA_LIVENESS_SERVICE, epp.HA_READINESS_SERVICE
    return {
        "name": _CONTAINER,
        "image": routing.image,
        "imagePullPolicy": "IfNotPresent",
        "args": args,
        "ports": [
            {"name": "grpc", "containerPort": epp.EXT_PROC_PORT, "protocol": "TCP"},
            {"name": "grpc-health", "containerPort": epp.HEALTH_PORT, "protocol": "TCP"},
            {"name": "metrics", "containerPort": epp.METRICS_PORT, "protocol": "TCP"},
        ],
        "livenessProbe": {
            "grpc": {"port": epp.HEALTH_PORT, "service": liveness},
            "initialDelaySeconds": 5,
            "periodSeconds": 10,
        },
        "readinessProbe": {
            "grpc": {"port": epp.HEALTH_PORT, "service": readiness},
            "periodSeconds": 2,
        },
        "env": [
            {"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}},
            {"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
        ],
        "resources": {kind: dict(values) for kind, values in epp.RESOURCES.items()},
        "securityContext": container_security(),
        "volumeMounts": [
            {"name": _CONFIG_VOLUME, "mountPath": epp.CONFIG_DIR, "readOnly": True},
            {"name": _SCRATCH, "mountPath": "/tmp"},
        ],
    }


def _service(deployment: DeploymentPlan, pool: InferencePoolPlan) -> dict[str, Any]:
    ports = (
        ("grpc-ext-proc", epp.EXT_PROC_PORT),
        ("grpc-health", epp.HEALTH_PORT),
        ("http-metrics", epp.METRICS_PORT),
    )
    return _picker_object(
        deployment,
        pool,
        "v1",
        "Service",
        {
            "spec": {
                "type": "ClusterIP",
                "selector": _picker_selector(deployment, pool),
                "ports": [
                    {"name": name, "port": port, "targetPort": port, "protocol": "TCP"}
                    for name, port in ports
                ],
            },
        },
    )


def _disruption_budget(
    deployment: DeploymentPlan, routing: InferenceRoutingPlan, pool: InferencePoolPlan
) -> dict[str, Any]:
    # With leader election only the leader is ready: a budget that kept one ready pod would
    # block draining the leader's node. Drains go one pod at a time; the standby takes over.
    return _picker_object(
        deployment,
        pool,
        "policy/v1",
        "PodDisruptionBudget",
        {
            "spec": {
                "maxUnavailable": max(routing.replicas, 1),
                "selector": {"matchLabels": _picker_selector(deployment, pool)},
            },
        },
    )
