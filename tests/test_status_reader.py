"""`modelstack status` end to end: the real kubernetes client against a fake API server.

The server runs on 127.0.0.1 in a thread and answers the paths the client calls (lists in
a namespace with a label selector, events, pod logs) from the fixtures in
tests/fixtures/status/. The stack files are real; their plan says what to expect.
"""

from __future__ import annotations

import argparse
import io
import json
import socket
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlparse

import pytest
import yaml

from components.cli import main
from components.commands.status import LiveDisplay, load_expectation, reader_for, watch
from components.status import kubernetes_reader
from components.status.kubernetes_facts import ClusterSnapshot, derive_stack
from components.status.kubernetes_reader import KubernetesStatusReader
from components.status.model import (
    ReaderSetupError,
    StackExpectation,
    StackReport,
    StatusUnavailable,
)

FIXTURES = Path(__file__).parent / "fixtures" / "status"
# The loader Job names the fixtures were recorded with; the plan's may differ (they hash
# the loader script), so fixtures are renamed to what the plan says before serving.
FIXTURE_JOBS = {"main": "llama-chat-fetch-262e19b0", "blue": "llama-chat-fetch-262e19b0"}
FIXTURE_JOBS_GREEN = "llama-chat-fetch-00f83cfd"
SELECTOR = "app.kubernetes.io/part-of=modelstack"
TOKEN = "fixture-token"
# A few minutes after the fixtures' newest event.
FIXTURES_READ_AT = datetime(2025, 6, 3, 9, 25, tzinfo=UTC)

STAGING_STACK = {
    "config": {
        "modelstack:environment": "staging",
        "modelstack:target": "kubernetes",
        "modelstack:kubernetes": {
            "namespace": "ml-staging",
            "cloud": "gke",
            "context": "staging-gke",
        },
        "modelstack:deployments": [
            {
                "name": "llama-chat",
                "model": {
                    "source": "hf://meta-llama/Llama-3.1-8B-Instruct",
                    "parameters": "8B",
                    "revision": "0e9e39f249a16976918f6564b8830bc894c89659",
                },
                "engine": "vllm",
                "precision": "bf16",
                "gpu": {"type": "L4", "count": 1},
                "resources": {"cpu": "6", "memory": "28Gi"},
                "replicas": 1,
                "cache": {"size": "40Gi", "storageClass": "standard-rwx"},
            }
        ],
    }
}
PROD_STACK = {
    "config": {
        "modelstack:environment": "prod",
        "modelstack:target": "kubernetes",
        "modelstack:kubernetes": {"namespace": "ml-prod", "cloud": "eks", "context": "prod-eks"},
        "modelstack:deployments": [
            {
                "name": "llama-chat",
                "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
                "engine": "vllm",
                "precision": "bf16",
                "gpu": {"type": "H100", "count": 1},
                "resources": {"cpu": "8", "memory": "64Gi"},
                "replicas": 2,
                "cache": {"size": "100Gi", "storageClass": "efs-sc"},
                "rollout": {
                    "strategy": "blue-green",
                    "active": "blue",
                    "slots": {
                        "blue": {
                            "model": {"revision": "0e9e39f249a16976918f6564b8830bc894c89659"},
                            "image": "vllm/vllm-openai:v0.30.0",
                        },
                        "green": {
                            "model": {"revision": "main"},
                            "image": "vllm/vllm-openai:v0.31.0",
                        },
                    },
                },
            }
        ],
    }
}

LISTS = {
    "/apis/apps/v1/namespaces/{ns}/deployments": ("deployments", "DeploymentList", "apps/v1"),
    "/api/v1/namespaces/{ns}/pods": ("pods", "PodList", "v1"),
    "/apis/batch/v1/namespaces/{ns}/jobs": ("jobs", "JobList", "batch/v1"),
    "/api/v1/namespaces/{ns}/events": ("events", "EventList", "v1"),
    "/api/v1/namespaces/{ns}/services": ("services", "ServiceList", "v1"),
    "/api/v1/namespaces/{ns}/persistentvolumeclaims": (
        "claims",
        "PersistentVolumeClaimList",
        "v1",
    ),
    "/apis/gateway.networking.k8s.io/v1/namespaces/{ns}/httproutes": (
        "routes",
        "HTTPRouteList",
        "gateway.networking.k8s.io/v1",
    ),
}


