"""No pattern in components/ ends in `$`: it matches before a final newline, so a value with a
trailing "\\n" would pass. Patterns say the whole value with re.fullmatch instead."""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from components.cron_expressions import check_cron
from components.guardrails.route_timeouts import duration_seconds
from components.offline.stack_file import stack_name_from_file

COMPONENTS = Path(__file__).resolve().parents[1] / "components"
RE_FUNCTIONS = {"compile", "match", "search", "sub", "fullmatch", "split", "findall"}


def dollar_anchored_patterns(source: str) -> list[int]:
    """Lines of `re.<function>("...$")` calls whose pattern ends in an unescaped `$`."""
    lines = []
    for node in ast.walk(ast.parse(source)):
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.value.id == "re"
            and node.func.attr in RE_FUNCTIONS
            and node.args
            and isinstance(node.args[0], ast.Constant)
            and isinstance(node.args[0].value, str)
            and re.search(r"(?<!\\)\$\Z", node.args[0].value)
        ):
            lines.append(node.lineno)
    return lines


def test_the_scan_finds_a_dollar_anchor_and_nothing_else() -> None:
    assert dollar_anchored_patterns('import re\nX = re.compile(r"^a+$")\n') == [2]
    assert dollar_anchored_patterns('import re\nX = re.compile(r"a+\\Z")\n') == []
    assert dollar_anchored_patterns('"""re.match(r"...$") in prose"""\n') == []


def test_no_pattern_in_components_is_anchored_with_a_dollar() -> None:
    found = [
        f"{path.relative_to(COMPONENTS.parent)}:{line}"
        for path in sorted(COMPONENTS.rglob("*.py"))
        for line in dollar_anchored_patterns(path.read_text())
    ]
    assert found == []


def test_a_stack_file_name_with_a_trailing_newline_is_not_a_stack_file() -> None:
    assert stack_name_from_file(Path("stacks/Pulumi.prod.yaml")) == "prod"
    assert stack_name_from_file(Path("stacks/Pulumi.prod.yaml\n")) != "prod"


def test_durations_and_cron_fields_refuse_a_trailing_newline() -> None:
    assert duration_seconds("1m30s") == 90
    assert duration_seconds("1m30s\n") is None
    assert check_cron("0 9 * * 1-5") == "0 9 * * 1-5"
    with pytest.raises(ValueError):
        check_cron("0 9 * * 1-5\n")
