"""The docker target: one explicit provider, a gateway and a DockerModelDeployment each."""

from __future__ import annotations

from typing import Any

import pulumi
import pulumi_docker as docker

from components.checks.docker_capacity import DockerCapacity
from components.docker.containers import engine_containers, engine_settings
from components.docker.gateway import DockerGateway
from components.docker.model_deployment import DockerModelDeployment
from components.outputs import deployment_summary, external_summary
from components.plan import StackPlan
from components.stack_secrets import StackSecrets


def deploy(plan: StackPlan, secrets: StackSecrets) -> dict[str, dict[str, Any]]:
    # Explicit from the first `pulumi up` (switching providers later replaces everything);
    # private registries authenticate through it, with passwords kept as Pulumi secrets.
    # Every docker resource waits for the host check: a stack that cannot fit creates nothing.
    capacity = DockerCapacity("docker-capacity", containers=_capacity_needs(plan))
    provider = docker.Provider(
        "docker",
        registry_auth=_registry_auth(plan, secrets),
        opts=pulumi.ResourceOptions(depends_on=[capacity]),
    )
    opts = pulumi.ResourceOptions(providers={"docker": provider})
    gateway = DockerGateway("gateway", plan, opts=opts)
    addresses: dict[str, list[str]] = {}
    engine_ids: list[pulumi.Output[str]] = []
    components: list[pulumi.Resource] = []
    summaries = {}
    for deployment in plan.deployments:
        component = DockerModelDeployment(deployment, gateway.network, secrets.hf_token, opts=opts)
        addresses.update(component.addresses)
        engine_ids += component.container_ids
        components.append(component)
        summaries[deployment.name] = deployment_summary(deployment)
    # External deployments run nothing here: their endpoints are routes of the gateway.
    summaries.update({routed.name: external_summary(routed) for routed in plan.external})
    gateway.serve(addresses, engine_ids, components)
    return summaries


def _registry_auth(plan: StackPlan, secrets: StackSecrets) -> list[docker.ProviderRegistryAuthArgs]:
    passwords = secrets.registry_passwords
    if passwords is None:
        return []
    return [
        docker.ProviderRegistryAuthArgs(
            address=registry.server,
            username=registry.username,
            password=pulumi.Output.secret(passwords).apply(
                lambda values, name=registry.name: values[name]
            ),
        )
        for registry in plan.registries
        if registry.created and registry.server
    ]


def _capacity_needs(plan: StackPlan) -> list[dict[str, Any]]:
    """CPUs and memory of every engine container the stack runs (what the host must have)."""
    needs = []
    for deployment in plan.deployments:
        for spec in engine_containers(plan.namespace, deployment):
            settings = engine_settings(deployment, spec.slot)
            needs.append(
                {
                    "deployment": deployment.name,
                    "container": spec.container_name,
                    "cpus": settings.get("cpus"),
                    "memory_mib": settings.get("memory"),
                    "reservation_mib": settings.get("memory_reservation"),
                }
            )
    return needs
