"""Routine edits touch only what they must: no renames, no replacements, no collateral."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from components.offline.render import Render
from tests.conftest import deployments_of, render_document, stack_document, with_changes


def _leaf_changes(before: Any, after: Any, path: str = "") -> list[str]:
    """Every path whose value differs between two objects."""
    if isinstance(before, dict) and isinstance(after, dict):
        changes = []
        for key in sorted(set(before) | set(after)):
            changes += _leaf_changes(before.get(key), after.get(key), f"{path}.{key}")
        return changes
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        changes = []
        for index, (old, new) in enumerate(zip(before, after, strict=True)):
            changes += _leaf_changes(old, new, f"{path}[{index}]")
        return changes
    return [] if before == after else [path]


def _diff(before: Render, after: Render) -> dict[str, list[str]]:
    """file -> changed paths; added and removed files map to ['added'] / ['removed']."""
    old, new = before.object_files(), after.object_files()
    result: dict[str, list[str]] = {}
    for name in sorted(set(old) | set(new)):
        if name not in old:
            result[name] = ["added"]
        elif name not in new:
            result[name] = ["removed"]
        elif changes := _leaf_changes(old[name], new[name]):
            result[name] = changes
    return result


def _slot(document: dict, slot: str) -> dict:
    return deployments_of(document)[0]["rollout"]["slots"][slot]


def test_flipping_active_changes_only_the_stable_service_selector(tmp_path: Path) -> None:
    prod = stack_document("prod")
    before = render_document(tmp_path, prod)

    def switch(document: dict) -> None:
        deployments_of(document)[0]["rollout"]["active"] = "green"

    after = render_document(tmp_path, with_changes(prod, switch))
    assert _diff(before, after) == {
        "kubernetes/service-llama-chat.yaml": [".spec.selector.modelstack.io/slot"]
    }
    assert (
        after.object_files()["kubernetes/service-llama-chat.yaml"]["spec"]["selector"][
            "modelstack.io/slot"
        ]
        == "green"
    )
    # Same resources with the same options: nothing is created, deleted or replaced.
    assert before.resources == after.resources


def test_version_bump_of_one_slot_changes_only_that_slot(tmp_path: Path) -> None:
    prod = stack_document("prod")
    before = render_document(tmp_path, prod)

    def bump(document: dict) -> None:
        _slot(document, "green")["image"] = "vllm/vllm-openai:v0.31.1"

    after = render_document(tmp_path, with_changes(prod, bump))
    diff = _diff(before, after)
    assert set(diff) == {"kubernetes/deployment-llama-chat-green.yaml"}
    assert all("image" in path or "version" in path for path in diff[next(iter(diff))])


def test_new_model_revision_gets_a_new_loader_job_and_keeps_everything_else(
    tmp_path: Path,
) -> None:
    prod = stack_document("prod")
    before = render_document(tmp_path, prod)

    def new_revision(document: dict) -> None:
        _slot(document, "green")["model"]["revision"] = "1a2b3c4d"

    after = render_document(tmp_path, with_changes(prod, new_revision))
    diff = _diff(before, after)
    changed_deployments = {name for name in diff if name.startswith("kubernetes/deployment-")}
    assert changed_deployments == {"kubernetes/deployment-llama-chat-green.yaml"}
    jobs = {name: change for name, change in diff.items() if name.startswith("kubernetes/job-")}
    # Job templates are immutable: the old Job goes, a new one (new name) comes.
    assert sorted(jobs.values()) == [["added"], ["removed"]]
    assert set(diff) == changed_deployments | set(jobs)


def test_scaling_changes_only_replicas(tmp_path: Path) -> None:
    prod = stack_document("prod")
    before = render_document(tmp_path, prod)

    def scale(document: dict) -> None:
        deployments_of(document)[0]["replicas"] = 4

    after = render_document(tmp_path, with_changes(prod, scale))
    assert _diff(before, after) == {
        "kubernetes/deployment-llama-chat-blue.yaml": [".spec.replicas"],
        "kubernetes/deployment-llama-chat-green.yaml": [".spec.replicas"],
    }
