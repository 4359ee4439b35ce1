"""Read a render directory back, as `modelstack render` wrote it (layout:
components/offline/render.py), so a pipeline renders once and validates the same files.

The result equals the in-memory render it was written from: objects in render order (by
file name), resources with their options, outputs, and the docker and checks documents.
Leaks are not recorded in the files; `modelstack render` reported them when it wrote them.

YAML is the cost here (9,500 documents, 15 MB at 500 deployments): libyaml composes the
nodes, implicit tags are resolved once per distinct scalar, and `_value` builds plain values
without the constructor's bookkeeping: 1.5 s instead of 2.4 s with `yaml.load(CSafeLoader)`.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from components.offline.render_model import (
    CHECKS_DIR,
    DOCKER_DIR,
    KUBERNETES_DIR,
    OUTPUTS_FILE,
    RESOURCES_FILE,
    Render,
)

_BASE_LOADER: type[Any] = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STR = "tag:yaml.org,2002:str"
_MAP = "tag:yaml.org,2002:map"
_SEQ = "tag:yaml.org,2002:seq"
_MERGE = "tag:yaml.org,2002:merge"


class RenderDirError(Exception):
    """Not a readable render directory; the message names the path."""


class _Loader(_BASE_LOADER):
    """The safe loader, with each scalar's implicit tag resolved once per directory: the same
    keys and values (`name`, `metadata`, labels) repeat in every document."""

    def __init__(self, text: str, tags: dict[tuple[str, Any], str]) -> None:
        super().__init__(text)
        self._tags = tags

    def resolve(self, kind: type[Node], value: Any, implicit: Any) -> str:
        if kind is not ScalarNode:
            return super().resolve(kind, value, implicit)
        key = (value, implicit)
        tag = self._tags.get(key)
        if tag is None:
            tag = self._tags[key] = super().resolve(kind, value, implicit)
        return tag


def load_render_dir(path: Path) -> Render:
    """The render written to `path`; RenderDirError when it is missing or not a render."""
    if not path.is_dir():
        raise RenderDirError(f"{path}: no such directory (write one with `modelstack render`)")
    missing = [name for name in (RESOURCES_FILE, OUTPUTS_FILE) if not (path / name).is_file()]
    if missing:
        raise RenderDirError(
            f"{path} is not a render directory (no {' or '.join(missing)}): write one with"
            f" `modelstack render --out {path}`"
        )
    tags: dict[tuple[str, Any], str] = {}
    # write_render names each object's file after it (object_file_name), and build_render
    # sorts the objects by that name: reading the files by name restores render order.
    objects = [_read_yaml(file, tags) for file in _documents(path / KUBERNETES_DIR)]
    other_files = {
        f"{directory}/{file.name}": _read_yaml(file, tags)
        for directory in (CHECKS_DIR, DOCKER_DIR)
        for file in _documents(path / directory)
    }
    return Render(
        objects=objects,
        resources=_read_json(path / RESOURCES_FILE, list),
        outputs=_read_json(path / OUTPUTS_FILE, dict),
        leaks=[],
        other_files=dict(sorted(other_files.items())),
    )


def _documents(directory: Path) -> list[Path]:
    if not directory.is_dir():
        return []
    return sorted(directory.glob("*.yaml"), key=lambda file: file.name)


def _read_yaml(file: Path, tags: dict[tuple[str, Any], str]) -> dict[str, Any]:
    try:
        loader = _Loader(file.read_text(encoding="utf-8"), tags)
        try:
            node = loader.get_single_node()
            document = None if node is None else _document(loader, node)
        finally:
            loader.dispose()
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as error:
        raise RenderDirError(f"{file}: not readable as YAML: {error}") from None
    if not isinstance(document, dict):
        raise RenderDirError(f"{file}: not a YAML mapping (a rendered resource document)")
    return document


def _document(loader: _Loader, node: Node) -> Any:
    try:
        return _value(loader, node)
    except (RecursionError, TypeError):
        # A self-referencing alias or an unhashable key: PyYAML's constructor decides.
        return loader.construct_document(node)


def _value(loader: _Loader, node: Node) -> Any:
    """What SafeConstructor builds for `node`, without its bookkeeping, for the plain
    shapes a render holds; any other tag or a merge key goes to the constructor itself.
    String scalars, most of the nodes, are read inline rather than by a call each."""
    kind = type(node)
    if kind is ScalarNode:
        return node.value if node.tag == _STR else loader.construct_object(node, deep=True)
    if kind is MappingNode and node.tag == _MAP:
        result = {}
        for key, item in node.value:
            if type(key) is ScalarNode and key.tag == _STR:
                name = key.value
            elif key.tag == _MERGE:
                return loader.construct_object(node, deep=True)
            else:
                name = _value(loader, key)
            is_text = type(item) is ScalarNode and item.tag == _STR
            result[name] = item.value if is_text else _value(loader, item)
        return result
    if kind is SequenceNode and node.tag == _SEQ:
        return [
            item.value if type(item) is ScalarNode and item.tag == _STR else _value(loader, item)
            for item in node.value
        ]
    return loader.construct_object(node, deep=True)


def _read_json(file: Path, shape: type) -> Any:
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RenderDirError(f"{file}: not readable as JSON: {error}") from None
    if not isinstance(data, shape):
        raise RenderDirError(f"{file}: expected a JSON {'list' if shape is list else 'object'}")
    return data
