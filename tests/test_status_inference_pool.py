"""`modelstack status` of an inference_aware deployment: the serving slot's route goes through
its InferencePool and the pool's endpoint picker, so what the Gateways say of the pool and
whether the picker runs decide the route as much as the Service and the HTTPRoute do.

The objects are what the API server returns: modelstack's render of the plan
(deployment_objects), the statuses the Deployment controller and the kubelet write, and an
InferencePool status as a Gateway implementation writes it (inference.networking.k8s.io/v1
`status.parents[]`; reasons from the API's types: Accepted False NotSupportedByGateway or
HTTPRouteNotAccepted, ResolvedRefs False InvalidExtensionRef).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from components.catalog import endpoint_picker as epp
from components.commands.status import EXIT_CODES, text
from components.kubernetes.deployment_objects import deployment_objects
from components.planning.stack_validation import validated_plan
from components.status.kubernetes_facts import ClusterSnapshot, derive_stack
from components.status.model import (
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    Outcome,
    SlotReport,
    StackExpectation,
    StackReport,
    report_as_json,
)
from tests.test_status_progressive import (
    NAMESPACE,
    READ_AT,
    crash_looping,
    iso,
    observed,
    pods_of,
)

NAME = "llama-chat"
POOL = f"{NAME}-blue"
PICKER = f"{POOL}-epp"
GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}

STACK: dict[str, Any] = {
    "environment": "staging",
    "target": "kubernetes",
    "kubernetes": {"namespace": NAMESPACE, "cloud": "gke", "gateway": dict(GATEWAY)},
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
            "loadBalancer": {"algorithm": "inference_aware"},
            "rollout": {"strategy": "blue-green", "active": "blue"},
        }
    ],
}
PLAN, _ = validated_plan(copy.deepcopy(STACK), set(), "stacks/Pulumi.staging.yaml")
EXPECTATION = StackExpectation.from_plan("staging", PLAN)
RENDERED = {
    (body["kind"], body["metadata"]["name"]): body
    for body in deployment_objects(PLAN.deployments[0])
}


def rendered(kind: str, name: str) -> dict[str, Any]:
    body = copy.deepcopy(RENDERED[(kind, name)])
    body["metadata"]["creationTimestamp"] = iso(READ_AT - timedelta(hours=3))
    return body


# -- API objects -----------------------------------------------------------------------------


def gateway_status(
    accepted: tuple[str, str, str] = ("True", "Accepted", "InferencePool has been accepted"),
    resolved: tuple[str, str, str] = ("True", "ResolvedRefs", "All references resolved"),
    generation: int = 1,
) -> dict[str, Any]:
    """A pool's status as a Gateway implementation writes it: one parent, both conditions."""
    at = iso(READ_AT - timedelta(minutes=30))
    conditions = [
        {
            "type": kind,
            "status": status,
            "reason": reason,
            "message": message,
            "observedGeneration": generation,
            "lastTransitionTime": at,
        }
        for kind, (status, reason, message) in (("Accepted", accepted), ("ResolvedRefs", resolved))
    ]
    parent = {
        "parentRef": {"group": "gateway.networking.k8s.io", "kind": "Gateway", **GATEWAY},
        "controllerName": "gateway.envoyproxy.io/gatewayclass-controller",
        "conditions": conditions,
    }
    return {"parents": [parent]}


def pool(slot: str = "blue", status: dict[str, Any] | None = None) -> dict[str, Any]:
    body = rendered("InferencePool", f"{NAME}-{slot}")
    body["metadata"]["generation"] = 1
    if status is not None:
        body["status"] = status
    return body


def picker(
    slot: str = "blue", available: int = 1, progressing: str = "NewReplicaSetAvailable"
) -> dict[str, Any]:
    """The picker Deployment as the Deployment controller reports it."""
    workload = observed(rendered("Deployment", f"{NAME}-{slot}-epp"), 1, available)
    if not available:
        workload["status"]["unavailableReplicas"] = 1
    (condition,) = workload["status"]["conditions"]
    condition["reason"] = progressing
    if progressing == "ProgressDeadlineExceeded":
        condition["status"] = "False"
    return workload


