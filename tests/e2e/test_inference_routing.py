"""inference_aware on a real API server: `pulumi up` creates the InferencePools (CRD from
../shared/schemas/crds-inference) and their endpoint pickers, the HTTPRoute sends to the serving
slot's pool, and a blue-green switch leaves pools and pickers alone: it moves the HTTPRoute's
backendRef and the in-cluster `<name>` Service's selector."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed
from tests.e2e.test_apply import deployment, edited

pytestmark = pytest.mark.e2e

NAMESPACE = "ml-e2e-inference"
STACK = "inference"


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
        pools = cluster.get(
            f"/apis/inference.networking.k8s.io/v1/namespaces/{NAMESPACE}/inferencepools"
        )
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
