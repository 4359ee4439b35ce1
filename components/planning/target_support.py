"""Planning step: refuse what the deployment's target cannot do, instead of dropping it."""

from __future__ import annotations

from components.planning.planning_context import IssueCollector, PlanningContext
from components.spec import EnvSource, PlacementSpec


def check_target_support(ctx: PlanningContext, issues: IssueCollector) -> None:
    spec = ctx.spec
    if ctx.target != "docker":
        return
    if spec.autoscaling is not None:
        issues.report(
            "autoscaling",
            message="is not available on the docker target: set replicas (and pools) instead",
        )
    slot_envs = [(("rollout", "slots", n), slot.env) for n, slot in spec.rollout.slots.items()]
    for path, env in [((), spec.env), *slot_envs]:
        for name, value in env.items():
            if isinstance(value, EnvSource):
                issues.report(
                    *path,
                    "env",
                    name,
                    message="Secret and ConfigMap references need Kubernetes: on the "
                    "docker target give a literal value",
                )
    if spec.patches:
        issues.report(
            "patches",
            message="patches are JSON patches of Kubernetes objects, and docker containers "
            "are not: remove them on the docker target",
        )
    if spec.placement != PlacementSpec():
        issues.report("placement", message="placement applies to Kubernetes nodes only")
    _refuse_kubernetes_only(ctx, issues)
    if spec.load_balancer.stickiness == "cookie":
        issues.report(
            "loadBalancer",
            "stickySessions",
            message="nginx open source cannot pin clients by cookie on the docker target: "
            "use stickySessions: true (by client address)",
        )


def _refuse_kubernetes_only(ctx: PlanningContext, issues: IssueCollector) -> None:
    """Fields the docker target would otherwise drop without a word."""
    spec = ctx.spec
    if spec.cache is not None and spec.cache.storage_class is not None:
        issues.report(
            "cache",
            "storageClass",
            message="a Docker volume has no storage class on the docker target: remove it",
        )
    for key, value in (
        ("maxSurge", spec.rollout.max_surge),
        ("maxUnavailable", spec.rollout.max_unavailable),
    ):
        if value is not None:
            issues.report(
                "rollout",
                key,
                message="the docker target starts every new container and waits until "
                "healthy before the gateway switches and old ones go: remove it",
            )
    if spec.image_pull_secrets:
        issues.report(
            "imagePullSecrets",
            message="pull Secrets are Kubernetes objects: on the docker target use "
            "modelstack:registries (or `docker login`)",
        )
