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

import yaml

PLACEHOLDER_PREFIX = "offline-placeholder-for-"
# libyaml: 0.25 instead of 1.0 s for a 500-deployment stack file; same safe constructors.
_SafeLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
_STACK_FILE_NAME = re.compile(r"^Pulumi\.(?P<stack>[^/]+)\.ya?ml$")


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
    match = _STACK_FILE_NAME.match(path.name)
    return match.group("stack") if match else path.stem


def read_stack_file(path: Path, stack_name: str | None = None) -> StackConfig:
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_SafeLoader) or {}
    except FileNotFoundError as error:
        raise StackFileError(f"{path}: no such stack file") from error
    except yaml.YAMLError as error:
        raise StackFileError(f"{path}: not valid YAML: {error}") from error
    if not isinstance(document, dict):
        raise StackFileError(f"{path}: a stack file is a YAML mapping with a `config:` key")
    config = document.get("config") or {}
    if not isinstance(config, dict):
        raise StackFileError(f"{path}: `config:` must be a mapping")

    values: dict[str, str] = {}
    secret_keys: list[str] = []
    for key, value in config.items():
        if not isinstance(key, str) or ":" not in key:
            raise StackFileError(f"{path}: config key {key!r} needs a namespace (modelstack:...)")
        decoded, has_secret = _replace_secure(value, key)
        if has_secret:
            secret_keys.append(key)
        values[key] = decoded if isinstance(decoded, str) else json.dumps(decoded)
    return StackConfig(
        stack_file=path,
        stack_name=stack_name or stack_name_from_file(path),
        values=values,
        secret_keys=tuple(secret_keys),
    )


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
