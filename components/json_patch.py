"""JSON Patch (RFC 6902) over plain dicts and lists, with JSON Pointers (RFC 6901).

Hand-written (about a hundred lines) so that each failing operation says why in words a
stack file's author can act on, and so that leaves are never copied: rendered Secrets hold
Pulumi Outputs, which must pass through a patch untouched.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

OPERATIONS = ("add", "remove", "replace", "move", "copy", "test")
# Members each operation needs besides `op` and `path` (RFC 6902 section 4).
REQUIRED = {"add": ("value",), "replace": ("value",), "test": ("value",), "move": ("from",)}
REQUIRED["copy"] = ("from",)


class PatchError(ValueError):
    """An operation that cannot apply to the document (the patch as a whole fails)."""


def parse_pointer(pointer: str) -> list[str]:
    """'/a~1b/~0c' -> ['a/b', '~c']; '' is the whole document."""
    if pointer == "":
        return []
    if not pointer.startswith("/"):
        raise PatchError(f"`{pointer}` is not a JSON Pointer: it must be empty or start with /")
    # ~1 before ~0, so that '~01' stays '~1' (RFC 6901 section 4).
    return [token.replace("~1", "/").replace("~0", "~") for token in pointer[1:].split("/")]


def apply_patch(document: Any, operations: Sequence[Mapping[str, Any]]) -> Any:
    """The patched copy of `document`; PatchError at the first operation that fails."""
    for operation in operations:
        document = apply_operation(document, operation)
    return document


def apply_operation(document: Any, operation: Mapping[str, Any]) -> Any:
    """One operation on a copy of the containers of `document` (leaves are shared)."""
    op = operation.get("op")
    if op not in OPERATIONS:
        raise PatchError(f"unknown op {op!r}: use one of {', '.join(OPERATIONS)}")
    for member in ("path", *REQUIRED.get(op, ())):
        if member not in operation:
            raise PatchError(f"a `{op}` operation needs `{member}`")
    document = _copy_containers(document)
    path = parse_pointer(operation["path"])
    if op == "add":
        return _add(document, path, _copy_containers(operation["value"]))
    if op == "remove":
        return _remove(document, path)
    if op == "replace":
        if not path:
            return _copy_containers(operation["value"])
        _remove(document, path)
        return _add(document, path, _copy_containers(operation["value"]))
    if op == "test":
        if not _equal(_get(document, path), operation["value"]):
            raise PatchError(f"test failed: the value at `{operation['path']}` differs")
        return document
    source = parse_pointer(operation["from"])
    value = _get(document, source)
    if op == "move":
        if path[: len(source)] == source and path != source:
            raise PatchError("cannot move a value into one of its own children")
        document = _remove(document, source)
    return _add(document, path, _copy_containers(value))


def _get(document: Any, path: list[str]) -> Any:
    for depth, token in enumerate(path):
        document = _child(document, token, path[: depth + 1])
    return document


def _child(container: Any, token: str, where: list[str]) -> Any:
    if isinstance(container, dict):
        if token not in container:
            raise PatchError(f"path `{_pointer(where)}` does not exist")
        return container[token]
    if isinstance(container, list):
        return container[_index(container, token, where, allow_end=False)]
    raise PatchError(f"path `{_pointer(where)}` does not exist: its parent is not an object")


def _add(document: Any, path: list[str], value: Any) -> Any:
    if not path:
        return value
    parent = _get(document, path[:-1])
    token = path[-1]
    if isinstance(parent, dict):
        parent[token] = value
    elif isinstance(parent, list):
        parent.insert(_index(parent, token, path, allow_end=True), value)
    else:
        raise PatchError(f"cannot add at `{_pointer(path)}`: its parent is not an object or array")
    return document


def _remove(document: Any, path: list[str]) -> Any:
    if not path:
        raise PatchError("cannot remove the whole document")
    parent = _get(document, path[:-1])
    _child(parent, path[-1], path)
    if isinstance(parent, dict):
        del parent[path[-1]]
    else:
        del parent[_index(parent, path[-1], path, allow_end=False)]
    return document


def _index(array: list[Any], token: str, where: list[str], *, allow_end: bool) -> int:
    if token == "-" and allow_end:
        return len(array)
    # No sign and no leading zero (RFC 6901 section 4).
    if not token.isdigit() or (len(token) > 1 and token.startswith("0")):
        raise PatchError(f"`{token}` in `{_pointer(where)}` is not an array index")
    index = int(token)
    if index > len(array) or (index == len(array) and not allow_end):
        raise PatchError(f"path `{_pointer(where)}` does not exist: the array has {len(array)}")
    return index


def _equal(left: Any, right: Any) -> bool:
    # In JSON, true is not 1 (Python says it is).
    if isinstance(left, bool) or isinstance(right, bool):
        return type(left) is type(right) and left == right
    return bool(left == right)


def _copy_containers(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _copy_containers(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_copy_containers(item) for item in value]
    return value


def _pointer(path: list[str]) -> str:
    return "".join("/" + token.replace("~", "~0").replace("/", "~1") for token in path)
