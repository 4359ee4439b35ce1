"""The kubernetes target: one explicit provider and a ModelDeployment per deployment."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_kubernetes as k8s

from components.kubernetes import objects
from components.kubernetes.manifests.debug_access import debug_access_objects
from components.kubernetes.manifests.namespace import namespace
from components.kubernetes.manifests.registries import pull_secret
from components.kubernetes.manifests.shared_endpoint import shared_endpoint_objects
from components.kubernetes.model_deployment import ExternalDeployment, ModelDeployment
from components.outputs import deployment_summary, external_summary
from components.plan import StackPlan
from components.stack_secrets import StackSecrets


def deploy(plan: StackPlan, secrets: StackSecrets) -> dict[str, dict[str, Any]]:
    # One explicit provider from the first `pulumi up`: switching providers later
    # would replace every object. `kubernetes.context` pins the cluster.
    provider = k8s.Provider(
        "kubernetes",
        context=plan.on_kubernetes.kube_context,
        # Ownership of replicas by autoscalers needs server-side apply (the default).
        enable_server_side_apply=True,
    )
    opts = pulumi.ResourceOptions(providers={"kubernetes": provider})
    depends_on: list[pulumi.Resource] = []
    if plan.on_kubernetes.create_namespace:
        depends_on.append(
            objects.create(namespace(plan.namespace), pulumi.ResourceOptions(provider=provider))
        )
    for registry in plan.registries:
        if registry.created and secrets.registry_passwords is not None:
            # Pull credentials are namespace-wide: one Secret per registry, shared by deployments.
            depends_on.append(
                objects.create(
                    pull_secret(plan, registry, secrets.registry_passwords),
                    pulumi.ResourceOptions(
                        provider=provider,
                        depends_on=list(depends_on),
                        protect=registry.protect,
                    ),
                )
            )
    # Who may open a shell next to the engines: namespace-wide, so once per stack.
    for body in debug_access_objects(plan):
        objects.create(body, pulumi.ResourceOptions(provider=provider, depends_on=list(depends_on)))
    summaries = {}
    for deployment in plan.deployments:
        ModelDeployment(
            deployment,
            secrets.hf_token,
            opts=opts,
            depends_on=depends_on,
            api_key=(
                secrets.engine_api_key(deployment.name)
                if deployment.on_kubernetes.api_key_secret
                else None
            ),
        )
        summaries[deployment.name] = deployment_summary(deployment)
    for routed in plan.external:
        ExternalDeployment(routed, opts=opts, depends_on=depends_on)
        summaries[routed.name] = external_summary(routed)
    # One HTTPRoute for every model of the stack (the deployments' Services it routes to
    # are the deployments' own, so nothing here waits for them).
    for body in shared_endpoint_objects(plan):
        objects.create(body, pulumi.ResourceOptions(provider=provider, depends_on=depends_on))
    return summaries
