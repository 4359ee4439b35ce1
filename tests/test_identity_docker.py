"""The docker target's names in components/identity.py: the builders give exactly what the
docker target renders, and the parsers take those names apart again."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components import identity
from components.docker.containers import engine_settings
from components.offline.render import Render
from components.offline.stack_file import read_stack_file
from components.plan import StackPlan, build_plan
from components.stack_config import parse_stack_spec, read_stack_file_config
from tests.conftest import deployments_of, render_document, stack_document, write_stack

CONTAINER = "docker:index/container:Container"
NETWORK = "docker:index/network:Network"
VOLUME = "docker:index/volume:Volume"
DYNAMIC = "pulumi-python:dynamic:Resource"


def _document() -> dict[str, Any]:
    """The dev stack, plus a blue-green deployment: engines of two slots, two loaders."""
    document = stack_document("dev")
    second = copy.deepcopy(deployments_of(document)[0])
    second["name"] = "qwen-bg"
    second["rollout"] = {"strategy": "blue-green", "active": "blue"}
    second["replicas"] = 2
    deployments_of(document).append(second)
    return document


@pytest.fixture(scope="module")
def rendered(tmp_path_factory: pytest.TempPathFactory) -> tuple[Render, StackPlan]:
    directory = tmp_path_factory.mktemp("docker-names")
    document = _document()
    render = render_document(directory, document)
    stack = read_stack_file(write_stack(directory, document, "plan"))
    raw, secret_keys = read_stack_file_config(stack)
    plan = build_plan(parse_stack_spec(raw, secret_keys, str(stack.stack_file)), "plan")
    return render, plan


def _documents(render: Render) -> list[dict[str, Any]]:
    """Every rendered docker and check resource: type, Pulumi name and inputs."""
    return list(render.other_files.values())


def _docker_names(render: Render, type_: str) -> set[str]:
    return {str(r["inputs"]["name"]) for r in _documents(render) if r["type"] == type_}


def _loader_names(render: Render) -> set[str]:
    loaders = set()
    for resource in _documents(render):
        labels = {i["label"]: i["value"] for i in resource["inputs"].get("labels") or []}
        if resource["type"] == DYNAMIC and labels.get(identity.COMPONENT) == identity.MODEL_LOADER:
            loaders.add(str(resource["inputs"]["name"]))
    return loaders


def _planned_engines(plan: StackPlan) -> list[tuple[str, str, int, str]]:
    """(deployment, workload, replica, fingerprint) of every engine container of the plan."""
    engines = []
    for deployment in plan.deployments:
        for slot in deployment.slots:
            fingerprint = identity.engine_fingerprint(engine_settings(deployment, slot))
            engines += [
                (deployment.name, slot.workload_name, replica, fingerprint)
                for replica in range(slot.replicas)
            ]
    return engines


def test_the_builders_name_what_the_docker_target_renders(
    rendered: tuple[Render, StackPlan],
) -> None:
    render, plan = rendered
    namespace = plan.namespace
    engines = {
        identity.engine_container(namespace, workload, replica, fingerprint)
        for _, workload, replica, fingerprint in _planned_engines(plan)
    }
    assert len(engines) == 2 + 2 * 2  # qwen-tiny: 2 replicas; qwen-bg: 2 slots of 2
    assert _docker_names(render, CONTAINER) == engines | {identity.gateway_container(namespace)}
    assert _docker_names(render, NETWORK) == {identity.docker_network(namespace)}
    assert _docker_names(render, VOLUME) == {
        identity.cache_volume(namespace, deployment.cache.claim_name)
        for deployment in plan.deployments
        if deployment.cache is not None
    }
    assert _loader_names(render) == {
        identity.loader_container(namespace, loader.job_name)
        for deployment in plan.deployments
        for loader in deployment.loaders
    }


def test_engine_containers_are_pulumi_resources_under_their_name_without_namespace(
    rendered: tuple[Render, StackPlan],
) -> None:
    render, plan = rendered
    logical = {
        str(r["name"])
        for r in _documents(render)
        if r["type"] == CONTAINER and r["name"] != "gateway"
    }
    assert logical == {
        identity.engine_name(workload, replica, fingerprint)
        for _, workload, replica, fingerprint in _planned_engines(plan)
    }


def test_the_parsers_read_back_what_the_docker_target_renders(
    rendered: tuple[Render, StackPlan],
) -> None:
    render, plan = rendered
    namespace = plan.namespace
    found = set()
    for resource in _documents(render):
        if resource["type"] != CONTAINER or resource["name"] == "gateway":
            continue
        by_container = identity.parse_engine_container(namespace, resource["inputs"]["name"])
        assert by_container is not None
        assert by_container == identity.parse_engine_name(resource["name"])
        found.add((by_container.workload, by_container.replica, by_container.fingerprint))
    assert found == {(w, r, f) for _, w, r, f in _planned_engines(plan)}
    # Neither the gateway nor a loader is an engine; another stack's containers are not ours.
    gateway = identity.gateway_container(namespace)
    assert identity.parse_engine_container(namespace, gateway) is None
    for loader in _loader_names(render):
        assert identity.parse_engine_container(namespace, loader) is None
    some_engine = identity.engine_container(namespace, "qwen-tiny", 0, "8ed6d1")
    assert identity.parse_engine_container(f"{namespace}-other", some_engine) is None


def test_the_status_expectation_names_the_engines_as_identity_does(
    rendered: tuple[Render, StackPlan],
) -> None:
    from components.status.model import StackExpectation

    render, plan = rendered
    expectation = StackExpectation.from_plan("plan", plan)
    named = {name for d in expectation.deployments for s in d.slots for name in s.instance_names}
    assert named == _docker_names(render, CONTAINER) - {identity.gateway_container(plan.namespace)}


@pytest.mark.parametrize(
    ("name", "parsed"),
    [
        ("llama-0-9e3ddc", identity.EngineName("llama", 0, "9e3ddc")),
        ("llama-chat-blue-h100-12-0a", identity.EngineName("llama-chat-blue-h100", 12, "0a")),
        # The replica and the hash are the last two parts: a workload may end in digits.
        ("llama-3-1-ff", identity.EngineName("llama-3", 1, "ff")),
        ("llama-0", None),
        ("llama-x-9e3ddc", None),
        ("llama-0-9E3DDC", None),  # the hash is lowercase hex
        ("llama-0-9e3ddc\n", None),  # a whole-name match: no trailing newline
        ("-0-9e3ddc", None),
    ],
)
def test_engine_names_are_taken_apart_whole(name: str, parsed: identity.EngineName | None) -> None:
    assert identity.parse_engine_name(name) == parsed
    if parsed is not None:
        assert identity.engine_name(parsed.workload, parsed.replica, parsed.fingerprint) == name


def test_a_stack_owns_the_names_under_its_namespace_only() -> None:
    assert identity.of_stack("lab", identity.gateway_container("lab"))
    assert not identity.of_stack("lab", "labx-gateway")
    assert not identity.of_stack("lab", "lab")  # the network, not a container of the stack
    assert identity.loader_container("lab", "qwen-fetch-1a2b3c4d") == "lab-qwen-fetch-1a2b3c4d"
    assert identity.cache_volume("lab", identity.cache_claim("qwen")) == "lab-qwen-cache"
