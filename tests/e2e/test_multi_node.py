"""gpu.nodes on a real API server: `pulumi up` creates the slot's LeaderWorkerSet (CRD from
../shared/schemas/crds-inference, LWS v0.10.0), the API server accepts and defaults it, the
Services select only group leaders, and a second preview is empty; growing the group changes
the LeaderWorkerSet alone.

There is no LWS controller in this cluster (its image cannot be pulled here): nothing creates
the group's pods, so this proves what the API server and Pulumi see, not an engine serving.
The suite's KWOK nodes include the two 8-GPU H100 nodes a group of this stack asks for
(tests/e2e/nodes.py counts a group's pods), so the placement the plan wrote can be held.
"""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.conftest import E2E_STACKS
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed

pytestmark = pytest.mark.e2e

STACK = "e2e-multinode"
STACK_FILE = E2E_STACKS / f"Pulumi.{STACK}.yaml"
NAMESPACE = "ml-e2e-multinode"
NAME = "llama-405b"
LWS_PATH = f"/apis/leaderworkerset.x-k8s.io/v1/namespaces/{NAMESPACE}/leaderworkersets"
HF_TOKEN = "hf_e2eMultiNodeNotARealToken00000000"  # a test value; never leaves the test cluster


def _engine(template: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in template["spec"]["containers"] if c["name"] == "engine")


def test_a_group_is_a_leader_worker_set_the_api_server_accepts_and_a_second_preview_is_empty(
    project: PulumiProject, cluster: LocalCluster
) -> None:
    project.add_stack(STACK, STACK_FILE)
    project.set_secret(STACK, "modelstack:hfToken", HF_TOKEN)
    apply_all(cluster, prerequisites(read_plan(project.stack_file(STACK))))
    try:
        project.up(STACK)
        lws = cluster.get(f"{LWS_PATH}/{NAME}")
        spec = lws["spec"]
        assert spec["replicas"] == 1
        template = spec["leaderWorkerTemplate"]
        assert template["size"] == 2
        assert template["restartPolicy"] == "RecreateGroupOnPodRestart"
        # Defaults from the CRD's schema, filled in by the API server itself.
        assert spec["startupPolicy"] == "LeaderCreated"
        assert spec["rolloutStrategy"]["rollingUpdateConfiguration"]["partition"] == 0
        leader, worker = (_engine(template[t]) for t in ("leaderTemplate", "workerTemplate"))
        # Stored as written: the kubelet expands these from the env LWS gives each pod.
        assert leader["args"][-2:] == ["--master-addr", "$(LWS_LEADER_ADDRESS)"]
        assert worker["args"][-5:] == [
            "--node-rank",
            "$(LWS_WORKER_INDEX)",
            "--master-addr",
            "$(LWS_LEADER_ADDRESS)",
            "--headless",
        ]
        assert "readinessProbe" in leader and "readinessProbe" not in worker
        assert leader["resources"]["limits"]["nvidia.com/gpu"] == "8"

        service = cluster.get(f"/api/v1/namespaces/{NAMESPACE}/services/{NAME}")
        assert service["spec"]["selector"]["leaderworkerset.sigs.k8s.io/worker-index"] == "0"

        # Two H100 nodes of eight GPUs each can hold one group.
        nodes = cluster.get("/api/v1/nodes")["items"]
        h100 = [
            node
            for node in nodes
            if node["metadata"]["labels"].get("karpenter.k8s.aws/instance-gpu-name") == "h100"
            and node["status"]["allocatable"].get("nvidia.com/gpu") == "8"
        ]
        assert len(h100) >= 2

        assert changed(project.preview(STACK)) == {}

        document = project.read_stack(STACK)
        big = document["config"]["modelstack:deployments"][0]
        big["gpu"]["nodes"] = 3
        project.write_stack(STACK, document)
        grown = project.preview(STACK)
        assert changed(grown) == {
            "update": ["kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet::llama-405b"]
        }
    finally:
        project.destroy(STACK, check=False)
