"""The model cache: a PersistentVolumeClaim and the Jobs that fill it."""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels, security
from components.kubernetes.manifests.pod import pull_secrets
from components.kubernetes.manifests.secrets import HF_TOKEN_KEY
from components.plan import CachePlan, DeploymentPlan
from components.planning.loaders import LoaderPlan
from components.planning.model_location import CACHE_MOUNT

LOADER_RETRIES = 4


def cache_claim(deployment: DeploymentPlan, cache: CachePlan) -> dict[str, Any]:
    spec: dict[str, Any] = {
        "accessModes": [cache.access_mode],
        "resources": {"requests": {"storage": cache.size}},
    }
    if cache.storage_class:
        spec["storageClassName"] = cache.storage_class
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {
            "name": cache.claim_name,
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.MODEL_CACHE),
        },
        "spec": spec,
    }


def loader_job(deployment: DeploymentPlan, loader: LoaderPlan) -> dict[str, Any]:
    job_labels = labels.common(deployment, identity.MODEL_LOADER)
    # A Job's pod template is immutable: user tags there would make a tag edit replace the
    # Job (and download again). Tags stay on the Job itself, where labels may change.
    pod_labels = {k: v for k, v in job_labels.items() if k not in deployment.tags}
    env: list[dict[str, Any]] = [{"name": "HOME", "value": "/tmp"}]
    if loader.hf_token_secret:
        env.append(
            {
                "name": "HF_TOKEN",
                "valueFrom": {
                    "secretKeyRef": {
                        "name": loader.hf_token_secret,
                        "key": loader.hf_token_key or HF_TOKEN_KEY,
                    }
                },
            }
        )
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {
            "name": loader.job_name,
            "namespace": deployment.namespace,
            "labels": job_labels,
            "annotations": {identity.MODEL_SOURCE: loader.source},
        },
        "spec": {
            "backoffLimit": LOADER_RETRIES,
            "template": {
                "metadata": {"labels": pod_labels},
                "spec": {
                    # Failed pods stay for their logs; the Job retries in new pods.
                    "restartPolicy": "Never",
                    "automountServiceAccountToken": False,
                    "securityContext": security.pod_security(),
                    # Model images (oci://) may come from the same private registries.
                    **pull_secrets(deployment),
                    "containers": [
                        {
                            "name": "loader",
                            "image": loader.image,
                            "imagePullPolicy": "IfNotPresent",
                            "command": ["/bin/sh", "-c", loader.script],
                            "env": env,
                            # The log tail of a failed attempt outlives the log itself (node
                            # gone, pod collected): `modelstack status` reads it from here.
                            "terminationMessagePolicy": "FallbackToLogsOnError",
                            "resources": {
                                "requests": {"cpu": "1", "memory": "2Gi"},
                                "limits": {"cpu": "2", "memory": "4Gi"},
                            },
                            "securityContext": security.container_security(),
                            "volumeMounts": [
                                {"name": "model-cache", "mountPath": CACHE_MOUNT},
                                {"name": "tmp", "mountPath": "/tmp"},
                            ],
                        }
                    ],
                    "volumes": [
                        {
                            "name": "model-cache",
                            "persistentVolumeClaim": {"claimName": loader.claim_name},
                        },
                        {"name": "tmp", "emptyDir": {}},
                    ],
                },
            },
        },
    }
