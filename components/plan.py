"""spec -> plan: everything decidable without Pulumi, decided once, for every target.

The plan is pure and deterministic. It resolves the engine, image, command line, port,
probes, GPU placement, memory fit, slots, pools, traffic and names; targets only translate
it into resources. Problems found here are stack-file errors with key paths, like the spec's.
The shape lives in planning/plan_model.py; the decisions are the steps that
planning/deployment_planner.py chains (planning/*_steps.py).
"""

from __future__ import annotations

from collections.abc import Callable

from components.environments import ENVIRONMENTS
from components.errors import ConfigIssue, StackConfigError, key_path
from components.planning.debug_access import plan_debug_access
from components.planning.deployment_planner import plan_deployment
from components.planning.engine_api_keys import unknown_deployments
from components.planning.external_endpoints import plan_external_deployment
from components.planning.plan_model import (
    CachePlan,
    DeploymentPlan,
    EnginePlan,
    ExternalPlan,
    HealthCheckPlan,
    LoadBalancerPlan,
    ModelPlan,
    ProbePlan,
    RegistryPlan,
    RoutePlan,
    SlotPlan,
    StackPlan,
)
from components.planning.route_collisions import route_collisions
from components.planning.shared_endpoint import shared_endpoint_for
from components.planning.shared_endpoint_plan import SharedEndpointPlan
from components.planning.stack_parts import DockerStackPart, KubernetesStackPart
from components.planning.target_part_steps import pull_secret_name
from components.planning.target_profiles import target_profile
from components.planning.timeouts import gateway_start_seconds
from components.spec import StackSpec

__all__ = [
    "CachePlan",
    "DeploymentPlan",
    "EnginePlan",
    "HealthCheckPlan",
    "LoadBalancerPlan",
    "ModelPlan",
    "ProbePlan",
    "RegistryPlan",
    "RoutePlan",
    "SlotPlan",
    "StackPlan",
    "build_plan",
]


# Checks of a planned deployment's rendered objects (its index in the stack file -> issues),
# passed in because the objects are the Kubernetes target's, which imports the plan.
RenderedCheck = Callable[[DeploymentPlan, int], list[ConfigIssue]]


def build_plan(
    spec: StackSpec, stack_file: str, rendered_check: RenderedCheck | None = None
) -> StackPlan:
    """Plan every deployment; raise StackConfigError with every problem found."""
    profile = target_profile(spec.target)
    environment = ENVIRONMENTS[spec.environment]
    issues: list[ConfigIssue] = []
    deployments = []
    planned_indexes = []
    external: list[tuple[int, ExternalPlan]] = []
    for index, deployment in enumerate(spec.deployments):
        if deployment.external is not None:
            routed, found = plan_external_deployment(spec, deployment, index)
            issues += found
            external += [(index, routed)] if routed is not None else []
            continue
        planned, found = plan_deployment(spec, deployment, index)
        issues += found
        if planned is not None:
            deployments.append(planned)
            planned_indexes.append(index)
            if rendered_check is not None and profile.kubernetes_objects:
                issues += rendered_check(planned, index)
    registries = tuple(
        RegistryPlan(
            name=registry.name,
            server=registry.server,
            username=registry.username,
            secret_name=pull_secret_name(registry),
            created=registry.existing_secret is None,
            protect=environment.protect_secrets,
        )
        for registry in spec.registries
    )
    refusal = profile.existing_pull_secrets.refusal
    issues += [
        ConfigIssue(key_path("registries", index, "existingSecret"), refusal)
        for index, registry in enumerate(spec.registries)
        if registry.existing_secret and refusal is not None
    ]
    planned = list(zip(planned_indexes, deployments, strict=True))
    issues += route_collisions(sorted([*planned, *external], key=lambda pair: pair[0]))
    shared, found = shared_endpoint_for(spec, profile, planned)
    issues += found
    issues += unknown_deployments(spec.engine_api_keys, [d.name for d in spec.deployments])
    debug_access, found = plan_debug_access(spec, profile, environment, profile.namespace_of(spec))
    issues += found
    if issues:
        by_index = {index: deployment.name for index, deployment in enumerate(spec.deployments)}
        raise StackConfigError(stack_file, issues, by_index)
    kubernetes_part, docker_part = _stack_parts(
        spec, profile.kubernetes_objects, deployments, shared
    )
    return StackPlan(
        environment=environment,
        target=spec.target,
        namespace=profile.namespace_of(spec),
        deployments=tuple(deployments),
        registries=registries,
        external=tuple(routed for _, routed in external),
        debug_access=debug_access,
        kubernetes=kubernetes_part,
        docker=docker_part,
    )


def _stack_parts(
    spec: StackSpec,
    kubernetes_objects: bool,
    deployments: list[DeploymentPlan],
    shared: SharedEndpointPlan | None,
) -> tuple[KubernetesStackPart | None, DockerStackPart | None]:
    """The stack's part for its target: the other target's settings never reach a target."""
    if kubernetes_objects:
        part = KubernetesStackPart(
            create_namespace=spec.kubernetes.create_namespace,
            kube_context=spec.kubernetes.context,
            shared_endpoint=shared,
        )
        return part, None
    timeouts = [deployment.timeouts for deployment in deployments]
    docker = DockerStackPart(
        gateway_address=spec.docker.bind_address,
        gateway_port=spec.docker.port,
        gateway_start_seconds=gateway_start_seconds(timeouts),
        shared_endpoint=shared,
    )
    return None, docker
