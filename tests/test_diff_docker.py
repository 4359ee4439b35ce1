"""`modelstack diff` on docker stacks: the summary in words, the nginx config as a unified diff."""

from __future__ import annotations

import difflib
import json
from pathlib import Path
from typing import Any

import pytest

from components.cli import main
from components.diff.compare import compare
from components.diff.diff_digest import EXIT_CHANGES
from components.diff.diff_model import Diff, FieldChange
from components.diff.format_json import format_json
from components.diff.format_markdown import format_markdown
from components.diff.format_text import format_text
from components.diff.text_diff import text_diff
from components.offline.render import Render
from tests.conftest import deployments_of, render_document, stack_document, write_stack

RELOAD = "the gateway config changes, reloaded in place"
CANARY = {"strategy": "canary", "active": "blue", "canaryWeight": 20}
BLUE_GREEN = {
    "strategy": "blue-green",
    "active": "blue",
    "slots": {"green": {"model": {"revision": "v2"}}},
}


def _dev(**changes: Any) -> dict[str, Any]:
    """The dev stack (two llama.cpp replicas, round robin) with its deployment's fields changed."""
    document = stack_document("dev")
    deployments_of(document)[0].update(changes)
    return document


@pytest.fixture(scope="module")
def dev_render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    return render_document(tmp_path_factory.mktemp("dev"), _dev())


def _render(directory: Path, **changes: Any) -> Render:
    directory.mkdir(parents=True, exist_ok=True)
    return render_document(directory, _dev(**changes))


def _diff(directory: Path, before: Render, **changes: Any) -> Diff:
    return compare(before, _render(directory, **changes))


def _config_change(diff: Diff) -> FieldChange:
    (resource,) = [r for r in diff.resources if r.name == "gateway-config"]
    (change,) = [c for c in resource.fields if c.path == ("config",)]
    return change


def test_more_replicas_is_one_line_in_words(tmp_path: Path, dev_render: Render) -> None:
    diff = _diff(tmp_path, dev_render, replicas=3)
    assert diff.summary == ("qwen-tiny: replicas 2 -> 3: one more engine container",)
    assert not diff.blocking


def test_fewer_replicas_say_which_containers_go(tmp_path: Path, dev_render: Render) -> None:
    diff = _diff(tmp_path, dev_render, replicas=1)
    assert diff.summary == ("qwen-tiny: replicas 2 -> 1: one engine container removed",)


def test_algorithm_change_is_a_reload_with_the_config_as_unified_diff(
    tmp_path: Path, dev_render: Render
) -> None:
    diff = _diff(
        tmp_path,
        dev_render,
        loadBalancer={"algorithm": "least_connections"},
    )
    assert diff.summary == (
        f"qwen-tiny: load balancing round_robin -> least_connections: {RELOAD}",
    )
    change = _config_change(diff)
    unified = text_diff(change.old, change.new)
    assert unified is not None
    added = [line for hunk in unified.hunks for line in hunk.lines if line[:1] in "+-"]
    assert added == ["+        least_conn;"]
    # The same lines difflib writes for the two configs, headers aside.
    expected = list(
        difflib.unified_diff(change.old.splitlines(), change.new.splitlines(), lineterm="")
    )
    assert unified.unified("config")[2:] == expected[2:]

    text = format_text(diff, "t")
    assert "      config: 1 line added, 0 lines removed" in text
    assert "        +        least_conn;" in text
    assert "\\n" not in text  # no escaped one-liner

    markdown = format_markdown(diff, "t")
    block = markdown.split("```diff\n", 1)[1].split("\n```", 1)[0].splitlines()
    assert block[:2] == ["--- config (before)", "+++ config (after)"]
    assert "+        least_conn;" in block and block[2].startswith("@@ -")

    document = json.loads(format_json(diff, "t"))
    fields = [f for r in document["resources"] for f in r["fields"] if "textDiff" in f]
    (field,) = fields
    assert field["path"] == "config" and field["textDiff"]["added"] == 1
    (hunk,) = field["textDiff"]["hunks"]
    assert "+        least_conn;" in hunk["lines"]
    assert hunk["newLines"] == hunk["oldLines"] + 1


