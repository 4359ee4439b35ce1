"""`make e2e-stack STACK_FILE=path`: one stack file through the real engine on a local cluster.

Brings up the control plane with KWOK nodes that satisfy every deployment's placement in the
stack file (derived from its plan), then runs preview, up, a second preview (which must show
no changes) and destroy (protected resources unprotected first, and listed). Prints one JSON
summary on stdout and exits non-zero on any failure.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

import yaml

from components.errors import StackConfigError
from tests.e2e.cluster import LocalCluster, missing_tools, tools_dir
from tests.e2e.inventory import apply_all, install_crds, prerequisites, read_plan
from tests.e2e.nodes import describe, node_documents, node_groups
from tests.e2e.pulumi_cli import PulumiFailed, PulumiProject, counts, diagnostics

# Keys the copy drops: they belong to the user's own secrets provider and state.
PROVIDER_KEYS = ("encryptionsalt", "encryptedkey", "secretsprovider")


def run(stack_file: Path) -> dict[str, Any]:
    stack = stack_file.name.removeprefix("Pulumi.").removesuffix(".yaml")
    summary: dict[str, Any] = {"stackFile": str(stack_file), "stack": stack, "steps": []}
    try:
        plan = read_plan(stack_file)
    except StackConfigError as error:
        summary["steps"].append({"step": "plan", "error": error.report()})
        return summary
    groups = node_groups([plan])
    summary["nodes"] = describe(groups)
    contexts = (plan.kube_context,) if plan.kube_context else ()
    with LocalCluster(contexts=contexts) as cluster:
        install_crds(cluster)
        for node in node_documents(groups):
            cluster.request("POST", "/api/v1/nodes", node)
        apply_all(cluster, prerequisites(plan))
        project = PulumiProject(cluster.kubeconfig)
        try:
            document, secret_keys = _without_secrets(yaml.safe_load(stack_file.read_text()))
            project.add_stack(stack, document)
            # The user's secrets are encrypted for their own provider: the run sets stand-ins.
            for key in secret_keys:
                project.set_secret(stack, key, f"e2e-stand-in-for-{key.split(':')[-1]}")
            summary["secretStandIns"] = secret_keys
            _steps(project, stack, summary)
        finally:
            project.cleanup()
    return summary


def _steps(project: PulumiProject, stack: str, summary: dict[str, Any]) -> None:
    steps = summary["steps"]
    preview = _preview(project, stack, "preview")
    steps.append(preview)
    if preview.get("error"):
        return
    steps.append(_apply(project, stack, "up", lambda: project.up(stack)))
    if steps[-1].get("error"):
        return
    second = _preview(project, stack, "preview-after-up")
    changes = {
        op: n for op, n in second.items() if op in ("create", "update", "replace", "delete") and n
    }
    if changes and not second.get("error"):
        second["error"] = f"the second preview is not empty: {changes}"
    steps.append(second)
    protected = [r["urn"] for r in project.state(stack) if r.get("protect")]
    summary["protected"] = protected
    if protected:
        project.run("state", "unprotect", "--stack", stack, "--all", "--yes")
    steps.append(_apply(project, stack, "destroy", lambda: project.destroy(stack)))


def _preview(project: PulumiProject, stack: str, name: str) -> dict[str, Any]:
    started = time.monotonic()
    report = project.preview(stack, check=False)
    step: dict[str, Any] = {"step": name, **counts(report), "seconds": _since(started)}
    result = report.get("_result")
    if result is not None:
        step["error"] = (diagnostics(report) or result.stderr or result.stdout).strip()[-4000:]
    elif any(d.get("severity") == "error" for d in report.get("diagnostics") or []):
        step["error"] = diagnostics(report).strip()[-4000:]
    return step


def _apply(project: PulumiProject, stack: str, name: str, action: Any) -> dict[str, Any]:
    started = time.monotonic()
    before = {r["urn"] for r in project.state(stack)}
    step: dict[str, Any] = {"step": name}
    try:
        action()
    except PulumiFailed as failure:
        step["error"] = (failure.result.stderr or failure.result.stdout).strip()[-4000:]
    after = {r["urn"] for r in project.state(stack)}
    step.update(
        {"create": len(after - before), "delete": len(before - after), "seconds": _since(started)}
    )
    return step


def _without_secrets(document: dict[str, Any]) -> tuple[dict[str, Any], list[str]]:
    config = dict(document.get("config") or {})
    secret_keys = sorted(
        k for k, v in config.items() if isinstance(v, dict) and set(v) == {"secure"}
    )
    for key in secret_keys:
        del config[key]
    copied = {k: v for k, v in document.items() if k not in PROVIDER_KEYS}
    return {**copied, "config": config}, secret_keys


def _since(started: float) -> float:
    return round(time.monotonic() - started, 1)


def main(argv: list[str]) -> int:
    if len(argv) != 1:
        print("usage: python -m tests.e2e.stack_run STACK_FILE", file=sys.stderr)
        return 2
    stack_file = Path(argv[0]).resolve()
    if not stack_file.is_file():
        print(f"{argv[0]}: no such stack file", file=sys.stderr)
        return 2
    missing = missing_tools()
    if missing:
        print(f"missing tools in {tools_dir()}: {missing}; run `make e2e-tools`", file=sys.stderr)
        return 2
    summary = run(stack_file)
    summary["ok"] = bool(summary["steps"]) and not any(s.get("error") for s in summary["steps"])
    print(json.dumps(summary, indent=2))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
