"""`modelstack status` of an inference_aware deployment through the real kubernetes client,
against the fake API server of tests/test_status_reader.py taught the InferencePools list
(inference.networking.k8s.io/v1; a 404 where a scenario has none: no CRD). The pickers'
Deployments and pods come with the stack's label selector, as modelstack renders them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.status import kubernetes_reader
from tests import test_status_reader
from tests.test_status_inference_pool import (
    NAME,
    NAMESPACE,
    PICKER,
    POOL,
    STACK,
    cluster,
    gateway_status,
    image_pull_backoff,
    picker,
    pods_of,
)
from tests.test_status_progressive import READ_AT
from tests.test_status_reader import (
    FakeCluster,
    _matches,
    expectation_of,
    main,
    write_kubeconfig,
    write_stack,
)

POOLS = f"/apis/inference.networking.k8s.io/v1/namespaces/{NAMESPACE}/inferencepools"
SELECTOR = "app.kubernetes.io/part-of=modelstack"
# Its fake API server, started per test.
serve = test_status_reader.serve


class InferenceCluster(FakeCluster):
    """Also serves InferencePools (404 where a scenario has none: no CRD)."""

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        if path == POOLS and "inference_pools" in self.current:
            self.requests.append((path, query))
            items = [o for o in self.current["inference_pools"] if _matches(o, query)]
            body = {
                "apiVersion": "inference.networking.k8s.io/v1",
                "kind": "InferencePoolList",
                "items": items,
            }
            return 200, "application/json", json.dumps(body)
        return super().answer(path, query)


def scenario(with_crd: bool = True, **changes: Any) -> dict[str, Any]:
    """The snapshot of tests/test_status_inference_pool.py as the fake server serves it."""
    snapshot = cluster(**changes)
    served: dict[str, Any] = {
        "deployments": list(snapshot.deployments),
        "pods": list(snapshot.pods),
        "jobs": list(snapshot.jobs),
        "services": list(snapshot.services),
        "routes": list(snapshot.routes),
    }
    if with_crd:
        served["inference_pools"] = list(snapshot.inference_pools)
    return served


def status_json(
    tmp_path: Path,
    serve: Callable[[FakeCluster], str],
    served: dict[str, Any],
    capsys: pytest.CaptureFixture[str],
) -> tuple[int, dict[str, Any], InferenceCluster]:
    document = {"config": {f"modelstack:{key}": value for key, value in STACK.items()}}
    document = copy.deepcopy(document)
    document["config"]["modelstack:kubernetes"]["context"] = "staging-gke"
    stack_file = write_stack(tmp_path, document, "staging")
    # The objects are rendered from the same plan: their loader Job is the one expected.
    slots = expectation_of(stack_file).deployments[0].slots
    assert {slot.loader_job for slot in slots} == {served["jobs"][0]["metadata"]["name"]}
    fake = InferenceCluster(NAMESPACE, [served])
    kubeconfig = write_kubeconfig(tmp_path, {"staging-gke": serve(fake)}, "staging-gke")
    code = main(
        ["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig), "--json"]
    )
    return code, json.loads(capsys.readouterr().out), fake


def serving_slot(report: dict[str, Any]) -> dict[str, Any]:
    (deployment,) = report["deployments"]
    return next(slot for slot in deployment["slots"] if slot["serving"])


def routing(slot: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in slot["conditions"] if c["type"] == "RoutingReady")


@pytest.fixture(autouse=True)
def _clock(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(kubernetes_reader, "now", lambda: READ_AT)


def test_the_reader_lists_the_stacks_pools_and_reports_a_refused_one(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    refused = gateway_status(accepted=("False", "NotSupportedByGateway", "no pool backends"))
    code, report, fake = status_json(tmp_path, serve, scenario(pool_status=refused), capsys)
    assert code == 5, report
    assert report["outcome"] == "degraded"
    blue = serving_slot(report)
    assert blue["status"] == "DEGRADED"
    (problem,) = blue["problems"]
    assert (problem["code"], problem["source"]) == ("ROUTING_FAILURE", f"inferencepool/{POOL}")
    assert (
        "does not accept the pool (NotSupportedByGateway): no pool backends" in (problem["message"])
    )
    assert dict(fake.requests)[POOLS]["labelSelector"] == [SELECTOR]


def test_a_picker_down_read_from_the_cluster_exits_5(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    down = picker(available=0)
    served = scenario(
        pool_status=gateway_status(),
        blue_picker=down,
        blue_picker_pods=[image_pull_backoff(pods_of(down, 1)[0])],
    )
    code, report, fake = status_json(tmp_path, serve, served, capsys)
    assert code == 5, report
    (problem,) = serving_slot(report)["problems"]
    assert problem["source"] == f"deployment/{PICKER}"
    assert f"kubectl describe deployment {PICKER} -n {NAMESPACE}" in problem["message"]
    # The picker came with the stack's label selector: nothing was read by name.
    assert not [path for path, _ in fake.requests if path.endswith(f"/deployments/{PICKER}")]


def test_a_cluster_without_the_pool_crd_reads_no_pools_and_no_error(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    code, report, fake = status_json(tmp_path, serve, scenario(with_crd=False), capsys)
    assert code == 0, report
    assert routing(serving_slot(report))["message"] == f"Service {NAME} selects this slot"
    # Asked, and the 404 was no error.
    assert POOLS in [path for path, _ in fake.requests]
