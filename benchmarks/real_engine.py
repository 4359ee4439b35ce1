"""The real engine's cost, against the offline render of the same stack in the same run.

For each committed Kubernetes stack: the offline render (modelstack's mock runtime), then on
the local control plane of tests/e2e (real CLI, language host and pulumi-kubernetes provider):
the first `pulumi preview`, `pulumi up`, and a preview with nothing to do. Then the prod
blue-green flip: `pulumi up` of the one-line switch, the latency users wait for; its floor is
one Service patch, measured directly against the same API server. Prints a table; not a test.

Run: make bench-e2e (builds the tools first).
"""

from __future__ import annotations

import copy
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from components.offline.render import render_stack  # noqa: E402
from components.offline.stack_file import read_stack_file  # noqa: E402
from tests.e2e.cluster import LocalCluster  # noqa: E402
from tests.e2e.inventory import apply_all, install_crds, prerequisites, read_plan  # noqa: E402
from tests.e2e.nodes import node_documents, node_groups  # noqa: E402
from tests.e2e.pulumi_cli import PulumiProject  # noqa: E402

STACKS = ("staging", "prod")
TOKEN = "hf_benchmarkNotARealToken0000000000"


def render_process(stack_file: Path, stack: str) -> float:
    """`modelstack render` as users run it: a whole process, imports included."""
    with tempfile.TemporaryDirectory() as out:
        command = [str(Path(sys.executable).parent / "modelstack"), "render"]
        command += ["--stack-file", str(stack_file), "--out", out]
        return timed(lambda: subprocess.run(command, check=True, capture_output=True), 3)


def timed(action: Callable[[], Any], repeat: int = 1) -> float:
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        action()
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def main() -> None:
    plans = {stack: read_plan(ROOT / "stacks" / f"Pulumi.{stack}.yaml") for stack in STACKS}
    contexts = tuple(sorted({p.kube_context for p in plans.values() if p.kube_context}))
    rows: list[tuple[str, str, float, float, float]] = []
    with LocalCluster(contexts=contexts) as cluster:
        install_crds(cluster)
        for node in node_documents(node_groups(plans.values())):
            cluster.request("POST", "/api/v1/nodes", node)
        for plan in plans.values():
            apply_all(cluster, prerequisites(plan))
        project = PulumiProject(cluster.kubeconfig)
        try:
            for stack in STACKS:
                stack_file = ROOT / "stacks" / f"Pulumi.{stack}.yaml"
                render = timed(lambda f=stack_file, s=stack: render_stack(read_stack_file(f, s)), 3)
                process = render_process(stack_file, stack)
                base = (render, process)
                project.add_stack(stack, stack_file)
                project.set_secret(stack, "modelstack:hfToken", TOKEN)
                for step, action in (
                    ("preview (create all)", project.preview),
                    ("up (create all)", project.up),
                    ("preview (no changes)", project.preview),
                ):
                    rows.append((stack, step, timed(lambda a=action, s=stack: a(s)), *base))
            rows += _blue_green(project, cluster)
        finally:
            project.cleanup()
    print("offline render: in-process (warm imports) and as a whole `modelstack render` process")
    print(f"{'stack':<8} {'step':<34} {'seconds':>8} {'x in-process':>13} {'x process':>10}")
    for stack, step, seconds, warm, process in rows:
        ratios = f"{seconds / warm:>12.1f}x {seconds / process:>9.1f}x"
        print(f"{stack:<8} {step:<34} {seconds:>8.2f} {ratios}")


def _blue_green(
    project: PulumiProject, cluster: LocalCluster
) -> list[tuple[str, str, float, float]]:
    document = project.read_stack("prod")
    flipped = copy.deepcopy(document)
    chat = next(d for d in flipped["config"]["modelstack:deployments"] if d["name"] == "llama-chat")
    chat["rollout"]["active"] = "green"
    path = project.stack_file("prod")
    project.write_stack("prod", flipped)
    render = timed(lambda: render_stack(read_stack_file(path, "prod")), 3)
    process = render_process(path, "prod")
    up = timed(lambda: project.up("prod"))
    project.write_stack("prod", document)
    project.up("prod")
    service = "/api/v1/namespaces/ml-prod/services/llama-chat"
    selector = cluster.get(service)["spec"]["selector"]
    floor = timed(
        lambda: cluster.request(
            "PATCH",
            service + "?fieldManager=benchmark",
            {"spec": {"selector": selector}},
            "application/merge-patch+json",
        ),
        5,
    )
    return [
        ("prod", "blue-green flip: pulumi up", up, render, process),
        ("prod", "blue-green flip: one Service patch", floor, render, process),
    ]


if __name__ == "__main__":
    main()
