"""The real Pulumi CLI on a copy of the project, with local state and passphrase secrets.

The copy holds Pulumi.yaml, __main__.py and the stack files (so tests can edit them); the
program itself is the installed `components` package of the project's virtualenv. The CLI,
the Python language host and the pulumi-kubernetes provider are the binaries built by
`make e2e-tools`; nothing is downloaded (automatic plugin acquisition is off, and the
provider is installed into the test's own PULUMI_HOME from the built binary).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from tests.e2e.cluster import ROOT, tools_dir
from tests.support.pulumi_runner import PulumiFailed, run_pulumi, sandbox_env

PASSPHRASE = "modelstack-e2e"  # a test-only passphrase for the test's own local state
KUBERNETES_PROVIDER = "pulumi-resource-kubernetes"
OPERATIONS = ("create", "update", "replace", "delete", "same")


@dataclass
class PulumiProject:
    kubeconfig: Path
    workdir: Path = field(
        default_factory=lambda: Path(tempfile.mkdtemp(prefix="modelstack-pulumi-"))
    )
    tools: Path = field(default_factory=tools_dir)

    def __post_init__(self) -> None:
        for name in ("Pulumi.yaml", "__main__.py"):
            shutil.copy(ROOT / name, self.workdir / name)
        (self.workdir / "stacks").mkdir(exist_ok=True)
        (self.workdir / "state").mkdir(exist_ok=True)
        self._install_provider()

    # -- environment -------------------------------------------------------------------------
    @property
    def env(self) -> dict[str, str]:
        return {
            **sandbox_env(self.workdir, PASSPHRASE, [self.tools]),
            # The provider beside the CLI is the one installed as a plugin: use that one.
            "PULUMI_IGNORE_AMBIENT_PLUGINS": "true",
            "PULUMI_AUTOMATION_API_SKIP_VERSION_CHECK": "true",
            "KUBECONFIG": str(self.kubeconfig),
        }

    def run(
        self, *args: str, check: bool = True, timeout: float = 900
    ) -> subprocess.CompletedProcess[str]:
        return run_pulumi(self.tools / "pulumi", args, self.workdir, self.env, check, timeout)

    def _install_provider(self) -> None:
        from pulumi_kubernetes import _utilities

        version = _utilities.get_version()
        self.provider_version = version
        self.run(
            "plugin",
            "install",
            "resource",
            "kubernetes",
            f"v{version}",
            "--file",
            str(self.tools / KUBERNETES_PROVIDER),
        )

    # -- stacks ------------------------------------------------------------------------------
    def stack_file(self, stack: str) -> Path:
        return self.workdir / "stacks" / f"Pulumi.{stack}.yaml"

    def add_stack(self, stack: str, source: Path | dict[str, Any]) -> None:
        """Copies (or writes) the stack file, then `pulumi stack init` adds its salt."""
        if isinstance(source, Path):
            shutil.copy(source, self.stack_file(stack))
        else:
            self.write_stack(stack, source)
        self.run("stack", "init", stack)

    def read_stack(self, stack: str) -> dict[str, Any]:
        return yaml.safe_load(self.stack_file(stack).read_text())

    def write_stack(self, stack: str, document: dict[str, Any]) -> None:
        """Writes the stack file, keeping the salt and secrets `pulumi stack init`/`config` set."""
        path = self.stack_file(stack)
        if path.exists():
            current = yaml.safe_load(path.read_text()) or {}
            for key in ("encryptionsalt",):
                if key in current:
                    document = {**document, key: current[key]}
            secrets = {
                k: v
                for k, v in (current.get("config") or {}).items()
                if isinstance(v, dict) and "secure" in v
            }
            document = {**document, "config": {**document.get("config", {}), **secrets}}
        path.write_text(yaml.safe_dump(document, sort_keys=False))

    def set_secret(self, stack: str, key: str, value: str) -> None:
        self.run("config", "set", "--secret", "--stack", stack, key, value)

    # -- operations --------------------------------------------------------------------------
    def preview(self, stack: str, *extra: str, check: bool = True) -> dict[str, Any]:
        result = self.run("preview", "--stack", stack, "--json", "--diff", *extra, check=False)
        report = _json_or_none(result.stdout)
        if check and (result.returncode != 0 or report is None):
            raise PulumiFailed(["preview", stack], result)
        return report if report is not None else {"_result": result}

    def up(self, stack: str, *extra: str) -> subprocess.CompletedProcess[str]:
        return self.run("up", "--stack", stack, "--yes", "--skip-preview", *extra)

    def destroy(
        self, stack: str, *extra: str, check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return self.run("destroy", "--stack", stack, "--yes", "--skip-preview", *extra, check=check)

    def outputs(self, stack: str) -> dict[str, Any]:
        return json.loads(self.run("stack", "output", "--stack", stack, "--json").stdout)

    def state(self, stack: str) -> list[dict[str, Any]]:
        exported = json.loads(self.run("stack", "export", "--stack", stack).stdout)
        return exported["deployment"].get("resources") or []

    def cleanup(self) -> None:
        shutil.rmtree(self.workdir, ignore_errors=True)


def operations(preview: dict[str, Any]) -> dict[str, list[str]]:
    """Step URNs by operation; create-replacement/delete-replaced/replace count as replace."""
    by_op: dict[str, list[str]] = {op: [] for op in OPERATIONS}
    for step in preview.get("steps") or []:
        op = step["op"]
        if op in ("create-replacement", "delete-replaced", "replace", "discard-replaced"):
            op = "replace"
        elif op in ("read", "refresh", "import"):
            continue
        by_op.setdefault(op, [])
        if step["urn"] not in by_op[op]:
            by_op[op].append(step["urn"])
    return by_op


def counts(preview: dict[str, Any]) -> dict[str, int]:
    """The engine's own change summary (creates, updates, replaces, deletes, sames)."""
    summary = Counter(preview.get("changeSummary") or {})
    return {op: int(summary.get(op, 0)) for op in OPERATIONS}


def changed(preview: dict[str, Any]) -> dict[str, list[str]]:
    """Only the operations that change something, with resource type::name for reading."""
    return {
        op: sorted(urn_name(urn) for urn in urns)
        for op, urns in operations(preview).items()
        if op != "same" and urns
    }


def urn_name(urn: str) -> str:
    """`type::name` from a URN (urn:pulumi:stack::project::parent$type::name)."""
    qualified_type, name = urn.split("::")[-2:]
    return f"{qualified_type.split('$')[-1]}::{name}"


def diagnostics(preview: dict[str, Any]) -> str:
    return "\n".join(d.get("message", "") for d in preview.get("diagnostics") or [])


def _json_or_none(text: str) -> dict[str, Any] | None:
    try:
        value = json.loads(text)
    except json.JSONDecodeError:
        return None
    return value if isinstance(value, dict) else None
