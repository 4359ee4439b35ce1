"""`patches:` of a deployment: RFC 6902 operations on its rendered Kubernetes objects.

The escape hatch for what modelstack has no key for. The spec checks each operation's
shape and that it leaves the object's identity alone; whether its target exists and its
paths resolve is checked against the rendered objects (kubernetes/patch_validation.py).
"""

from __future__ import annotations

from typing import Annotated, Any

from pydantic import AfterValidator, Field

from components.json_patch import OPERATIONS, REQUIRED, PatchError, parse_pointer
from components.spec_base import SpecModel

# The plan owns what an object is and where it lives: names, kinds and API versions.
IDENTITY = (["kind"], ["apiVersion"], ["metadata", "name"], ["metadata", "namespace"])


def check_operation(operation: dict[str, Any]) -> dict[str, Any]:
    op = operation.get("op")
    if op not in OPERATIONS:
        raise ValueError(f"`op` must be one of {', '.join(OPERATIONS)}, not {op!r}")
    allowed = {"op", "path", *REQUIRED.get(op, ())}
    unknown = sorted(set(operation) - allowed)
    if unknown:
        raise ValueError(
            f"a `{op}` operation takes only {', '.join(sorted(allowed))}: "
            f"remove {', '.join(unknown)}"
        )
    for member in sorted(allowed - {"op"}):
        if member not in operation:
            raise ValueError(f"a `{op}` operation needs `{member}`")
    pointers = [("path", operation["path"])] if op != "test" else []
    if op == "move":
        pointers.append(("from", operation["from"]))
    for member, pointer in pointers:
        if not isinstance(pointer, str):
            raise ValueError(f"`{member}` must be a JSON Pointer string such as /spec/replicas")
        try:
            tokens = parse_pointer(pointer)
        except PatchError as error:
            raise ValueError(str(error)) from None
        # Touching an identity field or any of its ancestors (/metadata, the whole object).
        if any(tokens == key[: len(tokens)] or key == tokens[: len(key)] for key in IDENTITY):
            raise ValueError(
                f"`{member}: {pointer}` would change the object's kind, apiVersion, "
                "metadata.name or metadata.namespace: modelstack owns those, patch "
                "fields below them instead"
            )
    if op == "test" and not isinstance(operation["path"], str):
        raise ValueError("`path` must be a JSON Pointer string such as /spec/replicas")
    return operation


Operation = Annotated[dict[str, Any], AfterValidator(check_operation)]


class PatchTarget(SpecModel):
    kind: Annotated[str, Field(min_length=1, max_length=63)]
    name: Annotated[str, Field(min_length=1, max_length=253)]


class PatchSpec(SpecModel):
    target: PatchTarget
    ops: Annotated[list[Operation], Field(min_length=1)]
