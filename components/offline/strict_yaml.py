"""Reading a YAML document with bounded work and no silent surprises.

- Bounded: the file's size is capped, and aliases may not expand the document beyond a
  node budget. PyYAML shares an alias's object, but everything after it (JSON encoding
  for the Pulumi config, validation) walks the expanded tree: a 556-byte "billion laughs"
  would cost gigabytes there. The budget is counted on the parser's events, before any
  object is built, so the refusal itself costs time linear in the file's size.
- Strict: a key repeated in one mapping is an error naming both lines (YAML says keys are
  unique; PyYAML would keep the last one silently).
- Readable: syntax errors name the line and column, and tabs are called tabs.
"""

from __future__ import annotations

from typing import Any

import yaml

# libyaml: 0.25 instead of 1.0 s for a 500-deployment stack file; same safe constructors.
_BaseLoader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A 500-deployment stack file is about 0.5 MB and 40 000 nodes.
MAX_BYTES = 8 * 1024 * 1024
MAX_NODES = 250_000
# Deeper than any stack file needs, and far below Python's recursion limit (JSON, pydantic).
MAX_DEPTH = 64


class YamlProblem(Exception):
    """The text is not a YAML document this reader accepts; the message says why and where."""


class _StrictLoader(_BaseLoader):  # type: ignore[misc, valid-type]
    """Safe constructors that record repeated keys instead of keeping the last one."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[str] = []

    def construct_mapping(self, node: yaml.MappingNode, deep: bool = False) -> dict[Any, Any]:
        seen: dict[Any, int] = {}
        for key_node, _ in node.value:
            if key_node.tag == "tag:yaml.org,2002:merge":
                continue
            try:
                key = self.construct_object(key_node, deep=True)
                hash(key)
            except (TypeError, yaml.YAMLError):
                continue  # the base constructor reports unhashable keys
            line = key_node.start_mark.line + 1
            if key in seen:
                self.duplicates.append(
                    f"line {line}: key {key!r} repeats the key at line {seen[key]} "
                    "(YAML keys are unique; which one was meant?)"
                )
            else:
                seen[key] = line
        return super().construct_mapping(node, deep=deep)


def load_document(text: str) -> Any:
    """The document's value; YamlProblem with every repeated key, or the first syntax error."""
    if len(text) > MAX_BYTES:
        raise YamlProblem(f"is {len(text)} characters; a stack file is at most {MAX_BYTES}")
    if "&" in text and expanded_nodes(text, MAX_NODES) > MAX_NODES:
        # (No anchor, no alias: then the tree is no larger than the text.)
        raise YamlProblem(
            f"aliases expand the document beyond {MAX_NODES} nodes (an alias bomb?); "
            "write the values out instead"
        )
    loader = _StrictLoader(text)
    try:
        document = loader.get_single_data()
    except yaml.YAMLError as error:
        raise YamlProblem(describe(error, text)) from None
    finally:
        loader.dispose()
    if loader.duplicates:
        raise YamlProblem("; ".join(loader.duplicates))
    depth = nesting_depth(document)
    if depth > MAX_DEPTH:
        raise YamlProblem(f"nests {depth} levels deep; a stack file needs at most {MAX_DEPTH}")
    return document


def expanded_nodes(text: str, limit: int) -> int:
    """Nodes of the document with every alias written out, counted on the parser's events
    (no objects built); stops at the first count above `limit`."""
    sizes: dict[str, int] = {}  # anchor -> nodes of its expanded value
    open_anchors: list[tuple[str | None, int]] = []  # collections: (anchor, total at start)
    total = 0
    try:
        for event in yaml.parse(text, Loader=_BaseLoader):
            if isinstance(event, yaml.AliasEvent):
                total += sizes.get(event.anchor, 1)
            elif isinstance(event, yaml.ScalarEvent):
                total += 1
                if event.anchor:
                    sizes[event.anchor] = 1
            elif isinstance(event, yaml.SequenceStartEvent | yaml.MappingStartEvent):
                open_anchors.append((event.anchor, total))
                total += 1
            elif isinstance(event, yaml.SequenceEndEvent | yaml.MappingEndEvent):
                anchor, start = open_anchors.pop()
                if anchor:
                    sizes[anchor] = total - start
            if total > limit:
                return total
    except yaml.YAMLError as error:
        raise YamlProblem(describe(error, text)) from None
    return total


def nesting_depth(document: Any) -> int:
    """How deeply lists and mappings nest (iteratively: a deep document cannot recurse us)."""
    deepest = 0
    pending: list[tuple[Any, int]] = [(document, 0)]
    seen: set[int] = set()
    while pending:
        item, depth = pending.pop()
        if not isinstance(item, dict | list) or id(item) in seen:
            continue
        seen.add(id(item))  # aliases share objects: each is walked once
        deepest = max(deepest, depth + 1)
        children = item.values() if isinstance(item, dict) else item
        pending.extend((child, depth + 1) for child in children)
    return deepest


def describe(error: yaml.YAMLError, text: str) -> str:
    """A YAML error as 'line L, column C: problem', with the likely cause in words."""
    mark = getattr(error, "problem_mark", None)
    problem = getattr(error, "problem", None) or str(error)
    context = getattr(error, "context", None)
    at_tab = mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t"
    if at_tab or "\\t" in problem:
        problem = "a tab character: YAML indents with spaces only"
    elif context and ("block" in context or "mapping values" in problem):
        problem = f"{problem} ({context}): check the indentation and the ': ' after each key"
    elif context:
        problem = f"{problem} ({context})"
    if mark is None:
        return problem
    return f"line {mark.line + 1}, column {mark.column + 1}: {problem}"
