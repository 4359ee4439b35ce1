"""The Pulumi program: stack file -> spec -> plan -> target components -> stack outputs."""

from __future__ import annotations

import pulumi
import pulumi_kubernetes as k8s

from components.errors import StackConfigError
from components.kubernetes import objects
from components.kubernetes.manifests.namespace import namespace
from components.kubernetes.model_deployment import ModelDeployment
from components.plan import StackPlan, build_plan
from components.stack_config import NAMESPACE, parse_stack_spec, read_runtime_config, stack_file_for


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

    # One explicit provider from the first `pulumi up`: switching providers later
    # would replace every object. `kubernetes.context` pins the cluster.
    provider = k8s.Provider(
        "kubernetes",
        context=plan.kube_context,
        # Ownership of replicas by autoscalers needs server-side apply (the default).
        enable_server_side_apply=True,
    )
    opts = pulumi.ResourceOptions(providers={"kubernetes": provider})
    depends_on: list[pulumi.Resource] = []
    if plan.create_namespace:
        depends_on.append(
            objects.create(namespace(plan.namespace), pulumi.ResourceOptions(provider=provider))
        )
    summaries = {}
    for deployment in plan.deployments:
        component = ModelDeployment(deployment, hf_token, opts=opts, depends_on=depends_on)
        summaries[deployment.name] = component.summary
    pulumi.export("environment", plan.environment.name)
    pulumi.export("namespace", plan.namespace)
    pulumi.export("deployments", summaries)
