"""The Pulumi program: stack file -> spec -> plan -> target components -> stack outputs."""

from __future__ import annotations

import importlib

import pulumi

from components.errors import StackConfigError
from components.gc_settings import skip_full_garbage_collections
from components.plan import StackPlan
from components.planning.stack_validation import validated_plan
from components.spec import StackSpec
from components.stack_config import read_runtime_config, stack_file_for
from components.stack_secrets import read_stack_secrets

# Imported by name: a stack pays only for its own target's provider SDK (pulumi_kubernetes
# or pulumi_docker, each a large package).
TARGETS = {"kubernetes": "components.kubernetes.target", "docker": "components.docker.target"}


class StackConfigRunError(pulumi.RunError):
    """Bad stack file: Pulumi prints the message without a traceback and applies nothing."""


def load_plan() -> tuple[StackPlan, StackSpec]:
    """The validated plan of the running stack, and the spec it came from."""
    stack_file = stack_file_for(pulumi.get_stack())
    raw, secret_keys = read_runtime_config()
    try:
        return validated_plan(raw, secret_keys, stack_file)
    except StackConfigError as error:
        raise StackConfigRunError(error.report()) from None


def run() -> None:
    skip_full_garbage_collections()
    plan, spec = load_plan()
    target = importlib.import_module(TARGETS[plan.target])
    summaries = target.deploy(plan, read_stack_secrets(spec))
    pulumi.export("environment", plan.environment.name)
    pulumi.export("target", plan.target)
    pulumi.export("namespace", plan.namespace)
    pulumi.export("deployments", summaries)
