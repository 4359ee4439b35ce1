"""Render speed and memory at 1, 10, 100 and 500 deployments, against reference points.

Run from the repository root: ``.venv/bin/python benchmarks/render.py`` (``make bench``
installs cdk8s first; it runs on Node.js). Per size it writes a stack file shaped like the
blue-green deployment of stacks/Pulumi.prod.yaml, with a route (hosts, on a Gateway) and
autoscaling, and measures, each run in a fresh Python process after its imports:

    ours        components.offline.render.render_stack: the real program under the mocks
    bare        the same manifests (from our render) registered by a hand-written
                pulumi-kubernetes program (`bare_program`) on the same mock runtime
    bare-tuned  the same, starting like our program: no full garbage collections
    cdk8s       the same manifests as cdk8s ApiObjects, synthesized to YAML
    yaml        a PyYAML dump of the same manifests: the floor

It prints seconds, cost per object, peak memory per object above the process's memory
after imports, the ratios the targets are stated in, and the time of the whole
`modelstack validate` command over the largest stack: of its render directory
(`--render-dir`) and from the stack file (rendering first). It asserts only that every tool
produced the same objects; the figures are for reading, not for a test.
"""

from __future__ import annotations

import argparse
import copy
import functools
import gc
import importlib.util
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[1]
PROD_STACK = ROOT / "stacks" / "Pulumi.prod.yaml"
SIZES = (1, 10, 100, 500)
TOOLS = ("ours", "bare", "bare-tuned", "cdk8s", "yaml")
TITLES = {
    "ours": "ours",
    "bare": "bare pulumi-k8s",
    "bare-tuned": "bare, no full GC",
    "cdk8s": "cdk8s",
    "yaml": "PyYAML dump",
}
GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}
ROUTE = {"path": "/{namespace}/chat/{name}", "hosts": ["llm.example.com"]}
AUTOSCALING = {"min": 2, "max": 6, "metric": "queue", "target": 5}

# Targets, as stated in issue 7.
MAX_PER_OBJECT_GROWTH = 1.10  # ms/object at 500 over ms/object at 100
MAX_PEAK_KB_PER_OBJECT = 60
MAX_VALIDATE_SECONDS = 3.0


# --- the workloads -----------------------------------------------------------------------


def stack_document(deployments: int) -> dict[str, Any]:
    """The prod stack with `deployments` copies of its blue-green deployment, routed."""
    document = yaml.safe_load(PROD_STACK.read_text(encoding="utf-8"))
    config = document["config"]
    config["modelstack:kubernetes"]["gateway"] = dict(GATEWAY)
    model = next(
        item
        for item in config["modelstack:deployments"]
        if item.get("rollout", {}).get("strategy") == "blue-green"
    )
    config["modelstack:deployments"] = [_copy_of(model, index) for index in range(deployments)]
    return document


def _copy_of(model: dict[str, Any], index: int) -> dict[str, Any]:
    deployment = copy.deepcopy(model)
    deployment["name"] = f"{model['name']}-{index:03d}"
    deployment["route"] = copy.deepcopy(ROUTE)
    # An autoscaler owns the replica count.
    deployment.pop("replicas", None)
    deployment["autoscaling"] = dict(AUTOSCALING)
    return deployment


def bare_program(manifests: list[dict[str, Any]]) -> None:
    """What one would write by hand with pulumi-kubernetes: one resource per manifest.

    Typed classes for Kubernetes' own groups, CustomResource for the rest; no components,
    no options, no plan.
    """
    import pulumi_kubernetes as k8s

    for body in manifests:
        name = body["metadata"]["name"]
        resource_class = _typed_class(k8s, body["apiVersion"], body["kind"])
        if resource_class is None:
            k8s.apiextensions.CustomResource(
                name,
                api_version=body["apiVersion"],
                kind=body["kind"],
                metadata=body["metadata"],
                spec=body.get("spec"),
            )
        else:
            fields = {
                key: value for key, value in body.items() if key not in ("apiVersion", "kind")
            }
            resource_class(name, **{_snake_case(key): value for key, value in fields.items()})


def _typed_class(k8s: Any, api_version: str, kind: str) -> Any:
    group, _, version = api_version.rpartition("/")
    if "." in group and not group.endswith(".k8s.io"):
        return None
    # networking.k8s.io -> k8s.networking; Gateway API (gateway.networking.k8s.io) has none.
    package = getattr(k8s, group.split(".")[0] if group else "core", None)
    return getattr(getattr(package, version, None), kind, None)


def _snake_case(key: str) -> str:
    return re.sub(r"(?<!^)([A-Z])", r"_\1", key).lower()


