"""`modelstack validate` runs the guardrails on the render at the stack environment's levels:
mandatory violations fail it (exit 1), advisory ones print as warnings."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from components.cli import EXIT_INVALID, EXIT_OK, main
from components.guardrails.offline import check_render, stack_environment
from components.offline.render import Render
from tests.conftest import STACK_NAMES, STACKS, find_object


def _validate(stack: str, crd_dir: Path) -> int:
    return main(["validate", "--stack", stack, "--crd-schemas", str(crd_dir)])


def _serve(monkeypatch: pytest.MonkeyPatch, render: Render) -> None:
    monkeypatch.setattr("components.commands.render_loading.render_stack", lambda config: render)


def test_the_committed_stacks_meet_every_policy_of_their_environment(
    stack_renders: dict[str, Render],
) -> None:
    for stack in STACK_NAMES:
        environment = stack_environment(STACKS / f"Pulumi.{stack}.yaml")
        assert environment == stack
        report = check_render(stack_renders[stack], environment)
        assert report.findings == [] and report.unchecked == [], report.lines()


def test_validate_prod_is_clean(crd_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert _validate("prod", crd_dir) == EXIT_OK
    out = capsys.readouterr().out
    assert "policies (prod): no violations" in out
    assert "objects valid (Kubernetes 1.33" in out


def test_a_mandatory_violation_fails_validate_with_object_policy_and_fix(
    crd_dir: Path,
    stack_renders: dict[str, Render],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    render = copy.deepcopy(stack_renders["prod"])
    blue = find_object(render, "Deployment", "llama-chat-blue")
    blue["spec"]["template"]["spec"]["containers"][0]["image"] = "vllm/vllm-openai:latest"
    blue["spec"]["replicas"] = 1
    cache = next(r for r in render.resources if r["name"] == "llama-chat-cache")
    cache["protect"] = False
    _serve(monkeypatch, render)

    assert _validate("prod", crd_dir) == EXIT_INVALID
    out = capsys.readouterr().out
    assert (
        "Deployment/llama-chat-blue: pinned-image-tags (mandatory): container 'engine' uses"
        " 'vllm/vllm-openai:latest', a floating tag: set `image: <repository>:<version>`"
    ) in out
    assert (
        "Deployment/llama-chat-blue: at-least-two-replicas (mandatory): runs 1 replica(s): set"
        " `replicas: 2` or more"
    ) in out
    assert (
        "PersistentVolumeClaim/llama-chat-cache: model-cache-protected (mandatory): is not"
        " protected"
    ) in out
    assert "policies (prod): 3 mandatory violation(s), 0 advisory warning(s)" in out
    assert "objects valid" not in out


def test_staging_levels_skip_prod_only_rules_but_keep_the_rest(
    crd_dir: Path,
    stack_renders: dict[str, Render],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    render = copy.deepcopy(stack_renders["staging"])
    engine = find_object(render, "Deployment", "llama-chat")
    container = engine["spec"]["template"]["spec"]["containers"][0]
    del container["resources"]["limits"]["memory"]
    for resource in render.resources:
        resource["protect"] = False  # staging does not promise protected caches
    _serve(monkeypatch, render)

    assert _validate("staging", crd_dir) == EXIT_INVALID
    out = capsys.readouterr().out
    assert "Deployment/llama-chat: container-resources (mandatory): container 'engine'" in out
    assert "model-cache-protected" not in out and "at-least-two-replicas" not in out


def test_advisory_violations_in_dev_are_warnings_and_pass(
    crd_dir: Path,
    stack_renders: dict[str, Render],
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    render = copy.deepcopy(stack_renders["dev"])
    gateway_image = render.other_files["docker/remoteimage-gateway-image.yaml"]
    gateway_image["inputs"]["name"] = "nginx"
    _serve(monkeypatch, render)

    assert _validate("dev", crd_dir) == EXIT_OK
    out = capsys.readouterr().out
    assert (
        "warning: RemoteImage/gateway-image: pinned-image-tags (advisory): uses 'nginx'"
        " without a tag"
    ) in out
    assert "policies (dev): 0 mandatory violation(s), 1 advisory warning(s)" in out
