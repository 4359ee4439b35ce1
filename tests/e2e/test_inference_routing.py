"""inference_aware on a real API server: `pulumi up` creates the InferencePools (CRD from
../shared/schemas/crds-inference) and their endpoint pickers, the HTTPRoute sends to the serving
slot's pool, and a blue-green switch leaves pools and pickers alone: it moves the HTTPRoute's
backendRef and the in-cluster `<name>` Service's selector.

`modelstack status` reads the pools back from the same API server: with no Gateway
implementation running, no pool has a status, which is no error (exit 0, said in the route's
message); once a Gateway's status on the serving slot's pool says Accepted False (written here
on the status subresource, as a Gateway controller writes it), the slot is DEGRADED, exit 5,
with the Gateway's reason and message.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed
from tests.e2e.test_apply import deployment, edited
from tests.e2e.test_status import status

pytestmark = pytest.mark.e2e

NAMESPACE = "ml-e2e-inference"
STACK = "inference"
POOLS = f"/apis/inference.networking.k8s.io/v1/namespaces/{NAMESPACE}/inferencepools"


def inference_aware(active: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        config = document["config"]
        config["modelstack:kubernetes"]["namespace"] = NAMESPACE
        config["modelstack:kubernetes"]["gateway"] = {"name": "inference", "namespace": "gateways"}
        chat = deployment(document, "llama-chat")
        # No host resolves from here: the post-deploy endpoint check is off.
        chat["route"] = {"path": "/chat", "check": False}
        # The spelling; the spec reads it as inference_aware.
        chat["loadBalancer"] = {"algorithm": "inference-aware"}
        # Fixed replicas: an autoscaled slot's ScaledObject follows a switch too.
        chat.pop("autoscaling")
        chat["replicas"] = 1
        chat["rollout"] = {
            "strategy": "blue-green",
            "active": active,
            "slots": {"green": {"model": {"revision": "main"}}},
        }

    return edit


def test_inference_pools_and_pickers_are_created_and_a_switch_moves_only_the_routing(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    project.add_stack(STACK, edited(staging, inference_aware("blue")))
    project.set_secret(STACK, "modelstack:hfToken", "hf_e2eInferenceNotARealToken0000000")
    apply_all(cluster, prerequisites(read_plan(project.stack_file(STACK))))
    try:
        project.up(STACK)
        pools = cluster.get(POOLS)
        by_name = {pool["metadata"]["name"]: pool["spec"] for pool in pools["items"]}
        assert sorted(by_name) == ["llama-chat-blue", "llama-chat-green"]
        blue = by_name["llama-chat-blue"]
        assert blue["endpointPickerRef"]["name"] == "llama-chat-blue-epp"
        assert blue["targetPorts"] == [{"number": 8000}]

        for slot in ("blue", "green"):
            picker = cluster.get(
                f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments/llama-chat-{slot}-epp"
            )
            assert picker["spec"]["strategy"]["type"] == "Recreate"
            assert picker["status"].get("availableReplicas", 0) == 1
            service = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/services/llama-chat-{slot}-epp")
            assert 9002 in [port["port"] for port in service["spec"]["ports"]]

        route = cluster.get(
            f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/llama-chat"
        )
        (backend,) = route["spec"]["rules"][0]["backendRefs"]
        assert backend == {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": "llama-chat-blue",
            "weight": 100,
        }

        check_status_reads_the_serving_pool(project, cluster)

        project.write_stack(STACK, edited(staging, inference_aware("green")))
        switched = project.preview(STACK)
        assert changed(switched) == {
            "update": [
                "kubernetes:core/v1:Service::llama-chat",
                "kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::llama-chat",
            ]
        }
    finally:
        project.destroy(STACK, check=False)


def serving_slot(report: dict[str, Any]) -> dict[str, Any]:
    (chat,) = [d for d in report["deployments"] if d["name"] == "llama-chat"]
    (slot,) = [slot for slot in chat["slots"] if slot["serving"]]
    return slot


def routing_message(slot: dict[str, Any]) -> str:
    return next(c["message"] for c in slot["conditions"] if c["type"] == "RoutingReady")


def refuse_pool(cluster: LocalCluster, name: str) -> None:
    """What a Gateway controller writes on a pool it does not take: its parent entry with
    Accepted False, on the status subresource, for the pool's current generation."""
    pool = cluster.get(f"{POOLS}/{name}")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    generation = pool["metadata"]["generation"]
    conditions = [
        (
            "Accepted",
            "False",
            "NotSupportedByGateway",
            "this Gateway has no InferencePool backends",
        ),
        ("ResolvedRefs", "True", "ResolvedRefs", "All InferencePool references have been resolved"),
    ]
    parent = {
        "parentRef": {
            "group": "gateway.networking.k8s.io",
            "kind": "Gateway",
            "name": "inference",
            "namespace": "gateways",
        },
        "controllerName": "example.com/gateway-controller",
        "conditions": [
            {
                "type": kind,
                "status": state,
                "reason": reason,
                "message": message,
                "observedGeneration": generation,
                "lastTransitionTime": now,
            }
            for kind, state, reason, message in conditions
        ],
    }
    cluster.request(
        "PATCH",
        f"{POOLS}/{name}/status",
        {"status": {"parents": [parent]}},
        "application/merge-patch+json",
    )


def check_status_reads_the_serving_pool(project: PulumiProject, cluster: LocalCluster) -> None:
    # No Gateway implementation runs here: the pools have no status, and that is no error.
    code, report = status(project, STACK)
    assert code == 0, report
    blue = serving_slot(report)
    assert (blue["slot"], blue["status"], blue["problems"]) == ("blue", "DEPLOYED", [])
    message = routing_message(blue)
    assert "InferencePool llama-chat-blue: no Gateway has reported on the pool yet" in message
    assert "endpoint picker llama-chat-blue-epp 1/1 available" in message

    refuse_pool(cluster, "llama-chat-blue")
    code, report = status(project, STACK)
    assert code == 5, report
    assert report["outcome"] == "degraded"
    blue = serving_slot(report)
    assert blue["status"] == "DEGRADED" and blue["readyReplicas"] == 1
    (problem,) = blue["problems"]
    assert (problem["code"], problem["source"]) == (
        "ROUTING_FAILURE",
        "inferencepool/llama-chat-blue",
    )
    assert problem["message"] == (
        "InferencePool llama-chat-blue: Gateway gateways/inference does not accept the pool"
        " (NotSupportedByGateway): this Gateway has no InferencePool backends"
    )
    degraded = next(c for c in blue["conditions"] if c["type"] == "Degraded")
    assert (degraded["status"], degraded["reason"]) == ("True", "RouteIncomplete")