def cdk8s_synth(manifests: list[dict[str, Any]]) -> str:
    """The same manifests as cdk8s ApiObjects in one chart, synthesized to YAML."""
    import cdk8s

    app = cdk8s.App()
    chart = cdk8s.Chart(app, "modelstack")
    for index, body in enumerate(manifests):
        api_object = cdk8s.ApiObject(
            chart,
            f"object-{index}",
            api_version=body["apiVersion"],
            kind=body["kind"],
            metadata=body["metadata"],
        )
        for key, value in body.items():
            if key not in ("apiVersion", "kind", "metadata"):
                api_object.add_json_patch(cdk8s.JsonPatch.add(f"/{key}", value))
    return app.synth_yaml()


# --- one measurement, in a child process ------------------------------------------------


def _prepare(
    tool: str, stack: Path, manifests_file: Path, produced: list[dict[str, Any]]
) -> Callable[[], int]:
    """Do the tool's imports and load its input; return the work, which counts its objects.

    `ours` also leaves its manifests in `produced`, the input of the other tools.
    """
    if tool == "ours":
        import pulumi_kubernetes as k8s

        import components.program  # noqa: F401  (the program's modules: part of the baseline)
        from components.offline.render import render_stack

        _import_lazy_modules(k8s)
        from components.offline.stack_file import read_stack_file

        def ours() -> int:
            render = render_stack(read_stack_file(stack))
            produced.extend(render.objects)
            return len(render.objects)

        return ours
    manifests = json.loads(manifests_file.read_text(encoding="utf-8"))
    if tool in ("bare", "bare-tuned"):
        import pulumi_kubernetes as k8s

        from components.gc_settings import skip_full_garbage_collections
        from components.offline.runtime import run_function

        # pulumi-kubernetes imports its modules on first use: part of the baseline.
        _import_lazy_modules(k8s)
        for body in manifests:
            _typed_class(k8s, body["apiVersion"], body["kind"])

        def program() -> None:
            if tool == "bare-tuned":
                skip_full_garbage_collections()  # the first line of our program's run()
            bare_program(manifests)

        def bare() -> int:
            run = run_function(program, "bare", "bench", {}, [])
            return sum(1 for resource in run.resources if resource.type.startswith("kubernetes:"))

        return bare
    if tool == "cdk8s":
        import cdk8s  # noqa: F401  (starts the Node.js process: part of the baseline)

        return lambda: _count_documents(cdk8s_synth(manifests))
    if tool == "yaml":
        return lambda: _count_documents(yaml.safe_dump_all(manifests, sort_keys=False))
    if tool == "validate":
        from components.offline.crd_schemas import find_crd_schema_dir
        from components.offline.schema_validation import SchemaValidator

        def validate() -> int:
            violations = SchemaValidator("1.33", find_crd_schema_dir()).validate_all(manifests)
            return len(manifests) - len(violations)

        return validate
    raise ValueError(f"unknown tool {tool}")


def _import_lazy_modules(k8s: Any) -> None:
    """Modules both pulumi-kubernetes programs import on first use (CustomResource, meta/v1)."""
    _ = k8s.apiextensions.CustomResource, k8s.meta.v1.Status


def _count_documents(text: str) -> int:
    return sum(1 for line in text.splitlines() if line.startswith("kind:"))


def _measure(tool: str, stack: Path, manifests_file: Path, dump: Path | None) -> dict[str, Any]:
    produced: list[dict[str, Any]] = []
    work = _prepare(tool, stack, manifests_file, produced)
    gc.collect()
    processes = [os.getpid(), *_child_pids()]  # cdk8s: its Node.js process counts too
    baseline = {pid: _status_kb(pid, "VmRSS") for pid in processes}
    for pid in processes:
        _reset_peak(pid)
    start = time.perf_counter()
    objects = work()
    seconds = time.perf_counter() - start
    peak_kb = sum(_status_kb(pid, "VmHWM") - baseline[pid] for pid in processes)
    if dump is not None:
        dump.write_text(json.dumps(produced), encoding="utf-8")
    return {"seconds": seconds, "objects": objects, "peak_kb": max(peak_kb, 0)}


def _child_pids() -> list[int]:
    pids: list[int] = []
    for task in Path("/proc/self/task").iterdir():
        children = (task / "children").read_text().split()
        pids.extend(int(pid) for pid in children)
    return pids


