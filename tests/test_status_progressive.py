"""`modelstack status` for a progressive canary (rollout.progressive): Flagger's primary serves,
the Canary's phase says where an analysis stands.

The objects are what the API server returns: the target Deployment, the Canary and the loader
Job as modelstack renders them (deployment_objects), the primary and its pods as Flagger
v1.44 makes them (pkg/canary/deployment_controller.go: its own labels only
`app.kubernetes.io/name: <name>-primary`, the target's template labels with that one
changed), and the statuses the Deployment controller and Flagger write (the Promoted
condition's messages are Flagger's, from pkg/canary/status.go).
"""

from __future__ import annotations

import copy
import json
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from components.commands.status import EXIT_CODES, text
from components.identity import APP_NAME
from components.kubernetes.deployment_objects import deployment_objects
from components.planning.stack_validation import validated_plan
from components.status.kubernetes_facts import ClusterSnapshot, derive_stack
from components.status.model import (
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    InstanceRole,
    Outcome,
    Remedy,
    SlotReport,
    StackExpectation,
    StackReport,
    report_as_json,
)

NAMESPACE = "ml-staging"
NAME = "llama-chat"
PRIMARY = f"{NAME}-primary"
READ_AT = datetime(2026, 3, 2, 12, 0, tzinfo=UTC)
CREATED = READ_AT - timedelta(hours=3)
# The Canary's progressDeadlineSeconds (the plan's rollout window) and one 5m interval.
STUCK_AFTER = 2400 + 300

STACK: dict[str, Any] = {
    "environment": "staging",
    "target": "kubernetes",
    "kubernetes": {
        "namespace": NAMESPACE,
        "cloud": "gke",
        "gateway": {"name": "inference-gateway", "namespace": "gateways"},
        "prometheus": "http://prometheus.monitoring:9090",
    },
    "deployments": [
        {
            "name": NAME,
            "model": {
                "source": "hf://meta-llama/Llama-3.1-8B-Instruct",
                "parameters": "8B",
                "revision": "main",
            },
            "engine": "vllm",
            "gpu": {"type": "L4", "count": 1},
            "replicas": 2,
            "route": {"path": "/chat", "hosts": ["llm.example.com"]},
            "rollout": {
                "strategy": "canary",
                "progressive": {
                    "steps": [10, 25, 50],
                    "interval": "5m",
                    "maxErrorRate": 1,
                    "maxLatencyP95": 2,
                },
            },
        }
    ],
}
PLAN, _ = validated_plan(copy.deepcopy(STACK), set(), "stacks/Pulumi.staging.yaml")
EXPECTATION = StackExpectation.from_plan("staging", PLAN)
RENDERED = {body["kind"]: body for body in deployment_objects(PLAN.deployments[0])}

# Flagger's words for each phase in the Promoted condition (status, message).
PROMOTED = {
    "Initializing": ("Unknown", "New Deployment detected, starting initialization."),
    "Initialized": ("True", "Deployment initialization completed."),
    "WaitingPromotion": ("Unknown", "Waiting for approval."),
    "Progressing": ("Unknown", "New revision detected, progressing canary analysis."),
    "Promoting": ("Unknown", "Canary analysis completed, starting primary rolling update."),
    "Succeeded": ("True", "Canary analysis completed successfully, promotion finished."),
    "Failed": ("False", "Canary analysis failed, Deployment scaled to zero."),
}


def iso(moment: datetime) -> str:
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


# -- API objects -----------------------------------------------------------------------------


def rendered(kind: str) -> dict[str, Any]:
    body = copy.deepcopy(RENDERED[kind])
    body["metadata"]["creationTimestamp"] = iso(CREATED)
    return body


def observed(workload: dict[str, Any], replicas: int, ready: int) -> dict[str, Any]:
    """A Deployment as the Deployment controller reports it, every replica on its template."""
    workload = copy.deepcopy(workload)
    workload["metadata"]["generation"] = 1
    workload["spec"]["replicas"] = replicas
    status: dict[str, Any] = {
        "observedGeneration": 1,
        "conditions": [
            {"type": "Progressing", "status": "True", "reason": "NewReplicaSetAvailable"}
        ],
    }
    if replicas:  # the API leaves zero counts out
        status.update(replicas=replicas, updatedReplicas=replicas)
    if ready:
        status.update(readyReplicas=ready, availableReplicas=ready)
    workload["status"] = status
    return workload


