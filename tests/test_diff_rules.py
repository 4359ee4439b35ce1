"""The comparison on hand-built renders: rule tables, Pulumi options, lists, route weights."""

from __future__ import annotations

import copy
from dataclasses import dataclass, field
from typing import Any

import pytest

from components.diff.compare import compare
from components.diff.diff_model import Consequence, Named, Status
from components.diff.tree_diff import format_path, tree_changes


@dataclass
class FakeRender:
    objects: list[dict[str, Any]]
    resources: list[dict[str, Any]] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


def _object(api_version: str, kind: str, name: str, spec: dict[str, Any]) -> dict[str, Any]:
    return {
        "apiVersion": api_version,
        "kind": kind,
        "metadata": {"name": name, "namespace": "ns", "labels": {"modelstack.io/deployment": "d"}},
        "spec": spec,
    }


def _job(**spec: Any) -> dict[str, Any]:
    template = {"spec": {"containers": [{"name": "loader", "image": "python:3.12"}]}}
    return _object("batch/v1", "Job", "d-fetch", {"backoffLimit": 4, "template": template, **spec})


def _verdict_of(before: dict[str, Any], after: dict[str, Any]) -> Consequence | None:
    diff = compare(FakeRender([before]), FakeRender([after]))
    (resource,) = diff.resources
    verdicts = [change.verdict for change in resource.fields if change.verdict]
    return verdicts[0].consequence if verdicts else None


@pytest.mark.parametrize(
    ("edit", "expected"),
    [
        (lambda job: job["spec"].update(backoffLimit=6), None),
        (lambda job: job["spec"].update(suspend=True), None),
        (lambda job: job["spec"].update(parallelism=2), Consequence.REPLACE),
        (
            lambda job: job["spec"]["template"]["spec"]["containers"][0].update(
                image="python:3.13"
            ),
            Consequence.REPLACE,
        ),
        (lambda job: job["spec"].update(completionMode="Indexed"), Consequence.REFUSED),
    ],
    ids=["backoffLimit", "suspend", "parallelism", "template", "completionMode"],
)
def test_job_fields(edit: Any, expected: Consequence | None) -> None:
    before = _job()
    after = copy.deepcopy(before)
    edit(after)
    assert _verdict_of(before, after) is expected


@pytest.mark.parametrize(
    ("before_spec", "after_spec", "expected"),
    [
        (
            {"type": "ClusterIP", "clusterIP": "10.0.0.1"},
            {"type": "ClusterIP", "clusterIP": "10.0.0.2"},
            Consequence.REPLACE,
        ),
        ({"type": "ClusterIP"}, {"type": "LoadBalancer"}, None),
        (
            {"type": "ClusterIP", "clusterIP": "None"},
            {"type": "NodePort", "clusterIP": "None"},
            Consequence.REFUSED,
        ),
    ],
    ids=["clusterIP", "type", "headless-to-NodePort"],
)
def test_service_fields(before_spec: dict, after_spec: dict, expected: Consequence | None) -> None:
    before = _object("v1", "Service", "d", before_spec)
    after = _object("v1", "Service", "d", after_spec)
    assert _verdict_of(before, after) is expected


def test_deployment_selector_is_replaced_and_replicas_are_not() -> None:
    before = _object(
        "apps/v1", "Deployment", "d", {"replicas": 1, "selector": {"matchLabels": {"a": "1"}}}
    )
    scaled = copy.deepcopy(before)
    scaled["spec"]["replicas"] = 3
    assert _verdict_of(before, scaled) is None
    reselected = copy.deepcopy(before)
    reselected["spec"]["selector"]["matchLabels"]["b"] = "2"
    assert _verdict_of(before, reselected) is Consequence.REPLACE


def test_a_kind_without_rules_updates_in_place() -> None:
    route = _object("gateway.networking.k8s.io/v1", "HTTPRoute", "d", {"hostnames": ["a.example"]})
    changed = copy.deepcopy(route)
    changed["spec"]["hostnames"] = ["b.example"]
    assert _verdict_of(route, changed) is None


