"""engine-probes: a model takes minutes to load; without probes traffic reaches engines that
cannot answer, and a wedged engine is never restarted."""

from __future__ import annotations

from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.pods import containers, pod_labels, pod_spec
from components.guardrails.scaling import is_replicated
from components.guardrails.subject import Subject, stack_deployment
from components.identity import COMPONENT, ENGINE_COMPONENT

ENGINE_CONTAINER = "engine"
PROBES = ("startupProbe", "readinessProbe", "livenessProbe")


def is_engine_deployment(subject: Subject) -> bool:
    """A Deployment, or a LeaderWorkerSet (whose leaders serve and are the ones probed: its
    workers join the leader's engine and answer no HTTP), labelled as an engine."""
    if not is_replicated(subject):
        return False
    labelled = subject.labels.get(COMPONENT) or pod_labels(subject).get(COMPONENT)
    return labelled == ENGINE_COMPONENT


def check_engine_probes(subject: Subject) -> list[str]:
    spec = pod_spec(subject)
    if spec is None or not is_engine_deployment(subject):
        return []
    where = stack_deployment(subject)
    engines = [c for c in containers(spec) if c.name == ENGINE_CONTAINER and c.role == "container"]
    if not engines:
        return [
            f"is labelled {COMPONENT}={ENGINE_COMPONENT} but has no"
            f" container named '{ENGINE_CONTAINER}' to probe ({where})"
        ]
    missing = [probe for probe in PROBES if not engines[0].body.get(probe)]
    if not missing:
        return []
    return [
        f"{engines[0].label} has no {', '.join(missing)}: modelstack derives probes from the"
        f" engine's health path and `startupTimeoutSeconds`; check `engine:` on {where}"
    ]


ENGINE_PROBES = ResourceGuardrail(
    name="engine-probes",
    description=(
        "The 'engine' container of every Deployment (and LeaderWorkerSet leader) labelled"
        f" {COMPONENT}={ENGINE_COMPONENT} has startup, readiness and liveness probes."
    ),
    remediation=(
        "Use an engine modelstack knows (`engine:`) and a `startupTimeoutSeconds` long enough"
        " for loading; probes are derived from them."
    ),
    check=check_engine_probes,
)