@dataclass
class FakeCluster:
    """What the fake API server serves: one namespace, scenarios in turn, requests seen."""

    namespace: str
    # Each poll (a Deployment list starts one) serves the next scenario; the last one stays.
    scenarios: list[dict[str, Any]]
    requests: list[tuple[str, dict[str, list[str]]]] = field(default_factory=list)
    polls: int = 0
    authorizations: set[str] = field(default_factory=set)

    @property
    def current(self) -> dict[str, Any]:
        return self.scenarios[min(self.polls, len(self.scenarios)) - 1]

    def answer(self, path: str, query: dict[str, list[str]]) -> tuple[int, str, str]:
        self.requests.append((path, query))
        for template, (key, kind, api_version) in LISTS.items():
            if path == template.format(ns=self.namespace):
                if key == "deployments":
                    self.polls += 1
                items = [o for o in self.current.get(key, []) if _matches(o, query)]
                body = {"apiVersion": api_version, "kind": kind, "metadata": {}, "items": items}
                return 200, "application/json", json.dumps(body)
        prefix = f"/api/v1/namespaces/{self.namespace}/pods/"
        if path.startswith(prefix) and path.endswith("/log"):
            pod = path[len(prefix) : -len("/log")]
            log = self.current.get("logs", {}).get(f"{pod}/{query['container'][0]}")
            if log is not None:
                tail = int(query.get("tailLines", ["0"])[0]) or None
                lines = log.splitlines(keepends=True)
                return 200, "text/plain", "".join(lines[-tail:] if tail else lines)
            return 400, "application/json", _status(400, "BadRequest", "container not found")
        return 404, "application/json", _status(404, "NotFound", f"no route for {path}")


def _matches(obj: dict[str, Any], query: dict[str, list[str]]) -> bool:
    """The equality-based label selectors the reader sends, as the API server applies them."""
    labels = obj["metadata"].get("labels") or {}
    for selector in query.get("labelSelector", []):
        for requirement in selector.split(","):
            key, _, value = requirement.partition("=")
            if labels.get(key) != value:
                return False
    return True


def _status(code: int, reason: str, message: str) -> str:
    return json.dumps(
        {
            "kind": "Status",
            "apiVersion": "v1",
            "status": "Failure",
            "message": message,
            "reason": reason,
            "code": code,
        }
    )


def _handler(cluster: FakeCluster) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            url = urlparse(self.path)
            cluster.authorizations.add(self.headers.get("Authorization", ""))
            code, content_type, body = cluster.answer(url.path, parse_qs(url.query))
            data = body.encode()
            self.send_response(code)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@pytest.fixture(autouse=True)
def _fixture_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader reads the fixtures at the moment they were recorded, not a year later."""
    monkeypatch.setattr(kubernetes_reader, "now", lambda: FIXTURES_READ_AT)


@pytest.fixture
def serve() -> Iterator[Callable[[FakeCluster], str]]:
    """Start a fake API server for a cluster; returns its URL. Stopped after the test."""
    servers: list[ThreadingHTTPServer] = []

    def start(cluster: FakeCluster) -> str:
        server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(cluster))
        # A short poll interval: shutdown() waits for one, and every test stops a server.
        threading.Thread(target=server.serve_forever, args=(0.01,), daemon=True).start()
        servers.append(server)
        return f"http://127.0.0.1:{server.server_address[1]}"

    yield start
    for server in servers:
        server.shutdown()
        server.server_close()


def write_kubeconfig(directory: Path, contexts: dict[str, str], current: str) -> Path:
    """A kubeconfig with one cluster per context, each at the given server URL."""
    path = directory / "kubeconfig"
    path.write_text(
        yaml.safe_dump(
            {
                "apiVersion": "v1",
                "kind": "Config",
                "clusters": [
                    {"name": f"{name}-cluster", "cluster": {"server": url}}
                    for name, url in contexts.items()
                ],
                "users": [{"name": "ci", "user": {"token": TOKEN}}],
                "contexts": [
                    {"name": name, "context": {"cluster": f"{name}-cluster", "user": "ci"}}
                    for name in contexts
                ],
                "current-context": current,
            }
        )
    )
    return path


def write_stack(directory: Path, document: dict[str, Any], name: str) -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def expectation_of(stack_file: Path) -> StackExpectation:
    return load_expectation(argparse.Namespace(stack=None, stack_file=stack_file))


def fixture_for(name: str, expectation: StackExpectation) -> dict[str, Any]:
    """A fixture with its loader Jobs renamed to the plan's."""
    text = (FIXTURES / f"{name}.yaml").read_text()
    for slot in expectation.deployments[0].slots:
        recorded = FIXTURE_JOBS.get(slot.slot, FIXTURE_JOBS_GREEN)
        assert slot.loader_job is not None
        text = text.replace(recorded, slot.loader_job)
    return yaml.safe_load(text)


