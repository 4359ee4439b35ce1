"""Offline validation of rendered Kubernetes objects against real schemas.

Core kinds are checked with the strict JSON schemas shipped in the ``kubernetes-validate``
package; custom resources with the ``openAPIV3Schema`` of their CRD, read from a directory
laid out as ``<group>/<kind lowercased>_<version>.json``.

Both are checked strictly, so a misspelt field is reported instead of being dropped. The API
server rejects unknown fields of core kinds under strict field validation, but silently prunes
them from custom resources, which is how a typo in a ScaledObject goes unnoticed.

What this cannot check:

- the CEL rules of a CRD (``x-kubernetes-validations``): they are ignored;
- ``format`` keywords (``int32``, ``ipv4``, ``date-time``, ...): no format checker is used,
  as ``kubernetes-validate`` does not use one either;
- defaults: the API server applies them before validating, so a field that is both required
  and defaulted must be set in the rendered object.
"""

from __future__ import annotations

import difflib
import json
import re
from collections import Counter
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from importlib import resources
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.exceptions import ValidationError, best_match
from referencing import Registry, Resource

from components.identity import PATCHED_ANNOTATION
from components.offline.crd_schemas import KINDS_WITHOUT_SHARED_SCHEMA, with_companion_sets
from components.offline.schema_fast_path import FastCheck, FastChecks

# The strict core schemas refer to this document by URI; custom resources reuse its ObjectMeta.
_DEFINITIONS_URI = "https://kubernetes.io/api/_definitions.json"
_OBJECT_META_REF = f"{_DEFINITIONS_URI}#/$defs/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta"

_DNS1123_SUBDOMAIN = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*")
_DNS1123_SUBDOMAIN_MAX = 253

# apiVersion and kind become file names, so only well-formed ones are looked up.
_GROUP = re.compile(r"[a-z0-9]([-a-z0-9.]*[a-z0-9])?")
_VERSION = re.compile(r"v[0-9]+[a-z0-9]*")
_KIND = re.compile(r"[A-Za-z][A-Za-z0-9]*")

_STRICT_DIR = re.compile(r"v(\d+)\.(\d+)\.\d+-local-strict")
_PLAIN_KEY = re.compile(r"[A-Za-z0-9_-]+")
_JSON_TYPE_NAMES = {
    dict: "object",
    list: "array",
    str: "string",
    bool: "boolean",
    int: "integer",
    float: "number",
    type(None): "null",
}
_MAX_MESSAGE = 200
# Objects of one kind from which validate_all compiles a fast check: building one takes about
# 30 ms, jsonschema takes about 0.4 ms an object (benchmarks/schema_fast_path.py).
_FAST_PATH_FROM = 80


@dataclass(frozen=True)
class SchemaViolation:
    """One thing wrong with one rendered object."""

    object_ref: str  # "<Kind>/<metadata.name>"
    field: str  # JSON path such as "spec.template.spec.containers[0].resources"; "" for the root
    message: str  # one line

    def __str__(self) -> str:
        where = f"{self.field}: " if self.field else ""
        return f"{self.object_ref}: {where}{self.message}"


@dataclass(frozen=True)
class _KindSchema:
    validator: Draft202012Validator  # reports the errors
    is_custom: bool


