"""`modelstack status` of a progressive canary through the real kubernetes client, against the
fake API server of tests/test_status_reader.py taught Flagger's paths: the Canaries list
(flagger.app/v1beta1) and one Deployment by name, the primary, which the stack's label
selector misses (Flagger gives it none of the target's own labels by default)."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.status import kubernetes_reader
from tests import test_status_reader
from tests.test_status_progressive import (
    NAME,
    NAMESPACE,
    PRIMARY,
    READ_AT,
    ROLLBACK_EVENTS,
    STACK,
    canary,
    completed_loader,
    flaggers_primary,
    pods_of,
    target,
)
from tests.test_status_reader import (
    FakeCluster,
    _matches,
    _status,
    expectation_of,
    main,
    write_kubeconfig,
    write_stack,
)

CANARIES = f"/apis/flagger.app/v1beta1/namespaces/{NAMESPACE}/canaries"
DEPLOYMENTS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
# Its fake API server, started per test.
serve = test_status_reader.serve


class FlaggerCluster(FakeCluster):
    """Also serves Canaries (404 where a scenario has none: no CRD) and Deployments by name."""

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        if path == CANARIES and "canaries" in self.current:
            self.requests.append((path, query))
            items = [o for o in self.current["canaries"] if _matches(o, query)]
            body = {"apiVersion": "flagger.app/v1beta1", "kind": "CanaryList", "items": items}
            return 200, "application/json", json.dumps(body)
        if path.startswith(f"{DEPLOYMENTS}/"):
            self.requests.append((path, query))
            name = path.removeprefix(f"{DEPLOYMENTS}/")
            for item in self.current.get("deployments", []):
                if item["metadata"]["name"] == name:
                    return 200, "application/json", json.dumps(item)
            return 404, "application/json", _status(404, "NotFound", f"{name} not found")
        return super().answer(path, query)


def promoted() -> dict[str, Any]:
    primary = flaggers_primary()
    return {
        "deployments": [target(0), primary],
        "pods": pods_of(primary, 2),
        "jobs": [completed_loader()],
        "canaries": [canary("Succeeded")],
    }


def status_json(
    tmp_path: Path,
    serve: Callable[[FakeCluster], str],
    scenario: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, dict[str, Any], FlaggerCluster]:
    document = {"config": {f"modelstack:{key}": value for key, value in STACK.items()}}
    document = copy.deepcopy(document)
    document["config"]["modelstack:kubernetes"]["context"] = "staging-gke"
    stack_file = write_stack(tmp_path, document, "staging")
    # The objects are rendered from the same plan: their loader Job is the one expected.
    (slot,) = expectation_of(stack_file).deployments[0].slots
    assert slot.loader_job == completed_loader()["metadata"]["name"]
    cluster = FlaggerCluster(NAMESPACE, [scenario])
    kubeconfig = write_kubeconfig(tmp_path, {"staging-gke": serve(cluster)}, "staging-gke")
    code = main(
        ["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig), "--json"]
    )
    return code, json.loads(capsys.readouterr().out), cluster


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubernetes_reader, "now", lambda: READ_AT)


def test_the_reader_reads_flaggers_primary_by_name_and_reports_it_serving(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, cluster = status_json(tmp_path, serve, promoted(), capsys)
    assert code == 0, report
    (slot,) = report["deployments"][0]["slots"]
    assert (slot["status"], slot["readyReplicas"], slot["desiredReplicas"]) == ("DEPLOYED", 2, 2)
    assert slot["canary"]["phase"] == "Succeeded"
    assert all(i["name"].startswith(f"{PRIMARY}-") for i in slot["instances"])
    paths = [path for path, _ in cluster.requests]
    assert f"{DEPLOYMENTS}/{PRIMARY}" in paths
    assert dict(cluster.requests)[CANARIES]["labelSelector"] == [
        "app.kubernetes.io/part-of=modelstack"
    ]


def test_a_rollback_read_from_the_cluster_exits_5(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    scenario = promoted()
    scenario["canaries"] = [canary("Failed")]
    scenario["events"] = ROLLBACK_EVENTS
    code, report, _ = status_json(tmp_path, serve, scenario, capsys)
    assert code == 5, report
    assert report["outcome"] == "degraded"
    (slot,) = report["deployments"][0]["slots"]
    (problem,) = slot["problems"]
    assert problem["code"] == "ROLLED_BACK" and problem["remedy"] == "reconfigure"
    assert f"kubectl describe canary {NAME} -n {NAMESPACE}" in problem["message"]


def test_a_cluster_without_flaggers_crd_has_no_canary_and_no_primary_yet(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    candidate = target(2)
    scenario = {
        "deployments": [candidate],
        "pods": pods_of(candidate, 2),
        "jobs": [completed_loader()],
    }
    code, report, cluster = status_json(tmp_path, serve, scenario, capsys)
    assert code == 3, report
    (slot,) = report["deployments"][0]["slots"]
    assert slot["status"] == "DEPLOYING"
    assert slot["canary"]["phase"] is None
    assert "not found" in slot["canary"]["summary"]
    # The expected primary was asked for, and its absence is no error.
    assert f"{DEPLOYMENTS}/{PRIMARY}" in [path for path, _ in cluster.requests]
