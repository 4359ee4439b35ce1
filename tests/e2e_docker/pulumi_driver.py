"""The real Pulumi CLI (built by `make e2e-tools`) on the dynamic-resources program.

Local state in the test's directory, a test-only passphrase, no plugin downloads. The dynamic
providers run in the SDK's dynamic-provider host (tools/launchers/pulumi-resource-pulumi-python),
which the engine starts and talks to over gRPC.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

from tests.support.pulumi_runner import run_pulumi, sandbox_env

ROOT = Path(__file__).resolve().parents[2]
TOOLS = Path(os.environ.get("MODELSTACK_E2E_TOOLS", ROOT / "build" / "e2e-tools" / "bin"))
LAUNCHERS = ROOT / "tools" / "launchers"
PROGRAM = Path(__file__).resolve().parent / "program" / "__main__.py"
PASSPHRASE = "modelstack-e2e-docker"  # test-only: the state of a throwaway local backend
STACK = "e2e"


def pulumi_available() -> bool:
    return all(os.access(TOOLS / name, os.X_OK) for name in ("pulumi", "pulumi-language-python"))


class DynamicStack:
    """One Pulumi stack of dynamic resources; `up(resources)` applies a new list of them."""

    def __init__(self, workdir: Path, docker_env: dict[str, str]) -> None:
        self.workdir = workdir
        workdir.mkdir(parents=True, exist_ok=True)
        (workdir / "state").mkdir(exist_ok=True)
        shutil.copy(PROGRAM, workdir / "__main__.py")
        venv = Path(sys.executable).parent.parent
        (workdir / "Pulumi.yaml").write_text(
            "name: modelstack-e2e-docker\n"
            "runtime:\n"
            "  name: python\n"
            "  options:\n"
            "    toolchain: pip\n"
            f"    virtualenv: {json.dumps(str(venv))}\n"
        )
        self.resources_file = workdir / "resources.json"
        self.env = {
            **sandbox_env(workdir, PASSPHRASE, [TOOLS, LAUNCHERS], docker_env),
            "MODELSTACK_E2E_RESOURCES": str(self.resources_file),
        }
        self.run("stack", "init", STACK)

    def run(
        self, *args: str, check: bool = True, timeout: float = 600
    ) -> subprocess.CompletedProcess[str]:
        return run_pulumi(TOOLS / "pulumi", args, self.workdir, self.env, check, timeout)

    def up(
        self, resources: list[dict[str, Any]], check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        self.resources_file.write_text(json.dumps({"resources": resources}))
        return self.run("up", "--stack", STACK, "--yes", "--skip-preview", check=check)

    def state(self) -> list[dict[str, Any]]:
        exported = json.loads(self.run("stack", "export", "--stack", STACK).stdout)
        return exported["deployment"].get("resources") or []

    def destroy(self) -> None:
        self.run("destroy", "--stack", STACK, "--yes", "--skip-preview", check=False)