def ready_staging(expectation: StackExpectation) -> dict[str, Any]:
    """The OOM fixture's objects as they look once the engine is up and ready."""
    data = fixture_for("oom_killed", expectation)
    deployment = data["deployments"][0]
    deployment["status"].update(readyReplicas=1, availableReplicas=1)
    del deployment["status"]["unavailableReplicas"]
    pod = data["pods"][0]
    for condition in pod["status"]["conditions"]:
        condition["status"] = "True"
        condition.pop("reason", None)
        condition.pop("message", None)
    engine = pod["status"]["containerStatuses"][0]
    engine.update(
        ready=True,
        started=True,
        restartCount=0,
        state={"running": {"startedAt": "2025-06-03T09:03:09Z"}},
        lastState={},
    )
    data["logs"] = {}
    return data


@dataclass
class Setup:
    stack_file: Path
    kubeconfig: Path
    cluster: FakeCluster
    expectation: StackExpectation

    def status(self, *options: str) -> int:
        return main(
            [
                "status",
                *("--stack-file", str(self.stack_file)),
                *("--kubeconfig", str(self.kubeconfig)),
                *options,
            ]
        )


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture
def staging(tmp_path: Path, serve: Callable[[FakeCluster], str]) -> Setup:
    """The staging stack; the stack's context reaches the fake server, the current one not."""
    stack_file = write_stack(tmp_path, STAGING_STACK, "staging")
    expectation = expectation_of(stack_file)
    cluster = FakeCluster("ml-staging", [])
    url = serve(cluster)
    nowhere = f"http://127.0.0.1:{unused_port()}"
    kubeconfig = write_kubeconfig(tmp_path, {"staging-gke": url, "other": nowhere}, "other")
    return Setup(stack_file, kubeconfig, cluster, expectation)


# -- the reader -----------------------------------------------------------------------------


def test_reader_lists_by_label_in_the_stack_namespace_and_fetches_crash_logs(
    staging: Setup,
) -> None:
    staging.cluster.scenarios = [fixture_for("oom_killed", staging.expectation)]
    reader = KubernetesStatusReader("ml-staging", "staging-gke", staging.kubeconfig)
    snapshot = reader.snapshot()
    reader.close()

    # camelCase dicts, as the API (and the fixtures) spell them.
    engine = snapshot.pods[0]["status"]["containerStatuses"][0]
    assert engine["lastState"]["terminated"]["reason"] == "OOMKilled"
    assert (
        snapshot.deployments[0]["spec"]["selector"]["matchLabels"]["modelstack.io/slot"] == "main"
    )
    assert len(snapshot.events) == 4 and len(snapshot.services) == len(snapshot.claims) == 1
    pod = "llama-chat-6d5f8b9c7d-x7k2p"
    assert snapshot.logs[f"{pod}/engine"].endswith("2/4 [01:25<01:25, 42.73s/it]\n")

    requests = dict(staging.cluster.requests)
    for template, (key, _, _) in LISTS.items():
        query = requests[template.format(ns="ml-staging")]
        if key == "events":
            assert "labelSelector" not in query  # events have no labels
        else:
            assert query["labelSelector"] == [SELECTOR]
    log_query = requests[f"/api/v1/namespaces/ml-staging/pods/{pod}/log"]
    # The client spells booleans "True"; the API server parses either spelling.
    assert log_query["previous"][0].lower() == "true" and log_query["tailLines"] == ["80"]
    assert staging.cluster.authorizations == {f"Bearer {TOKEN}"}