def image_pull_backoff(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["status"]["phase"] = "Pending"
    pod["status"]["containerStatuses"][0].update(
        ready=False,
        started=False,
        state={
            "waiting": {
                "reason": "ImagePullBackOff",
                "message": f'Back-off pulling image "{epp.IMAGE}"',
            }
        },
    )
    return pod


def waiting_for_a_node(pod: dict[str, Any]) -> dict[str, Any]:
    """Just created by the ReplicaSet, not placed yet (no scheduler verdict either)."""
    pod = copy.deepcopy(pod)
    del pod["spec"]["nodeName"]
    pod["status"] = {"phase": "Pending"}
    return pod


def running_not_ready(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["status"]["containerStatuses"][0].update(ready=False)
    return pod


def creating(pod: dict[str, Any]) -> dict[str, Any]:
    pod = copy.deepcopy(pod)
    pod["status"]["containerStatuses"][0].update(
        ready=False, started=False, state={"waiting": {"reason": "ContainerCreating"}}
    )
    return pod


def completed_loader() -> dict[str, Any]:
    (job,) = [key for key in RENDERED if key[0] == "Job"]
    body = rendered(*job)
    body["status"] = {"succeeded": 1, "conditions": [{"type": "Complete", "status": "True"}]}
    return body


def cluster(
    *,
    pool_status: dict[str, Any] | None = None,
    blue_picker: dict[str, Any] | None = None,
    blue_picker_pods: list[dict[str, Any]] | None = None,
    green_picker: dict[str, Any] | None = None,
    green_picker_pods: list[dict[str, Any]] | None = None,
    engines_ready: int = 2,
    engine_pods: list[dict[str, Any]] | None = None,
    pools: list[dict[str, Any]] | None = None,
) -> ClusterSnapshot:
    """Both slots up (blue serves), both pools and pickers; what a test changes aside."""
    blue = observed(rendered("Deployment", f"{NAME}-blue"), 2, engines_ready)
    green = observed(rendered("Deployment", f"{NAME}-green"), 2, 2)
    blue_picker = blue_picker or picker("blue")
    green_picker = green_picker or picker("green")
    if blue_picker_pods is None:
        blue_picker_pods = pods_of(blue_picker, 1)
    if green_picker_pods is None:
        green_picker_pods = pods_of(green_picker, 1)
    if engine_pods is None:
        engine_pods = pods_of(blue, 2, ready=engines_ready == 2)
    return ClusterSnapshot(
        deployments=[blue, green, blue_picker, green_picker],
        pods=[*engine_pods, *pods_of(green, 2), *blue_picker_pods, *green_picker_pods],
        jobs=[completed_loader()],
        services=[
            rendered("Service", NAME),
            rendered("Service", f"{NAME}-blue"),
            rendered("Service", f"{NAME}-green"),
            rendered("Service", PICKER),
            rendered("Service", f"{NAME}-green-epp"),
        ],
        routes=[rendered("HTTPRoute", NAME)],
        inference_pools=pools if pools is not None else [pool("blue", pool_status), pool("green")],
        read_at=READ_AT,
    )


def derive(snapshot: ClusterSnapshot) -> StackReport:
    return derive_stack(EXPECTATION, snapshot)


def slot_of(report: StackReport, slot: str = "blue") -> SlotReport:
    (deployment,) = report.deployments
    return next(found for found in deployment.slots if found.slot == slot)


def condition(slot: SlotReport, kind: ConditionType) -> tuple[bool, str, str]:
    found = next(c for c in slot.conditions if c.type is kind)
    return found.status, found.reason, found.message


def exit_code(report: StackReport) -> int:
    return EXIT_CODES[report.outcome]


# -- the picker runs -------------------------------------------------------------------------


def test_the_plan_gives_every_slot_a_pool_and_a_picker_that_fails_open() -> None:
    pools = {key[1]: body for key, body in RENDERED.items() if key[0] == "InferencePool"}
    assert sorted(pools) == [POOL, f"{NAME}-green"]
    assert pools[POOL]["spec"]["endpointPickerRef"]["name"] == PICKER
    assert pools[POOL]["spec"]["endpointPickerRef"]["failureMode"] == "FailOpen"
    # The picker's objects carry the stack's labels: the reader's selector lists them.
    labels = RENDERED[("Deployment", PICKER)]["spec"]["template"]["metadata"]["labels"]
    assert labels["app.kubernetes.io/part-of"] == "modelstack"


def test_an_accepted_pool_with_its_picker_available_is_deployed() -> None:
    report = derive(cluster(pool_status=gateway_status()))
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEPLOYED and not blue.problems
    assert report.outcome is Outcome.READY and exit_code(report) == 0
    ready, reason, message = condition(blue, ConditionType.ROUTING_READY)
    assert (ready, reason) == (True, "RouteReady")
    assert f"InferencePool {POOL} accepted by Gateway gateways/inference-gateway" in message
    assert f"endpoint picker {PICKER} 1/1 available" in message
    # The picker's pods are not engines of the slot.
    assert all(not i.name.startswith(PICKER) for i in blue.instances)


def test_a_pool_no_gateway_has_reported_on_is_no_error_and_says_so() -> None:
    report = derive(cluster(pool_status=None))
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEPLOYED and not blue.problems
    assert exit_code(report) == 0
    ready, _, message = condition(blue, ConditionType.ROUTING_READY)
    assert ready
    assert f"InferencePool {POOL}: no Gateway has reported on the pool yet" in message


def test_a_gateway_still_deciding_on_the_pool_is_no_error() -> None:
    pending = gateway_status(accepted=("Unknown", "Pending", "Waiting for controller"))
    blue = slot_of(derive(cluster(pool_status=pending)))
    assert blue.status is DeploymentStatus.DEPLOYED
    assert "no Gateway has accepted the pool yet" in condition(blue, ConditionType.ROUTING_READY)[2]


def test_a_cluster_without_the_pool_crd_is_routed_by_service_and_httproute_alone() -> None:
    # The reader finds no pools where the CRD is absent (404): nothing more to tell.
    report = derive(cluster(pools=[]))
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEPLOYED
    assert condition(blue, ConditionType.ROUTING_READY)[2] == f"Service {NAME} selects this slot"


# -- the picker is down ----------------------------------------------------------------------


def test_a_picker_that_cannot_pull_its_image_degrades_the_slot_while_engines_answer() -> None:
    down = picker(available=0)
    report = derive(
        cluster(blue_picker=down, blue_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])])
    )
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEGRADED
    assert report.deployments[0].status is DeploymentStatus.DEGRADED
    assert report.outcome is Outcome.DEGRADED and exit_code(report) == 5
    (problem,) = blue.problems
    assert problem.code is ErrorCode.ROUTING_FAILURE
    assert problem.source == f"deployment/{PICKER}"
    assert f"endpoint picker {PICKER} of InferencePool {POOL} has no available replica" in (
        problem.message
    )
    # Its pod's reason, what FailOpen does meanwhile, and where to look.
    assert "IMAGE_PULL cannot pull" in problem.message and epp.IMAGE in problem.message
    assert "failureMode FailOpen: the Gateway still forwards requests" in problem.message
    assert f"`kubectl describe deployment {PICKER} -n {NAMESPACE}`" in problem.message
    assert f"`kubectl logs deploy/{PICKER} -n {NAMESPACE}`" in problem.message
    routing = condition(blue, ConditionType.ROUTING_READY)
    assert routing[:2] == (False, "RouteIncomplete")
    assert "requests go on without its choice of pod" in routing[2]
    degraded = condition(blue, ConditionType.DEGRADED)
    assert degraded[:2] == (True, "RouteIncomplete")
    assert degraded[2].startswith("2/2 replicas answer; ROUTING_FAILURE: endpoint picker")
    # The runtime is fine: the engines are not what fails.
    assert condition(blue, ConditionType.RUNTIME_READY)[0]