class SchemaValidator:
    """Validates Kubernetes objects; each (apiVersion, kind) validator is built once and cached.

    Building a validator costs far more than running it (``kubernetes_validate.validate()``
    reloads the JSON files on every call), hence the cache.
    """

    def __init__(
        self, kubernetes_version: str = "1.33", crd_schema_dir: Path | None = None
    ) -> None:
        self._core_dir = _core_schema_dir(kubernetes_version)
        # The directory given, then the companion sets (InferencePool...) it lacks.
        self._crd_schema_dirs = with_companion_sets(crd_schema_dir)
        definitions = _read_json(self._core_dir.joinpath("_definitions.json"))
        self._registry: Registry = Resource.from_contents(definitions) @ Registry()
        self._fast_checks = FastChecks(self._registry)
        # Built for kinds with many objects (validate_all); None: the schema cannot have one.
        self._fast: dict[tuple[str, str], FastCheck | None] = {}
        # None caches "no schema", so a missing kind is looked up once too.
        self._kinds: dict[tuple[str, str], _KindSchema | None] = {}
        # Custom resources not checked for want of their CRD schema: (apiVersion, kind) -> count.
        self.skipped: dict[tuple[str, str], int] = {}

    def validate(self, obj: dict) -> list[SchemaViolation]:
        """Return every violation of ``obj`` (empty when it is valid)."""
        if not isinstance(obj, dict):
            return [SchemaViolation("<unknown>", "", f"expected an object, got {_json_type(obj)}")]
        ref = _object_ref(obj)
        problems = [
            SchemaViolation(ref, key, "missing or not a string")
            for key in ("apiVersion", "kind")
            if not isinstance(obj.get(key), str) or not obj[key]
        ]
        if problems:
            return problems
        api_version, kind = obj["apiVersion"], obj["kind"]

        kind_schema = self._kind_schema(api_version, kind)
        if kind_schema is None and (
            self._no_schemas_for_group(api_version)
            or (api_version, kind) in KINDS_WITHOUT_SHARED_SCHEMA
        ):
            # Like kubeconform's -ignore-missing-schemas: a CRD without its schema is not
            # checked, and said so, rather than reported as a violation.
            self.skipped[(api_version, kind)] = self.skipped.get((api_version, kind), 0) + 1
            return []
        if kind_schema is None:
            message = (
                f"no schema for {api_version} {kind}; "
                "pass --crd-schemas DIR with the CRD's JSON schema"
            )
            return [SchemaViolation(ref, "", message)]

        found: set[tuple[str, str]] = set()  # a set: jsonschema repeats "required" errors
        if kind_schema.is_custom:
            found.update(_check_name(obj))
        fast_check = self._fast.get((api_version, kind))
        if fast_check is None or not fast_check(obj):
            for error in kind_schema.validator.iter_errors(obj):
                found.update(_describe(error))
        if found and _patched(obj):
            # Not modelstack's rendering at fault: point at the stack file's `patches:`.
            ref += " (changed by the stack file's `patches:`)"
        return [SchemaViolation(ref, field, message) for field, message in sorted(found)]

    def validate_all(self, objs: Iterable[dict]) -> list[SchemaViolation]:
        """Return the violations of all ``objs``, in order."""
        objs = list(objs)
        kinds = Counter(
            (obj["apiVersion"], obj["kind"])
            for obj in objs
            if isinstance(obj, dict)
            and isinstance(obj.get("apiVersion"), str)
            and isinstance(obj.get("kind"), str)
        )
        for (api_version, kind), count in kinds.items():
            if count >= _FAST_PATH_FROM:
                self.fast_check_of(api_version, kind)
        return [violation for obj in objs for violation in self.validate(obj)]

    def fast_check_of(self, api_version: str, kind: str) -> FastCheck | None:
        """The kind's compiled yes/no check, built once; None without a schema, or when
        fastjsonschema could read the schema otherwise (schema_fast_path.py)."""
        key = (api_version, kind)
        if key not in self._fast:
            schema = self.schema_of(api_version, kind)
            self._fast[key] = None if schema is None else self._fast_checks.compile(schema)
        return self._fast[key]

    @property
    def registry(self) -> Registry:
        """The documents the schemas refer to (the core definitions)."""
        return self._registry

    def schema_of(self, api_version: str, kind: str) -> dict | None:
        """The schema objects of this kind are checked against; None when there is none."""
        kind_schema = self._kind_schema(api_version, kind)
        return None if kind_schema is None else kind_schema.validator.schema

    def _no_schemas_for_group(self, api_version: str) -> bool:
        """A custom resource whose group the CRD directory has no schemas for (or no
        directory at all); a kind missing from a group it has is reported (a typo)."""
        if not _is_custom_group(api_version):
            return False
        group = api_version.rpartition("/")[0]
        return not any((directory / group).is_dir() for directory in self._crd_schema_dirs)

    def _kind_schema(self, api_version: str, kind: str) -> _KindSchema | None:
        key = (api_version, kind)
        if key not in self._kinds:
            schema, is_custom = self._core_schema(api_version, kind), False
            if schema is None:
                schema, is_custom = self._crd_schema(api_version, kind), True
            self._kinds[key] = (
                None
                if schema is None
                else _KindSchema(
                    validator=Draft202012Validator(schema, registry=self._registry),
                    is_custom=is_custom,
                )
            )
        return self._kinds[key]

    def _core_schema(self, api_version: str, kind: str) -> dict | None:
        group, version = _split_api_version(api_version)
        if group is None or not _KIND.fullmatch(kind):
            return None
        # kubernetes-validate names files after the first label of the group only
        # (networking.k8s.io/v1 -> networkpolicy-networking-v1.json), so check the full
        # group/version/kind the file declares: example.com/v1 Deployment is not apps/v1.
        prefix = f"{group.split('.')[0]}-" if group else ""
        path = self._core_dir.joinpath(f"{kind.lower()}-{prefix}{version}.json")
        if not path.is_file():
            return None
        schema = _read_json(path)
        wanted = {"group": group, "version": version, "kind": kind}
        if wanted not in schema.get("x-kubernetes-group-version-kind", []):
            return None
        return schema

    def _crd_schema(self, api_version: str, kind: str) -> dict | None:
        group, version = _split_api_version(api_version)
        if not group or not _KIND.fullmatch(kind):
            return None
        for directory in self._crd_schema_dirs:
            path = directory / group / f"{kind.lower()}_{version}.json"
            if path.is_file():
                return _closed_root(_read_json(path))
        return None


