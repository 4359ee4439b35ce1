"""The stack's namespace, when the stack asks modelstack to own it."""

from __future__ import annotations

from typing import Any

from components import identity
from components.identity import MANAGED_BY, PART_OF


def namespace(name: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "labels": {
                identity.PART_OF_KEY: PART_OF,
                identity.MANAGED_BY_KEY: MANAGED_BY,
            },
        },
    }
