"""Read a stack file the way the Pulumi CLI hands it to a program, minus decryption.

`secure:` values are ciphertext only the CLI can decrypt: offline, each becomes a
placeholder that is still marked secret, so the program treats it exactly as a secret.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.offline.strict_yaml import MAX_BYTES, YamlProblem, load_document

PLACEHOLDER_PREFIX = "offline-placeholder-for-"
_STACK_FILE_NAME = re.compile(r"Pulumi\.(?P<stack>[^/]+)\.ya?ml")


class StackFileError(Exception):
    """The file is missing or is not a Pulumi stack file."""


@dataclass(frozen=True)
class StackConfig:
    stack_file: Path
    stack_name: str
    # Every key as the CLI passes it: "namespace:key" -> string (JSON for structured values).
    values: dict[str, str]
    secret_keys: tuple[str, ...]

    @property
    def placeholders(self) -> tuple[str, ...]:
        return tuple(placeholder(key) for key in self.secret_keys)


def placeholder(key: str) -> str:
    return PLACEHOLDER_PREFIX + key.replace(":", "-")


def stack_name_from_file(path: Path) -> str:
    match = _STACK_FILE_NAME.fullmatch(path.name)
    return match.group("stack") if match else path.stem


def read_stack_file(path: Path, stack_name: str | None = None) -> StackConfig:
    config = _config_mapping(path, _load(path))
    values: dict[str, str] = {}
    secret_keys: list[str] = []
    problems = [
        f"config key {key!r} needs a namespace (modelstack:...)"
        for key in config
        if not isinstance(key, str) or ":" not in key
    ]
    if problems:
        raise StackFileError(f"{path}: " + "; ".join(problems))
    for key, value in config.items():
        decoded, has_secret = _replace_secure(value, key)
        if has_secret:
            secret_keys.append(key)
        # YAML dates and other non-JSON scalars reach the program as text, as from the CLI.
        values[key] = decoded if isinstance(decoded, str) else json.dumps(decoded, default=str)
    return StackConfig(
        stack_file=path,
        stack_name=stack_name or stack_name_from_file(path),
        values=values,
        secret_keys=tuple(secret_keys),
    )


def _load(path: Path) -> Any:
    """The file's YAML document; StackFileError saying what is wrong, never a traceback."""
    try:
        if path.is_dir():
            raise StackFileError(f"{path}: is a directory; give a stack file (Pulumi.<stack>.yaml)")
        with path.open("rb") as handle:
            data = handle.read(MAX_BYTES + 1)
    except FileNotFoundError:
        raise StackFileError(f"{path}: no such stack file") from None
    except OSError as error:
        raise StackFileError(f"{path}: cannot be read: {error.strerror or error}") from None
    if len(data) > MAX_BYTES:
        raise StackFileError(f"{path}: is larger than {MAX_BYTES} bytes; no stack file is")
    if b"\x00" in data:
        raise StackFileError(f"{path}: is a binary file, not YAML text")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data[: error.start].count(b"\n") + 1
        raise StackFileError(
            f"{path}: line {line}: byte 0x{data[error.start]:02x} is not UTF-8; "
            "save the stack file as UTF-8"
        ) from None
    try:
        return load_document(text.removeprefix("\ufeff"))
    except YamlProblem as problem:
        raise StackFileError(f"{path}: not valid YAML: {problem}") from None


def _config_mapping(path: Path, document: Any) -> dict[Any, Any]:
    if document is None:
        raise StackFileError(f"{path}: is empty; a stack file starts with `config:`")
    if not isinstance(document, dict):
        raise StackFileError(
            f"{path}: a stack file is a YAML mapping with a `config:` key "
            f"(this one is {_kind(document)})"
        )
    if "config" not in document:
        found = ", ".join(repr(key) for key in list(document)[:5])
        raise StackFileError(f"{path}: no `config:` key at the top level (found {found})")
    config = document["config"]
    if config is None:
        return {}
    if not isinstance(config, dict):
        raise StackFileError(
            f"{path}: `config:` must be a mapping of `modelstack:<key>: value` lines "
            f"(this one is {_kind(config)})"
        )
    return config


def _kind(value: Any) -> str:
    if isinstance(value, list):
        return "a list"
    if isinstance(value, str):
        return "a string"
    return f"a {type(value).__name__}"


def _replace_secure(value: Any, key: str) -> tuple[Any, bool]:
    if isinstance(value, dict) and set(value) == {"secure"}:
        return placeholder(key), True
    if isinstance(value, dict):
        found = False
        result = {}
        for name, item in value.items():
            result[name], inner = _replace_secure(item, key)
            found = found or inner
        return result, found
    if isinstance(value, list):
        items = [_replace_secure(item, key) for item in value]
        return [item for item, _ in items], any(inner for _, inner in items)
    return value, False
