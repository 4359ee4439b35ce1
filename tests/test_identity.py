"""Names and label keys live in components/identity.py: written there, read back there."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from components import identity
from components.kubernetes.manifests import labels
from components.plan import build_plan
from components.spec import StackSpec

COMPONENTS = Path(__file__).resolve().parent.parent / "components"
KEY_PREFIXES = ("modelstack.io/", "app.kubernetes.io/", "batch.kubernetes.io/")


def test_names_derive_from_the_deployment_name_only() -> None:
    assert identity.workload("llama", "main", "rolling") == "llama"
    assert identity.workload("llama", "blue", "blue-green", "h100") == "llama-blue-h100"
    assert identity.slot_service("llama", "green") == "llama-green"
    assert identity.stable_service("llama") == "llama"
    assert identity.cache_claim("llama") == "llama-cache"
    assert identity.loader_job("llama", {"a": 1}) == identity.loader_job("llama", {"a": 1})
    assert identity.loader_job("llama", {"a": 1}) != identity.loader_job("llama", {"a": 2})


def test_what_the_kubernetes_target_writes_the_readers_read_back() -> None:
    spec = StackSpec.model_validate(
        {
            "environment": "dev",
            "target": "kubernetes",
            "deployments": [
                {
                    "name": "chat",
                    "model": {"source": "hf://org/model", "parameters": "1B"},
                    "gpu": {"type": "L4", "count": 1},
                    "rollout": {"strategy": "blue-green", "active": "green"},
                }
            ],
        }
    )
    deployment = build_plan(spec, "stacks/Pulumi.test.yaml").deployments[0]
    written = labels.for_workload(deployment, deployment.slots[1])
    assert identity.deployment_of(written) == "chat"
    assert identity.slot_of(written) == "green"
    assert identity.component_of(written) == identity.ENGINE_COMPONENT


def _key_literals(path: Path) -> list[str]:
    return [
        node.value
        for node in ast.walk(ast.parse(path.read_text()))
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and node.value.startswith(KEY_PREFIXES)
    ]


def _modules_that_must_not_spell_keys() -> list[Path]:
    return [
        path
        for path in sorted(COMPONENTS.rglob("*.py"))
        if path.name != "identity.py" or path.parent != COMPONENTS
    ]


@pytest.mark.parametrize("path", _modules_that_must_not_spell_keys(), ids=lambda path: path.name)
def test_no_module_but_identity_spells_a_label_key(path: Path) -> None:
    assert _key_literals(path) == []
