"""The engine pod of a slot: container, probes, cache mounts, GPU placement."""

from __future__ import annotations

import copy
from typing import Any, Literal

from components import identity
from components.catalog.multi_node import EXPANDED_ENV
from components.kubernetes.manifests import adapters, labels, security
from components.plan import DeploymentPlan, SlotPlan
from components.planning.model_location import CACHE_MOUNT
from components.planning.placement import Placement

CONTAINER = "engine"
PORT_NAME = "http"
CACHE_VOLUME = "model-cache"
# Waits for every marker path given as an argument; a constant, so `sh -n` checks it once.
WAIT_SCRIPT = (
    'for marker in "$@"; do'
    ' until [ -f "$marker" ]; do printf \'waiting for %s\\n\' "$marker"; sleep 10; done;'
    " done"
)
# Endpoints controllers need a moment to drop a terminating pod: keep serving meanwhile.
PRE_STOP_SLEEP_SECONDS = 15
# A pod that serves alone, a group's leader (serves) or a group's worker (serves no HTTP).
PodRole = Literal["single", "leader", "worker"]


def engine_pod_template(
    deployment: DeploymentPlan, slot: SlotPlan, role: PodRole = "single"
) -> dict[str, Any]:
    return {
        "metadata": {
            "labels": labels.for_workload(deployment, slot),
            "annotations": _annotations(deployment, slot),
        },
        "spec": _pod_spec(deployment, slot, role),
    }


def _annotations(deployment: DeploymentPlan, slot: SlotPlan) -> dict[str, str]:
    location = slot.model.location
    annotations = {identity.MODEL_SOURCE: location.source}
    if location.revision:
        annotations[identity.MODEL_REVISION] = location.revision
    if deployment.description:
        annotations[identity.DESCRIPTION] = deployment.description
    return annotations


def _pod_spec(deployment: DeploymentPlan, slot: SlotPlan, role: PodRole) -> dict[str, Any]:
    spec: dict[str, Any] = {
        # A Service named like the engine (e.g. `vllm`) would inject VLLM_PORT and break it.
        "enableServiceLinks": False,
        # Engines never call the Kubernetes API.
        "automountServiceAccountToken": False,
        "securityContext": security.pod_security(),
        **pull_secrets(deployment),
        "terminationGracePeriodSeconds": deployment.on_kubernetes.termination_grace_seconds,
        "containers": [_engine_container(deployment, slot, role)],
        "volumes": _volumes(deployment, slot),
    }
    if deployment.runtime_adapters is not None and role != "worker":
        # Loads the adapters into the engine beside it while it runs (manifests/adapters.py).
        api_key_ref = slot.engine.env_refs.get(deployment.runtime_adapters.api_key_env or "")
        spec["containers"].append(adapters.sync_container(deployment, api_key_ref))
        spec["volumes"] += adapters.volumes(deployment)
    markers = cache_markers(deployment, slot)
    if markers:
        spec["initContainers"] = [_wait_for_model(deployment.on_kubernetes.wait_image, markers)]
    placement = slot.placement
    if placement:
        if placement.node_selector:
            spec["nodeSelector"] = dict(placement.node_selector)
        affinity = _affinity(placement)
        if affinity:
            spec["affinity"] = affinity
        if placement.tolerations:
            spec["tolerations"] = [dict(t) for t in placement.tolerations]
        if placement.runtime_class:
            spec["runtimeClassName"] = placement.runtime_class
    spread = deployment.on_kubernetes.spread
    if spread is not None:
        spec["topologySpreadConstraints"] = [
            {
                "maxSkew": spread.max_skew,
                "topologyKey": spread.topology_key,
                "whenUnsatisfiable": "DoNotSchedule" if spread.required else "ScheduleAnyway",
                "labelSelector": {"matchLabels": labels.workload_selector(deployment, slot)},
            }
        ]
    return spec


def pull_secrets(deployment: DeploymentPlan) -> dict[str, Any]:
    names = deployment.on_kubernetes.image_pull_secrets
    return {"imagePullSecrets": [{"name": name} for name in names]} if names else {}


def _affinity(placement: Placement) -> dict[str, Any]:
    """The stack's affinity with the node requirements ANDed into every required term."""
    affinity = copy.deepcopy(placement.affinity) or {}
    expressions = [
        {"key": r.key, "operator": r.operator, "values": list(r.values)}
        for r in placement.node_affinity
    ]
    if expressions:
        node = affinity.setdefault("nodeAffinity", {})
        required = node.setdefault("requiredDuringSchedulingIgnoredDuringExecution", {})
        terms = required.setdefault("nodeSelectorTerms", []) or [{}]
        for term in terms:
            term["matchExpressions"] = [*term.get("matchExpressions", []), *expressions]
        required["nodeSelectorTerms"] = terms
    return affinity


def _engine_container(deployment: DeploymentPlan, slot: SlotPlan, role: PodRole) -> dict[str, Any]:
    engine = slot.engine
    container: dict[str, Any] = {
        "name": CONTAINER,
        "image": engine.image,
        "imagePullPolicy": "IfNotPresent",
    }
    if engine.command:
        container["command"] = [literal(part) for part in engine.command]
    container.update(
        {
            "args": [literal(arg) for arg in engine.args] + _group_args(slot, role),
            "ports": [{"name": PORT_NAME, "containerPort": engine.port, "protocol": "TCP"}],
            "env": [
                *security.home_env(),
                *(
                    {"name": name, "value": literal(value)}
                    for name, value in sorted(engine.env.items())
                ),
                *(
                    {"name": name, "valueFrom": {kind: {"name": source, "key": key}}}
                    for name, (kind, source, key) in sorted(engine.env_refs.items())
                ),
            ],
            "resources": {
                "requests": slot.resources.requests(),
                "limits": slot.resources.limits(),
            },
            **(_serving(deployment) if role != "worker" else {}),
            "securityContext": security.container_security(),
            "volumeMounts": _mounts(deployment, slot),
        }
    )
    if role == "worker":
        # A worker joins its leader's engine and answers no HTTP: no port for Services
        # (the metrics Service's endpoints included) and nothing to probe.
        del container["ports"]
    return container