def _status_kb(pid: int, field: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{field}:"):
            return int(line.split()[1])
    raise KeyError(field)


def _reset_peak(pid: int) -> None:
    # Linux: "5" resets VmHWM to the current RSS, so import-time peaks are not counted.
    Path(f"/proc/{pid}/clear_refs").write_text("5")


# --- the parent: run every measurement, print the figures -------------------------------


def _run_child(
    tool: str, stack: Path, manifests: Path, dump: Path | None, env: dict[str, str]
) -> dict[str, Any]:
    command = [sys.executable, __file__, "--child", tool, "--stack", str(stack)]
    command += ["--manifests", str(manifests)]
    if dump is not None:
        command += ["--dump", str(dump)]
    done = subprocess.run(command, capture_output=True, text=True, env=env, cwd=ROOT, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"{tool} on {stack.name} failed:\n{done.stderr[-3000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def _best_of(repeat: int, measure: Callable[[], dict[str, Any]]) -> dict[str, Any]:
    """Fastest time and smallest peak over `repeat` fresh processes (others share this CPU)."""
    runs = [measure() for _ in range(repeat)]
    return {
        "seconds": min(run["seconds"] for run in runs),
        "objects": runs[0]["objects"],
        "peak_kb": min(run["peak_kb"] for run in runs),
    }


def _cdk8s_available() -> bool:
    # Not imported here: importing cdk8s starts its Node.js process.
    return importlib.util.find_spec("cdk8s") is not None and shutil.which("node") is not None


def _child_environment() -> dict[str, str]:
    env = dict(os.environ)
    node = shutil.which("node")
    if node:
        # jsii prints a banner for Node.js versions past their end of life.
        version = subprocess.run([node, "--version"], capture_output=True, text=True).stdout
        major = version.strip().lstrip("v").split(".")[0]
        env.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", major)
        env.setdefault("JSII_SILENCE_WARNING_DEPRECATED_NODE_VERSION", "1")
        env.setdefault("JSII_SILENCE_WARNING_UNTESTED_NODE_VERSION", "1")
    return env


def _time_validate(stack: Path, env: dict[str, str], temp: Path) -> dict[str, tuple[float, str]]:
    """Wall time of the whole `modelstack validate` command, as a user runs it: of a render
    directory (`--render-dir`, what a pipeline that renders once runs) and from the stack
    file (it renders first).

    With bytecode cached (in `temp`, not in the tree) and after one untimed run each, the
    way a second invocation on a workstation or CI runner goes.
    """
    executable = Path(sys.executable).with_name("modelstack")
    base = [str(executable)] if executable.exists() else [sys.executable, "-m", "components.cli"]
    env = {**env, "PYTHONPYCACHEPREFIX": str(temp / "pycache")}
    env.pop("PYTHONDONTWRITEBYTECODE", None)
    render_dir = temp / f"render-{stack.stem}"
    render = [*base, "render", "--stack-file", str(stack), "--out", str(render_dir)]
    subprocess.run(render, capture_output=True, env=env, cwd=ROOT, check=True)
    commands = {
        "of its render directory": [*base, "validate", "--render-dir", str(render_dir)],
        "from the stack file": [*base, "validate", "--stack-file", str(stack)],
    }
    timed = {}
    for label, command in commands.items():
        subprocess.run(command, capture_output=True, env=env, cwd=ROOT, check=False)
        start = time.perf_counter()
        done = subprocess.run(
            command, capture_output=True, text=True, env=env, cwd=ROOT, check=False
        )
        seconds = time.perf_counter() - start
        last_line = (done.stdout.strip().splitlines() or ["(no output)"])[-1]
        timed[label] = (seconds, f"exit {done.returncode}: {last_line}")
    return timed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default=",".join(map(str, SIZES)), help="deployments per stack")
    parser.add_argument("--repeat", type=int, default=3, help="fresh processes per figure")
    parser.add_argument("--child", choices=[*TOOLS, "validate"], help=argparse.SUPPRESS)
    parser.add_argument("--stack", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--manifests", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--dump", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.child:
        print(json.dumps(_measure(args.child, args.stack, args.manifests, args.dump)))
        return 0

    sizes = [int(size) for size in args.sizes.split(",")]
    tools = [tool for tool in TOOLS if tool != "cdk8s" or _cdk8s_available()]
    env = _child_environment()
    results: dict[int, dict[str, dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="modelstack-bench-") as directory:
        temp = Path(directory)
        for size in sizes:
            stack = temp / f"Pulumi.bench-{size}.yaml"
            stack.write_text(yaml.safe_dump(stack_document(size), sort_keys=False))
            manifests = temp / f"manifests-{size}.json"
            results[size] = {}
            for tool in tools:
                dump = manifests if tool == "ours" else None
                results[size][tool] = _best_of(
                    args.repeat, functools.partial(_run_child, tool, stack, manifests, dump, env)
                )
            counts = {tool: result["objects"] for tool, result in results[size].items()}
            if len(set(counts.values())) != 1:
                raise RuntimeError(f"{size} deployments: object counts differ: {counts}")
        largest = max(sizes)
        stack = temp / f"Pulumi.bench-{largest}.yaml"
        validate_times = _time_validate(stack, env, temp)
        checks = _run_child("validate", stack, temp / f"manifests-{largest}.json", None, env)

    _print_tables(results, tools, args.repeat)
    _print_targets(results, tools)
    render_seconds = results[largest]["ours"]["seconds"]
    directory_seconds, directory_outcome = validate_times["of its render directory"]
    stack_seconds, stack_outcome = validate_times["from the stack file"]
    print(
        f"  `modelstack validate` at {largest}, whole command < {MAX_VALIDATE_SECONDS:.0f} s:\n"
        f"    of its render directory (--render-dir): {directory_seconds:.2f} s "
        f"{_verdict(directory_seconds < MAX_VALIDATE_SECONDS)} ({directory_outcome})\n"
        f"    from the stack file (renders first): {stack_seconds:.2f} s ({stack_outcome});"
        f" its render alone: {render_seconds:.2f} s (table)\n"
        f"    schema checks alone (validators built once, {checks['objects']} objects): "
        f"{checks['seconds']:.2f} s {_verdict(checks['seconds'] < MAX_VALIDATE_SECONDS)}"
    )
    return 0


def _per_object_ms(result: dict[str, Any]) -> float:
    return result["seconds"] * 1000 / result["objects"]


def _per_object_kb(result: dict[str, Any]) -> float:
    return result["peak_kb"] / result["objects"]


def _print_tables(
    results: dict[int, dict[str, dict[str, Any]]], tools: list[str], repeat: int
) -> None:
    print(
        f"Render of N blue-green, routed, autoscaled deployments; best of {repeat} fresh "
        "processes each, timed after imports."
    )
    columns = " |".join(f"{TITLES[tool]:>18}" for tool in tools)
    print(f"\nseconds (ms per Kubernetes object)\n{'deploy':>6} {'objects':>7} |{columns}")
    for size, by_tool in results.items():
        cells = " |".join(
            f"{by_tool[tool]['seconds']:>9.2f} ({_per_object_ms(by_tool[tool]):5.2f})"
            for tool in tools
        )
        print(f"{size:>6} {by_tool['ours']['objects']:>7} |{cells}")
    print(
        "\npeak memory above the process after imports, KB per object (MB)"
        f"\n{'deploy':>6} {'objects':>7} |{columns}"
    )
    for size, by_tool in results.items():
        cells = " |".join(
            f"{_per_object_kb(by_tool[tool]):>9.1f} ({by_tool[tool]['peak_kb'] / 1024:5.0f})"
            for tool in tools
        )
        print(f"{size:>6} {by_tool['ours']['objects']:>7} |{cells}")
    if "cdk8s" not in tools:
        print("(cdk8s not installed or no `node`: `make bench` installs it)")
    print()


def _verdict(met: bool) -> str:
    return "met" if met else "MISSED"


def _print_targets(results: dict[int, dict[str, dict[str, Any]]], tools: list[str]) -> None:
    print("Targets, as ratios from this run")
    ratios = {size: r["ours"]["seconds"] / r["bare"]["seconds"] for size, r in results.items()}
    cells = ", ".join(f"{size}: {ratio:.2f}" for size, ratio in ratios.items())
    met = all(ratio <= 1 for ratio in ratios.values())
    print(f"  ours / bare pulumi-kubernetes time <= 1 at every size: {cells} {_verdict(met)}")
    if 100 in results and 500 in results:
        growth = _per_object_ms(results[500]["ours"]) / _per_object_ms(results[100]["ours"])
        met = growth <= MAX_PER_OBJECT_GROWTH
        print(
            f"  ours ms/object at 500 / at 100 <= {MAX_PER_OBJECT_GROWTH:.2f}: {growth:.2f} "
            f"{_verdict(met)}"
        )
    if 100 in results and "cdk8s" in tools:
        ratio = results[100]["ours"]["seconds"] / results[100]["cdk8s"]["seconds"]
        print(f"  ours / cdk8s time at 100 <= 1: {ratio:.2f} {_verdict(ratio <= 1)}")
    peaks = {size: _per_object_kb(r["ours"]) for size, r in results.items()}
    cells = ", ".join(f"{size}: {peak:.1f}" for size, peak in peaks.items())
    met = all(peak < MAX_PEAK_KB_PER_OBJECT for peak in peaks.values())
    print(
        f"  ours peak KB/object above imports < {MAX_PEAK_KB_PER_OBJECT} at every size: "
        f"{cells} {_verdict(met)}"
    )


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
