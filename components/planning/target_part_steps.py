"""Planning steps for what only one target reads: the KubernetesPart and the DockerPart."""

from __future__ import annotations

from components import identity
from components.catalog.engines import Engine
from components.planning.alerts_plan import AlertsPlan
from components.planning.engine_steps import ApiKeyDelivery
from components.planning.helper_images import WAIT
from components.planning.planning_context import PlanningContext
from components.planning.progressive_plan import ProgressivePlan
from components.planning.serving_steps import network_peers, plan_monitoring
from components.planning.slot_steps import slot_specs
from components.planning.target_parts import DockerPart, KubernetesPart, SpreadPlan
from components.planning.timeouts import WAIT_MARGIN_SECONDS, TimeoutPlan
from components.spec import RegistrySpec
from components.spec_progressive import workload_strategy

# Best effort: spread a workload's replicas over nodes, never leave a pod Pending for it.
NODE_SPREAD = SpreadPlan(topology_key="kubernetes.io/hostname", max_skew=1, required=False)
# Node drains and upgrades take at most one pod of a slot down at a time.
DISRUPTION_BUDGET = 1
# How long in-flight generations may take to finish when an engine stops. A pod's grace also
# covers its preStop pause (kubernetes/manifests/pod.py), while endpoints drop it.
KUBERNETES_TERMINATION_GRACE_SECONDS = 60
DOCKER_STOP_GRACE_SECONDS = 30


def pull_secret_name(registry: RegistrySpec) -> str:
    """The pull Secret pods reference: one modelstack creates, or one already in the namespace."""
    return registry.existing_secret or identity.registry_secret(registry.name)


def plan_kubernetes_part(
    ctx: PlanningContext,
    engine: Engine,
    api_key: ApiKeyDelivery | None,
    any_gpu: bool,
    alerts: AlertsPlan | None = None,
    progressive: ProgressivePlan | None = None,
) -> KubernetesPart:
    spec = ctx.spec
    rollout = spec.rollout
    environment = ctx.environment
    return KubernetesPart(
        # A surge pod on a full GPU node stays Pending forever: replace in place instead.
        max_surge=rollout.max_surge if rollout.max_surge is not None else int(not any_gpu),
        max_unavailable=(
            rollout.max_unavailable if rollout.max_unavailable is not None else int(any_gpu)
        ),
        slot_services=(
            {}
            if workload_strategy(rollout.strategy, rollout.progressive) == "rolling"
            else {slot: identity.slot_service(spec.name, slot) for slot in slot_specs(ctx)}
        ),
        disruption_budget=DISRUPTION_BUDGET if environment.pod_disruption_budget else None,
        spread=NODE_SPREAD if environment.spread_across_nodes else None,
        protect_secrets=environment.protect_secrets,
        termination_grace_seconds=KUBERNETES_TERMINATION_GRACE_SECONDS,
        wait_image=WAIT.pinned(environment.pin_helper_digests),
        image_pull_secrets=tuple(
            dict.fromkeys((*map(pull_secret_name, ctx.stack.registries), *spec.image_pull_secrets))
        ),
        monitoring=plan_monitoring(ctx, engine),
        alerts=alerts,
        network_peers=network_peers(ctx),
        api_key_secret=api_key.secret if api_key else None,
        patches=tuple(spec.patches),
        progressive=progressive,
    )


def plan_docker_part(timeouts: TimeoutPlan) -> DockerPart:
    return DockerPart(
        loader_wait_seconds=timeouts.loader_seconds + WAIT_MARGIN_SECONDS,
        stop_grace_seconds=DOCKER_STOP_GRACE_SECONDS,
    )
