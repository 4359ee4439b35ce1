"""pod-disruption-budget: node drains and cluster upgrades must not evict every replica at once."""

from __future__ import annotations

from collections.abc import Sequence

from components.guardrails.definitions import StackGuardrail
from components.guardrails.pods import pod_labels
from components.guardrails.scaling import AutoscalerIndex, deployments, stopped_on_purpose
from components.guardrails.selector_index import SelectorIndex
from components.guardrails.selectors import selects
from components.guardrails.subject import Subject, same_namespace, stack_deployment


def check_disruption_budgets(subjects: Sequence[Subject]) -> list[tuple[Subject, str]]:
    # Both indexed once: scanning every budget and autoscaler per Deployment was quadratic.
    budgets = SelectorIndex(
        [s for s in subjects if s.is_kubernetes("PodDisruptionBudget", "policy")]
    )
    scalers = AutoscalerIndex(subjects)
    findings = []
    for deployment in deployments(subjects):
        if stopped_on_purpose(deployment, scalers.owners_of(deployment)):
            continue
        labels = pod_labels(deployment)
        covered = any(
            same_namespace(budget, deployment) and selects(budget.spec("selector"), labels)
            for budget in budgets.candidates(labels)
        )
        if not covered:
            findings.append(
                (
                    deployment,
                    "no PodDisruptionBudget selects its pods: keep"
                    " `modelstack:environment` at staging or prod (they add one per workload) for"
                    f" {stack_deployment(deployment)}, or add a budget whose selector matches"
                    " its pod labels",
                )
            )
    return findings


POD_DISRUPTION_BUDGET = StackGuardrail(
    name="pod-disruption-budget",
    description=(
        "A PodDisruptionBudget in the same namespace selects the pods of every serving"
        " Deployment, so voluntary evictions (drains, upgrades) keep some replicas up."
    ),
    remediation=(
        "Use `modelstack:environment: prod` (or staging), which renders a PodDisruptionBudget"
        " per workload."
    ),
    check=check_disruption_budgets,
)
