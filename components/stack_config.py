"""From the stack file (as Pulumi config) to a validated StackSpec, or every error at once."""

from __future__ import annotations

import copy
import difflib
import json
import os
import types
import typing
from collections import Counter
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from components.errors import ConfigIssue, StackConfigError, key_path
from components.offline.stack_file import StackConfig, placeholder
from components.spec import DeploymentSpec, FieldError, StackSpec
from components.spec_credentials import credential_in
from components.spec_identifiers import shown

NAMESPACE = "modelstack"
# Keys whose values are credentials: they must be Pulumi secrets and never enter the spec.
SECRET_KEYS = frozenset({"hfToken", "registryPasswords", "engineApiKeys"})
# Secret maps: only which names have a value reaches the spec, never the values.
SECRET_MAPS = {"registryPasswords": "registry", "engineApiKeys": "deployment"}
STACK_FILE_ENV = "MODELSTACK_STACK_FILE"


def stack_file_for(stack: str) -> str:
    """The file users edit for this stack (stackConfigDir in Pulumi.yaml is `stacks`)."""
    return os.environ.get(STACK_FILE_ENV) or f"stacks/Pulumi.{stack}.yaml"


def read_runtime_config() -> tuple[dict[str, Any], set[str]]:
    """Every `modelstack:` key the Pulumi runtime holds, JSON-decoded, and which are secret."""
    from components import pulumi_internals as sdk

    return modelstack_config(sdk.runtime_config(), sdk.is_config_secret)


def read_stack_file_config(stack: StackConfig) -> tuple[dict[str, Any], set[str]]:
    """The same, read offline from a stack file (`secure:` values are placeholders)."""
    return modelstack_config(stack.values, set(stack.secret_keys).__contains__)


def modelstack_config(
    config: Mapping[str, Any], is_secret: Callable[[str], bool]
) -> tuple[dict[str, Any], set[str]]:
    """The `modelstack:` keys of config as the CLI hands it to a program (`namespace:key` ->
    text, JSON for structured values), decoded the one way, and which of them are secret."""
    values: dict[str, Any] = {}
    secret: set[str] = set()
    prefix = f"{NAMESPACE}:"
    for full_key, text in config.items():
        if not full_key.startswith(prefix):
            continue
        key = full_key[len(prefix) :]
        if is_secret(full_key):
            secret.add(key)
        values[key] = text if key in SECRET_KEYS else _decode(text)
    return values, secret


def _decode(text: Any) -> Any:
    # The CLI hands structured values as JSON strings and plain strings as they are.
    if not isinstance(text, str):
        return text
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def parse_stack_spec(raw: dict[str, Any], secret_keys: set[str], stack_file: str) -> StackSpec:
    """Validate the whole namespace; raise StackConfigError listing every problem."""
    issues: list[ConfigIssue] = []
    top = dict(raw)
    for key in SECRET_KEYS & top.keys():
        value = top.pop(key)
        if key == "hfToken" and key not in secret_keys and isinstance(_decode(value), dict):
            # {secretKeyRef: {name, key}}: a reference, not a credential; the spec checks it.
            top[key] = _decode(value)
            continue
        if key not in secret_keys:
            how = f"--secret --path '{key}.<name>'" if key in SECRET_MAPS else f"--secret {key}"
            issues.append(ConfigIssue(key, f"must be a secret: `pulumi config set {how} <value>`"))
        if key in SECRET_MAPS:
            # Only which names have a value reaches the spec, never the values.
            names = _secret_object_keys(value)
            if names is None:
                issues.append(ConfigIssue(key, f"must map {SECRET_MAPS[key]} names to values"))
            top[key] = names or []
            continue
        if key in secret_keys and (not isinstance(value, str) or not value):
            issues.append(ConfigIssue(key, "must be a non-empty string"))
        top[key] = True

    issues += literal_credentials(top)
    issues += secure_values_outside_secrets(top, secret_keys)
    raw_deployments = top.pop("deployments", [])
    stack, lenient_stack, stack_issues = _validate(StackSpec, top)
    issues += stack_issues

    deployments: list[DeploymentSpec] = []
    lenient: dict[int, DeploymentSpec] = {}
    if not isinstance(raw_deployments, list):
        issues.append(
            ConfigIssue(
                "deployments",
                "must be a list of deployments (`- name: ...` items), "
                f"not {_kind_of(raw_deployments)}",
            )
        )
        raw_deployments = []
    for index, item in enumerate(raw_deployments):
        deployment, lenient_deployment, deployment_issues = _validate(
            DeploymentSpec, item, prefix=("deployments", index)
        )
        issues += deployment_issues
        if deployment is not None:
            deployments.append(deployment)
        if lenient_deployment is not None:
            lenient[index] = lenient_deployment
    issues += _duplicate_names(raw_deployments)

    names = deployment_names(raw_deployments)
    if issues or stack is None:
        partial = None
        if lenient_stack is not None and lenient:
            partial = lenient_stack.model_copy(update={"deployments": list(lenient.values())})
        raise SpecError(stack_file, issues, names, partial, tuple(lenient))
    return stack.model_copy(update={"deployments": deployments})


