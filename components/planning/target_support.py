"""Planning step: refuse what the deployment's target cannot do, instead of dropping it.

Whether a target can is its profile's (target_profiles.py), and so is the message; this step
only finds where the stack file asks for it.
"""

from __future__ import annotations

from components.planning.inference_routing import ALGORITHM as INFERENCE_AWARE
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.target_profiles import Capability
from components.spec import EnvSource, PlacementSpec


def check_target_support(ctx: PlanningContext, issues: IssueCollector) -> None:
    spec = ctx.spec
    profile = ctx.profile
    if spec.autoscaling is not None:
        _refuse(issues, profile.autoscaling, "autoscaling")
    slot_envs = [(("rollout", "slots", n), slot.env) for n, slot in spec.rollout.slots.items()]
    for path, env in [((), spec.env), *slot_envs]:
        for name, value in env.items():
            if isinstance(value, EnvSource):
                _refuse(issues, profile.env_references, *path, "env", name)
    if spec.patches:
        _refuse(issues, profile.patches, "patches")
    if spec.placement != PlacementSpec():
        _refuse(issues, profile.placement, "placement")
    if spec.cache is not None and spec.cache.storage_class is not None:
        _refuse(issues, profile.storage_classes, "cache", "storageClass")
    if spec.rollout.max_surge is not None:
        _refuse(issues, profile.surge_settings, "rollout", "maxSurge")
    if spec.rollout.max_unavailable is not None:
        _refuse(issues, profile.surge_settings, "rollout", "maxUnavailable")
    if spec.image_pull_secrets:
        _refuse(issues, profile.pull_secrets, "imagePullSecrets")
    if spec.load_balancer.stickiness == "cookie":
        _refuse(issues, profile.cookie_stickiness, "loadBalancer", "stickySessions")
    if spec.load_balancer.algorithm == INFERENCE_AWARE:
        _refuse(issues, profile.inference_routing, "loadBalancer", "algorithm")
    gpus = [(("gpu",), spec.gpu)] + [(("pools", i, "gpu"), p.gpu) for i, p in enumerate(spec.pools)]
    for path, gpu in gpus:
        if gpu is not None and gpu.nodes > 1:
            _refuse(issues, profile.multi_node, *path, "nodes")


def _refuse(issues: IssueCollector, capability: Capability, *path: str | int) -> None:
    if capability.refusal is not None:
        issues.report(*path, message=capability.refusal)
