"""Stack files with autoscaling, as the tests of autoscaling write them."""

from __future__ import annotations

from typing import Any

from components.errors import ConfigIssue, StackConfigError
from components.plan import DeploymentPlan, build_plan
from components.stack_config import parse_stack_spec

STACK_FILE = "stacks/Pulumi.test.yaml"
PROMETHEUS = "http://prometheus.monitoring:9090"
AUTOSCALING = "deployments[0].autoscaling"
GGUF = "hf://bartowski/Llama-3.2-3B-Instruct-GGUF/Llama-3.2-3B-Instruct-Q4_K_M.gguf"


def chat(autoscaling: dict[str, Any] | None = None, **changes: Any) -> dict[str, Any]:
    """An 8B model on one L4 served by vLLM, scaled by `autoscaling` (keys None are dropped)."""
    deployment: dict[str, Any] = {
        "name": "chat",
        "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
        "engine": "vllm",
        "gpu": {"type": "L4", "count": 1},
        "autoscaling": autoscaling,
        **changes,
    }
    return {key: value for key, value in deployment.items() if value is not None}


def scaling(**changes: Any) -> dict[str, Any]:
    """A valid autoscaling block (1..4 on concurrency 16), with keys replaced by `changes`."""
    block: dict[str, Any] = {"min": 1, "max": 4, "metric": "concurrency", "target": 16}
    block.update(changes)
    return {key: value for key, value in block.items() if value is not None}


def stack(*deployments: dict[str, Any], **top: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "environment": "staging",
        "target": "kubernetes",
        "kubernetes": {"namespace": "ml", "prometheus": PROMETHEUS},
        "deployments": list(deployments),
    }
    raw.update(top)
    return {key: value for key, value in raw.items() if value is not None}


def spec_issues(raw: dict[str, Any]) -> list[ConfigIssue]:
    try:
        parse_stack_spec(raw, set(), STACK_FILE)
    except StackConfigError as error:
        return error.issues
    return []


def plan_issues(raw: dict[str, Any]) -> list[ConfigIssue]:
    """Problems the plan finds in a stack whose spec itself is valid."""
    spec = parse_stack_spec(raw, set(), STACK_FILE)
    try:
        build_plan(spec, STACK_FILE)
    except StackConfigError as error:
        return error.issues
    return []


def plan_of(raw: dict[str, Any]) -> DeploymentPlan:
    return build_plan(parse_stack_spec(raw, set(), STACK_FILE), STACK_FILE).deployments[0]


def assert_one_issue(issues: list[ConfigIssue], path: str, *fragments: str) -> None:
    """Exactly one problem (unions may repeat it), at `path`, saying every fragment."""
    assert issues, f"nothing reported; expected {path}"
    assert {issue.path for issue in issues} == {path}, issues
    assert any(all(f in issue.message for f in fragments) for issue in issues), issues
