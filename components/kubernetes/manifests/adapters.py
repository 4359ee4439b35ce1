"""Adapters loaded while the engine runs: their ConfigMap and the sidecar that loads them.

Why a sidecar in every engine pod, not a Job or Pulumi calling the pods: `pulumi up` runs
outside the cluster and cannot reach pod IPs, and a one-shot Job (listing pods through the
API or the headless Service's DNS) would miss every pod that starts later (a restart, a
scale-up, a node drain). The sidecar reads the ConfigMap (mounted, so the kubelet updates
the file in place, within about a minute, without touching the pod) and keeps its own
engine on 127.0.0.1 at that set: it loads what is new and unloads what was removed, and a
restarted engine gets them all again. Its startup probe holds the pod out of its Services
until the first pass has loaded every adapter. No image of our own: the program
(components/adapters/runtime_sync.py, standard library only) is a key of the ConfigMap,
run by a pinned public Python image, and the ConfigMap waits for the loader Jobs, so an
adapter is only named once its files are complete in the cache.
"""

from __future__ import annotations

import inspect
import json
from typing import Any

from components import identity
from components.adapters import runtime_sync
from components.kubernetes.manifests import labels, security
from components.plan import DeploymentPlan
from components.planning.runtime_adapters_plan import RuntimeAdaptersPlan

CONTAINER = "adapter-sync"
VOLUME = "runtime-adapters"
MOUNT = "/etc/modelstack/adapters"
CONFIG_KEY = "adapters.json"
PROGRAM_KEY = "sync.py"
_TMP_VOLUME = "adapter-sync-tmp"


def config_map(deployment: DeploymentPlan) -> dict[str, Any]:
    runtime = _runtime(deployment)
    return {
        "apiVersion": "v1",
        "kind": "ConfigMap",
        "metadata": {
            "name": runtime.config_map,
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.RUNTIME_ADAPTERS),
        },
        "data": {
            CONFIG_KEY: json.dumps(runtime.sync_config(), indent=1, sort_keys=True),
            PROGRAM_KEY: inspect.getsource(runtime_sync),
        },
    }


def sync_container(deployment: DeploymentPlan, api_key_ref: tuple[str, str, str] | None) -> dict:
    """The sidecar; `api_key_ref`: the engine's key (kind, object, key), sent as a header."""
    runtime = _runtime(deployment)
    probes = deployment.probes
    env = []
    if runtime.api_key_env and api_key_ref:
        kind, source, key = api_key_ref
        env.append({"name": runtime.api_key_env, "valueFrom": {kind: {"name": source, "key": key}}})
    return {
        "name": CONTAINER,
        "image": runtime.image,
        "imagePullPolicy": "IfNotPresent",
        "command": ["python3", f"{MOUNT}/{PROGRAM_KEY}", "watch", f"{MOUNT}/{CONFIG_KEY}"],
        "env": env,
        # The engine takes minutes to load: the first pass waits for it as long as it may take.
        "startupProbe": {
            "exec": {"command": ["test", "-f", runtime_sync.SYNCED_MARKER]},
            "periodSeconds": probes.period_seconds,
            "failureThreshold": probes.startup_failure_threshold,
        },
        "resources": {
            "requests": {"cpu": "10m", "memory": "32Mi"},
            "limits": {"cpu": "200m", "memory": "128Mi"},
        },
        "securityContext": security.container_security(),
        "volumeMounts": [
            {"name": VOLUME, "mountPath": MOUNT, "readOnly": True},
            {"name": _TMP_VOLUME, "mountPath": "/tmp"},
        ],
    }


def volumes(deployment: DeploymentPlan) -> list[dict[str, Any]]:
    runtime = _runtime(deployment)
    return [
        # Optional: the engine starts before the first adapter's download has finished.
        {"name": VOLUME, "configMap": {"name": runtime.config_map, "optional": True}},
        {"name": _TMP_VOLUME, "emptyDir": {}},
    ]


def _runtime(deployment: DeploymentPlan) -> RuntimeAdaptersPlan:
    assert deployment.runtime_adapters is not None, f"{deployment.name} loads adapters at start"
    return deployment.runtime_adapters