def _serving(deployment: DeploymentPlan) -> dict[str, Any]:
    """Probes on the HTTP port, and a pause before stopping while endpoints drop the pod."""
    probes = deployment.probes
    http_get = {"path": probes.path, "port": PORT_NAME}
    return {
        # Model loading takes minutes: the startup probe holds off the others until then.
        "startupProbe": {
            "httpGet": http_get,
            "periodSeconds": probes.period_seconds,
            "timeoutSeconds": probes.timeout_seconds,
            "failureThreshold": probes.startup_failure_threshold,
        },
        "readinessProbe": {
            "httpGet": http_get,
            "periodSeconds": probes.period_seconds,
            "timeoutSeconds": probes.timeout_seconds,
            "failureThreshold": probes.readiness_failure_threshold,
        },
        "livenessProbe": {
            "httpGet": http_get,
            "periodSeconds": probes.liveness_period_seconds,
            "timeoutSeconds": probes.liveness_timeout_seconds,
            "failureThreshold": probes.liveness_failure_threshold,
        },
        "lifecycle": {"preStop": {"sleep": {"seconds": PRE_STOP_SLEEP_SECONDS}}},
    }


def _group_args(slot: SlotPlan, role: PodRole) -> list[str]:
    """The group's flags (catalog data): their `$(LWS_...)` references are the only ones
    Kubernetes may expand; any other `$` in them is escaped like a stack value's."""
    if slot.group is None or role == "single":
        return []
    args = slot.group.leader_args if role == "leader" else slot.group.worker_args
    return [_expanding(arg, EXPANDED_ENV) for arg in args]


def _expanding(text: str, names: frozenset[str]) -> str:
    escaped = literal(text)
    for name in names:
        escaped = escaped.replace(f"$$({name})", f"$({name})")
    return escaped


def literal(text: str) -> str:
    """`text` as Kubernetes passes it on: it expands $(VAR) in command, args and env values,
    and `$$` is its escape for `$`."""
    return text.replace("$", "$$")


def cache_markers(deployment: DeploymentPlan, slot: SlotPlan) -> list[str]:
    """What a loader writes last, for the model and every adapter this slot downloads."""
    markers = [slot.model.location.marker] if slot.loader_job else []
    if deployment.runtime_adapters is not None:
        # Loaded at run time, once their loaders are done: the engine does not wait for them.
        return markers
    return markers + [a.location.marker for a in deployment.adapters if a.loader_job]


def _wait_for_model(image: str, markers: list[str]) -> dict[str, Any]:
    return {
        "name": "wait-for-model",
        "image": image,
        "imagePullPolicy": "IfNotPresent",
        # The markers are argv, never script text: nothing from the stack file reaches the
        # shell's parser. "$0" is only the name the shell reports itself under.
        "command": ["sh", "-c", WAIT_SCRIPT, "wait-for-model", *map(literal, markers)],
        "resources": {
            "requests": {"cpu": "10m", "memory": "16Mi"},
            "limits": {"cpu": "100m", "memory": "32Mi"},
        },
        "securityContext": security.container_security(),
        "volumeMounts": [{"name": CACHE_VOLUME, "mountPath": CACHE_MOUNT, "readOnly": True}],
    }


def _volumes(deployment: DeploymentPlan, slot: SlotPlan) -> list[dict[str, Any]]:
    volumes: list[dict[str, Any]] = []
    if deployment.cache:
        volumes.append(
            {
                "name": CACHE_VOLUME,
                "persistentVolumeClaim": {
                    "claimName": deployment.cache.claim_name,
                    "readOnly": slot.engine.model_read_only,
                },
            }
        )
    for claim in deployment.external_claims:
        volumes.append(
            {
                "name": f"pvc-{claim}",
                "persistentVolumeClaim": {"claimName": claim, "readOnly": True},
            }
        )
    if slot.engine.shm_size:
        # Tensor-parallel workers exchange data through /dev/shm; the default 64Mi is too small.
        volumes.append(
            {"name": "dshm", "emptyDir": {"medium": "Memory", "sizeLimit": slot.engine.shm_size}}
        )
    return volumes + security.writable_dirs(slot.engine.writable_dirs)[0]


def _mounts(deployment: DeploymentPlan, slot: SlotPlan) -> list[dict[str, Any]]:
    mounts: list[dict[str, Any]] = []
    if deployment.cache:
        mounts.append(
            {
                "name": CACHE_VOLUME,
                "mountPath": CACHE_MOUNT,
                "readOnly": slot.engine.model_read_only,
            }
        )
    for claim in deployment.external_claims:
        mounts.append(
            {"name": f"pvc-{claim}", "mountPath": f"{CACHE_MOUNT}/pvc/{claim}", "readOnly": True}
        )
    if slot.engine.shm_size:
        mounts.append({"name": "dshm", "mountPath": "/dev/shm"})
    return mounts + security.writable_dirs(slot.engine.writable_dirs)[1]