def test_a_picker_down_with_no_engine_answering_is_an_error_not_degraded() -> None:
    down = picker(available=0)
    engines = pods_of(observed(rendered("Deployment", f"{NAME}-blue"), 2, 0), 2, ready=False)
    snapshot = cluster(
        blue_picker=down,
        blue_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])],
        engines_ready=0,
        engine_pods=engines,
    )
    report = derive(snapshot)
    assert slot_of(report).status is DeploymentStatus.ERROR
    assert exit_code(report) == 1


def test_a_picker_that_lost_its_replica_is_down_with_its_pods_state() -> None:
    # Available before (the rollout finished); the replacement pod waits for a node.
    down = picker(available=0)
    report = derive(
        cluster(blue_picker=down, blue_picker_pods=[waiting_for_a_node(pods_of(down, 1)[0])])
    )
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEGRADED and exit_code(report) == 5
    (problem,) = blue.problems
    assert "waits for a node" in problem.message


def test_a_crash_looping_picker_names_its_exit() -> None:
    down = picker(available=0)
    report = derive(
        cluster(blue_picker=down, blue_picker_pods=[crash_looping(pods_of(down, 1)[0])])
    )
    (problem,) = slot_of(report).problems
    assert "CONTAINER_EXITED exited with code 1" in problem.message


