"""Decisions that used to be the targets' own are plan fields: the plan decides each value once
and both targets translate it (timeouts, disruption budgets, spread, secret protection, slot
Services), and each plan carries exactly the part of its target."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.offline.render_model import Render
from components.plan import DeploymentPlan, StackPlan, build_plan
from components.planning.target_parts import KubernetesPart, SpreadPlan
from components.planning.timeouts import LOADER_SECONDS, in_minutes
from components.stack_config import parse_stack_spec
from tests.conftest import deployments_of, render_document, stack_document
from tests.support.planned_stacks import STACK_FILE, plan_stack


def _plan(document: dict[str, Any]) -> StackPlan:
    return plan_stack({k.removeprefix("modelstack:"): v for k, v in document["config"].items()})


def _resources(render: Render, type_: str) -> dict[str, dict[str, Any]]:
    return {r["name"]: r for r in render.resources if r["type"] == type_}


def _inputs(render: Render, prefix: str) -> dict[str, dict[str, Any]]:
    return {
        document["name"]: document["inputs"]
        for path, document in render.other_files.items()
        if path.startswith(prefix)
    }


def _objects(render: Render, kind: str) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in render.objects if o["kind"] == kind}


@pytest.fixture(scope="module")
def prod(tmp_path_factory: pytest.TempPathFactory) -> tuple[StackPlan, Render]:
    document = stack_document("prod")
    deployments_of(document)[0]["startupTimeoutSeconds"] = 930
    return _plan(document), render_document(tmp_path_factory.mktemp("prod"), document)


@pytest.fixture(scope="module")
def dev(tmp_path_factory: pytest.TempPathFactory) -> tuple[StackPlan, Render]:
    document = stack_document("dev")
    deployments_of(document)[0]["startupTimeoutSeconds"] = 930
    return _plan(document), render_document(tmp_path_factory.mktemp("dev"), document)


def _first(plan: StackPlan) -> DeploymentPlan:
    return plan.deployments[0]


Planned = tuple[StackPlan, Render]


def test_each_plan_carries_the_part_of_its_target_only(prod: Planned, dev: Planned) -> None:
    assert all(d.kubernetes and d.docker is None for d in prod[0].deployments)
    assert all(d.docker and d.kubernetes is None for d in dev[0].deployments)
    with pytest.raises(AssertionError, match="planned for docker"):
        _ = _first(dev[0]).on_kubernetes


def test_the_plan_decides_timeouts_once_from_the_startup_timeout(
    prod: Planned, dev: Planned
) -> None:
    for plan in (prod[0], dev[0]):
        timeouts = _first(plan).timeouts
        assert (timeouts.startup_seconds, timeouts.rollout_seconds) == (930, 1530)
        assert timeouts.loader_seconds == LOADER_SECONDS
    # The docker loader enforces its own deadline: Pulumi waits past it.
    assert _first(dev[0]).on_docker.loader_wait_seconds > LOADER_SECONDS


def test_kubernetes_translates_the_timeouts(prod: Planned) -> None:
    plan, render = prod
    timeouts = _first(plan).timeouts
    workload = _first(plan).slots[0].workload_name
    deployment = _objects(render, "Deployment")[workload]
    assert deployment["spec"]["progressDeadlineSeconds"] == timeouts.rollout_seconds
    resources = _resources(render, "kubernetes:apps/v1:Deployment")
    assert resources[workload]["customTimeouts"]["create"] == in_minutes(timeouts.rollout_seconds)
    jobs = _resources(render, "kubernetes:batch/v1:Job")
    job = next(name for name in jobs if name.startswith(_first(plan).name + "-fetch"))
    assert jobs[job]["customTimeouts"]["update"] == in_minutes(timeouts.loader_seconds)


def test_docker_translates_the_timeouts(dev: Planned) -> None:
    plan, render = dev
    deployment = _first(plan)
    timeouts, part = deployment.timeouts, deployment.on_docker
    engines = {
        name: inputs
        for name, inputs in _inputs(render, "docker/container-").items()
        if name != "gateway"
    }
    assert engines and all(e["waitTimeout"] == timeouts.startup_seconds for e in engines.values())
    assert all(e["healthcheck"]["startPeriod"] == "930s" for e in engines.values())
    containers = _resources(render, "docker:index/container:Container")
    assert {containers[name]["customTimeouts"]["create"] for name in engines} == {
        in_minutes(timeouts.rollout_seconds)
    }
    loaders = _inputs(render, "checks/" + deployment.name + "-fetch")
    assert [loader["timeout_seconds"] for loader in loaders.values()] == [timeouts.loader_seconds]
    waits = _resources(render, "pulumi-python:dynamic:Resource")
    assert [waits[name]["customTimeouts"]["create"] for name in loaders] == [
        in_minutes(part.loader_wait_seconds)
    ]
    gateway = _inputs(render, "docker/container-gateway")["gateway"]
    start_seconds = plan.on_docker.gateway_start_seconds
    assert gateway["healthcheck"]["startPeriod"] == f"{start_seconds}s"
    assert start_seconds == timeouts.startup_seconds + timeouts.loader_seconds


def test_both_targets_stop_engines_with_the_grace_the_plan_gives(
    prod: Planned, dev: Planned
) -> None:
    plan, render = dev
    grace = _first(plan).on_docker.stop_grace_seconds
    engine = next(v for k, v in _inputs(render, "docker/container-").items() if k != "gateway")
    assert engine["destroyGraceSeconds"] == engine["stopTimeout"] == grace
    plan, render = prod
    grace = _first(plan).on_kubernetes.termination_grace_seconds
    for deployment in _objects(render, "Deployment").values():
        assert deployment["spec"]["template"]["spec"]["terminationGracePeriodSeconds"] == grace


def test_disruption_budgets_spread_and_secret_protection_follow_the_environment() -> None:
    def part(environment: str) -> KubernetesPart:
        document = stack_document("prod")
        document["config"]["modelstack:environment"] = environment
        return _first(_plan(document)).on_kubernetes

    prod, dev = part("prod"), part("dev")
    assert (prod.disruption_budget, dev.disruption_budget) == (1, None)
    assert prod.spread == SpreadPlan("kubernetes.io/hostname", max_skew=1, required=False)
    assert dev.spread is None
    assert (prod.protect_secrets, dev.protect_secrets) == (True, False)


def test_kubernetes_translates_budget_spread_and_protection(prod: Planned, tmp_path: Path) -> None:
    plan, render = prod
    budgets = _objects(render, "PodDisruptionBudget")
    for deployment in plan.deployments:
        part = deployment.on_kubernetes
        for slot in deployment.slots:
            budget = budgets[slot.workload_name]["spec"]
            assert budget["maxUnavailable"] == part.disruption_budget
            pod = _objects(render, "Deployment")[slot.workload_name]["spec"]["template"]["spec"]
            [spread] = pod["topologySpreadConstraints"]
            assert spread["topologyKey"] == part.spread.topology_key
            assert spread["maxSkew"] == part.spread.max_skew
            assert spread["whenUnsatisfiable"] == "ScheduleAnyway"
    document = stack_document("staging")
    document["config"]["modelstack:environment"] = "dev"
    dev_render = render_document(tmp_path, document)
    assert _objects(dev_render, "PodDisruptionBudget") == {}
    pod = next(iter(_objects(dev_render, "Deployment").values()))["spec"]["template"]["spec"]
    assert "topologySpreadConstraints" not in pod


def test_kubernetes_protects_the_secrets_the_plan_protects(tmp_path: Path) -> None:
    document = stack_document("prod")
    document["config"]["modelstack:registries"] = [
        {"name": "ghcr", "server": "ghcr.io", "username": "bot"}
    ]
    document["config"]["modelstack:registryPasswords"] = {"ghcr": {"secure": "v1:x"}}
    document["config"]["modelstack:hfToken"] = {"secure": "v1:x"}
    raw = {k.removeprefix("modelstack:"): v for k, v in document["config"].items()}
    raw |= {"registryPasswords": {"ghcr": "x"}, "hfToken": "x"}
    secret_keys = {"registryPasswords", "hfToken"}
    plan = build_plan(parse_stack_spec(raw, secret_keys, STACK_FILE), STACK_FILE)
    assert [registry.protect for registry in plan.registries] == [True]
    assert _first(plan).on_kubernetes.protect_secrets
    secrets = _resources(render_document(tmp_path, document), "kubernetes:core/v1:Secret")
    assert secrets and all(secret["protect"] for secret in secrets.values())


def test_the_plan_lists_slot_services_and_kubernetes_creates_exactly_those(prod: Planned) -> None:
    plan, render = prod
    chat, large, *_ = plan.deployments
    assert chat.on_kubernetes.slot_services == {
        "blue": "llama-chat-blue",
        "green": "llama-chat-green",
    }
    assert large.on_kubernetes.slot_services == {}
    services = _objects(render, "Service")
    for slot, name in chat.on_kubernetes.slot_services.items():
        assert services[name]["spec"]["selector"]["modelstack.io/slot"] == slot
    assert "llama-70b-main" not in services


def test_both_targets_give_a_health_check_the_time_the_plan_gives_it(
    prod: Planned, dev: Planned
) -> None:
    probes = _first(prod[0]).probes
    workload = _first(prod[0]).slots[0].workload_name
    pod = _objects(prod[1], "Deployment")[workload]["spec"]["template"]["spec"]
    container = pod["containers"][0]
    assert container["startupProbe"]["timeoutSeconds"] == probes.timeout_seconds
    assert container["readinessProbe"]["timeoutSeconds"] == probes.timeout_seconds
    assert container["livenessProbe"]["timeoutSeconds"] == probes.liveness_timeout_seconds
    engine = next(v for k, v in _inputs(dev[1], "docker/container-").items() if k != "gateway")
    assert engine["healthcheck"]["timeout"] == f"{_first(dev[0]).probes.timeout_seconds}s"
