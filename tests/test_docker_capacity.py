"""The docker host check: what the host's /info cannot give the engine containers."""

from __future__ import annotations

from pathlib import Path

from components.checks.docker_capacity import capacity_problems
from tests.conftest import deployments_of, render_document, stack_document

GIB_MIB = 1024
HOST = {"NCPU": 2, "MemTotal": 8 * 2**30}


def _container(cpus: str, memory_gib: float, name: str = "chat") -> dict[str, object]:
    mib = int(memory_gib * GIB_MIB)
    return {"deployment": name, "cpus": cpus, "memory_mib": mib, "reservation_mib": mib}


def test_what_fits_passes() -> None:
    assert capacity_problems(HOST, [_container("2", 2), _container("1", 2)]) == []


def test_more_cpus_than_the_host_has_is_named_with_its_deployment() -> None:
    (problem,) = capacity_problems(HOST, [_container("4", 1)])
    assert problem.startswith("chat: resources.cpu asks for 4 CPUs per container")
    assert "has 2" in problem


def test_a_memory_limit_above_the_host_and_reservations_that_add_up_above_it() -> None:
    (limit, total) = capacity_problems(HOST, [_container("1", 9)])
    assert "resources.memory asks for 9.0 GiB" in limit
    assert "reserve 9.0 GiB together" in total
    (together,) = capacity_problems(HOST, [_container("1", 3) for _ in range(3)])
    assert "reserve 9.0 GiB together" in together


def test_the_docker_provider_waits_for_the_check(tmp_path: Path) -> None:
    document = stack_document("dev")
    deployments_of(document)[0]["resources"] = {"cpu": "3", "memory": "3Gi"}
    render = render_document(tmp_path, document)
    provider = next(r for r in render.resources if r["id"] == "pulumi:providers:docker::docker")
    assert provider["dependsOn"] == ["pulumi-python:dynamic:Resource::docker-capacity"]
    needs = render.object_files()["checks/docker-capacity.yaml"]["inputs"]["containers"]
    assert {(n["deployment"], n["cpus"], n["memory_mib"]) for n in needs} == {
        ("qwen-tiny", "3", 3072)
    }