def _core_schema_dir(kubernetes_version: str) -> Traversable:
    """Pick the newest strict schema directory not newer than the requested version."""
    match = re.fullmatch(r"v?(\d+)\.(\d+)(\.\d+)?", kubernetes_version)
    if match is None:
        raise ValueError(f"kubernetes_version must look like 1.33, got {kubernetes_version!r}")
    wanted = (int(match[1]), int(match[2]))
    root = resources.files("kubernetes_validate").joinpath("kubernetes-json-schema")
    available = {}
    for entry in root.iterdir():
        found = _STRICT_DIR.fullmatch(entry.name)
        if found:
            available[(int(found[1]), int(found[2]))] = entry
    # A version newer than the package knows is refused: older schemas would call its new
    # fields unknown.
    usable = [version for version in available if version <= wanted]
    if not usable or wanted > max(available):
        known = ", ".join(f"{major}.{minor}" for major, minor in sorted(available))
        raise ValueError(f"no schemas for Kubernetes {kubernetes_version}; available: {known}")
    return available[max(usable)]


def _read_json(path: Traversable | Path) -> dict:
    return json.loads(path.read_text(encoding="utf-8"))


def _split_api_version(api_version: str) -> tuple[str | None, str]:
    """Split "group/version" ("" group for "v1"); None group when the apiVersion is malformed."""
    group, _, version = api_version.rpartition("/")
    if (group and not _GROUP.fullmatch(group)) or not _VERSION.fullmatch(version):
        return None, version
    return group, version


def _closed_root(schema: dict) -> dict:
    """Close a CRD's openAPIV3Schema and give its metadata the strict ObjectMeta schema."""
    closed = _closed(schema)
    closed["properties"] = {
        **closed.get("properties", {}),
        "apiVersion": {"type": "string"},
        "kind": {"type": "string"},
        "metadata": {"$ref": _OBJECT_META_REF},
    }
    closed.setdefault("additionalProperties", False)
    return closed


def _closed(node: dict) -> dict:
    """Return a copy of a structural schema node in which objects reject unknown fields.

    Only the structural part is rewritten (properties, items, additionalProperties). Nodes under
    allOf/anyOf/oneOf/not repeat some of the outer properties as constraints (Gateway addresses
    do): closing those would reject the fields that the outer node allows.
    """
    result = dict(node)
    properties = node.get("properties")
    if isinstance(properties, dict):
        result["properties"] = {name: _closed(sub) for name, sub in properties.items()}
        if node.get("x-kubernetes-embedded-resource"):
            # An embedded object may always carry these, even when the schema omits them.
            result["properties"] = {
                "apiVersion": {"type": "string"},
                "kind": {"type": "string"},
                "metadata": {"type": "object"},
                **result["properties"],
            }
        if "additionalProperties" not in node and not node.get(
            "x-kubernetes-preserve-unknown-fields"
        ):
            result["additionalProperties"] = False
    if isinstance(node.get("items"), dict):
        result["items"] = _closed(node["items"])
    if isinstance(node.get("additionalProperties"), dict):
        result["additionalProperties"] = _closed(node["additionalProperties"])
    if node.get("nullable") is True and isinstance(node.get("type"), str):
        # OpenAPI's "nullable" is not JSON Schema; spell it as a type.
        result["type"] = [node["type"], "null"]
    return result


def _check_name(obj: dict) -> Iterator[tuple[str, str]]:
    """Custom resources: the CRD schema says nothing about metadata.name, the API server does."""
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    if name is None:
        yield "metadata.name", "missing"
    elif not isinstance(name, str):
        return  # the ObjectMeta schema reports the type
    elif len(name) > _DNS1123_SUBDOMAIN_MAX or not _DNS1123_SUBDOMAIN.fullmatch(name):
        yield (
            "metadata.name",
            f"{_short(name)} is not a DNS-1123 subdomain (lowercase letters, digits, '-' and '.',"
            f" alphanumeric at both ends, at most {_DNS1123_SUBDOMAIN_MAX} characters)",
        )


