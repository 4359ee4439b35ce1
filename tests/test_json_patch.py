"""components/json_patch.py on RFC 6902's own examples (Appendix A) and RFC 6901 pointers."""

from __future__ import annotations

from typing import Any

import pytest

from components.json_patch import PatchError, apply_patch, parse_pointer

# (section, document, patch, result) from RFC 6902 Appendix A. A.13 (a duplicate `op`
# member) is about JSON text: a YAML or JSON parser has already kept one of the two.
APPENDIX_A: list[tuple[str, Any, list[dict[str, Any]], Any]] = [
    ("A.1", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}],
     {"baz": "qux", "foo": "bar"}),
    ("A.2", {"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}],
     {"foo": ["bar", "qux", "baz"]}),
    ("A.3", {"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ("A.4", {"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}],
     {"foo": ["bar", "baz"]}),
    ("A.5", {"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}],
     {"baz": "boo", "foo": "bar"}),
    ("A.6", {"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ("A.7", {"foo": ["all", "grass", "cows", "eat"]},
     [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ("A.8", {"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ("A.10", {"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ("A.11", {"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}],
     {"foo": "bar", "baz": "qux"}),
    ("A.14", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}],
     {"/": 9, "~1": 10}),
    ("A.16", {"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}],
     {"foo": ["bar", ["abc", "def"]]}),
]  # fmt: skip

APPENDIX_A_ERRORS: list[tuple[str, Any, list[dict[str, Any]], str]] = [
    ("A.9", {"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], "test failed"),
    ("A.12", {"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}],
     "`/baz` does not exist"),
    ("A.15", {"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": "10"}], "test failed"),
]  # fmt: skip


@pytest.mark.parametrize(("section", "document", "patch", "result"), APPENDIX_A)
def test_rfc_6902_appendix_a(section: str, document: Any, patch: Any, result: Any) -> None:
    assert apply_patch(document, patch) == result, section


@pytest.mark.parametrize(("section", "document", "patch", "fragment"), APPENDIX_A_ERRORS)
def test_rfc_6902_appendix_a_errors(section: str, document: Any, patch: Any, fragment: str) -> None:
    with pytest.raises(PatchError, match=fragment):
        apply_patch(document, patch)


def test_the_input_document_is_left_as_it_was() -> None:
    document = {"spec": {"items": [1, 2]}}
    apply_patch(document, [{"op": "add", "path": "/spec/items/0", "value": 0}])
    assert document == {"spec": {"items": [1, 2]}}


def test_leaves_pass_through_by_identity() -> None:
    # A Pulumi Output in a rendered Secret must reach the resource unchanged, not copied.
    leaf = object()
    patched = apply_patch({"data": {"token": leaf}}, [{"op": "add", "path": "/x", "value": 1}])
    assert patched["data"]["token"] is leaf


@pytest.mark.parametrize(
    ("patch", "fragment"),
    [
        ([{"op": "remove", "path": "/missing"}], "`/missing` does not exist"),
        ([{"op": "replace", "path": "/a/5", "value": 1}], "`/a/5` does not exist"),
        ([{"op": "add", "path": "/a/01", "value": 1}], "not an array index"),
        ([{"op": "move", "from": "/b", "path": "/b/c"}], "its own children"),
        ([{"op": "copy", "from": "/nope", "path": "/c"}], "`/nope` does not exist"),
        ([{"op": "test", "path": "/a", "value": [1, 2, 3]}], "test failed"),
        ([{"op": "test", "path": "/t", "value": 1}], "test failed"),
        ([{"op": "merge", "path": "/a"}], "unknown op"),
        ([{"op": "add", "path": "/a"}], "needs `value`"),
        ([{"op": "add", "path": "a", "value": 1}], "not a JSON Pointer"),
    ],
)
def test_failing_operations_say_why(patch: Any, fragment: str) -> None:
    with pytest.raises(PatchError, match=fragment):
        apply_patch({"a": [1, 2], "b": {}, "t": True}, patch)


def test_copy_and_whole_document_replace() -> None:
    copied = apply_patch({"a": {"x": 1}}, [{"op": "copy", "from": "/a", "path": "/b"}])
    assert copied == {"a": {"x": 1}, "b": {"x": 1}}
    copied["b"]["x"] = 2
    assert copied["a"]["x"] == 1  # a copy, not the same dict
    assert apply_patch({"a": 1}, [{"op": "replace", "path": "", "value": [1]}]) == [1]


def test_pointer_escapes() -> None:
    assert parse_pointer("") == []
    assert parse_pointer("/a~1b/~0c/~01") == ["a/b", "~c", "~1"]
    assert parse_pointer("/") == [""]
