"""`modelstack diff`: what changes, what would be replaced, in words, with the right exit code."""

from __future__ import annotations

import os
import re
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.cli import EXIT_BAD_INPUT, main
from components.diff.compare import compare
from components.diff.diff_digest import EXIT_CHANGES, EXIT_NO_CHANGES, EXIT_REPLACES, exit_code
from components.diff.diff_model import Consequence, Diff, ResourceDiff, Status
from components.diff.format_markdown import format_markdown
from components.diff.format_text import format_text
from components.offline.render import Render
from tests.conftest import (
    deployments_of,
    render_document,
    stack_document,
    with_changes,
    write_stack,
)

SERVICE = "kubernetes:core/v1:Service::llama-chat"
GREEN = "kubernetes:apps/v1:Deployment::llama-chat-green"
CACHE = "kubernetes:core/v1:PersistentVolumeClaim::llama-chat-cache"


@pytest.fixture(scope="module")
def prod_render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    return render_document(tmp_path_factory.mktemp("prod"), stack_document("prod"))


def _chat(document: dict[str, Any]) -> dict[str, Any]:
    return deployments_of(document)[0]


def _switch(document: dict[str, Any]) -> None:
    _chat(document)["rollout"]["active"] = "green"


def _diff_after(tmp_path: Path, before: Render, change: Callable[[dict[str, Any]], None]) -> Diff:
    return compare(before, render_document(tmp_path, with_changes(stack_document("prod"), change)))


def _by_id(diff: Diff) -> dict[str, ResourceDiff]:
    return {resource.id: resource for resource in diff.resources}


def test_blue_green_switch_is_one_selector_change_in_words(
    tmp_path: Path, prod_render: Render
) -> None:
    diff = _diff_after(tmp_path, prod_render, _switch)
    assert [resource.id for resource in diff.resources] == [SERVICE]
    (change,) = diff.resources[0].fields
    assert (change.path, change.old, change.new) == (
        ("spec", "selector", "modelstack.io/slot"),
        "blue",
        "green",
    )
    assert change.verdict is None and not diff.resources[0].options
    assert diff.summary == ("llama-chat: traffic blue -> green",)
    assert exit_code(diff) == EXIT_CHANGES


def test_version_bump_updates_one_slot_in_place(tmp_path: Path, prod_render: Render) -> None:
    def bump(document: dict[str, Any]) -> None:
        _chat(document)["rollout"]["slots"]["green"]["image"] = "vllm/vllm-openai:v0.31.1"

    diff = _diff_after(tmp_path, prod_render, bump)
    assert list(_by_id(diff)) == [GREEN]
    assert "llama-chat-green: image vllm/vllm-openai:v0.31.0 -> v0.31.1" in diff.summary
    assert not diff.blocking
    assert exit_code(diff) == EXIT_CHANGES


def test_model_revision_swaps_the_loader_job_and_changes_the_deployment(
    tmp_path: Path, prod_render: Render
) -> None:
    def new_revision(document: dict[str, Any]) -> None:
        _chat(document)["rollout"]["slots"]["green"]["model"]["revision"] = "1a2b3c4d"

    diff = _diff_after(tmp_path, prod_render, new_revision)
    statuses = {(r.kind, r.status) for r in diff.resources}
    assert statuses == {
        ("Deployment", Status.CHANGED),
        ("Job", Status.ADDED),
        ("Job", Status.REMOVED),
    }
    assert _by_id(diff)[GREEN].status is Status.CHANGED
    assert "llama-chat-green: model revision main -> 1a2b3c4d" in diff.summary
    assert any(
        re.match(r"llama-chat: Job llama-chat-fetch-\w+ -> llama-chat-fetch-", line)
        for line in diff.summary
    )
    # A new Job under a new name is the design, not a replacement.
    assert exit_code(diff) == EXIT_CHANGES


def test_renaming_a_deployment_is_flagged_as_replacement_with_reasons(
    tmp_path: Path, prod_render: Render
) -> None:
    diff = _diff_after(tmp_path, prod_render, lambda d: _chat(d).update(name="llama-talk"))
    renamed = {r.name: r for r in diff.resources if r.status is Status.RENAMED}
    assert {"llama-talk", "llama-talk-blue", "llama-talk-green", "llama-talk-cache"} <= set(renamed)
    assert renamed["llama-talk-blue"].previous_name == "llama-chat-blue"
    reasons = [v.reason for v in renamed["llama-talk-blue"].blocking]
    assert any("names are immutable" in reason for reason in reasons)
    # The cache is protected in prod: Pulumi would stop rather than delete the old claim.
    cache = renamed["llama-talk-cache"]
    assert any(
        v.consequence is Consequence.REFUSED and "protected" in v.reason for v in cache.notes
    )
    assert "llama-chat: renamed to llama-talk (every object is replaced)" in diff.summary
    assert not [r for r in diff.resources if r.status in (Status.ADDED, Status.REMOVED)]
    assert exit_code(diff) == EXIT_REPLACES


@pytest.mark.parametrize(
    ("size", "consequence", "code"),
    [("50Gi", Consequence.REFUSED, EXIT_REPLACES), ("200Gi", Consequence.UPDATE, EXIT_CHANGES)],
)
def test_cache_shrink_is_refused_and_growth_expands_in_place(
    tmp_path: Path, prod_render: Render, size: str, consequence: Consequence, code: int
) -> None:
    diff = _diff_after(tmp_path, prod_render, lambda d: _chat(d)["cache"].update(size=size))
    (change,) = _by_id(diff)[CACHE].fields
    assert change.path == ("spec", "resources", "requests", "storage")
    assert change.verdict is not None and change.verdict.consequence is consequence
    if consequence is Consequence.REFUSED:
        assert "shrink" in change.verdict.reason
    assert f"llama-chat-cache: cache size 100Gi -> {size}" in diff.summary
    assert exit_code(diff) == code


