"""Target profiles: what each target can do is data, looked up in one place, and planning asks
the profile instead of comparing target names."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components.planning.target_profiles import (
    DOCKER,
    KUBERNETES,
    TARGET_PROFILES,
    Capability,
    TargetProfile,
    target_profile,
)
from components.spec import StackSpec
from tests.support.planned_stacks import stack_problems

ROOT = Path(__file__).resolve().parents[1]
PLANNING = [*sorted((ROOT / "components" / "planning").rglob("*.py")), ROOT / "components/plan.py"]
CAPABILITIES = [
    name
    for name, kind in TargetProfile.__annotations__.items()
    if kind in ("Capability", Capability)
]


def target_comparisons(source: str) -> list[int]:
    """Lines comparing something named `target` (a name or an attribute) to a string literal,
    or anything to a target's name (`profile.name == "docker"` is the same test in disguise)."""

    def is_target(node: ast.expr) -> bool:
        return (isinstance(node, ast.Name) and node.id == "target") or (
            isinstance(node, ast.Attribute) and node.attr == "target"
        )

    def is_text(node: ast.expr) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(map(is_text, node.elts))
        return isinstance(node, ast.Constant) and isinstance(node.value, str)

    def is_target_name(node: ast.expr) -> bool:
        if isinstance(node, ast.Tuple | ast.List | ast.Set):
            return any(map(is_target_name, node.elts))
        return isinstance(node, ast.Constant) and node.value in TARGET_PROFILES

    lines = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Compare):
            operands = [node.left, *node.comparators]
            if (any(map(is_target, operands)) and any(map(is_text, operands))) or any(
                map(is_target_name, operands)
            ):
                lines.append(node.lineno)
    return lines


def test_the_scan_finds_a_target_comparison_and_nothing_else() -> None:
    assert target_comparisons('if ctx.target == "docker":\n    pass\n') == [1]
    assert target_comparisons('x = "kubernetes" != target\n') == [1]
    assert target_comparisons('x = stack.target in ("docker",)\n') == [1]
    assert target_comparisons("x = metric.target == 70\n") == []
    assert target_comparisons('x = ctx.profile.name != "kubernetes"\n') == [1]
    assert target_comparisons('x = ctx.profile.autoscaling\ny = "docker"\n') == []


def test_no_planning_module_compares_the_target_to_a_name() -> None:
    found = [
        f"{path.relative_to(ROOT)}:{line}"
        for path in PLANNING
        for line in target_comparisons(path.read_text())
    ]
    assert found == []


def test_every_target_the_spec_allows_has_a_profile() -> None:
    allowed = StackSpec.model_fields["target"].annotation.__args__  # type: ignore[union-attr]
    assert set(allowed) == set(TARGET_PROFILES)
    assert {name: target_profile(name) for name in allowed} == {
        "kubernetes": KUBERNETES,
        "docker": DOCKER,
    }


def test_a_capability_is_true_until_refused_and_every_refusal_says_what_to_do() -> None:
    assert Capability() and not Capability("no")
    assert CAPABILITIES, "the profile declares its capabilities as Capability fields"
    for name in CAPABILITIES:
        assert getattr(KUBERNETES, name), name
        refused = getattr(DOCKER, name)
        assert not refused and refused.refusal, name


def test_profiles_read_their_own_namespace() -> None:
    spec = StackSpec.model_validate(
        {
            "environment": "dev",
            "target": "docker",
            "kubernetes": {"namespace": "ml"},
            "docker": {"namespace": "local"},
        }
    )
    assert DOCKER.namespace_of(spec) == "local"
    assert KUBERNETES.namespace_of(spec) == "ml"


def test_docker_runs_its_own_gateway_and_kubernetes_creates_objects() -> None:
    assert DOCKER.own_gateway and not KUBERNETES.own_gateway
    assert KUBERNETES.kubernetes_objects and not DOCKER.kubernetes_objects
    assert KUBERNETES.monitoring_objects and KUBERNETES.network_policies
    assert not (DOCKER.monitoring_objects or DOCKER.network_policies)


GGUF = "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"


@pytest.mark.parametrize(
    ("stack", "deployment", "path", "capability"),
    [
        (
            {},
            {"autoscaling": {"min": 1, "max": 2, "metric": "cpu", "target": 70}},
            "deployments[0].autoscaling",
            "autoscaling",
        ),
        ({}, {"placement": {"nodeSelector": {"a": "b"}}}, "deployments[0].placement", "placement"),
        (
            {},
            {"env": {"K": {"secretKeyRef": {"name": "s", "key": "k"}}}},
            "deployments[0].env.K",
            "env_references",
        ),
        ({}, {"imagePullSecrets": ["r"]}, "deployments[0].imagePullSecrets", "pull_secrets"),
        (
            {"registries": [{"name": "corp", "existingSecret": "regcred"}]},
            {},
            "registries[0].existingSecret",
            "existing_pull_secrets",
        ),
        (
            {"hfToken": {"secretKeyRef": {"name": "hf", "key": "token"}}},
            {},
            "hfToken",
            "secret_references",
        ),
    ],
)
def test_a_refusal_is_the_profiles_message_at_the_key_that_asks(
    stack: dict[str, object], deployment: dict[str, object], path: str, capability: str
) -> None:
    raw = {
        "environment": "dev",
        "target": "docker",
        **stack,
        "deployments": [
            {"name": "chat", "model": {"source": GGUF}, "engine": "llamacpp", **deployment}
        ],
    }
    message = getattr(DOCKER, capability).refusal
    assert f"{path}: {message}" in stack_problems(raw)
    assert stack_problems({**raw, "target": "kubernetes"}) == []