class SpecError(StackConfigError):
    """Spec problems, and the part of the stack that validates once unknown keys are dropped:
    planning that part finds the problems a key typo would otherwise hide."""

    def __init__(
        self,
        stack_file: str,
        issues: list[ConfigIssue],
        names: dict[int, str],
        partial: StackSpec | None,
        partial_indexes: tuple[int, ...],
    ) -> None:
        super().__init__(stack_file, issues, names)
        self.partial = partial
        # The stack-file index of each deployment in `partial`.
        self.partial_indexes = partial_indexes


def deployment_names(raw_deployments: object) -> dict[int, str]:
    """Index -> name, for messages that name deployments by name as well as index."""
    if not isinstance(raw_deployments, list):
        return {}
    return {
        index: item["name"]
        for index, item in enumerate(raw_deployments)
        if isinstance(item, dict)
        and isinstance(item.get("name"), str)
        and item["name"].isprintable()
    }


_Model = TypeVar("_Model", bound=BaseModel)


def _validate(
    model: type[_Model], data: Any, prefix: tuple[str | int, ...] = ()
) -> tuple[_Model | None, _Model | None, list[ConfigIssue]]:
    """(valid model, model with unknown keys dropped, issues): the second is None unless
    unknown keys were the only problem."""
    try:
        valid = model.model_validate(data)
    except ValidationError as error:
        issues = translate(error, model, prefix)
        details = error.errors(include_url=False)
        if any(detail["type"] != "extra_forbidden" for detail in details):
            return None, None, issues
        pruned = copy.deepcopy(data)
        for detail in details:
            _drop(pruned, [part for part in detail["loc"] if not _is_union_tag(part)])
        try:
            return None, model.model_validate(pruned), issues
        except ValidationError:
            return None, None, issues
    return valid, valid, []


def _drop(data: Any, loc: list[Any]) -> None:
    for part in loc[:-1]:
        try:
            data = data[part]
        except (KeyError, IndexError, TypeError):
            return
    if isinstance(data, dict):
        data.pop(loc[-1], None)


def literal_credentials(raw: dict[str, Any]) -> list[ConfigIssue]:
    """Every value shaped like a credential (hf_..., ghp_..., a URL with a password) outside
    the keys that are Pulumi secrets: in plain text it would reach the state and the objects."""
    issues = []
    for key, value in raw.items():
        if key in SECRET_KEYS:
            continue
        for path, text in _strings(value, (key,)):
            kind = credential_in(text)
            if kind:
                issues.append(
                    ConfigIssue(
                        key_path(*path),
                        f"holds {kind} in plain text: keep credentials in a Kubernetes Secret "
                        "(env: {NAME: {secretKeyRef: {name, key}}}) or a Pulumi secret",
                    )
                )
    return issues


def secure_values_outside_secrets(raw: dict[str, Any], secret_keys: set[str]) -> list[ConfigIssue]:
    """`{secure: ...}` inside a key modelstack reads as plain configuration: Pulumi decrypts it
    and the program would place the plain text in object specs (and the state)."""
    issues = []
    for key in sorted((secret_keys - SECRET_KEYS) & raw.keys()):
        offline = placeholder(f"{NAMESPACE}:{key}")  # where the render shows a secure value
        marked = [path for path, text in _strings(raw[key], (key,)) if text == offline]
        for path in marked or [(key,)]:
            issues.append(
                ConfigIssue(
                    key_path(*path),
                    "a secure value here would reach the objects as plain text: put the "
                    "credential in a Kubernetes Secret and use {secretKeyRef: {name, key}}",
                )
            )
    return issues


def _strings(value: Any, path: tuple[str | int, ...]) -> list[tuple[tuple[str | int, ...], str]]:
    """Every string in a decoded value (keys included), with its key path."""
    found: list[tuple[tuple[str | int, ...], str]] = []
    stack: list[tuple[tuple[str | int, ...], Any]] = [(path, value)]
    while stack:
        where, item = stack.pop()
        if isinstance(item, str):
            found.append((where, item))
        elif isinstance(item, dict):
            for name, inner in item.items():
                if isinstance(name, str):
                    found.append(((*where, name), name))
                stack.append(((*where, str(name)), inner))
        elif isinstance(item, list):
            stack.extend(((*where, index), inner) for index, inner in enumerate(item))
    return sorted(found, key=lambda pair: [str(part) for part in pair[0]])


def _secret_object_keys(value: Any) -> list[str] | None:
    decoded = _decode(value)
    if not isinstance(decoded, dict) or not all(
        isinstance(item, str) and item for item in decoded.values()
    ):
        return None
    return sorted(str(name) for name in decoded)


def _duplicate_names(raw_deployments: list[Any]) -> list[ConfigIssue]:
    names = [item.get("name") for item in raw_deployments if isinstance(item, dict)]
    counts = Counter(name for name in names if isinstance(name, str))
    issues = []
    for index, name in enumerate(names):
        if isinstance(name, str) and counts[name] > 1:
            first = names.index(name)
            if index != first:
                issues.append(
                    ConfigIssue(
                        key_path("deployments", index, "name"),
                        f"duplicate deployment name '{name}' (also deployments[{first}])",
                    )
                )
    return issues


