"""Spec and plan as one step: every problem of both at once, before anything is registered.

A spec error alone would stop before planning, and a typo in one key would hide the
plan's findings (a GPU count, a memory fit) in the same stack. So when the spec fails,
the part that validates once unknown keys are dropped is planned too, and its problems
are reported with the spec's, at the deployments' own indexes in the stack file.
"""

from __future__ import annotations

import re
from typing import Any

from components.errors import ConfigIssue, StackConfigError
from components.kubernetes.patch_validation import patch_issues
from components.plan import StackPlan, build_plan
from components.spec import StackSpec
from components.stack_config import SpecError, parse_stack_spec

_PARTIAL_INDEX = re.compile(r"^deployments\[([0-9]+)\]")


def validated_plan(
    raw: dict[str, Any], secret_keys: set[str], stack_file: str
) -> tuple[StackPlan, StackSpec]:
    """The plan and its spec; StackConfigError with every problem found otherwise."""
    try:
        spec = parse_stack_spec(raw, secret_keys, stack_file)
    except SpecError as error:
        issues = list(error.issues)
        if error.partial is not None:
            issues += _plan_issues(error.partial, error.partial_indexes, stack_file)
        raise StackConfigError(stack_file, issues, error.deployment_names) from None
    return build_plan(spec, stack_file, patch_issues), spec


def _plan_issues(
    partial: StackSpec, indexes: tuple[int, ...], stack_file: str
) -> list[ConfigIssue]:
    try:
        build_plan(partial, stack_file, patch_issues)
    except StackConfigError as error:
        return [_at_stack_index(issue, indexes) for issue in error.issues]
    return []


def _at_stack_index(issue: ConfigIssue, indexes: tuple[int, ...]) -> ConfigIssue:
    """deployments[i] of the partial stack -> deployments[j] of the stack file."""
    match = _PARTIAL_INDEX.match(issue.path)
    if not match:
        return issue
    original = indexes[int(match.group(1))]
    return ConfigIssue(f"deployments[{original}]{issue.path[match.end() :]}", issue.message)
