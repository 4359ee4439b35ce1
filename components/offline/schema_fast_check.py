"""A yes/no validity test compiled from a JSON schema: the fast path of schema_validation.py.

jsonschema walks a Deployment in about a millisecond, mostly in per-node bookkeeping it needs
for error reports. Nearly every rendered object is valid, so a plain yes/no check compiled
from the same schema answers first, and jsonschema only runs on objects that fail it.
The check is exact, not an approximation: it implements the keywords it supports with
jsonschema's own semantics and refuses (``_Unsupported``) any schema using another keyword
jsonschema knows, in which case that kind always goes through jsonschema.
"""

from __future__ import annotations

import math
import numbers
import re
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

if TYPE_CHECKING:
    # referencing exports its Resolver type from no public module.
    from referencing._core import Resolver

_Check = Callable[[Any], bool]

# Every keyword jsonschema acts on must be compiled; "format" asserts nothing without a
# format checker, and keywords jsonschema does not know (description, x-kubernetes-*) are ignored
# by both.
_ASSERTING_KEYWORDS = frozenset(Draft202012Validator.VALIDATORS) - {"format"}
_FAST_KEYWORDS = frozenset(
    {
        "$ref",
        "type",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "minProperties",
        "maxProperties",
        "items",
        "minItems",
        "maxItems",
        "enum",
        "pattern",
        "minLength",
        "maxLength",
        "minimum",
        "maximum",
        "exclusiveMinimum",
        "exclusiveMaximum",
        "allOf",
        "anyOf",
        "oneOf",
        "not",
    }
)


class _Unsupported(Exception):
    """The schema uses something the fast path does not implement."""


def _always(_: Any) -> bool:
    return True


def _never(_: Any) -> bool:
    return False


def _is_number(value: Any) -> bool:
    return isinstance(value, numbers.Number) and not isinstance(value, bool)


# jsonschema's Draft 2020-12 type checker, spelt out; integral floats count as integers.
_TYPE_TESTS: dict[str, _Check] = {
    "object": lambda value: isinstance(value, dict),
    "array": lambda value: isinstance(value, list),
    "string": lambda value: isinstance(value, str),
    "boolean": lambda value: isinstance(value, bool),
    "null": lambda value: value is None,
    "number": _is_number,
    "integer": lambda value: (
        (isinstance(value, int) and not isinstance(value, bool))
        or (isinstance(value, float) and value.is_integer())
    ),
}


def compile_fast_check(schema: dict, registry: Registry) -> _Check | None:
    """Compile ``schema`` into an exact validity test, or None when it cannot be done."""
    resolver = registry.resolver_with_root(DRAFT202012.create_resource(schema))
    compiled: dict[int, tuple[Any, list[_Check]]] = {}  # id(ref target) -> (target, cell)
    try:
        return _compile_node(schema, resolver, compiled, is_root=True)
    except _Unsupported:
        return None


def _compile_node(
    node: Any, resolver: Resolver, compiled: dict[int, tuple[Any, list[_Check]]], is_root: bool
) -> _Check:
    if node is True or node is False:
        return _always if node else _never
    if not isinstance(node, dict):
        raise _Unsupported(f"schema node {node!r}")
    if not is_root and ("$id" in node or "$schema" in node):
        raise _Unsupported("embedded resource with its own base URI")
    unknown = (node.keys() & _ASSERTING_KEYWORDS) - _FAST_KEYWORDS
    if unknown:
        raise _Unsupported(f"keywords {sorted(unknown)}")

    def sub(child: Any) -> _Check:
        return _compile_node(child, resolver, compiled, is_root=False)

    checks: list[_Check] = []
    if "$ref" in node:
        checks.append(_compile_ref(node["$ref"], resolver, compiled))
    if "type" in node:
        names = [node["type"]] if isinstance(node["type"], str) else node["type"]
        if not all(name in _TYPE_TESTS for name in names):
            raise _Unsupported(f"type {names!r}")
        tests = [_TYPE_TESTS[name] for name in names]
        if len(tests) == 1:
            # Most nodes name one type: its test itself, not a generator around it.
            checks.append(tests[0])
        else:
            checks.append(lambda value: any(test(value) for test in tests))
    object_keywords = ("properties", "patternProperties", "additionalProperties", "required")
    if any(keyword in node for keyword in object_keywords):
        checks.append(_compile_object(node, sub))
    checks.extend(_compile_sizes(node, dict, "minProperties", "maxProperties"))
    if "items" in node:
        item = sub(node["items"])
        checks.append(lambda value: not isinstance(value, list) or all(map(item, value)))
    checks.extend(_compile_sizes(node, list, "minItems", "maxItems"))
    if "enum" in node:
        checks.append(_compile_enum(node["enum"]))
    if "pattern" in node:
        search = re.compile(node["pattern"]).search
        checks.append(lambda value: not isinstance(value, str) or search(value) is not None)
    checks.extend(_compile_sizes(node, str, "minLength", "maxLength"))
    checks.extend(_compile_bounds(node))
    if "allOf" in node:
        parts = [sub(each) for each in node["allOf"]]
        checks.append(lambda value: all(part(value) for part in parts))
    if "anyOf" in node:
        options = [sub(each) for each in node["anyOf"]]
        checks.append(lambda value: any(option(value) for option in options))
    if "oneOf" in node:
        choices = [sub(each) for each in node["oneOf"]]
        checks.append(lambda value: sum(1 for choice in choices if choice(value)) == 1)
    if "not" in node:
        negated = sub(node["not"])
        checks.append(lambda value: not negated(value))

    if not checks:
        return _always
    if len(checks) == 1:
        return checks[0]
    if len(checks) == 2:
        # The common pair (a type and its properties) without a generator per value.
        first, second = checks
        return lambda value: first(value) and second(value)
    return lambda value: all(check(value) for check in checks)