def translate(
    error: ValidationError, model: type[BaseModel], prefix: tuple[str | int, ...] = ()
) -> list[ConfigIssue]:
    """pydantic errors -> issues with stack-file key paths and readable messages."""
    issues = []
    for detail in error.errors(include_url=False):
        loc = tuple(part for part in detail["loc"] if not _is_union_tag(part))
        cause = (detail.get("ctx") or {}).get("error")
        if isinstance(cause, FieldError):
            loc = (*loc, cause.key)
        message = _message(detail, model, loc)
        issues.append(ConfigIssue(key_path(*prefix, *loc), message))
    return issues


def _message(detail: Any, model: type[BaseModel], loc: tuple[Any, ...]) -> str:
    kind = detail["type"]
    if kind == "extra_forbidden":
        unknown = str(loc[-1])
        allowed = _allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(unknown, allowed, n=1, cutoff=0.6)
        hint = f"; did you mean '{close[0]}'?" if close else ""
        return f"unknown key '{unknown}'{hint} (allowed: {', '.join(sorted(allowed))})"
    if kind == "missing":
        # A key with a fixed set of values says which: no guessing at a default.
        choices = _literal_values(_annotation_at(model, loc))
        return f"required: one of {', '.join(choices)}" if choices else "required"
    value = detail.get("input")
    if kind in _EXPECTED:
        return f"must be {_EXPECTED[kind]}, not {_kind_of(value)}"
    if kind == "literal_error":
        expected = str((detail.get("ctx") or {}).get("expected", ""))
        choices = expected.replace("'", "").replace(" or ", ", ")
        return f"must be one of {choices} (got {_shown_input(value)})"
    message = str(detail["msg"])
    for noise in ("Value error, ", "Assertion failed, "):
        message = message.removeprefix(noise)
    if kind != "value_error" and isinstance(value, str | int | float | bool):
        message += f" (got {_shown_input(value)})"
    return message


# pydantic's type errors in the stack file's words (no Python or pydantic type names).
_EXPECTED = {
    "model_type": "a mapping (`key: value` lines)",
    "model_attributes_type": "a mapping (`key: value` lines)",
    "dict_type": "a mapping (`key: value` lines)",
    "list_type": "a list (`- item` lines)",
    "string_type": "text",
    "int_type": "a whole number",
    "float_type": "a number",
    "bool_type": "true or false",
}


def _kind_of(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, bool):
        return f"{str(value).lower()} (a boolean)"
    if isinstance(value, int | float):
        return f"the number {value}"
    if isinstance(value, str):
        return f"the text {_shown_input(value)}"
    if value is None:
        return "empty"
    return "something else"


def _shown_input(value: Any) -> str:
    return shown(value) if isinstance(value, str) else repr(value)


def _is_union_tag(part: Any) -> bool:
    # pydantic adds the member type to locs inside unions ("int", "str", "function-after[...]").
    return isinstance(part, str) and (
        part in ("int", "str", "float", "bool", "constrained-str", "constrained-int") or "[" in part
    )


def _annotation_at(model: type[BaseModel], loc: tuple[Any, ...]) -> Any:
    """The type the spec gives the key at `loc` (None: no such key)."""
    current: Any = model
    for part in loc:
        current = _field_type(current, part)
        if current is None:
            return None
    return current


def _literal_values(annotation: Any) -> list[str]:
    return [
        str(value)
        for member in _members(annotation)
        if typing.get_origin(member) is typing.Literal
        for value in typing.get_args(member)
    ]


def _allowed_keys(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """The keys the stack file may use at `loc` (for "did you mean")."""
    current = _annotation_at(model, loc)
    model_class = _model_in(current) if current is not None else None
    if model_class is None:
        return []
    return [field.alias or name for name, field in model_class.model_fields.items()]


def _field_type(annotation: Any, part: Any) -> Any:
    model_class = _model_in(annotation)
    if model_class is not None and isinstance(part, str):
        for name, field in model_class.model_fields.items():
            if part in (name, field.alias):
                return field.annotation
        return None
    for candidate in _members(annotation):
        origin = typing.get_origin(candidate)
        if origin is list and isinstance(part, int):
            return typing.get_args(candidate)[0]
        if origin is dict:
            return typing.get_args(candidate)[1]
    return None


def _model_in(annotation: Any) -> type[BaseModel] | None:
    for candidate in _members(annotation):
        if isinstance(candidate, type) and issubclass(candidate, BaseModel):
            return candidate
    return None


def _members(annotation: Any) -> list[Any]:
    origin = typing.get_origin(annotation)
    if origin is typing.Annotated:
        return _members(typing.get_args(annotation)[0])
    if origin in (typing.Union, types.UnionType):
        return [member for arg in typing.get_args(annotation) for member in _members(arg)]
    return [annotation]
