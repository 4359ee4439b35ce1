"""What makes the program and the render scale, checked without timing anything.

The figures come from benchmarks/render.py and docs/performance.md; these tests pin the
behaviour behind them: the collector setting and its scope, the shared decoding of inputs,
and that the benchmark's bare program registers exactly the objects our render produces.
"""

from __future__ import annotations

import gc
import sys
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.gc_settings import skip_full_garbage_collections
from components.offline import render as render_module
from components.offline.render import build_render
from components.offline.runtime import ProgramRun, run_function
from tests.conftest import ROOT, render_document

NEVER = 2**31 - 1


@pytest.fixture
def bench() -> Any:
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import render as bench_module  # benchmarks/render.py

        yield bench_module
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
        sys.modules.pop("render", None)


def test_the_program_skips_full_collections_and_the_runtime_restores_the_collector() -> None:
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    def main() -> None:
        skip_full_garbage_collections()
        seen.append(gc.get_threshold())

    run_function(main, "demo", "test", {}, [])
    assert seen == [(before[0], before[1], NEVER)]
    assert gc.get_threshold() == before


def test_a_render_keeps_the_program_setting_until_its_files_are_built(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, bench: Any
) -> None:
    before = gc.get_threshold()
    while_building: list[tuple[int, ...]] = []

    def recording_build(run: ProgramRun, placeholders: tuple[str, ...]) -> Any:
        while_building.append(gc.get_threshold())
        return build_render(run, placeholders)

    monkeypatch.setattr(render_module, "build_render", recording_build)
    render_document(tmp_path, bench.stack_document(1))
    assert while_building == [(before[0], before[1], NEVER)]
    assert gc.get_threshold() == before


def test_resource_references_are_recorded_by_their_id() -> None:
    """References take the record's own decoding path (each decoding constructs one)."""

    def main() -> None:
        target = pulumi.CustomResource("test:index:Thing", "target", {"size": 2})
        pulumi.CustomResource("test:index:Thing", "pointer", {"ref": target, "size": 3})

    run = run_function(main, "demo", "test", {}, [])
    by_name = {resource.name: resource for resource in run.resources}
    assert by_name["target"].inputs == {"size": 2}
    assert by_name["pointer"].inputs == {"ref": "target-id", "size": 3}


def test_the_benchmark_workload_and_its_bare_program_register_the_same_objects(
    tmp_path: Path, bench: Any
) -> None:
    ours = render_document(tmp_path, bench.stack_document(2))
    kinds = {obj["kind"] for obj in ours.objects}
    assert {"Deployment", "HTTPRoute", "ScaledObject", "Service", "Job"} <= kinds
    assert len({obj["metadata"]["name"] for obj in ours.objects if obj["kind"] == "HTTPRoute"}) == 2

    bare = run_function(lambda: bench.bare_program(ours.objects), "bare", "test", {}, [])
    assert build_render(bare, ()).objects == ours.objects
