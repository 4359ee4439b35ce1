"""A stack's `modelstack:` values through spec and plan, for tests of what the planner decides."""

from __future__ import annotations

from typing import Any

from components.errors import StackConfigError
from components.plan import StackPlan, build_plan
from components.stack_config import parse_stack_spec

STACK_FILE = "stacks/Pulumi.test.yaml"


def plan_stack(raw: dict[str, Any]) -> StackPlan:
    return build_plan(parse_stack_spec(raw, set(), STACK_FILE), STACK_FILE)


def stack_problems(raw: dict[str, Any]) -> list[str]:
    """`path: message` for every problem the spec or the plan finds; none when it plans."""
    try:
        plan_stack(raw)
    except StackConfigError as error:
        return [f"{issue.path}: {issue.message}" for issue in error.issues]
    return []
