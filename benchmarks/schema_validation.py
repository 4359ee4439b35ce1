"""Throughput of SchemaValidator on 5,000 rendered Deployments and Services.

Run from the repository root: ``.venv/bin/python benchmarks/schema_validation.py``.
It prints numbers; it asserts nothing beyond "the objects are valid".
"""

from __future__ import annotations

import sys
import time
from pathlib import Path
from typing import Any

OBJECTS = 5_000


def deployment(index: int) -> dict[str, Any]:
    """A model-serving Deployment shaped like the ones modelstack renders."""
    name = f"model-{index}-{'blue' if index % 2 else 'green'}"
    labels = {"app.kubernetes.io/name": name, "app.kubernetes.io/part-of": "modelstack"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": "serving", "labels": labels},
        "spec": {
            "replicas": 1 + index % 4,
            "revisionHistoryLimit": 3,
            "strategy": {
                "type": "RollingUpdate",
                "rollingUpdate": {"maxSurge": 1, "maxUnavailable": 0},
            },
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels, "annotations": {"modelstack/revision": str(index)}},
                "spec": {
                    "serviceAccountName": "serving",
                    "terminationGracePeriodSeconds": 60,
                    "nodeSelector": {"nvidia.com/gpu.present": "true"},
                    "tolerations": [
                        {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}
                    ],
                    "securityContext": {"runAsNonRoot": True, "fsGroup": 1000},
                    "containers": [
                        {
                            "name": "server",
                            "image": f"vllm/vllm-openai:v0.{index % 10}.0",
                            "args": ["--model", f"/models/{name}", "--port", "8000"],
                            "ports": [{"name": "http", "containerPort": 8000, "protocol": "TCP"}],
                            "env": [
                                {"name": "HF_HOME", "value": "/models/.cache"},
                                {
                                    "name": "HF_TOKEN",
                                    "valueFrom": {"secretKeyRef": {"name": "hf", "key": "token"}},
                                },
                            ],
                            "resources": {
                                "requests": {"cpu": "4", "memory": "24Gi", "nvidia.com/gpu": 1},
                                "limits": {"memory": "24Gi", "nvidia.com/gpu": 1},
                            },
                            "readinessProbe": {
                                "httpGet": {"path": "/health", "port": "http"},
                                "periodSeconds": 5,
                            },
                            "livenessProbe": {
                                "httpGet": {"path": "/health", "port": 8000},
                                "initialDelaySeconds": 120,
                            },
                            "volumeMounts": [
                                {"name": "models", "mountPath": "/models", "readOnly": True},
                                {"name": "shm", "mountPath": "/dev/shm"},
                            ],
                        }
                    ],
                    "volumes": [
                        {"name": "models", "persistentVolumeClaim": {"claimName": "models"}},
                        {"name": "shm", "emptyDir": {"medium": "Memory", "sizeLimit": "8Gi"}},
                    ],
                },
            },
        },
    }


def service(index: int) -> dict[str, Any]:
    name = f"model-{index}"
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": name, "namespace": "serving", "labels": {"app": name}},
        "spec": {
            "type": "ClusterIP",
            "selector": {"app.kubernetes.io/name": name},
            "ports": [{"name": "http", "port": 80, "targetPort": "http", "protocol": "TCP"}],
        },
    }


def main() -> None:
    # Run as a script, sys.path[0] is benchmarks/; the package lives one level up.
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from components.offline.schema_validation import SchemaValidator

    objects = [deployment(i) if i % 2 == 0 else service(i) for i in range(OBJECTS)]

    start = time.perf_counter()
    validator = SchemaValidator()
    violations = validator.validate_all(objects)
    cold = time.perf_counter() - start
    if violations:
        raise SystemExit(f"benchmark objects are invalid: {violations[0]}")

    start = time.perf_counter()
    validator.validate_all(objects)
    warm = time.perf_counter() - start

    print(f"{OBJECTS} objects (Deployments and Services)")
    for label, seconds in (("cold (new validator)", cold), ("warm (cached validators)", warm)):
        print(f"{label:<25} {seconds:.3f} s  {OBJECTS / seconds:>9,.0f} objects/s")


if __name__ == "__main__":
    main()