def test_a_log_the_cluster_no_longer_has_is_left_out(staging: Setup) -> None:
    data = fixture_for("oom_killed", staging.expectation)
    data["logs"] = {}
    staging.cluster.scenarios = [data]
    reader = KubernetesStatusReader("ml-staging", "staging-gke", staging.kubeconfig)
    assert reader.snapshot().logs == {}


def test_status_json_reads_the_cuda_error_from_the_crashed_container_log(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    staging.cluster.scenarios = [fixture_for("cuda_crash_loop", staging.expectation)]
    assert staging.status("--json") == 1
    document = json.loads(capsys.readouterr().out)
    assert (document["stack"], document["context"], document["outcome"]) == (
        "staging",
        "staging-gke",
        "failed",
    )
    slot = document["deployments"][0]["slots"][0]
    assert slot["status"] == "ERROR"
    assert [p["code"] for p in slot["problems"]] == ["CUDA_ERROR"]
    assert slot["problems"][0]["remedy"] == "retry"


def test_status_text_of_a_healthy_blue_green_pair_exits_0(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = write_stack(tmp_path, PROD_STACK, "prod")
    expectation = expectation_of(stack_file)
    cluster = FakeCluster("ml-prod", [fixture_for("healthy_blue_green", expectation)])
    kubeconfig = write_kubeconfig(tmp_path, {"prod-eks": serve(cluster)}, "prod-eks")
    code = main(["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig)])
    out = capsys.readouterr().out
    assert code == 0, out
    assert out.startswith("stack prod: ready (kubernetes, prod-eks, namespace ml-prod)")
    assert "llama-chat  DEPLOYED  1 x H100  http://llama-chat.ml-prod.svc.cluster.local/v1" in out
    assert "slot green (llama-chat-green, not serving)  DEPLOYED  2/2 ready" in out
    assert out.count("engine llama-chat-") == 4


def routed_prod(directory: Path) -> Path:
    """PROD_STACK behind a Gateway, its route path a template of the name and a tag."""
    document = json.loads(json.dumps(PROD_STACK))
    config = document["config"]
    config["modelstack:kubernetes"]["gateway"] = {"name": "inference", "namespace": "gateways"}
    (deployment,) = config["modelstack:deployments"]
    deployment.update(tags={"team": "Support"}, route={"path": "/{labels.team}/{name}"})
    return write_stack(directory, document, "prod")


def test_a_degraded_deployment_exits_5_and_says_what_it_runs_and_where_it_is_routed(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = routed_prod(tmp_path)
    expectation = expectation_of(stack_file)
    cluster = FakeCluster("ml-prod", [fixture_for("degraded_one_replica_oom", expectation)])
    kubeconfig = write_kubeconfig(tmp_path, {"prod-eks": serve(cluster)}, "prod-eks")
    arguments = ["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig)]
    code = main(arguments)
    out = capsys.readouterr().out
    assert code == 5, out
    assert out.startswith("stack prod: degraded (kubernetes, prod-eks, namespace ml-prod)")
    # The template resolved: the tag's value, lowercased, then the name.
    assert "\n  route path /support/llama-chat\n" in out
    assert "slot blue (llama-chat-blue, serving)  DEGRADED  1/2 ready" in out
    assert (
        "    runs vllm vllm/vllm-openai:v0.30.0, bf16, latency profile, 1 x H100, cpu 8, "
        "memory 64Gi"
    ) in out
    assert "Degraded      True   ReplicasFailing  1/2 replicas answer; OOM:" in out

    assert main([*arguments, "--json"]) == 5
    document = json.loads(capsys.readouterr().out)
    (deployment,) = document["deployments"]
    assert (document["outcome"], deployment["routePath"]) == ("degraded", "/support/llama-chat")
    blue = deployment["slots"][0]
    assert blue["setup"] == {
        "engine": "vllm",
        "image": "vllm/vllm-openai:v0.30.0",
        "precision": "bf16",
        "profile": "latency",
        "gpus": "1 x H100",
        "cpu": "8",
        "memory": "64Gi",
    }


def test_a_route_the_gateway_refuses_is_read_from_the_cluster(
    tmp_path: Path, serve: Callable[[FakeCluster], str], capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = routed_prod(tmp_path)
    expectation = expectation_of(stack_file)
    data = fixture_for("healthy_blue_green", expectation)
    (route,) = fixture_for("degraded_one_replica_oom", expectation)["routes"]
    route["status"]["parents"][0]["conditions"][0].update(
        status="False", reason="NotAllowedByListeners", message="No listener admits ml-prod."
    )
    data["routes"] = [route]
    cluster = FakeCluster("ml-prod", [data])
    kubeconfig = write_kubeconfig(tmp_path, {"prod-eks": serve(cluster)}, "prod-eks")
    code = main(["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig)])
    out = capsys.readouterr().out
    assert code == 5, out
    assert (
        "ROUTING_FAILURE  httproute/llama-chat: Gateway gateways/inference does not accept the"
        " route (NotAllowedByListeners): No listener admits ml-prod." in out
    )


def test_status_text_shows_the_error_code_with_its_guidance(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    staging.cluster.scenarios = [fixture_for("unschedulable_gpu", staging.expectation)]
    assert staging.status() == 1
    out = capsys.readouterr().out
    assert "UNSCHEDULABLE  pod/llama-chat-6d5f8b9c7d-z3c6b: 0/3 nodes are available" in out
    assert "retry: No node can take the pod" in out


def test_status_of_a_stack_still_copying_its_model_exits_3(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    staging.cluster.scenarios = [fixture_for("copying_files", staging.expectation)]
    assert staging.status() == 3
    assert "loader llama-chat-fetch-" in capsys.readouterr().out


# -- --watch ---------------------------------------------------------------------------------


def test_watch_in_ci_appends_changed_lines_until_ready(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    copying = fixture_for("copying_files", staging.expectation)
    staging.cluster.scenarios = [copying, copying, copying, ready_staging(staging.expectation)]
    code = staging.status("--watch", "--interval", "0.02", "--timeout", "20")
    out = capsys.readouterr().out
    assert code == 0, out
    assert staging.cluster.polls == 4
    progress = [line for line in out.splitlines() if line.startswith("[")]
    # Three identical polls print one line; the change prints the next.
    assert [line.split("] ", 1)[1] for line in progress] == [
        "llama-chat/main: DEPLOYING 0/1 ready (CacheWarming)",
        "llama-chat/main: DEPLOYED 1/1 ready",
    ]
    assert "\x1b[" not in out  # no terminal control in CI logs
    assert "stack staging: ready" in out  # the full report at the end


def test_watch_gives_up_at_the_timeout_with_3(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    staging.cluster.scenarios = [fixture_for("copying_files", staging.expectation)]
    assert staging.status("--watch", "--interval", "0.02", "--timeout", "0.2") == 3
    assert staging.cluster.polls > 2
    assert capsys.readouterr().out.count("DEPLOYING 0/1 ready") == 1


def test_watch_stops_at_the_first_failure_with_1(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    staging.cluster.scenarios = [fixture_for("startup_probe_never_passes", staging.expectation)]
    assert staging.status("--watch", "--interval", "0.02", "--timeout", "60") == 1
    assert staging.cluster.polls == 1
    assert "[STARTUP_TIMEOUT]" in capsys.readouterr().out


def test_watch_with_json_prints_one_document_and_progress_on_stderr(
    staging: Setup, capsys: pytest.CaptureFixture[str]
) -> None:
    staging.cluster.scenarios = [fixture_for("scaled_to_zero", staging.expectation)]
    assert staging.status("--watch", "--json", "--interval", "0.02") == 0
    captured = capsys.readouterr()
    assert json.loads(captured.out)["deployments"][0]["status"] == "STOPPED"
    assert "llama-chat/main: STOPPED 0/1" not in captured.out
    assert "llama-chat/main: STOPPED 0/0 ready (Stopped)" in captured.err


class TerminalStream(io.StringIO):
    def isatty(self) -> bool:
        return True


class ScriptedReader:
    """Any target's reader, as `watch` sees it: one report (or failure) per poll."""

    def __init__(self, results: list[StackReport | StatusUnavailable]) -> None:
        self.results = results

    def read(self, expectation: StackExpectation) -> StackReport:
        result = self.results.pop(0) if len(self.results) > 1 else self.results[0]
        if isinstance(result, StatusUnavailable):
            raise result
        return result


def watch_args(**changes: Any) -> argparse.Namespace:
    return argparse.Namespace(**{"json": False, "interval": 0.01, "timeout": 5.0, **changes})


def test_watch_in_a_terminal_redraws_the_whole_report(tmp_path: Path) -> None:
    expectation = expectation_of(write_stack(tmp_path, STAGING_STACK, "staging"))
    copying = fixture_for("copying_files", expectation)
    reports = [derive_stack(expectation, ClusterSnapshot(**copying))] * 2
    reports.append(derive_stack(expectation, ClusterSnapshot(**ready_staging(expectation))))
    out = TerminalStream()
    assert watch(ScriptedReader(list(reports)), expectation, watch_args(), out) == 0
    shown = out.getvalue()
    assert shown.count("\x1b[J") == 2  # drawn once, redrawn twice in place
    assert shown.count("stack staging: progressing") == 2
    assert shown.rstrip().endswith("(Ctrl-C stops)")
    assert "stack staging: ready" in shown.split("\x1b[J")[-1]


def test_watch_keeps_polling_through_a_cluster_that_does_not_answer(tmp_path: Path) -> None:
    expectation = expectation_of(write_stack(tmp_path, STAGING_STACK, "staging"))
    ready = derive_stack(expectation, ClusterSnapshot(**ready_staging(expectation)))
    reader = ScriptedReader([StatusUnavailable("connection refused"), ready])
    out = io.StringIO()
    assert watch(reader, expectation, watch_args(), out) == 0
    assert "cannot read the cluster: connection refused" in out.getvalue()
    # Still failing when time is up: the cluster could not be read.
    down = ScriptedReader([StatusUnavailable("connection refused")])
    assert watch(down, expectation, watch_args(timeout=0.05), io.StringIO()) == 4


def test_live_display_redraws_its_block_in_place(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COLUMNS", "41")
    stream = io.StringIO()
    display = LiveDisplay(stream, interval=5)
    display.draw(["a", "  " + "word " * 10])  # wraps onto a third row, indented
    display.draw(["c"])
    assert stream.getvalue() == (
        "a\n  word word word word word word word\n    word word word\n\x1b[3F\x1b[Jc\n"
    )


# -- what goes wrong before any status ---------------------------------------------------------


def test_an_unreachable_cluster_exits_4(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    stack_file = write_stack(tmp_path, STAGING_STACK, "staging")
    nowhere = f"http://127.0.0.1:{unused_port()}"
    kubeconfig = write_kubeconfig(tmp_path, {"staging-gke": nowhere}, "staging-gke")
    code = main(["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig)])
    assert code == 4
    assert "cannot reach the cluster" in capsys.readouterr().err


def test_a_context_the_kubeconfig_lacks_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    stack_file = write_stack(tmp_path, STAGING_STACK, "staging")
    kubeconfig = write_kubeconfig(tmp_path, {"other": "http://127.0.0.1:1"}, "other")
    code = main(["status", "--stack-file", str(stack_file), "--kubeconfig", str(kubeconfig)])
    assert code == 2
    assert "context 'staging-gke'" in capsys.readouterr().err


def test_a_bad_stack_file_is_bad_input_with_its_key_path(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = json.loads(json.dumps(STAGING_STACK))
    document["config"]["modelstack:deployments"][0]["replicsa"] = 2
    stack_file = write_stack(tmp_path, document, "staging")
    assert main(["status", "--stack-file", str(stack_file)]) == 2
    assert "deployments[0].replicsa" in capsys.readouterr().err


def test_a_non_positive_interval_is_refused_by_the_parser(staging: Setup) -> None:
    with pytest.raises(SystemExit) as exit_info:
        staging.status("--watch", "--interval", "0")
    assert exit_info.value.code == 2


def test_a_target_without_a_reader_yet_is_bad_input() -> None:
    # docker has its reader now (tests/test_status_docker.py); a made-up target has none.
    unknown = StackExpectation("dev", "nomad", "modelstack", None, ())
    with pytest.raises(ReaderSetupError, match="nomad target"):
        reader_for(unknown, None)