def test_a_picker_scaled_to_zero_by_hand_while_engines_run_is_down() -> None:
    down = observed(rendered("Deployment", PICKER), 0, 0)
    report = derive(cluster(blue_picker=down, blue_picker_pods=[]))
    assert slot_of(report).status is DeploymentStatus.DEGRADED
    assert "scaled to zero while the engines run" in slot_of(report).problems[0].message


def test_a_fail_close_pool_says_requests_through_the_gateway_fail() -> None:
    closed = pool("blue")
    closed["spec"]["endpointPickerRef"]["failureMode"] = "FailClose"
    down = picker(available=0)
    snapshot = cluster(
        blue_picker=down,
        blue_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])],
        pools=[closed, pool("green")],
    )
    (problem,) = slot_of(derive(snapshot)).problems
    assert "failureMode FailClose: the Gateway fails the requests" in problem.message


# -- the picker comes up ---------------------------------------------------------------------


def test_a_picker_starting_within_its_rollout_is_the_route_still_configuring() -> None:
    starting = picker(available=0, progressing="ReplicaSetUpdated")
    report = derive(
        cluster(blue_picker=starting, blue_picker_pods=[creating(pods_of(starting, 1)[0])])
    )
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEPLOYING and not blue.problems
    assert report.outcome is Outcome.PROGRESSING and exit_code(report) == 3
    routing = condition(blue, ConditionType.ROUTING_READY)
    assert routing[:2] == (False, "ConfiguringRoute")
    assert f"endpoint picker {PICKER} is starting (pod/{PICKER}-" in routing[2]
    assert "is ContainerCreating" in routing[2]


def test_a_picker_not_ready_past_its_progress_deadline_is_down() -> None:
    stuck = picker(available=0, progressing="ProgressDeadlineExceeded")
    report = derive(
        cluster(blue_picker=stuck, blue_picker_pods=[running_not_ready(pods_of(stuck, 1)[0])])
    )
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEGRADED
    (problem,) = blue.problems
    assert f"gRPC health check on port {epp.HEALTH_PORT} does not pass" in problem.message


def test_a_missing_picker_is_the_route_still_configuring() -> None:
    snapshot = cluster()
    others = [d for d in snapshot.deployments if d["metadata"]["name"] != PICKER]
    blue = slot_of(derive(replace(snapshot, deployments=others)))
    assert blue.status is DeploymentStatus.DEPLOYING
    assert f"endpoint picker Deployment {PICKER} does not exist yet" in blue.conditions[2].message