def _describe(error: ValidationError) -> Iterator[tuple[str, str]]:
    """Turn one jsonschema error into (field, message) pairs that point at the culprit."""
    path = tuple(error.absolute_path)
    instance = error.instance
    if error.validator == "additionalProperties" and isinstance(instance, dict):
        # Name each unknown key in the path itself, and suggest the field probably meant.
        known = list(error.schema.get("properties", {}))
        patterns = list(error.schema.get("patternProperties", {}))
        for key in instance:
            if key in known or any(re.search(pattern, key) for pattern in patterns):
                continue
            close = difflib.get_close_matches(key, known, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            yield _format_path((*path, key)), f"unknown field{hint}"
    elif error.validator == "required" and isinstance(instance, dict):
        # jsonschema yields one error per missing key, all alike; the caller dedupes.
        for key in error.validator_value:
            if key not in instance:
                yield _format_path((*path, key)), "required field is missing"
    elif error.validator == "type":
        yield _format_path(path), _type_message(instance, error.validator_value)
    elif error.validator in ("oneOf", "anyOf") and error.context:
        sub_errors = error.context
        if all(sub.validator == "type" and not sub.relative_path for sub in sub_errors):
            # IntOrString, Quantity, ...: list every type that would have been accepted.
            types = [sub.validator_value for sub in sub_errors]
            yield _format_path(path), _type_message(instance, types)
        else:
            best = best_match(sub_errors)
            yield from _describe(best) if best is not None else ()
    elif error.validator == "oneOf":
        yield _format_path(path), "matches more than one of the alternatives allowed here (oneOf)"
    else:
        yield _format_path(path), _one_line(error.message)


def _type_message(instance: Any, expected: str | Sequence[Any]) -> str:
    names: list[str] = []
    for item in [expected] if isinstance(expected, str) else expected:
        for name in [item] if isinstance(item, str) else item:
            # "null" only means "unset" in these schemas; naming it adds nothing.
            if name != "null" and name not in names:
                names.append(name)
    return f"expected {' or '.join(names) or 'null'}, got {_json_type(instance)} {_short(instance)}"


def _json_type(value: Any) -> str:
    return _JSON_TYPE_NAMES.get(type(value), type(value).__name__)


def _short(value: Any) -> str:
    if isinstance(value, dict | list):
        return "{...}" if isinstance(value, dict) else "[...]"
    text = json.dumps(value, ensure_ascii=False, default=repr)
    return text if len(text) <= 60 else f"{text[:57]}..."


def _one_line(message: str) -> str:
    message = " ".join(message.split())
    return message if len(message) <= _MAX_MESSAGE else f"{message[: _MAX_MESSAGE - 3]}..."


def _format_path(path: Sequence[str | int]) -> str:
    """Render ("spec", "ports", 0, "name") as spec.ports[0].name; odd keys are quoted."""
    text = ""
    for part in path:
        if isinstance(part, int):
            text += f"[{part}]"
        elif _PLAIN_KEY.fullmatch(part):
            text += f".{part}" if text else part
        else:
            text += f"[{json.dumps(part, ensure_ascii=False)}]"
    return text


def _object_ref(obj: dict) -> str:
    kind = obj.get("kind")
    metadata = obj.get("metadata")
    name = metadata.get("name") if isinstance(metadata, dict) else None
    kind_text = kind if isinstance(kind, str) and kind else "<unknown kind>"
    name_text = name if isinstance(name, str) and name else "<unnamed>"
    return f"{kind_text}/{name_text}"


def _patched(obj: dict) -> bool:
    metadata = obj.get("metadata")
    annotations = metadata.get("annotations") if isinstance(metadata, dict) else None
    return isinstance(annotations, dict) and PATCHED_ANNOTATION in annotations


def _is_custom_group(api_version: str) -> bool:
    """A group with a dot that the core schemas do not hold: a CustomResourceDefinition's.

    Built-in groups are either dotless (`apps`, `batch`) or `*.k8s.io`; Gateway API's
    `gateway.networking.k8s.io` is a CRD too.
    """
    group, _, _ = api_version.rpartition("/")
    if "." not in group:
        return False
    return not group.endswith(".k8s.io") or group == "gateway.networking.k8s.io"
