"""Who owns a Deployment's replica count: its own spec, or an autoscaler targeting it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from components.guardrails.subject import Subject, same_namespace
from components.guardrails.wire import as_int, mapping

# KEDA holds a paused ScaledObject's target at this count (modelstack's idle blue-green slot).
KEDA_PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"
# Defaults when the field is unset: HPA minReplicas 1, KEDA minReplicaCount 0.
_HPA_DEFAULT_MIN = 1
_KEDA_DEFAULT_MIN = 0


@dataclass(frozen=True)
class Autoscaler:
    subject: Subject
    target_kind: str
    target_name: str
    # The fewest replicas it lets the target run with.
    minimum: int
    # A paused autoscaler pins the count; zero then means "not serving" on purpose.
    paused: bool

    def owns(self, deployment: Subject) -> bool:
        return (
            self.target_kind == deployment.kind
            and self.target_name == deployment.object_name
            and same_namespace(self.subject, deployment)
        )


def autoscaler_of(subject: Subject) -> Autoscaler | None:
    """The HPA or KEDA ScaledObject `subject` is, or None."""
    target = mapping(subject.spec("scaleTargetRef"))
    name = target.get("name")
    if not name:
        return None
    if subject.is_kubernetes("HorizontalPodAutoscaler", "autoscaling"):
        minimum = as_int(subject.spec("minReplicas"))
        return Autoscaler(
            subject,
            str(target.get("kind") or ""),
            str(name),
            _HPA_DEFAULT_MIN if minimum is None else minimum,
            paused=False,
        )
    if subject.is_kubernetes("ScaledObject", "keda.sh"):
        paused = as_int(subject.annotations.get(KEDA_PAUSED_REPLICAS))
        minimum = as_int(subject.spec("minReplicaCount"))
        minimum = _KEDA_DEFAULT_MIN if minimum is None else minimum
        idle = as_int(subject.spec("idleReplicaCount"))
        if idle is not None:
            # KEDA drops to the idle count while no trigger is active.
            minimum = min(minimum, idle)
        return Autoscaler(
            subject,
            # KEDA's default target kind.
            str(target.get("kind") or "Deployment"),
            str(name),
            minimum if paused is None else paused,
            paused=paused is not None,
        )
    return None


def autoscalers(subjects: Sequence[Subject]) -> list[Autoscaler]:
    found = (autoscaler_of(s) for s in subjects)
    return [a for a in found if a is not None]


class AutoscalerIndex:
    """The stack's autoscalers by target (kind, name), built once per check.

    Finding a Deployment's owners is then a lookup instead of a scan of every autoscaler:
    that scan, once per Deployment, made the guardrails quadratic (2,000,000 `owns` calls
    at 500 deployments).
    """

    def __init__(self, subjects: Sequence[Subject]) -> None:
        self._by_target: dict[tuple[str, str], list[Autoscaler]] = {}
        for scaler in autoscalers(subjects):
            key = (scaler.target_kind, scaler.target_name)
            self._by_target.setdefault(key, []).append(scaler)

    def owners_of(self, deployment: Subject) -> list[Autoscaler]:
        """The autoscalers that own `deployment`'s replica count, in the stack's order."""
        targeting = self._by_target.get((deployment.kind, deployment.object_name), [])
        # `owns` still decides: the namespace rule (an unset one matches) lives there once.
        return [scaler for scaler in targeting if scaler.owns(deployment)]


def is_replicated(subject: Subject) -> bool:
    """A workload with a replica count: a Deployment, or a LeaderWorkerSet (in groups)."""
    return subject.is_kubernetes("Deployment", "apps") or subject.is_kubernetes(
        "LeaderWorkerSet", "leaderworkerset.x-k8s.io"
    )


def deployments(subjects: Sequence[Subject]) -> list[Subject]:
    return [s for s in subjects if is_replicated(s)]


def stopped_on_purpose(deployment: Subject, owners: Sequence[Autoscaler]) -> bool:
    """Zero replicas by the stack's choice (an idle slot, a stopped deployment):
    nothing serves, so there is no availability to protect."""
    if owners:
        return all(owner.paused and owner.minimum == 0 for owner in owners)
    return as_int(deployment.spec("replicas")) == 0
