"""at-least-two-replicas: one replica is one node drain or one OOM away from an outage."""

from __future__ import annotations

from collections.abc import Sequence

from components.guardrails.definitions import StackGuardrail
from components.guardrails.scaling import AutoscalerIndex, deployments, stopped_on_purpose
from components.guardrails.subject import Subject, stack_deployment
from components.guardrails.wire import as_int

MIN_REPLICAS = 2


def check_replicas(subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
    scalers = AutoscalerIndex(subjects)
    findings = []
    for deployment in deployments(subjects):
        owners = scalers.owners_of(deployment)
        if stopped_on_purpose(deployment, owners):
            continue
        where = stack_deployment(deployment)
        if owners:
            # The autoscaler owns the count; spec.replicas (if any) no longer matters.
            for owner in owners:
                if owner.minimum < MIN_REPLICAS:
                    findings.append(
                        (
                            deployment,
                            f"{owner.subject.display} lets it scale down to"
                            f" {owner.minimum} replica(s): set `autoscaling.min: {MIN_REPLICAS}`"
                            f" or more (and no scaleToZero) on {where}",
                        )
                    )
            continue
        replicas = as_int(deployment.spec("replicas"))
        if replicas is None:
            findings.append(
                (
                    deployment,
                    "has no spec.replicas and no HorizontalPodAutoscaler or"
                    " ScaledObject targets it, so Kubernetes runs 1 replica: set"
                    f" `replicas: {MIN_REPLICAS}` or `autoscaling.min: {MIN_REPLICAS}` on {where}",
                )
            )
        elif replicas < MIN_REPLICAS:
            findings.append(
                (
                    deployment,
                    f"runs {replicas} replica(s): set"
                    f" `replicas: {MIN_REPLICAS}` or more (or `autoscaling.min: {MIN_REPLICAS}`)"
                    f" on {where}",
                )
            )
    return findings


AT_LEAST_TWO_REPLICAS = StackGuardrail(
    name="at-least-two-replicas",
    description=(
        "Every serving Deployment runs at least two replicas: a fixed spec.replicas >= 2, or an"
        " HPA / KEDA ScaledObject targeting it with a minimum >= 2. Deployments scaled to zero"
        " on purpose (an idle blue-green slot) are exempt."
    ),
    remediation="Set `replicas: 2` or `autoscaling.min: 2` on the deployment in the stack file.",
    check=check_replicas,
)
