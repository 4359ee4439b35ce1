"""The stack's namespace, when the stack asks modelstack to own it."""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests.labels import MANAGED_BY, PART_OF


def namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                "app.kubernetes.io/part-of": PART_OF,
                "app.kubernetes.io/managed-by": MANAGED_BY,
            },
        },
    }
