"""`pulumi preview` / `up` / `destroy` of the committed stacks on a real API server.

The committed staging and prod stack files run as they are; only the kubeconfig differs (the
local cluster under the context names the stacks pin). Each assertion reads the engine's own
JSON (preview steps, the event log) or the API server.
"""

from __future__ import annotations

import copy
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.conftest import E2E_STACKS
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed, counts, diagnostics

pytestmark = pytest.mark.e2e


def deployments(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["config"]["modelstack:deployments"]


def deployment(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(d for d in deployments(document) if d["name"] == name)


def edited(document: dict[str, Any], edit: Callable[[dict[str, Any]], None]) -> dict[str, Any]:
    copied = copy.deepcopy(document)
    edit(copied)
    return copied


def first_line(lines: list[str], *words: str) -> int:
    """Index of the first progress line that holds every word."""
    for index, line in enumerate(lines):
        if all(word in line for word in words):
            return index
    raise LookupError(f"no line with {words} in:\n" + "\n".join(lines[-40:]))


def test_up_waits_for_loaders_before_engines_and_ends_with_available_deployments(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    preview = project.preview("staging")
    assert counts(preview)["create"] > 0 and not {"update", "replace", "delete"} & set(
        changed(preview)
    )

    # The progress display prints each step as the engine takes it: the order is the engine's.
    lines = project.up("staging").stdout.splitlines()
    job_done = first_line(lines, "kubernetes:batch/v1:Job", "llama-chat-fetch", "created")
    engine_starts = first_line(lines, "kubernetes:apps/v1:Deployment", "llama-chat ", "creating")
    assert job_done < engine_starts, "the engine Deployment was created before its loader finished"

    workload = cluster.get("/apis/apps/v1/namespaces/ml-staging/deployments/llama-chat")
    assert workload["status"].get("availableReplicas", 0) >= workload["spec"]["replicas"] >= 1


def test_a_second_preview_after_up_shows_no_changes(
    project: PulumiProject, staging: dict[str, Any]
) -> None:
    preview = project.preview("staging")
    assert changed(preview) == {}, changed(preview)


def test_a_stack_file_error_fails_preview_with_the_render_message_and_creates_nothing(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    broken = edited(
        staging, lambda d: deployment(d, "llama-chat").update(gpu={"type": "L4", "count": 3})
    )
    project.write_stack("staging", broken)
    try:
        render = subprocess.run(
            [
                str(Path(sys.executable).parent / "modelstack"),
                "render",
                "--stack-file",
                "stacks/Pulumi.staging.yaml",
                "--out",
                str(project.workdir / "bad"),
            ],
            cwd=project.workdir,
            capture_output=True,
            text=True,
            check=False,
        )
        before = {
            item["metadata"]["uid"]
            for item in cluster.get("/api/v1/namespaces/ml-staging/pods")["items"]
        }
        preview = project.preview("staging", check=False)
    finally:
        project.write_stack("staging", staging)
    assert render.returncode == 2
    problems = [
        line.strip() for line in render.stderr.splitlines() if "modelstack:deployments" in line
    ]
    assert problems, render.stderr
    message = diagnostics(preview) or preview["_result"].stderr
    for problem in problems:
        assert problem in message, f"{problem!r} not in the engine's message:\n{message}"
    assert "Traceback" not in message
    after = {
        item["metadata"]["uid"]
        for item in cluster.get("/api/v1/namespaces/ml-staging/pods")["items"]
    }
    assert after == before


def test_a_removed_deployment_leaves_its_cache_and_adding_it_back_reuses_it(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    extra = {
        "name": "e2e-cpu",
        "model": {
            "source": "hf://bartowski/Llama-3.2-1B-Instruct-GGUF/Llama-3.2-1B-Instruct-Q4_K_M.gguf",
            "parameters": "1B",
        },
        "engine": "llamacpp",
        "resources": {"cpu": "2", "memory": "4Gi"},
        "cache": {"size": "5Gi", "storageClass": "standard-rwx"},
    }
    with_extra = edited(staging, lambda d: deployments(d).append(extra))
    project.write_stack("staging", with_extra)
    apply_all(cluster, prerequisites(read_plan(project.stack_file("staging"))))
    claim = "/api/v1/namespaces/ml-staging/persistentvolumeclaims/e2e-cpu-cache"
    try:
        project.up("staging")
        uid = cluster.get(claim)["metadata"]["uid"]

        project.write_stack("staging", staging)
        preview = project.preview("staging")
        assert (
            "kubernetes:core/v1:PersistentVolumeClaim::e2e-cpu-cache" in changed(preview)["delete"]
        )
        project.up("staging")
        assert not cluster.exists("/apis/apps/v1/namespaces/ml-staging/deployments/e2e-cpu")
        assert cluster.get(claim)["metadata"]["uid"] == uid, "retainOnDelete keeps the claim"

        project.write_stack("staging", with_extra)
        project.up("staging")
        assert cluster.get(claim)["metadata"]["uid"] == uid, "the deployment is back on its cache"
        workload = cluster.get("/apis/apps/v1/namespaces/ml-staging/deployments/e2e-cpu")
        assert workload["status"].get("availableReplicas", 0) >= 1
    finally:
        project.write_stack("staging", staging)
        project.up("staging")


def test_a_canary_weight_move_changes_only_the_route(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    def canary(weight: int) -> Callable[[dict[str, Any]], None]:
        def edit(document: dict[str, Any]) -> None:
            config = document["config"]
            config["modelstack:kubernetes"]["namespace"] = "ml-e2e-canary"
            config["modelstack:kubernetes"]["gateway"] = {
                "name": "inference",
                "namespace": "gateways",
            }
            chat = deployment(document, "llama-chat")
            # No host resolves from here: the post-deploy endpoint check is off.
            chat["route"] = {"path": "/chat", "check": False}
            chat["rollout"] = {
                "strategy": "canary",
                "active": "blue",
                "canaryWeight": weight,
                "slots": {"green": {"model": {"revision": "main"}}},
            }

        return edit

    project.add_stack("canary", edited(staging, canary(10)))
    project.set_secret("canary", "modelstack:hfToken", "hf_e2eCanaryNotARealToken00000000")
    apply_all(cluster, prerequisites(read_plan(project.stack_file("canary"))))
    try:
        project.up("canary")
        project.write_stack("canary", edited(staging, canary(30)))
        moved = project.preview("canary")
        assert changed(moved) == {
            "update": ["kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::llama-chat"]
        }
    finally:
        project.destroy("canary", check=False)


def test_amd_gpus_are_requested_and_scheduled_on_mi300x_nodes(
    project: PulumiProject, cluster: LocalCluster
) -> None:
    project.add_stack("e2e-amd", E2E_STACKS / "Pulumi.e2e-amd.yaml")
    try:
        project.up("e2e-amd")
        nodes = {n["metadata"]["name"]: n for n in cluster.get("/api/v1/nodes")["items"]}
        for name, gpus in (("qwen-rocm", "2"), ("qwen-sglang", "1")):
            workload = cluster.get(f"/apis/apps/v1/namespaces/ml-e2e-amd/deployments/{name}")
            assert workload["status"].get("availableReplicas") == 2
            pods = cluster.get(
                f"/api/v1/namespaces/ml-e2e-amd/pods?labelSelector=app.kubernetes.io/name%3D{name}"
            )["items"]
            engines = [
                p
                for p in pods
                if p["metadata"].get("ownerReferences", [{}])[0].get("kind") == "ReplicaSet"
            ]
            assert len(engines) == 2
            for pod in engines:
                limits = pod["spec"]["containers"][0]["resources"]["limits"]
                assert limits["amd.com/gpu"] == gpus
                node = nodes[pod["spec"]["nodeName"]]
                assert node["metadata"]["labels"].get("amd.com/gpu.device-id") in ("74a1", "74b5")
    finally:
        project.destroy("e2e-amd", check=False)
