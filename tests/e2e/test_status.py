"""`modelstack status` against the real API server: ready, unschedulable, a failed loader.

The failures come from the real control plane: the scheduler's own FailedScheduling event for
a GPU no node offers, and the Job controller's Failed condition after a loader's pods exit 1
(KWOK's `job-fails` stage plays the kubelet: see kwok-stages.yaml). `pulumi up` of the failing
stack keeps waiting, as it would for a user; the test reads status meanwhile, then stops it.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.conftest import HF_TOKEN
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject

pytestmark = pytest.mark.e2e

MODELSTACK = str(Path(sys.executable).parent / "modelstack")
FAILING_NAMESPACE = "ml-e2e-failing"


def status(project: PulumiProject, stack: str) -> tuple[int, dict[str, Any]]:
    result = subprocess.run(
        [
            MODELSTACK,
            "status",
            "--stack-file",
            str(project.stack_file(stack)),
            "--json",
            "--kubeconfig",
            str(project.kubeconfig),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    try:
        return result.returncode, json.loads(result.stdout)
    except json.JSONDecodeError:
        pytest.fail(
            f"status printed no JSON (exit {result.returncode}):\n{result.stdout}\n{result.stderr}"
        )


def problems(report: dict[str, Any]) -> dict[str, list[str]]:
    """Error codes per deployment, wherever the report lists them."""
    found: dict[str, list[str]] = {}
    for deployment in report.get("deployments") or []:
        codes = [
            p["code"] for slot in deployment.get("slots") or [] for p in slot.get("problems") or []
        ]
        found[deployment["name"]] = codes
    return found


def test_status_reports_ready_after_up(project: PulumiProject, staging: dict[str, Any]) -> None:
    project.up("staging")
    code, report = status(project, "staging")
    assert code == 0, report
    assert problems(report) == {"llama-chat": []}


@pytest.fixture(scope="module")
def failing(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> Iterator[str]:
    """A stack whose `pulumi up` cannot finish: one GPU nobody has, one loader that fails."""
    base = staging["config"]["modelstack:deployments"][0]
    document = {
        "config": {
            **{
                k: v
                for k, v in staging["config"].items()
                if not isinstance(v, dict) or "secure" not in v
            },
            "modelstack:kubernetes": {
                **staging["config"]["modelstack:kubernetes"],
                "namespace": FAILING_NAMESPACE,
            },
            "modelstack:deployments": [
                {**base, "name": "e2e-no-gpu", "gpu": {"type": "A100-80GB", "count": 1}},
                {**base, "name": "e2e-loader-fails"},
            ],
        }
    }
    project.add_stack("failing", document)
    project.set_secret("failing", "modelstack:hfToken", HF_TOKEN)
    apply_all(cluster, prerequisites(read_plan(project.stack_file("failing"))))
    up = subprocess.Popen(
        [
            str(project.tools / "pulumi"),
            "up",
            "--stack",
            "failing",
            "--yes",
            "--skip-preview",
            "--non-interactive",
        ],
        cwd=project.workdir,
        env=project.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        yield "failing"
    finally:
        up.send_signal(signal.SIGINT)
        try:
            up.wait(timeout=20)
        except subprocess.TimeoutExpired:
            up.kill()
            up.wait()
        cluster.request("DELETE", f"/api/v1/namespaces/{FAILING_NAMESPACE}")


def test_status_names_the_scheduler_reason_for_a_gpu_no_node_has(
    project: PulumiProject, cluster: LocalCluster, failing: str
) -> None:
    report = cluster.wait_for(
        "UNSCHEDULABLE for e2e-no-gpu",
        lambda: _with_code(project, failing, "e2e-no-gpu", "UNSCHEDULABLE"),
        timeout=300,
        interval=3,
    )
    text = json.dumps(report)
    assert "nvidia.com/gpu" in text or "node affinity" in text or "didn't match" in text, text


def test_status_gives_a_failed_loader_its_error_code(
    project: PulumiProject, cluster: LocalCluster, failing: str
) -> None:
    report = cluster.wait_for(
        "the loader of e2e-loader-fails to fail",
        lambda: _with_code(project, failing, "e2e-loader-fails", "MODEL_LOADING_FAILURE"),
        # The Job controller retries 4 times with back-off (10 s, 20 s, 40 s, 80 s).
        timeout=420,
        interval=5,
    )
    assert "Repository Not Found" in json.dumps(report)


def _with_code(project: PulumiProject, stack: str, name: str, wanted: str) -> dict[str, Any] | None:
    _, report = status(project, stack)
    return report if wanted in problems(report).get(name, []) else None