def test_a_stopped_deployment_with_its_pickers_at_zero_is_stopped_without_problems() -> None:
    blue = observed(rendered("Deployment", f"{NAME}-blue"), 0, 0)
    green = observed(rendered("Deployment", f"{NAME}-green"), 0, 0)
    snapshot = ClusterSnapshot(
        deployments=[
            blue,
            green,
            observed(rendered("Deployment", PICKER), 0, 0),
            observed(rendered("Deployment", f"{NAME}-green-epp"), 0, 0),
        ],
        jobs=[completed_loader()],
        services=[rendered("Service", NAME), rendered("Service", f"{NAME}-blue")],
        inference_pools=[pool("blue"), pool("green")],
        read_at=READ_AT,
    )
    found = slot_of(derive(snapshot))
    assert found.status is DeploymentStatus.STOPPED and not found.problems


# -- the pool is refused ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("refused", "what"),
    [
        (
            {
                "accepted": (
                    "False",
                    "NotSupportedByGateway",
                    "envoy-gateway: no InferencePool backends",
                )
            },
            "does not accept the pool (NotSupportedByGateway): envoy-gateway: no InferencePool "
            "backends",
        ),
        (
            {"resolved": ("False", "InvalidExtensionRef", "Referenced ExtensionRef not found")},
            "cannot resolve the pool's references (its endpoint picker's Service) "
            "(InvalidExtensionRef): Referenced ExtensionRef not found",
        ),
    ],
)
def test_a_pool_a_gateway_refuses_degrades_the_slot_with_its_reason(
    refused: dict[str, tuple[str, str, str]], what: str
) -> None:
    report = derive(cluster(pool_status=gateway_status(**refused)))
    blue = slot_of(report)
    assert blue.status is DeploymentStatus.DEGRADED
    assert report.outcome is Outcome.DEGRADED and exit_code(report) == 5
    (problem,) = blue.problems
    assert problem.code is ErrorCode.ROUTING_FAILURE
    assert problem.source == f"inferencepool/{POOL}"
    assert problem.message == f"InferencePool {POOL}: Gateway gateways/inference-gateway {what}"
    assert condition(blue, ConditionType.ROUTING_READY)[:2] == (False, "RouteIncomplete")
    assert condition(blue, ConditionType.DEGRADED)[2].startswith(
        f"2/2 replicas answer; ROUTING_FAILURE: InferencePool {POOL}: Gateway"
    )


def test_a_refusal_of_an_earlier_generation_of_the_pool_is_not_held_against_it() -> None:
    stale = gateway_status(accepted=("False", "HTTPRouteNotAccepted", "no route"), generation=1)
    newer = pool("blue", stale)
    newer["metadata"]["generation"] = 2
    blue = slot_of(derive(cluster(pools=[newer, pool("green")])))
    assert blue.status is DeploymentStatus.DEPLOYED


def test_a_refused_pool_and_a_down_picker_are_both_reported() -> None:
    down = picker(available=0)
    snapshot = cluster(
        pool_status=gateway_status(accepted=("False", "HTTPRouteNotAccepted", "route refused")),
        blue_picker=down,
        blue_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])],
    )
    blue = slot_of(derive(snapshot))
    assert [p.source for p in blue.problems] == [f"inferencepool/{POOL}", f"deployment/{PICKER}"]


def test_the_not_serving_slots_picker_is_not_the_routes() -> None:
    # Blue-green: the route sends nothing to green's pool until a switch.
    down = picker("green", available=0)
    snapshot = cluster(
        green_picker=down, green_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])]
    )
    report = derive(snapshot)
    assert report.outcome is Outcome.READY
    assert slot_of(report, "green").status is DeploymentStatus.DEPLOYED


# -- what people and pipelines read ----------------------------------------------------------


def test_text_and_json_show_the_picker_problem_with_its_commands() -> None:
    down = picker(available=0)
    report = derive(
        cluster(blue_picker=down, blue_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])])
    )
    printed = "\n".join(text(report))
    assert f"    ROUTING_FAILURE  deployment/{PICKER}: endpoint picker {PICKER}" in printed
    document = json.loads(json.dumps(report_as_json(report)))
    assert document["outcome"] == "degraded"
    blue = document["deployments"][0]["slots"][0]
    (problem,) = blue["problems"]
    assert problem["code"] == "ROUTING_FAILURE" and problem["remedy"] == "retry"
    assert f"kubectl logs deploy/{PICKER} -n {NAMESPACE}" in problem["message"]
