"""The stack's shared endpoint: which deployment serves each model name, decided once.

Clients call one base URL and name the model in the JSON body's `model` field. A name two
deployments serve would make the route ambiguous, so it is a stack-file error naming both;
a canary's or blue-green's slots are one deployment and serve one name. A name is what
the engine lists in /v1/models (`EnginePlan.model_id`), the served name it stands for
(Ollama adds `:latest`) and each LoRA adapter's request id (`AdapterPlan.model_id`: its
name on vLLM, `<served name>:<name>` on SGLang). A stopped deployment's names are
still routed (its route answers why it is stopped) but not listed.
"""

from __future__ import annotations

from dataclasses import replace

from components.catalog import body_based_router
from components.environments import ENVIRONMENTS
from components.errors import ConfigIssue, key_path
from components.planning.plan_model import DeploymentPlan
from components.planning.shared_endpoint_plan import SharedEndpointPlan, SharedModel
from components.planning.target_profiles import TargetProfile
from components.spec import StackSpec
from components.spec_traffic import RouteSpec

# The stack's shared objects on Kubernetes (HTTPRoute, filters, policy, body-based router):
# a deployment of that name would claim the same object names.
OBJECT_PREFIX = "modelstack-shared-endpoint"
# Gateway API: one HTTPRoute holds at most 16 rules and fewer than 128 matches; the shared
# route has one rule per deployment (a match per model name), /models and the 404.
MAX_DEPLOYMENTS = 14
MAX_NAMES = 125
# A deployment without a route of its own gets the route's default timeout.
DEFAULT_TIMEOUT_SECONDS = RouteSpec.model_fields["timeout_seconds"].default
STANDARD_REFUSAL = (
    "routing by the body's `model` needs Envoy Gateway (an ext-proc reads the body): "
    "set kubernetes.gateway.implementation: envoy-gateway, or call each deployment's route"
)


def shared_endpoint_for(
    spec: StackSpec, profile: TargetProfile, planned: list[tuple[int, DeploymentPlan]]
) -> tuple[SharedEndpointPlan | None, list[ConfigIssue]]:
    """The stack's shared endpoint on its target, if the stack file asks for one."""
    if not profile.kubernetes_objects:
        docker = spec.docker.shared_endpoint
        if docker is None:
            return None, []
        return plan_shared_endpoint(docker.path, (), ("docker", "sharedEndpoint"), planned)
    gateway = spec.kubernetes.gateway
    if gateway is None or gateway.shared_endpoint is None:
        return None, []
    where = ("kubernetes", "gateway", "sharedEndpoint")
    if gateway.implementation != "envoy-gateway":
        return None, [ConfigIssue(key_path(*where), STANDARD_REFUSAL)]
    settings = gateway.shared_endpoint
    plan, issues = plan_shared_endpoint(settings.path, tuple(settings.hosts), where, planned)
    issues += [
        ConfigIssue(
            key_path("deployments", index, "name"),
            f"names starting with {OBJECT_PREFIX} are the shared endpoint's objects "
            f"({key_path(*where)}): rename the deployment",
        )
        for index, deployment in planned
        if deployment.name.startswith(OBJECT_PREFIX)
    ]
    if plan is not None:
        issues += _route_limits(plan, where)
    if issues or plan is None:
        return None, issues
    environment = ENVIRONMENTS[spec.environment]
    return replace(
        plan,
        gateway=(gateway.name, gateway.namespace),
        router_image=body_based_router.IMAGE,
        # Stateless; every request of the route waits for it: as many as the environment's
        # default replicas, with a disruption budget where it keeps them.
        router_replicas=environment.default_replicas,
        router_disruption_budget=environment.pod_disruption_budget,
    ), []


def _route_limits(plan: SharedEndpointPlan, where: tuple[str, ...]) -> list[ConfigIssue]:
    deployments, names = len(plan.deployments), len(plan.models)
    if deployments <= MAX_DEPLOYMENTS and names <= MAX_NAMES:
        return []
    return [
        ConfigIssue(
            key_path(*where),
            f"{deployments} deployments and {names} model names: one HTTPRoute routes at most "
            f"{MAX_DEPLOYMENTS} deployments and {MAX_NAMES} names (Gateway API's 16 rules and "
            "128 matches); serve the others through their own routes or another stack",
        )
    ]


def plan_shared_endpoint(
    path: str,
    hosts: tuple[str, ...],
    where: tuple[str, ...],
    planned: list[tuple[int, DeploymentPlan]],
) -> tuple[SharedEndpointPlan | None, list[ConfigIssue]]:
    """`where`: the settings' key path (e.g. kubernetes.gateway.sharedEndpoint);
    `planned`: (stack-file index, plan) of every deployment that planned."""
    issues: list[ConfigIssue] = []
    owners: dict[str, tuple[int, str]] = {}
    models: list[SharedModel] = []
    for index, deployment in planned:
        for model in _names(deployment):
            owner = owners.setdefault(model.name, (index, deployment.name))
            if owner[0] == index:
                if all(known.name != model.name for known in models):
                    models.append(model)
                continue
            issues.append(
                ConfigIssue(
                    key_path("deployments", index, "model"),
                    f"'{model.name}' is also served by deployments[{owner[0]}] ({owner[1]}): "
                    f"{key_path(*where)} routes by model name, so each name needs one "
                    "deployment (set model.servedName to tell them apart)",
                )
            )
        issues += _path_taken(path, hosts, where, index, deployment)
    if issues:
        return None, issues
    ordered = tuple(sorted(models, key=lambda model: model.name))
    timeouts = {
        deployment.name: deployment.route.timeout_seconds
        if deployment.route
        else DEFAULT_TIMEOUT_SECONDS
        for _, deployment in planned
    }
    return SharedEndpointPlan(path=path, hosts=hosts, models=ordered, timeouts=timeouts), []


def _names(deployment: DeploymentPlan) -> list[SharedModel]:
    listed = deployment.state != "stopped"
    names = []
    for slot in deployment.slots:
        engine_id, served = slot.engine.model_id, slot.model.served_name
        names.append(SharedModel(engine_id, deployment.name, listed))
        if served != engine_id:
            names.append(SharedModel(served, deployment.name, listed=False))
    base = deployment.serving.engine.model_id
    names += [
        SharedModel(adapter.model_id, deployment.name, listed, adapter_of=base)
        for adapter in deployment.adapters
    ]
    return names


def _path_taken(
    path: str,
    hosts: tuple[str, ...],
    where: tuple[str, ...],
    index: int,
    deployment: DeploymentPlan,
) -> list[ConfigIssue]:
    """A deployment's route on the shared path (and host) would claim the same requests."""
    route = deployment.route
    if route is None or route.path.lower() != path.lower():
        return []
    shared_hosts = set(hosts) or {"*"}
    if not shared_hosts & (set(route.hosts) or {"*"}):
        return []
    return [
        ConfigIssue(
            key_path(*where, "path"),
            f"'{path}' is also the route of deployments[{index}] ({deployment.name}): "
            "give the shared endpoint or the deployment another path",
        )
    ]