def _record(resource_id: str, parent: str | None = None, **options: Any) -> dict[str, Any]:
    type_, _, name = resource_id.partition("::")
    return {"id": resource_id, "type": type_, "name": name, "parent": parent, **options}


def test_new_parent_is_a_pulumi_replacement_and_protect_changes_are_reported() -> None:
    svc = _object("v1", "Service", "d", {"type": "ClusterIP"})
    svc_id = "kubernetes:core/v1:Service::d"
    one, two = "modelstack:kubernetes:ModelDeployment::d", "modelstack:kubernetes:Other::d"
    before = FakeRender([svc], [_record(one), _record(two), _record(svc_id, one, protect=False)])
    after = FakeRender([svc], [_record(one), _record(two), _record(svc_id, two, protect=True)])
    (resource,) = compare(before, after).resources
    options = {format_path(change.path): change for change in resource.options}
    assert options["parent"].verdict is not None
    assert options["parent"].verdict.consequence is Consequence.REPLACE
    assert "alias" in options["parent"].verdict.reason
    assert options["protect"].new is True
    # Replacing a now-protected resource is refused.
    assert any(n.consequence is Consequence.REFUSED for n in resource.notes)


def test_removing_a_protected_resource_is_refused() -> None:
    claim = _object("v1", "PersistentVolumeClaim", "d-cache", {"accessModes": ["ReadWriteOnce"]})
    claim_id = "kubernetes:core/v1:PersistentVolumeClaim::d-cache"
    before = FakeRender([claim], [_record(claim_id, protect=True, retainOnDelete=True)])
    (resource,) = compare(before, FakeRender([])).resources
    assert resource.status is Status.REMOVED
    assert [n.consequence for n in resource.notes] == [Consequence.REFUSED, Consequence.UPDATE]


def test_named_list_items_are_matched_by_name() -> None:
    old = {"env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}]}
    new = {
        "env": [
            {"name": "NEW", "value": "0"},
            {"name": "A", "value": "1"},
            {"name": "B", "value": "3"},
        ]
    }
    changes = {format_path(path): (a, b) for path, a, b in tree_changes(old, new)}
    assert set(changes) == {"env[NEW]", "env[B].value"}
    assert ("env", Named("B"), "value") in [path for path, _, _ in tree_changes(old, new)]


def test_inserted_argument_is_one_change() -> None:
    old = {"args": ["--model", "/m", "--port", "8000"]}
    new = {"args": ["--model", "/m", "--lora", "--port", "8000"]}
    assert [format_path(p) for p, _, _ in tree_changes(old, new)] == ["args[2]"]


def _route(blue: int, green: int) -> dict[str, Any]:
    refs = [{"name": "d-blue", "weight": blue}, {"name": "d-green", "weight": green}]
    return _object(
        "gateway.networking.k8s.io/v1", "HTTPRoute", "d", {"rules": [{"backendRefs": refs}]}
    )


def test_canary_weight_move_is_summarized() -> None:
    diff = compare(FakeRender([_route(90, 10)]), FakeRender([_route(75, 25)]))
    assert diff.summary == ("d: weights d-blue 90%, d-green 10% -> d-blue 75%, d-green 25%",)


def test_docker_container_changes_recreate_except_resource_limits() -> None:
    def container(**inputs: Any) -> dict[str, Any]:
        return {
            "type": "docker:index/container:Container",
            "name": "engine-0",
            "inputs": {"image": "engine:1", "memory": 2048, **inputs},
        }

    @dataclass
    class DockerRender(FakeRender):
        other_files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def verdicts(after: dict[str, Any]) -> list[Consequence | None]:
        diff = compare(
            DockerRender([], other_files={"docker/a.yaml": container()}),
            DockerRender([], other_files={"docker/a.yaml": after}),
        )
        (resource,) = diff.resources
        assert resource.kind == "Container"
        return [c.verdict.consequence if c.verdict else None for c in resource.fields]

    assert verdicts(container(memory=4096)) == [None]
    assert verdicts(container(image="engine:2")) == [Consequence.REPLACE]
