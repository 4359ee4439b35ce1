"""A yes/no validity test compiled from a JSON schema by fastjsonschema: the fast path of
schema_validation.py.

jsonschema walks a Deployment in about a millisecond, mostly in the bookkeeping its error
reports need. Nearly every rendered object is valid, so fastjsonschema's compiled check
answers first and jsonschema only runs, to explain, on objects that fail it
(benchmarks/schema_fast_path.py; figures in docs/performance.md).

fastjsonschema implements drafts 4 to 2019-09, the schemas here are 2020-12. A schema gets a
fast path only when every keyword it asserts with means the same in both (_SAME_MEANING), and
no $ref stands beside another assertion: before 2020-12 a $ref hides its siblings, and
fastjsonschema follows that. Any other schema goes through jsonschema alone.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from typing import Any

import fastjsonschema
from jsonschema import Draft202012Validator
from referencing import Registry
from referencing.jsonschema import DRAFT202012

FastCheck = Callable[[Any], bool]


# Every keyword jsonschema acts on must be understood alike; "format" asserts nothing here
# (no format checker; fastjsonschema's are turned off), and keywords jsonschema does not know
# (description, x-kubernetes-*) are ignored by both.
_ASSERTING = frozenset(Draft202012Validator.VALIDATORS) - {"format"}
_SAME_MEANING = frozenset(
    {
        "$ref",
        "type",
        "properties",
        "patternProperties",
        "additionalProperties",
        "required",
        "minProperties",
        "maxProperties",
        "items",  # as one schema; the list form is 2020-12's prefixItems
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


_NAMED_SCHEMAS = frozenset({"properties", "patternProperties", "$defs", "definitions"})
_PLAIN_VALUES = frozenset({"enum", "const", "required", "default", "examples"})
# Global inline flags right after the start anchor.
_LEADING_FLAGS = re.compile(r"\^(\(\?[aiLmsux]+\))")


class FastChecks:
    """Compiles fast checks against one registry: the documents $refs reach are prepared once
    for all the kinds that use them."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._documents: dict[str, Any] = {}

    def compile(self, schema: dict[str, Any]) -> FastCheck | None:
        """A check that says whether an object is valid, or None when fastjsonschema's draft
        could read `schema` differently."""
        if not _same_meaning(schema, self._registry):
            return None
        validate = fastjsonschema.compile(
            _dollars_escaped(schema),
            handlers={"https": self._document},
            use_default=False,  # it would write defaults into the objects it checks
            use_formats=False,
            detailed_exceptions=False,
        )

        def is_valid(obj: Any) -> bool:
            try:
                validate(obj)
            except fastjsonschema.JsonSchemaValueException:
                return False
            return True

        return is_valid

    def _document(self, uri: str) -> Any:
        if uri not in self._documents:
            self._documents[uri] = _dollars_escaped(self._registry.contents(uri))
        return self._documents[uri]


def _dollars_escaped(node: Any) -> Any:
    """A copy of a schema whose patterns spell a `$` in a character class `\\$`.

    fastjsonschema reads every unescaped `$` as the end of the string (its `\\Z`), even in a
    class, where `[^$]` then fails to compile (Gateway API's header name patterns have one).
    Escaped there, the pattern means what it meant.
    """
    if isinstance(node, list):
        return [_dollars_escaped(item) for item in node]
    if not isinstance(node, dict):
        return node
    copied = {key: _dollars_escaped(value) for key, value in node.items()}
    if isinstance(node.get("pattern"), str):
        copied["pattern"] = _class_dollars_escaped(_flags_first(node["pattern"]))
    return copied


def _flags_first(pattern: str) -> str:
    """`^(?i)...` (RE2 takes flags anywhere; PrometheusRule has one) as Python needs it:
    `(?i)^...`, which means the same."""
    found = _LEADING_FLAGS.match(pattern)
    return f"{found[1]}^{pattern[found.end() :]}" if found else pattern


def _class_dollars_escaped(pattern: str) -> str:
    out: list[str] = []
    in_class, i = False, 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            out.append(pattern[i : i + 2])
            i += 2
            continue
        if not in_class and char == "[":
            # A `]` first in a class (after an optional `^`) is a member, not its end.
            opening = re.match(r"\[\^?\]?", pattern[i:])
            out.append(opening[0] if opening else char)
            i += len(out[-1])
            in_class = True
            continue
        out.append("\\$" if in_class and char == "$" else char)
        in_class = in_class and char != "]"
        i += 1
    return "".join(out)


def _same_meaning(schema: dict[str, Any], registry: Registry) -> bool:
    """Every node of `schema`, and of what its $refs reach, reads alike in both drafts."""
    pending = [(schema, registry.resolver_with_root(DRAFT202012.create_resource(schema)))]
    seen: set[int] = {id(schema)}
    while pending:
        root, resolver = pending.pop()
        for node in _nodes(root):
            if not _node_reads_alike(node):
                return False
            if isinstance(ref := node.get("$ref"), str):
                target = resolver.lookup(ref)
                if id(target.contents) not in seen:
                    seen.add(id(target.contents))
                    pending.append((target.contents, target.resolver))
    return True


def _node_reads_alike(node: dict[str, Any]) -> bool:
    asserting = node.keys() & _ASSERTING
    if asserting - _SAME_MEANING:
        return False
    if "$ref" in node and asserting != {"$ref"}:
        return False
    return not isinstance(node.get("items"), list)


def _nodes(node: Any) -> Iterator[dict[str, Any]]:
    """Every schema node, and some plain values that look like one (harmless: at worst a
    schema gets no fast path). The keys under `properties` and `$defs` are names."""
    if isinstance(node, list):
        for item in node:
            yield from _nodes(item)
    elif isinstance(node, dict):
        yield node
        for key, value in node.items():
            if key in _NAMED_SCHEMAS and isinstance(value, dict):
                for named in value.values():
                    yield from _nodes(named)
            elif key not in _PLAIN_VALUES:
                yield from _nodes(value)