def test_storage_class_change_replaces_the_protected_claim(
    tmp_path: Path, prod_render: Render
) -> None:
    diff = _diff_after(
        tmp_path, prod_render, lambda d: _chat(d)["cache"].update(storageClass="gp3")
    )
    (claim,) = diff.resources
    assert claim.id == CACHE
    consequences = {v.consequence for v in claim.verdicts}
    assert {Consequence.REPLACE, Consequence.REFUSED} <= consequences
    assert exit_code(diff) == EXIT_REPLACES


def test_no_change_exits_0(prod_render: Render) -> None:
    diff = compare(prod_render, prod_render)
    assert not diff.changed and exit_code(diff) == EXIT_NO_CHANGES
    assert "no changes" in format_text(diff, "t")


def _write(directory: Path, document: dict[str, Any]) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    return write_stack(directory, document, "prod")


def test_against_file_prints_the_switch_and_exits_1(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _write(tmp_path / "old", stack_document("prod"))
    new = _write(tmp_path / "new", with_changes(stack_document("prod"), _switch))
    code = main(["diff", "--stack-file", str(new), "--against-file", str(old)])
    out = capsys.readouterr().out
    assert code == EXIT_CHANGES
    assert "  - llama-chat: traffic blue -> green" in out
    assert 'spec.selector["modelstack.io/slot"]: blue -> green' in out


def _git(repo: Path, *arguments: str) -> None:
    # The repository is the test's own: a caller's GIT_INDEX_FILE or GIT_DIR must not leak in.
    env = {key: value for key, value in os.environ.items() if not key.startswith("GIT_")}
    subprocess.run(
        ["git", "-C", str(repo), "-c", "user.name=t", "-c", "user.email=t@example.com", *arguments],
        check=True,
        capture_output=True,
        env=env,
    )


def test_against_git_revision_reads_the_committed_stack_file(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    path = _write(repo / "stacks", stack_document("prod"))
    _git(repo, "init", "--quiet")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "prod")
    path.write_text(yaml.safe_dump(with_changes(stack_document("prod"), _switch), sort_keys=False))

    assert main(["diff", "--stack-file", str(path), "--against", "HEAD"]) == EXIT_CHANGES
    out = capsys.readouterr().out
    assert "llama-chat: traffic blue -> green" in out
    assert "HEAD:" in out.splitlines()[0]

    assert main(["diff", "--stack-file", str(path), "--against", "no-such-rev"]) == EXIT_BAD_INPUT
    assert "no-such-rev" in capsys.readouterr().err


def test_stack_file_new_at_the_revision_shows_everything_added(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    repo = tmp_path / "repo"
    (repo / "README").parent.mkdir(parents=True)
    (repo / "README").write_text("x\n")
    _git(repo, "init", "--quiet")
    _git(repo, "add", ".")
    _git(repo, "commit", "--quiet", "-m", "empty")
    path = _write(repo, stack_document("staging"))
    assert main(["diff", "--stack-file", str(path), "--against", "HEAD"]) == EXIT_CHANGES
    captured = capsys.readouterr()
    assert "every resource is new" in captured.err
    assert "  + Deployment llama-chat" in captured.out
    assert "llama-chat: new deployment" in captured.out


def test_old_side_that_no_longer_validates_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    broken = stack_document("prod")
    _chat(broken)["gpu"] = {"type": "H100", "cuont": 1}
    old = _write(tmp_path / "old", broken)
    new = _write(tmp_path / "new", stack_document("prod"))
    code = main(["diff", "--stack-file", str(new), "--against-file", str(old)])
    assert code == EXIT_BAD_INPUT
    assert "cuont" in capsys.readouterr().err


def test_markdown_puts_replacements_first_in_open_sections(
    tmp_path: Path, prod_render: Render
) -> None:
    def shrink_and_switch(document: dict[str, Any]) -> None:
        _switch(document)
        _chat(document)["cache"]["size"] = "50Gi"

    diff = _diff_after(tmp_path, prod_render, shrink_and_switch)
    text = format_markdown(diff, "modelstack diff: prod")
    lines = text.splitlines()
    assert lines[0] == "### modelstack diff: prod"
    assert "> [!CAUTION]" in lines
    summary = lines[lines.index("**Summary**") + 2 :]
    items = summary[: summary.index("")]
    assert items[0].startswith("- **REFUSED PersistentVolumeClaim llama-chat-cache:")
    assert "- llama-chat: traffic blue -> green" in items
    sections = [line for line in lines if line.startswith("<details")]
    assert sections[0].startswith("<details open>") and "llama-chat-cache" in sections[0]
    assert "⛔ REFUSED" in sections[0]
    assert all(not s.startswith("<details open>") for s in sections[1:])
    assert text.count("<details") == text.count("</details>")
    # Every table row has the header's four cells: values cannot break the table.
    rows = [line for line in lines if line.startswith("| ")]
    assert rows and all(row.count(" | ") == 3 for row in rows)


def test_markdown_format_from_the_command(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = _write(tmp_path / "old", stack_document("prod"))
    new = _write(tmp_path / "new", with_changes(stack_document("prod"), _switch))
    args = ["diff", "--stack-file", str(new), "--against-file", str(old), "--format", "markdown"]
    assert main(args) == EXIT_CHANGES
    out = capsys.readouterr().out
    assert out.startswith("### modelstack diff: prod")
    assert "| <code>spec.selector[&quot;" not in out  # quotes stay readable
    assert '<code>spec.selector["modelstack.io/slot"]</code> | <code>blue</code>' in out