def target(replicas: int, ready: int | None = None) -> dict[str, Any]:
    """The Deployment modelstack keeps and Flagger scales: the candidate."""
    return observed(rendered("Deployment"), replicas, replicas if ready is None else ready)


def flaggers_primary(ready: int = 2) -> dict[str, Any]:
    source = rendered("Deployment")
    template = source["spec"]["template"]
    template["metadata"]["labels"][APP_NAME] = PRIMARY
    primary = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {
            "name": PRIMARY,
            "namespace": NAMESPACE,
            "creationTimestamp": iso(CREATED),
            "labels": {APP_NAME: PRIMARY},
            "ownerReferences": [
                {
                    "apiVersion": "flagger.app/v1beta1",
                    "kind": "Canary",
                    "name": NAME,
                    "uid": "0b6f3c2e-8d41-4c3a-9f1e-5a7d2c9b8e10",
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": {
            "replicas": 2,
            "progressDeadlineSeconds": source["spec"]["progressDeadlineSeconds"],
            "selector": {"matchLabels": {APP_NAME: PRIMARY}},
            "template": template,
        },
    }
    return observed(primary, 2, ready)


def pods_of(workload: dict[str, Any], count: int, ready: bool = True) -> list[dict[str, Any]]:
    """Running pods of a Deployment's template, their model files found in the cache."""
    template = workload["spec"]["template"]
    name = workload["metadata"]["name"]
    pods = []
    for index in range(count):
        init = [
            {
                **container_status(container),
                "ready": True,
                "state": {"terminated": {"exitCode": 0, "reason": "Completed"}},
            }
            for container in template["spec"].get("initContainers", [])
        ]
        (engine_container,) = template["spec"]["containers"]
        engine = {
            **container_status(engine_container),
            "ready": ready,
            "started": ready,
            "state": {"running": {"startedAt": iso(READ_AT - timedelta(minutes=20))}},
        }
        pods.append(
            {
                "apiVersion": "v1",
                "kind": "Pod",
                "metadata": {
                    "name": f"{name}-7f9c6d5b8-{'abcdef'[index]}x2k9",
                    "namespace": NAMESPACE,
                    "labels": {**template["metadata"]["labels"], "pod-template-hash": "7f9c6d5b8"},
                },
                "spec": {**copy.deepcopy(template["spec"]), "nodeName": f"gke-l4-{index}"},
                "status": {
                    "phase": "Running",
                    "conditions": [
                        {"type": "PodScheduled", "status": "True"},
                        {"type": "Ready", "status": str(ready)},
                    ],
                    "initContainerStatuses": init,
                    "containerStatuses": [engine],
                },
            }
        )
    return pods


def container_status(container: dict[str, Any]) -> dict[str, Any]:
    """What the kubelet reports of every container, whatever its state."""
    return {
        "name": container["name"],
        "image": container["image"],
        "imageID": f"docker.io/{container['image']}@sha256:{'7d' * 32}",
        "containerID": f"containerd://{'4e' * 32}",
        "restartCount": 0,
    }


def crash_looping(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["status"]["containerStatuses"][0].update(
        ready=False,
        started=False,
        restartCount=4,
        state={"waiting": {"reason": "CrashLoopBackOff", "message": "back-off 2m40s"}},
        lastState={"terminated": {"exitCode": 1, "reason": "Error"}},
    )
    return pod


def canary(
    phase: str | None,
    *,
    weight: int = 0,
    failed: int = 0,
    changed: datetime = READ_AT - timedelta(minutes=2),
) -> dict[str, Any]:
    """The rendered Canary; with a phase, the status Flagger writes for it."""
    body = rendered("Canary")
    body["metadata"]["creationTimestamp"] = iso(READ_AT - timedelta(minutes=10))
    if phase is None:
        return body
    promoted, message = PROMOTED[phase]
    body["status"] = {
        "phase": phase,
        "canaryWeight": weight,
        "failedChecks": failed,
        "iterations": 0,
        "lastAppliedSpec": "5d8f7b9c6",
        "lastPromotedSpec": "5d8f7b9c6",
        "lastTransitionTime": iso(changed),
        "conditions": [
            {
                "type": "Promoted",
                "status": promoted,
                "reason": phase,
                "message": message,
                "lastUpdateTime": iso(changed),
                "lastTransitionTime": iso(changed),
            }
        ],
    }
    return body


def flagger_event(message: str, minutes_ago: int, kind: str = "Warning") -> dict[str, Any]:
    at = iso(READ_AT - timedelta(minutes=minutes_ago))
    return {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"name": f"{NAME}.18a{minutes_ago:04d}", "namespace": NAMESPACE},
        "involvedObject": {
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "name": NAME,
            "namespace": NAMESPACE,
        },
        "reason": "Synced",
        "type": kind,
        "message": message,
        "source": {"component": "flagger"},
        "firstTimestamp": at,
        "lastTimestamp": at,
        "count": 1,
    }


def completed_loader() -> dict[str, Any]:
    job = rendered("Job")
    job["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    return job


def derive(
    deployments: list[dict[str, Any]],
    pods: list[dict[str, Any]],
    found_canary: dict[str, Any] | None,
    events: list[dict[str, Any]] = (),  # type: ignore[assignment]
    logs: dict[str, str] | None = None,
) -> StackReport:
    snapshot = ClusterSnapshot(
        deployments=deployments,
        pods=pods,
        jobs=[completed_loader()],
        events=list(events),
        canaries=[found_canary] if found_canary is not None else [],
        logs=logs or {},
        read_at=READ_AT,
    )
    return derive_stack(EXPECTATION, snapshot)


def only_slot(report: StackReport) -> SlotReport:
    (deployment,) = report.deployments
    (slot,) = deployment.slots
    return slot


def condition(slot: SlotReport, kind: ConditionType) -> tuple[bool, str, str]:
    found = next(c for c in slot.conditions if c.type is kind)
    return found.status, found.reason, found.message


def promoted_cluster(phase: str = "Succeeded") -> StackReport:
    primary = flaggers_primary()
    return derive([target(0), primary], pods_of(primary, 2), canary(phase))


# -- promoted: the primary serves, the target rests at zero ----------------------------------


def test_the_plan_names_the_canary_flagger_moves_and_its_window() -> None:
    (deployment,) = EXPECTATION.deployments
    assert deployment.canary is not None
    assert (deployment.canary.name, deployment.canary.target) == (NAME, NAME)
    assert deployment.canary.primary == PRIMARY
    assert deployment.canary.stuck_after_seconds == STUCK_AFTER


@pytest.mark.parametrize("phase", ["Succeeded", "Initialized"])
def test_a_promoted_canary_is_deployed_from_its_primary_not_stopped_by_its_target(
    phase: str,
) -> None:
    report = promoted_cluster(phase)
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.DEPLOYED
    assert report.outcome is Outcome.READY and EXIT_CODES[report.outcome] == 0
    # The stack's replicas against the primary's ready ones; the target at zero is no part.
    assert (slot.ready_replicas, slot.desired_replicas) == (2, 2)
    assert {i.name.rsplit("-", 2)[0] for i in slot.instances if i.role is InstanceRole.ENGINE} == {
        PRIMARY
    }
    ready, _, message = condition(slot, ConditionType.RUNTIME_READY)
    assert ready and PRIMARY in message
    assert condition(slot, ConditionType.ROUTING_READY)[:2] == (True, "RouteReady")
    assert slot.canary is not None and slot.canary.phase == phase
    assert slot.canary.summary.startswith(f"{phase}, 0% to the candidate, 0 failed checks")


def test_a_primary_short_of_the_stacks_replicas_is_still_coming_up() -> None:
    primary = flaggers_primary(ready=1)
    pods = pods_of(primary, 1) + pods_of(primary, 2, ready=False)[1:]
    slot = only_slot(derive([target(0), primary], pods, canary("Succeeded")))
    assert slot.status is DeploymentStatus.INITIALIZING
    assert (slot.ready_replicas, slot.desired_replicas) == (1, 2)


def test_the_text_and_json_reports_show_the_canary() -> None:
    report = promoted_cluster()
    assert "    canary: Succeeded, 0% to the candidate, 0 failed checks" in "\n".join(
        text(report)
    ).replace(" (Canary analysis completed successfully, promotion finished)", "")
    document = json.loads(json.dumps(report_as_json(report)))
    slot = document["deployments"][0]["slots"][0]
    assert slot["canary"]["phase"] == "Succeeded"
    assert (slot["canary"]["canaryWeight"], slot["canary"]["failedChecks"]) == (0, 0)
    assert slot["readyReplicas"] == 2
    # Added beside the fields a pipeline already reads, none renamed.
    assert {"status", "conditions", "instances", "problems", "setup"} <= set(slot)


# -- an analysis under way --------------------------------------------------------------------


def test_an_analysis_counts_the_candidate_and_is_still_progressing() -> None:
    primary, candidate = flaggers_primary(), target(2)
    pods = pods_of(primary, 2) + pods_of(candidate, 2)
    report = derive([candidate, primary], pods, canary("Progressing", weight=25))
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.DEPLOYING
    assert report.outcome is Outcome.PROGRESSING and EXIT_CODES[report.outcome] == 3
    assert (slot.ready_replicas, slot.desired_replicas) == (4, 4)
    assert len([i for i in slot.instances if i.role is InstanceRole.ENGINE]) == 4
    assert condition(slot, ConditionType.RUNTIME_READY)[:2] == (True, "RuntimeReady")
    routing = condition(slot, ConditionType.ROUTING_READY)
    assert routing[:2] == (False, "CanaryAnalysis")
    assert "Progressing, 25% to the candidate, 0 failed checks" in routing[2]
    assert slot.canary is not None and slot.canary.weight == 25


def test_a_candidate_loading_its_model_is_initializing() -> None:
    primary, candidate = flaggers_primary(), target(2, ready=0)
    pods = pods_of(primary, 2) + pods_of(candidate, 2, ready=False)
    slot = only_slot(derive([candidate, primary], pods, canary("Progressing")))
    assert slot.status is DeploymentStatus.INITIALIZING
    assert (slot.ready_replicas, slot.desired_replicas) == (2, 4)


def test_a_crashing_candidate_degrades_while_the_primary_answers() -> None:
    primary, candidate = flaggers_primary(), target(1, ready=0)
    pods = [*pods_of(primary, 2), crash_looping(pods_of(candidate, 1)[0])]
    report = derive([candidate, primary], pods, canary("Progressing", failed=1))
    slot = only_slot(report)
    assert [p.code for p in slot.problems] == [ErrorCode.CONTAINER_EXITED]
    assert slot.status is DeploymentStatus.DEGRADED
    assert condition(slot, ConditionType.DEGRADED)[:2] == (True, "ReplicasFailing")


# -- rolled back --------------------------------------------------------------------------


ROLLBACK_EVENTS = [
    flagger_event("New revision detected! Scaling up llama-chat.ml-staging", 30, "Normal"),
    flagger_event("Halt llama-chat.ml-staging advancement error-rate 4.20 > 1", 20),
    flagger_event("Halt llama-chat.ml-staging advancement error-rate 6.10 > 1", 15),
    flagger_event("Rolling back llama-chat.ml-staging failed checks threshold reached 2", 10),
    flagger_event("Canary failed! Scaling down llama-chat.ml-staging", 10),
]


def test_a_rolled_back_canary_is_degraded_with_what_failed_and_where_to_look() -> None:
    primary = flaggers_primary()
    report = derive([target(0), primary], pods_of(primary, 2), canary("Failed"), ROLLBACK_EVENTS)
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.DEGRADED
    assert report.deployments[0].status is DeploymentStatus.DEGRADED
    assert report.outcome is Outcome.DEGRADED and EXIT_CODES[report.outcome] == 5
    (problem,) = slot.problems
    assert problem.code is ErrorCode.ROLLED_BACK
    assert problem.source == f"canary/{NAME}"
    assert "Canary analysis failed, Deployment scaled to zero" in problem.message
    assert f"`kubectl describe canary {NAME} -n {NAMESPACE}`" in problem.message
    # The newest causes, not the rollback notice that names none.
    assert "error-rate 6.10 > 1" in problem.message
    assert "threshold reached 2" in problem.message
    assert "Canary failed!" not in problem.message
    assert problem.code.guidance.remedy is Remedy.RECONFIGURE
    degraded = condition(slot, ConditionType.DEGRADED)
    assert degraded[:2] == (True, "RolledBack")
    assert degraded[2].startswith("2/2 replicas answer; ROLLED_BACK: Flagger rolled back")
    assert slot.canary is not None and slot.canary.phase == "Failed"


def test_a_rollback_with_no_primary_answering_is_failed() -> None:
    primary = flaggers_primary(ready=0)
    pods = [crash_looping(pod) for pod in pods_of(primary, 2)]
    slot = only_slot(derive([target(0), primary], pods, canary("Failed"), ROLLBACK_EVENTS))
    assert slot.status is DeploymentStatus.FAILED
    assert ErrorCode.ROLLED_BACK in [p.code for p in slot.problems]


# -- Flagger has not been here ----------------------------------------------------------------


def test_a_canary_without_status_says_flagger_has_not_picked_it_up() -> None:
    # No Flagger: nothing scaled the target down, nothing created a primary or a route.
    candidate = target(2)
    report = derive([candidate], pods_of(candidate, 2), canary(None))
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.DEPLOYING
    assert report.outcome is Outcome.PROGRESSING
    routing = condition(slot, ConditionType.ROUTING_READY)
    assert routing[:2] == (False, "ConfiguringRoute")
    assert "no status yet: Flagger has not picked up Canary llama-chat" in routing[2]
    assert slot.canary is not None
    assert (slot.canary.phase, slot.canary.last_transition) == (None, None)
    assert condition(slot, ConditionType.READY)[2] == routing[2]


def test_a_canary_flagger_never_picks_up_is_overdue_after_its_window() -> None:
    candidate = target(2)
    late = canary(None)
    late["metadata"]["creationTimestamp"] = iso(READ_AT - timedelta(seconds=STUCK_AFTER + 60))
    report = derive([candidate], pods_of(candidate, 2), late)
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.OVERDUE
    assert report.outcome is Outcome.OVERDUE and EXIT_CODES[report.outcome] == 3
    progressing = condition(slot, ConditionType.PROGRESSING)
    assert progressing[:2] == (False, "ProgressDeadlineExceeded")
    assert "has no status" in progressing[2] and f"{STUCK_AFTER}s window" in progressing[2]


def test_a_missing_canary_is_named() -> None:
    candidate = target(2)
    slot = only_slot(derive([candidate], pods_of(candidate, 2), None))
    assert slot.status is DeploymentStatus.DEPLOYING
    assert slot.canary is not None and "Canary llama-chat not found" in slot.canary.summary


# -- stuck ----------------------------------------------------------------------------------


@pytest.mark.parametrize("phase", ["Progressing", "Initializing"])
def test_a_canary_at_work_without_change_past_its_window_is_overdue(phase: str) -> None:
    primary, candidate = flaggers_primary(), target(2)
    pods = pods_of(primary, 2) + pods_of(candidate, 2)
    stale = READ_AT - timedelta(seconds=STUCK_AFTER + 120)
    events = [flagger_event("Halt advancement no values found for custom metric: error-rate", 50)]
    report = derive([candidate, primary], pods, canary(phase, weight=10, changed=stale), events)
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.OVERDUE
    assert report.outcome is Outcome.OVERDUE and EXIT_CODES[report.outcome] == 3
    evidence = condition(slot, ConditionType.PROGRESSING)[2]
    assert f"has been {phase} with no change for {STUCK_AFTER + 120}s" in evidence
    assert "no values found" in evidence


def test_a_canary_at_work_within_its_window_is_not_overdue() -> None:
    primary, candidate = flaggers_primary(), target(2)
    pods = pods_of(primary, 2) + pods_of(candidate, 2)
    recent = READ_AT - timedelta(seconds=STUCK_AFTER - 60)
    report = derive([candidate, primary], pods, canary("Progressing", changed=recent))
    assert only_slot(report).status is DeploymentStatus.DEPLOYING


def test_a_canary_waiting_for_a_person_is_not_overdue() -> None:
    primary, candidate = flaggers_primary(), target(2)
    pods = pods_of(primary, 2) + pods_of(candidate, 2)
    stale = READ_AT - timedelta(days=1)
    report = derive([candidate, primary], pods, canary("WaitingPromotion", changed=stale))
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.DEPLOYING
    assert "Waiting for approval" in condition(slot, ConditionType.ROUTING_READY)[2]


def test_a_target_at_zero_without_its_primary_is_not_stopped() -> None:
    # Flagger keeps a primary running, and the stack file cannot stop a progressive canary.
    slot = only_slot(derive([target(0)], [], canary("Succeeded")))
    assert slot.status is DeploymentStatus.DEPLOYING
    assert (slot.ready_replicas, slot.desired_replicas) == (0, 2)
    assert "Flagger has not made llama-chat-primary yet" in slot.conditions[1].message
