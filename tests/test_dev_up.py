"""The main job's script: clear refusals without its tools, the right Pulumi calls with them.

The Pulumi CLI and a Docker engine cannot run on these machines, so both are stand-in
scripts on PATH that record how they were called.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from tests.conftest import ROOT

SCRIPT = ROOT / "scripts" / "dev-up.sh"


def _stub(bin_dir: Path, name: str, body: str) -> None:
    path = bin_dir / name
    path.write_text(f"#!/bin/sh\n{body}\n")
    path.chmod(0o755)


def _run(bin_dir: Path) -> subprocess.CompletedProcess[str]:
    system_path = "/usr/bin:/bin"
    return subprocess.run(
        ["bash", str(SCRIPT)],
        capture_output=True,
        text=True,
        env={"PATH": f"{bin_dir}:{system_path}", "HOME": str(bin_dir), "LOG": str(bin_dir / "log")},
        timeout=120,
        check=False,
    )


def test_without_pulumi_it_says_how_to_get_it(tmp_path: Path) -> None:
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "the Pulumi CLI is not installed" in result.stderr


def test_without_a_running_docker_it_says_so(tmp_path: Path) -> None:
    _stub(tmp_path, "pulumi", "exit 0")
    _stub(tmp_path, "docker", "exit 1")
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "Docker is installed but its daemon is not running" in result.stderr


def test_with_both_it_runs_up_on_the_dev_stack_with_local_state(tmp_path: Path) -> None:
    outputs = {"qwen-tiny": {"endpoint": "http://127.0.0.1:8080/qwen-tiny/v1"}}
    _stub(tmp_path, "docker", 'echo "docker $*" >> "$LOG"')
    _stub(
        tmp_path,
        "pulumi",
        'echo "pulumi $* backend=$PULUMI_BACKEND_URL" >> "$LOG"\n'
        f'case "$1" in stack) [ "$2" = output ] && echo \'{json.dumps(outputs)}\';; esac\n'
        "exit 0",
    )
    result = _run(tmp_path)
    assert result.returncode == 0, result.stderr
    calls = (tmp_path / "log").read_text().splitlines()
    backend = f"backend=file://{ROOT}/.pulumi-state"
    assert calls[0] == "docker info"
    assert calls[1] == f"pulumi stack select dev --create --non-interactive {backend}"
    assert calls[2] == f"pulumi up --stack dev --yes --non-interactive {backend}"
    assert "curl http://127.0.0.1:8080/qwen-tiny/v1/models" in result.stdout
    assert '"model": "qwen-tiny"' in result.stdout
    assert os.path.isdir(ROOT / ".pulumi-state")


def test_every_missing_prerequisite_is_reported_at_once_with_the_offline_path(
    tmp_path: Path,
) -> None:
    # No pulumi; docker installed but its daemon down: both in one run.
    _stub(tmp_path, "docker", 'if [ "$1" = info ]; then exit 1; fi')
    result = _run(tmp_path)
    assert result.returncode != 0
    assert "the Pulumi CLI is not installed" in result.stderr
    assert "daemon is not running" in result.stderr
    assert "make setup, then" in result.stderr
    assert "modelstack render --stack dev" in result.stderr
