"""`placement.affinity`: a Kubernetes Affinity object, checked against Kubernetes' own schema.

The value is merged with the GPU's node requirements and sent as it is: a malformed one
would fail at apply (or break the merge) after other objects were already created.
"""

from __future__ import annotations

from functools import cache
from typing import Any

from components.offline.schema_validation import SchemaValidator

_PREFIX = "spec.affinity"


@cache
def _validator() -> SchemaValidator:
    return SchemaValidator()


def affinity_problems(affinity: dict[str, Any]) -> list[str]:
    """Each schema violation as '<path>: <message>' (path relative to `affinity`)."""
    probe = {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": "affinity-check"},
        "spec": {"containers": [{"name": "c", "image": "c"}], "affinity": affinity},
    }
    problems = []
    for violation in _validator().validate(probe):
        field = violation.field
        if not field.startswith(_PREFIX):
            continue
        where = field[len(_PREFIX) :].lstrip(".")
        problems.append(f"{where}: {violation.message}" if where else violation.message)
    return sorted(set(problems))


def check_affinity(affinity: dict[str, Any]) -> dict[str, Any]:
    problems = affinity_problems(affinity)
    if problems:
        raise ValueError("not a Kubernetes affinity: " + "; ".join(problems[:5]))
    return affinity