def _compile_ref(
    ref: str, resolver: Resolver, compiled: dict[int, tuple[Any, list[_Check]]]
) -> _Check:
    resolved = resolver.lookup(ref)
    key = id(resolved.contents)
    if key not in compiled:
        # Fill the cell after compiling, so recursive definitions refer back to it.
        cell: list[_Check] = []
        compiled[key] = (resolved.contents, cell)
        cell.append(_compile_node(resolved.contents, resolved.resolver, compiled, is_root=False))
    cell = compiled[key][1]
    return lambda value: cell[0](value)


def _compile_object(node: dict, sub: Callable[[Any], _Check]) -> _Check:
    properties = {name: sub(child) for name, child in node.get("properties", {}).items()}
    patterns = [
        (re.compile(p).search, sub(c)) for p, c in node.get("patternProperties", {}).items()
    ]
    extra = sub(node["additionalProperties"]) if "additionalProperties" in node else None
    required = list(node.get("required", []))

    def check(value: Any) -> bool:
        if not isinstance(value, dict):
            return True
        for key, item in value.items():
            known = key in properties
            if known and not properties[key](item):
                return False
            for search, pattern_check in patterns:
                if search(key) is not None:
                    known = True
                    if not pattern_check(item):
                        return False
            if not known and extra is not None and not extra(item):
                return False
        return all(name in value for name in required)

    return check


def _compile_enum(values: list[Any]) -> _Check:
    """Match jsonschema's enum equality, where True is not 1 and 1.0 is 1."""
    if not all(value is None or isinstance(value, str | int | float) for value in values):
        raise _Unsupported("enum with structured values")
    strings = {value for value in values if isinstance(value, str)}
    booleans = [value for value in values if isinstance(value, bool)]
    numbers_ = [value for value in values if _is_number(value)]
    allows_null = any(value is None for value in values)

    def check(value: Any) -> bool:
        if isinstance(value, str):
            return value in strings
        if isinstance(value, bool):
            return any(value is each for each in booleans)
        if value is None:
            return allows_null
        return any(value == each for each in numbers_)

    return check


def _compile_sizes(node: dict, kind: type, low_key: str, high_key: str) -> Iterator[_Check]:
    """min/max length, items or properties: they only apply to values of that kind."""
    if low_key in node or high_key in node:
        low, high = node.get(low_key, 0), node.get(high_key, math.inf)
        yield lambda value: not isinstance(value, kind) or low <= len(value) <= high


def _compile_bounds(node: dict) -> Iterator[_Check]:
    """minimum/maximum/exclusive*: they only apply to numbers, as in jsonschema."""
    if "minimum" in node:
        low = node["minimum"]
        yield lambda value: not _is_number(value) or value >= low
    if "maximum" in node:
        high = node["maximum"]
        yield lambda value: not _is_number(value) or value <= high
    if "exclusiveMinimum" in node:
        above = node["exclusiveMinimum"]
        yield lambda value: not _is_number(value) or value > above
    if "exclusiveMaximum" in node:
        below = node["exclusiveMaximum"]
        yield lambda value: not _is_number(value) or value < below
