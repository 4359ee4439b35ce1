"""`make e2e-stack`'s runner: one JSON summary on stdout, non-zero on any failure."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tests.e2e.cluster import ROOT

pytestmark = pytest.mark.e2e


def run(stack_file: Path) -> tuple[int, dict]:
    result = subprocess.run(
        [sys.executable, "-m", "tests.e2e.stack_run", str(stack_file)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    return result.returncode, json.loads(result.stdout)


def test_a_committed_stack_goes_through_preview_up_preview_and_destroy() -> None:
    code, summary = run(ROOT / "stacks" / "Pulumi.staging.yaml")
    assert code == 0, summary
    steps = {step["step"]: step for step in summary["steps"]}
    assert list(steps) == ["preview", "up", "preview-after-up", "destroy"]
    assert steps["preview"]["create"] == steps["up"]["create"] > 0
    assert steps["preview-after-up"]["same"] == steps["up"]["create"]
    assert steps["destroy"]["delete"] == steps["up"]["create"]
    # GKE's L4 label and the GPU taint, from the plan.
    gpu_groups = [g for g in summary["nodes"] if g["gpus"]]
    assert gpu_groups and gpu_groups[0]["labels"] == {
        "cloud.google.com/gke-accelerator": "nvidia-l4"
    }


def test_a_stack_file_error_is_a_failed_step_with_its_message(tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.staging.yaml").read_text())
    document["config"]["modelstack:deployments"][0]["gpu"] = {"type": "L4", "count": 3}
    stack_file = tmp_path / "Pulumi.broken.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    code, summary = run(stack_file)
    assert code == 1
    assert summary["ok"] is False
    (step,) = summary["steps"]
    assert "gpu.count" in step["error"]