def test_image_tag_bump_names_the_image_not_the_new_containers(
    tmp_path: Path, dev_render: Render
) -> None:
    diff = _diff(tmp_path, dev_render, image="ghcr.io/ggml-org/llama.cpp:server-b11400")
    (line,) = diff.summary
    assert line.startswith(
        "qwen-tiny: image ghcr.io/ggml-org/llama.cpp:server-b11382 -> server-b11400:"
    )
    assert "two new engine containers replace the old" in line


def test_canary_weight_move_reads_as_on_kubernetes(tmp_path: Path) -> None:
    before = _render(tmp_path / "before", rollout=CANARY)
    diff = _diff(tmp_path / "after", before, rollout={**CANARY, "canaryWeight": 30})
    assert diff.summary == (
        "qwen-tiny: weights qwen-tiny-blue 80%, qwen-tiny-green 20%"
        f" -> qwen-tiny-blue 70%, qwen-tiny-green 30%: {RELOAD}",
    )
    change = _config_change(diff)
    assert change.old.count("weight=") == change.new.count("weight=") == 4


def test_blue_green_switch_and_scaling_both_slots(tmp_path: Path) -> None:
    before = _render(tmp_path / "before", rollout=BLUE_GREEN)
    switched = _diff(tmp_path / "switched", before, rollout={**BLUE_GREEN, "active": "green"})
    assert switched.summary == (f"qwen-tiny: traffic blue -> green: {RELOAD}",)
    scaled = _diff(tmp_path / "scaled", before, rollout=BLUE_GREEN, replicas=3)
    assert scaled.summary == (
        "qwen-tiny: replicas 2 -> 3: one more engine container (blue, green)",
    )


def test_other_config_changes_point_at_the_diff(tmp_path: Path, dev_render: Render) -> None:
    health = {"intervalSeconds": 10, "unhealthyThreshold": 5}
    diff = _diff(
        tmp_path, dev_render, loadBalancer={"algorithm": "round_robin", "healthCheck": health}
    )
    assert diff.summary == ("gateway: nginx config changes (diff below), reloaded in place",)
    assert "max_fails=5" in format_text(diff, "t")


def test_single_line_values_keep_the_one_line_form() -> None:
    assert text_diff("a", "b") is None
    assert text_diff(["a\n"], ["b\n"]) is None
    unified = text_diff("a\nb\n", "a\nc\nd\n")
    assert unified is not None
    assert (unified.added, unified.removed) == (2, 1)
    (hunk,) = unified.hunks
    assert hunk.header == "@@ -1,2 +1,3 @@"


def test_diff_command_on_a_docker_stack(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "old").mkdir()
    (tmp_path / "new").mkdir()
    old = write_stack(tmp_path / "old", _dev(), name="dev")
    new = write_stack(
        tmp_path / "new", _dev(replicas=3, loadBalancer={"algorithm": "ip_hash"}), name="dev"
    )
    code = main(["diff", "--stack-file", str(new), "--against-file", str(old), "--output", "json"])
    assert code == EXIT_CHANGES
    document = json.loads(capsys.readouterr().out)
    assert document["summary"] == [
        "qwen-tiny: replicas 2 -> 3: one more engine container",
        f"qwen-tiny: load balancing round_robin -> ip_hash: {RELOAD}",
    ]
    hunks = [
        hunk
        for resource in document["resources"]
        for field in resource["fields"]
        for hunk in field.get("textDiff", {}).get("hunks", [])
    ]
    assert any("+        ip_hash;" in hunk["lines"] for hunk in hunks)


def test_a_new_deployment_is_said_once(tmp_path: Path, dev_render: Render) -> None:
    document = _dev()
    second = {**deployments_of(document)[0], "name": "qwen-two", "replicas": 1}
    deployments_of(document).append(second)
    diff = compare(dev_render, render_document(tmp_path, document))
    assert diff.summary == ("qwen-two: new deployment",)
    assert "/qwen-two/" in _config_change(diff).new
