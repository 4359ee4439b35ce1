"""The Pulumi program: stack file -> spec -> plan -> target components -> stack outputs."""

from __future__ import annotations

import pulumi

from components.docker import target as docker_target
from components.errors import StackConfigError
from components.kubernetes import target as kubernetes_target
from components.plan import StackPlan, build_plan
from components.stack_config import NAMESPACE, parse_stack_spec, read_runtime_config, stack_file_for

TARGETS = {"kubernetes": kubernetes_target.deploy, "docker": docker_target.deploy}


class StackConfigRunError(pulumi.RunError):
    """Bad stack file: Pulumi prints the message without a traceback and applies nothing."""


def load_plan() -> tuple[StackPlan, bool]:
    """The validated plan of the running stack, and whether it has an HF token."""
    stack_file = stack_file_for(pulumi.get_stack())
    raw, secret_keys = read_runtime_config()
    try:
        spec = parse_stack_spec(raw, secret_keys, stack_file)
        return build_plan(spec, stack_file), spec.hf_token
    except StackConfigError as error:
        raise StackConfigRunError(error.report()) from None


def run() -> None:
    plan, has_hf_token = load_plan()
    hf_token = pulumi.Config(NAMESPACE).require_secret("hfToken") if has_hf_token else None
    summaries = TARGETS[plan.target](plan, hf_token)
    pulumi.export("environment", plan.environment.name)
    pulumi.export("target", plan.target)
    pulumi.export("namespace", plan.namespace)
    pulumi.export("deployments", summaries)
