"""The docker target: a gateway and a DockerModelDeployment per deployment."""

from __future__ import annotations

from typing import Any

import pulumi

from components.docker.gateway import DockerGateway
from components.docker.model_deployment import DockerModelDeployment
from components.outputs import deployment_summary
from components.plan import StackPlan


def deploy(plan: StackPlan, hf_token: pulumi.Input[str] | None) -> dict[str, dict[str, Any]]:
    gateway = DockerGateway("gateway", plan)
    addresses: dict[str, list[str]] = {}
    engine_ids: list[pulumi.Output[str]] = []
    components: list[pulumi.Resource] = []
    summaries = {}
    for deployment in plan.deployments:
        component = DockerModelDeployment(deployment, gateway.network, hf_token)
        addresses.update(component.addresses)
        engine_ids += component.container_ids
        components.append(component)
        summaries[deployment.name] = deployment_summary(deployment)
    gateway.serve(addresses, engine_ids, components)
    return summaries
