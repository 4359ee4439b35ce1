"""`modelstack status` on the docker target: derivation on `docker inspect` fixtures, and the
real reader end to end against a stand-in daemon on a unix socket (or loopback TCP).

Fixtures (tests/fixtures/docker_status/) are what `docker inspect` prints for the stack's
containers in one situation each; `<scenario>--<container>.log` files hold log tails. Their
names are renamed to what the plan calls the containers today (engine names hash their
settings), so the fixtures outlive an image bump.
"""

from __future__ import annotations

import argparse
import copy
import json
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from components.cli import main
from components.commands.status import load_expectation
from components.status import docker_reader
from components.status.docker_api import DockerEndpoint
from components.status.docker_derive import DockerSnapshot, derive_docker_stack, logs_wanted
from components.status.docker_log_stream import demultiplex, log_text
from components.status.model import (
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    InstanceRole,
    InstanceStatus,
    Outcome,
    ReaderSetupError,
    SlotReport,
    StackExpectation,
    StackReport,
)
from tests.conftest import write_stack
from tests.support.fake_docker import DaemonState, frames, tcp_daemon, unix_daemon

FIXTURES = Path(__file__).parent / "fixtures" / "docker_status"
NAMESPACE = "modelstack-lab"
# The moment the fixtures were "read": a few seconds after their newest health probe.
READ_AT = datetime(2025, 6, 2, 9, 12, 45, tzinfo=UTC)

QWEN = {
    "name": "qwen-tiny",
    "model": {
        "source": "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
        "parameters": "0.5B",
    },
    "engine": "llamacpp",
    "resources": {"cpu": "2", "memory": "2Gi"},
    "replicas": 2,
    "route": {"path": "/{name}", "timeoutSeconds": 600},
    "cache": {"size": "5Gi"},
}
LLAMA = {
    "name": "llama-chat",
    "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
    "engine": "vllm",
    "precision": "bf16",
    "gpu": {"type": "L4", "count": 1},
    "resources": {"cpu": "6", "memory": "28Gi"},
    "replicas": 1,
    "cache": {"size": "40Gi"},
}
NETWORK_FAILURE_LOG = """\
Downloading 'qwen2.5-0.5b-instruct-q4_k_m.gguf' to '/model-cache/hf/.cache/huggingface/download'
Traceback (most recent call last):
  File "/tmp/hub/httpcore/_backends/sync.py", line 126, in read
    return self._sock.recv(max_bytes)
ConnectionResetError: [Errno 104] Connection reset by peer
httpx.ReadError: [Errno 104] Connection reset by peer
"""


def _stack(*deployments: dict[str, Any]) -> dict[str, Any]:
    return {
        "config": {
            "modelstack:environment": "dev",
            "modelstack:target": "docker",
            "modelstack:docker": {"namespace": NAMESPACE, "port": 8080},
            "modelstack:deployments": [copy.deepcopy(d) for d in deployments],
        }
    }


def _stopped(deployment: dict[str, Any]) -> dict[str, Any]:
    return {**deployment, "state": "stopped"}


def _expectation(directory: Path, document: dict[str, Any]) -> StackExpectation:
    stack_file = write_stack(directory, document, "lab")
    return load_expectation(argparse.Namespace(stack=None, stack_file=stack_file))


def _planned_names(expectation: StackExpectation) -> list[tuple[re.Pattern[str], str]]:
    """Fixture container names -> what the plan calls them now."""
    renames = []
    for deployment in expectation.deployments:
        for slot in deployment.slots:
            for replica, planned in enumerate(slot.instance_names):
                shape = rf"{NAMESPACE}-{re.escape(slot.workload)}-{replica}-[0-9a-f]+"
                renames.append((re.compile(shape), planned))
            if slot.loader_job:
                shape = rf"{NAMESPACE}-{re.escape(deployment.name)}-fetch-[0-9a-f]+"
                renames.append((re.compile(shape), f"{NAMESPACE}-{slot.loader_job}"))
    return renames


def _rename(name: str, renames: list[tuple[re.Pattern[str], str]]) -> str:
    for shape, planned in renames:
        if shape.fullmatch(name):
            return planned
    return name


def scenario(
    name: str, expectation: StackExpectation
) -> tuple[list[dict[str, Any]], dict[str, str]]:
    """The scenario's inspect documents and log tails, under the plan's container names."""
    renames = _planned_names(expectation)
    containers = json.loads((FIXTURES / f"{name}.json").read_text())
    for container in containers:
        container["Name"] = "/" + _rename(container["Name"].lstrip("/"), renames)
    logs = {
        _rename(path.stem.split("--", 1)[1], renames): path.read_text()
        for path in FIXTURES.glob(f"{name}--*.log")
    }
    return containers, logs


def derive(
    expectation: StackExpectation,
    containers: list[dict[str, Any]],
    logs: dict[str, str] | None = None,
) -> StackReport:
    return derive_docker_stack(expectation, DockerSnapshot(containers, logs or {}, READ_AT))


def only_slot(report: StackReport, deployment: str) -> SlotReport:
    found = next(d for d in report.deployments if d.name == deployment)
    assert len(found.slots) == 1
    return found.slots[0]


def conditions(slot: SlotReport) -> dict[ConditionType, tuple[bool, str]]:
    return {c.type: (c.status, c.reason) for c in slot.conditions}


def codes(slot: SlotReport) -> list[ErrorCode]:
    return [problem.code for problem in slot.problems]


def named(containers: list[dict[str, Any]], part: str) -> dict[str, Any]:
    matches = [c for c in containers if part in c["Name"]]
    assert len(matches) == 1, part
    return matches[0]


@pytest.fixture(scope="module")
def qwen(tmp_path_factory: pytest.TempPathFactory) -> StackExpectation:
    return _expectation(tmp_path_factory.mktemp("qwen"), _stack(QWEN))


@pytest.fixture(scope="module")
def llama(tmp_path_factory: pytest.TempPathFactory) -> StackExpectation:
    return _expectation(tmp_path_factory.mktemp("llama"), _stack(LLAMA))


# -- derivation: one fixture per situation ----------------------------------------------------


def test_the_plan_names_each_engine_container(qwen: StackExpectation) -> None:
    slot = qwen.deployments[0].slots[0]
    assert slot.loader_job is not None and slot.loader_job.startswith("qwen-tiny-fetch-")
    assert len(slot.instance_names) == 2
    assert all(
        re.fullmatch(rf"{NAMESPACE}-qwen-tiny-{i}-[0-9a-f]{{6}}", name)
        for i, name in enumerate(slot.instance_names)
    )


def test_a_healthy_pair_is_deployed(qwen: StackExpectation) -> None:
    report = derive(qwen, *scenario("healthy_pair", qwen))
    slot = only_slot(report, "qwen-tiny")
    assert report.outcome is Outcome.READY
    assert slot.status is DeploymentStatus.DEPLOYED
    assert (slot.desired_replicas, slot.ready_replicas) == (2, 2)
    readiness = [status for kind, (status, _) in conditions(slot).items() if kind.endswith("Ready")]
    assert readiness == [True] * 4
    assert conditions(slot)[ConditionType.DEGRADED] == (False, "FullyServing")
    assert conditions(slot)[ConditionType.CACHE_READY] == (True, "CacheWarm")
    # A loader that completed is history, as a completed Job is on Kubernetes.
    assert [(i.role, i.status, i.ready) for i in slot.instances] == [
        (InstanceRole.ENGINE, InstanceStatus.DEPLOYED, True)
    ] * 2
    assert [i.name for i in slot.instances] == list(qwen.deployments[0].slots[0].instance_names)
    assert slot.problems == () and report.unmanaged == ()


def test_engines_whose_health_check_has_not_passed_are_starting(qwen: StackExpectation) -> None:
    report = derive(qwen, *scenario("starting", qwen))
    slot = only_slot(report, "qwen-tiny")
    assert report.outcome is Outcome.PROGRESSING
    assert slot.status is DeploymentStatus.INITIALIZING
    assert {i.status for i in slot.instances} == {InstanceStatus.STARTING}
    assert all("health check not passed" in i.detail for i in slot.instances)
    assert conditions(slot)[ConditionType.RUNTIME_READY] == (False, "CreatingRuntime")
    assert slot.problems == ()


def test_a_running_loader_is_copying_files(qwen: StackExpectation) -> None:
    slot = only_slot(derive(qwen, *scenario("copying_files", qwen)), "qwen-tiny")
    assert slot.status is DeploymentStatus.DEPLOYING
    (loader,) = slot.instances
    assert (loader.role, loader.status) == (InstanceRole.LOADER, InstanceStatus.COPYING_FILES)
    assert conditions(slot)[ConditionType.CACHE_READY] == (False, "CacheWarming")
    runtime = next(c for c in slot.conditions if c.type is ConditionType.RUNTIME_READY)
    assert "2 not created yet" in runtime.message


def test_a_loader_copying_past_its_window_is_overdue(qwen: StackExpectation) -> None:
    containers, logs = scenario("copying_files", qwen)
    started = datetime.fromisoformat(named(containers, "-fetch-")["State"]["StartedAt"][:26])
    late = started.replace(tzinfo=UTC) + timedelta(seconds=7300)
    report = derive_docker_stack(qwen, DockerSnapshot(containers, logs, late))
    slot = only_slot(report, "qwen-tiny")
    assert (slot.status, slot.problems, report.outcome) == (
        DeploymentStatus.OVERDUE,
        (),
        Outcome.OVERDUE,
    )
    progressing = next(c for c in slot.conditions if c.type is ConditionType.PROGRESSING)
    assert "has copied for 7300s, past its 7200s window" in progressing.message


def test_an_oom_killed_engine_needs_more_memory(llama: StackExpectation) -> None:
    report = derive(llama, *scenario("oom_killed", llama))
    slot = only_slot(report, "llama-chat")
    assert report.outcome is Outcome.FAILED
    assert slot.status is DeploymentStatus.FAILED
    (problem,) = slot.problems
    assert problem.code is ErrorCode.OOM
    assert problem.message == "killed for using more memory than its limit (28Gi)"
    assert problem.source == f"container {llama.deployments[0].slots[0].instance_names[0]}"
    (engine,) = slot.instances
    assert (engine.status, engine.restarts, engine.ready) == (InstanceStatus.FAILED, 4, False)


def test_one_oom_that_docker_restarted_from_is_not_a_failure(llama: StackExpectation) -> None:
    containers, logs = scenario("oom_killed", llama)
    for container in containers:
        if container["State"].get("OOMKilled"):
            container["RestartCount"] = 1
            container["State"].update(Status="running", Running=True, Restarting=False)
    slot = only_slot(derive(llama, containers, logs), "llama-chat")
    assert slot.status is not DeploymentStatus.FAILED
    assert not slot.problems
    (engine,) = slot.instances
    assert engine.status is InstanceStatus.STARTING
    assert "out of memory once" in engine.detail


def test_a_crash_loop_with_a_cuda_error_in_its_log(llama: StackExpectation) -> None:
    containers, logs = scenario("cuda_crash", llama)
    assert logs_wanted(NAMESPACE, DockerSnapshot(containers, {}, READ_AT)) == tuple(logs)
    slot = only_slot(derive(llama, containers, logs), "llama-chat")
    assert slot.status is DeploymentStatus.ERROR  # a retry may help: another GPU, a driver
    (problem,) = slot.problems
    assert problem.code is ErrorCode.CUDA_ERROR
    assert problem.message.startswith("GPU error: RuntimeError: CUDA error: CUDA-capable device")


def test_a_crash_loop_without_a_log_is_a_plain_exit(llama: StackExpectation) -> None:
    containers, _ = scenario("cuda_crash", llama)
    (problem,) = only_slot(derive(llama, containers), "llama-chat").problems
    assert problem.code is ErrorCode.CONTAINER_EXITED
    assert problem.message == "exited with code 1 and keeps restarting (6 restarts)"


def test_a_loader_that_cannot_find_the_file_fails_for_good(qwen: StackExpectation) -> None:
    containers, logs = scenario("failed_loader", qwen)
    report = derive(qwen, containers, logs)
    slot = only_slot(report, "qwen-tiny")
    assert slot.status is DeploymentStatus.FAILED
    (problem,) = slot.problems
    assert problem.code is ErrorCode.MODEL_LOADING_FAILURE
    assert problem.message.startswith("the cache loader exited with code 1: Entry Not Found")
    (loader,) = slot.instances
    assert (loader.role, loader.status) == (InstanceRole.LOADER, InstanceStatus.FAILED)
    assert conditions(slot)[ConditionType.CACHE_READY] == (False, "CacheFailed")


def test_a_loader_cut_off_by_the_network_must_download_again(qwen: StackExpectation) -> None:
    containers, _ = scenario("failed_loader", qwen)
    loader = named(containers, "-fetch-")["Name"].lstrip("/")
    slot = only_slot(derive(qwen, containers, {loader: NETWORK_FAILURE_LOG}), "qwen-tiny")
    assert slot.status is DeploymentStatus.ERROR
    (problem,) = slot.problems
    assert problem.code is ErrorCode.MUST_REDOWNLOAD
    # The failed loader is not in Pulumi's state: a plain `pulumi up` runs it again.
    assert "the next `pulumi up` runs it again" in problem.message
    assert problem.message.endswith("httpx.ReadError: [Errno 104] Connection reset by peer")


def test_a_stopped_deployment_is_stopped(tmp_path: Path) -> None:
    expectation = _expectation(tmp_path, _stack(_stopped(QWEN)))
    report = derive(expectation, *scenario("stopped", expectation))
    slot = only_slot(report, "qwen-tiny")
    assert report.outcome is Outcome.READY
    assert slot.status is DeploymentStatus.STOPPED
    assert (slot.desired_replicas, slot.instances) == (0, ())
    assert conditions(slot)[ConditionType.RUNTIME_READY] == (False, "Stopped")
    # The cache stays, so starting again does not download anything.
    assert conditions(slot)[ConditionType.CACHE_READY] == (True, "CacheWarm")


def test_stopped_in_the_stack_file_while_engines_still_run(tmp_path: Path) -> None:
    expectation = _expectation(tmp_path, _stack(_stopped(QWEN)))
    containers, _ = scenario("healthy_pair", expectation)
    slot = only_slot(derive(expectation, containers), "qwen-tiny")
    assert slot.status is DeploymentStatus.DEPLOYING  # `pulumi up` has not removed them yet
    runtime = next(c for c in slot.conditions if c.type is ConditionType.RUNTIME_READY)
    assert "2 container(s) still run" in runtime.message
    assert all("`pulumi up` replaces or removes it" in i.detail for i in slot.instances)


def test_a_health_check_that_never_passed_is_a_startup_timeout(qwen: StackExpectation) -> None:
    containers, _ = scenario("startup_timeout", qwen)
    slot = only_slot(derive(qwen, containers), "qwen-tiny")
    assert slot.status is DeploymentStatus.FAILED
    (problem,) = slot.problems  # both replicas fail alike: one problem
    assert problem.code is ErrorCode.STARTUP_TIMEOUT
    assert "1800s start period (failing 13 times since)" in problem.message
    assert problem.message.endswith("Couldn't connect to server")


def test_an_engine_that_was_healthy_and_stopped_answering(qwen: StackExpectation) -> None:
    containers, _ = scenario("startup_timeout", qwen)
    for container in containers:
        # Started hours earlier: 13 failures cannot span the time since its start period.
        container["State"]["StartedAt"] = "2025-06-02T05:40:10.601913004Z"
    (problem,) = only_slot(derive(qwen, containers), "qwen-tiny").problems
    assert problem.code is ErrorCode.RUNTIME_ERROR
    assert problem.message.startswith("stopped answering its health check (13 failures")


def test_a_model_load_error_in_the_log_of_an_unhealthy_engine(qwen: StackExpectation) -> None:
    containers, _ = scenario("startup_timeout", qwen)
    engine = containers[-1]["Name"].lstrip("/")
    log = (
        "llama_model_load: error loading model: tensor 'blk.0.attn_q.weight' data is not "
        "within the file bounds, model is corrupted or incomplete\n"
        "srv    load_model: failed to load model, "
        "'/model-cache/hf/Qwen/qwen2.5-0.5b-instruct-q4_k_m.gguf'\n"
    )
    problems = only_slot(derive(qwen, containers, {engine: log}), "qwen-tiny").problems
    assert [p.code for p in problems] == [
        ErrorCode.STARTUP_TIMEOUT,
        ErrorCode.MODEL_LOADING_FAILURE,
    ]
    assert problems[1].source == f"container {engine}"


def test_a_gpu_the_daemon_cannot_provide(llama: StackExpectation) -> None:
    containers, _ = scenario("cuda_crash", llama)
    engine = named(containers, "-llama-chat-0-")
    engine["State"].update(
        Status="created",
        Running=False,
        Restarting=False,
        ExitCode=128,
        Error='could not select device driver "nvidia" with capabilities: [[gpu]]',
    )
    (problem,) = only_slot(derive(llama, containers), "llama-chat").problems
    assert problem.code is ErrorCode.CUDA_ERROR
    assert "could not select device driver" in problem.message


def test_an_engine_stopped_by_hand(qwen: StackExpectation) -> None:
    containers, _ = scenario("healthy_pair", qwen)
    engine = named(containers, "-qwen-tiny-1-")
    engine["State"].update(Status="exited", Running=False, ExitCode=0, Pid=0)
    report = derive(qwen, containers)
    slot = only_slot(report, "qwen-tiny")
    # The other engine still answers through the gateway: serving in part.
    assert slot.status is DeploymentStatus.DEGRADED
    assert report.outcome is Outcome.DEGRADED
    (problem,) = slot.problems
    assert problem.code is ErrorCode.RUNTIME_ERROR
    assert f"`docker start {engine['Name'].lstrip('/')}`" in problem.message
    assert slot.ready_replicas == 1
    assert conditions(slot)[ConditionType.DEGRADED] == (True, "ReplicasFailing")


def test_both_engines_stopped_by_hand_is_error_not_degraded(qwen: StackExpectation) -> None:
    containers, _ = scenario("healthy_pair", qwen)
    for replica in (0, 1):
        engine = named(containers, f"-qwen-tiny-{replica}-")
        engine["State"].update(Status="exited", Running=False, ExitCode=0, Pid=0)
    assert only_slot(derive(qwen, containers), "qwen-tiny").status is DeploymentStatus.ERROR


def test_an_engine_the_gateway_cannot_reach_leaves_the_slot_degraded(
    qwen: StackExpectation,
) -> None:
    report = derive(qwen, *scenario("engine_off_network", qwen))
    slot = only_slot(report, "qwen-tiny")
    off = qwen.deployments[0].slots[0].instance_names[1]
    (problem,) = slot.problems
    assert problem.code is ErrorCode.ROUTING_FAILURE
    assert problem.message == (f"{off} is not on network {NAMESPACE}: the gateway cannot reach it")
    assert (slot.status, report.outcome) == (DeploymentStatus.DEGRADED, Outcome.DEGRADED)
    assert conditions(slot)[ConditionType.ROUTING_READY] == (False, "RouteIncomplete")
    assert conditions(slot)[ConditionType.DEGRADED] == (True, "RouteIncomplete")
    # Both engines are healthy; one of them answers through the gateway.
    assert slot.ready_replicas == 2
    degraded = next(c for c in slot.conditions if c.type is ConditionType.DEGRADED)
    assert degraded.message.startswith("1/2 replicas answer; ROUTING_FAILURE: ")


def test_a_gateway_off_the_network_reaches_no_engine(qwen: StackExpectation) -> None:
    containers, logs = scenario("healthy_pair", qwen)
    named(containers, "-gateway")["NetworkSettings"]["Networks"] = {}
    slot = only_slot(derive(qwen, containers, logs), "qwen-tiny")
    (problem,) = slot.problems
    assert problem.message == f"the gateway is not on network {NAMESPACE}: it reaches no engine"
    assert slot.status is DeploymentStatus.ERROR


def test_an_engine_still_starting_past_its_start_period_is_overdue(
    qwen: StackExpectation,
) -> None:
    containers, logs = scenario("past_start_period", qwen)
    report = derive(qwen, containers, logs)
    slot = only_slot(report, "qwen-tiny")
    assert (slot.status, slot.problems) == (DeploymentStatus.OVERDUE, ())
    assert report.outcome is Outcome.OVERDUE
    progressing = next(c for c in slot.conditions if c.type is ConditionType.PROGRESSING)
    assert (progressing.status, progressing.reason) == (False, "ProgressDeadlineExceeded")
    assert progressing.message.startswith(
        "not healthy within its 1800s window (startupTimeoutSeconds), started 1820s ago; "
        "log: srv load_model: loading model '/model-cache/hf/Qwen/qwen2.5-0.5b-instruct-q4_k_m"
    )
    assert '; last health check: {"error":{"code":503,"message":"Loading model"' in (
        progressing.message
    )
    # The reader asks for the log tails that evidence comes from; within the window, none.
    snapshot = DockerSnapshot(containers, {}, READ_AT)
    assert logs_wanted(NAMESPACE, snapshot) == tuple(
        sorted(logs | {qwen.deployments[0].slots[0].instance_names[1]: ""})
    )
    within, _ = scenario("starting", qwen)
    assert logs_wanted(NAMESPACE, DockerSnapshot(within, {}, READ_AT)) == ()
    assert only_slot(derive(qwen, within), "qwen-tiny").status is DeploymentStatus.INITIALIZING


def test_a_gateway_that_is_down_breaks_routing(qwen: StackExpectation) -> None:
    containers, _ = scenario("healthy_pair", qwen)
    gateway = named(containers, "-gateway")
    gateway["State"].update(Status="exited", Running=False, ExitCode=1, Pid=0)
    gateway_log = (
        "2025/06/02 09:12:01 [emerg] 1#1: host not found in upstream "
        '"modelstack-lab-qwen-tiny-0-8ed6d1:8080" in /etc/nginx/modelstack/nginx.conf:27\n'
    )
    snapshot = DockerSnapshot(containers, {}, READ_AT)
    assert logs_wanted(NAMESPACE, snapshot) == (f"{NAMESPACE}-gateway",)
    report = derive(qwen, containers, {f"{NAMESPACE}-gateway": gateway_log})
    slot = only_slot(report, "qwen-tiny")
    assert conditions(slot)[ConditionType.ROUTING_READY] == (False, "GatewayDown")
    assert conditions(slot)[ConditionType.RUNTIME_READY] == (True, "RuntimeReady")
    assert slot.status is DeploymentStatus.ERROR
    (problem,) = slot.problems
    assert problem.code is ErrorCode.RUNTIME_ERROR
    assert "the gateway is exited (exit code 1)" in problem.message
    assert "host not found in upstream" in problem.message


def test_a_missing_gateway_is_a_route_still_to_come(qwen: StackExpectation) -> None:
    containers, _ = scenario("healthy_pair", qwen)
    without = [c for c in containers if not c["Name"].endswith("-gateway")]
    slot = only_slot(derive(qwen, without), "qwen-tiny")
    assert conditions(slot)[ConditionType.ROUTING_READY] == (False, "ConfiguringRoute")
    assert slot.status is DeploymentStatus.DEPLOYING


def test_containers_of_an_earlier_configuration_mean_a_rollout(qwen: StackExpectation) -> None:
    containers, _ = scenario("healthy_pair", qwen)
    for container in containers:
        container["Name"] = re.sub(r"-(\d)-[0-9a-f]{6}$", r"-\1-0a1b2c", container["Name"])
    slot = only_slot(derive(qwen, containers), "qwen-tiny")
    assert slot.status is DeploymentStatus.DEPLOYING
    assert slot.ready_replicas == 0  # none of the configuration the stack file asks for
    runtime = next(c for c in slot.conditions if c.type is ConditionType.RUNTIME_READY)
    assert "2 not created yet" in runtime.message
    assert "2 of an earlier configuration still exist" in runtime.message
    assert [i.status for i in slot.instances] == [InstanceStatus.DEPLOYED] * 2


def test_other_stacks_are_ignored_and_leftovers_reported(qwen: StackExpectation) -> None:
    containers, _ = scenario("healthy_pair", qwen)
    other_stack = copy.deepcopy(named(containers, "-qwen-tiny-0-"))
    other_stack["Name"] = "/modelstack-dev-qwen-tiny-0-8ed6d1"
    other_stack["State"].update(Status="exited", Running=False, ExitCode=1)
    leftover = copy.deepcopy(named(containers, "-fetch-"))
    leftover["Name"] = f"/{NAMESPACE}-old-chat-fetch-1c2d3e4f"
    leftover["Config"]["Labels"]["modelstack.io/deployment"] = "old-chat"
    report = derive(qwen, [*containers, other_stack, leftover])
    assert report.outcome is Outcome.READY
    assert report.unmanaged == ("old-chat",)


# -- the log stream --------------------------------------------------------------------------


def test_multiplexed_frames_become_the_text_in_order() -> None:
    text = "INFO loading\nERROR CUDA error: no kernel image\nINFO bye\n"
    body = frames(text)
    assert body[0] == 1 and body[1:4] == b"\x00\x00\x00"
    assert log_text(body, tty=False) == text


def test_a_tty_log_is_raw_and_a_cut_frame_keeps_what_arrived() -> None:
    # Terminal colours are not evidence: they would end up in messages and JSON.
    assert log_text(b"\x1b[32mready\x1b[0m\r\n", tty=True) == "ready\r\n"
    cut = frames("first line\nsecond line\n")[:-4]
    assert demultiplex(cut) == b"first line\nsecond l"
    # Raw text where frames were expected (some logging drivers): passed through.
    assert demultiplex(b"plain text\n") == b"plain text\n"


# -- where Docker is -------------------------------------------------------------------------


def test_docker_host_values(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_HOST", raising=False)
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)
    assert DockerEndpoint.from_environment().socket_path == "/var/run/docker.sock"
    assert DockerEndpoint.from_environment("unix:///run/user/1000/docker.sock").socket_path == (
        "/run/user/1000/docker.sock"
    )
    tcp = DockerEndpoint.from_environment("tcp://127.0.0.1:2376")
    assert (tcp.host, tcp.port, tcp.socket_path) == ("127.0.0.1", 2376, None)
    with pytest.raises(ReaderSetupError, match="unix:// or tcp://"):
        DockerEndpoint.from_environment("ssh://deploy@gpu-box")
    monkeypatch.setenv("DOCKER_TLS_VERIFY", "1")
    with pytest.raises(ReaderSetupError, match="without TLS"):
        DockerEndpoint.from_environment("tcp://10.0.0.5:2376")


# -- end to end: the real reader against a stand-in daemon -----------------------------------


class Lab:
    """A stack file in tmp_path, and a daemon on a unix socket serving a scenario."""

    def __init__(self, directory: Path, document: dict[str, Any]) -> None:
        self.stack_file = write_stack(directory, document, "lab")
        self.expectation = load_expectation(
            argparse.Namespace(stack=None, stack_file=self.stack_file)
        )
        self.daemon = DaemonState()

    def serve(self, name: str) -> None:
        self.daemon.containers, self.daemon.logs = scenario(name, self.expectation)

    def status(self, capsys: pytest.CaptureFixture[str], *extra: str) -> tuple[int, Any, str]:
        code = main(["status", "--stack-file", str(self.stack_file), *extra])
        captured = capsys.readouterr()
        body = json.loads(captured.out) if "--json" in extra and captured.out else captured.out
        return code, body, captured.err


def _run(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    document: dict[str, Any],
    name: str,
    *extra: str,
) -> tuple[int, Any, Lab]:
    lab = Lab(tmp_path, document)
    lab.serve(name)
    with unix_daemon(tmp_path / "docker.sock", lab.daemon) as docker_host:
        monkeypatch.setenv("DOCKER_HOST", docker_host)
        code, body, _ = lab.status(capsys, *extra)
    return code, body, lab


@pytest.fixture(autouse=True)
def _no_tls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DOCKER_TLS_VERIFY", raising=False)


@pytest.fixture(autouse=True)
def _fixture_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    """The reader reads the fixtures at the moment they were recorded, not a year later."""
    monkeypatch.setattr(docker_reader, "now", lambda: READ_AT)


def test_end_to_end_a_healthy_pair_is_ready(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body, lab = _run(tmp_path, monkeypatch, capsys, _stack(QWEN), "healthy_pair", "--json")
    assert code == 0
    assert body["outcome"] == "ready" and body["target"] == "docker"
    assert body["context"] == f"unix://{tmp_path / 'docker.sock'}"
    (deployment,) = body["deployments"]
    assert deployment["status"] == "DEPLOYED"
    assert deployment["slots"][0]["readyReplicas"] == 2
    listing = lab.daemon.requests[0]
    assert listing.startswith("/containers/json?all=1&filters=")
    assert "app.kubernetes.io%2Fpart-of%3Dmodelstack" in listing
    # Four inspections, and no log: nothing failed.
    assert len(lab.daemon.requests) == 5
    assert not any("/logs" in path for path in lab.daemon.requests)


def test_end_to_end_a_cuda_crash_reads_the_multiplexed_log(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, body, lab = _run(tmp_path, monkeypatch, capsys, _stack(LLAMA), "cuda_crash", "--json")
    assert code == 1
    slot = body["deployments"][0]["slots"][0]
    assert slot["status"] == "ERROR"
    (problem,) = slot["problems"]
    assert problem["code"] == "CUDA_ERROR" and problem["remedy"] == "retry"
    assert "CUDA-capable device(s) is/are busy or unavailable" in problem["message"]
    logs = [path for path in lab.daemon.requests if "/logs?" in path]
    assert len(logs) == 1 and "stdout=1&stderr=1&tail=80" in logs[0]


def test_end_to_end_exit_codes_per_scenario(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    cases = [
        (_stack(QWEN), "starting", 3, "INITIALIZING", None),
        (_stack(QWEN), "copying_files", 3, "DEPLOYING", None),
        (_stack(LLAMA), "oom_killed", 1, "FAILED", "OOM"),
        (_stack(QWEN), "failed_loader", 1, "FAILED", "MODEL_LOADING_FAILURE"),
        (_stack(QWEN), "startup_timeout", 1, "FAILED", "STARTUP_TIMEOUT"),
        (_stack(_stopped(QWEN)), "stopped", 0, "STOPPED", None),
    ]
    for index, (document, name, exit_code, status, error) in enumerate(cases):
        directory = tmp_path / str(index)
        directory.mkdir()
        code, body, _ = _run(directory, monkeypatch, capsys, document, name, "--json")
        slot = body["deployments"][0]["slots"][0]
        assert (name, code, slot["status"]) == (name, exit_code, status)
        assert [p["code"] for p in slot["problems"]] == ([error] if error else [])


def test_end_to_end_text_says_what_runs_and_where_it_is_routed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(tmp_path, monkeypatch, capsys, _stack(QWEN), "healthy_pair")
    assert code == 0
    assert "\n  route path /qwen-tiny\n" in out
    assert "    runs llamacpp ghcr.io/ggml-org/llama.cpp:" in out
    assert ", native, latency profile, no GPU, cpu 2, memory 2Gi\n" in out


def test_end_to_end_text_names_the_daemon_and_the_fix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, _ = _run(tmp_path, monkeypatch, capsys, _stack(QWEN), "failed_loader")
    assert code == 1
    lines = out.splitlines()
    assert lines[0] == (
        f"stack lab: failed (docker, unix://{tmp_path / 'docker.sock'}, namespace {NAMESPACE})"
    )
    assert any(line.strip().startswith("MODEL_LOADING_FAILURE  container ") for line in lines)
    assert any(line.strip().startswith("reconfigure: ") for line in lines)


def test_end_to_end_a_tty_container_log_is_read_raw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = Lab(tmp_path, _stack(LLAMA))
    lab.serve("cuda_crash")
    engine = named(lab.daemon.containers, "-llama-chat-0-")
    engine["Config"]["Tty"] = True
    lab.daemon.logs = {
        engine["Name"].lstrip("/"): "torch.OutOfMemoryError: CUDA out of memory. Tried to "
        "allocate 1.96 GiB. GPU 0 has a total capacity of 22.05 GiB\r\n"
    }
    with unix_daemon(tmp_path / "docker.sock", lab.daemon) as docker_host:
        monkeypatch.setenv("DOCKER_HOST", docker_host)
        code, body, _ = lab.status(capsys, "--json")
    assert code == 1
    (problem,) = body["deployments"][0]["slots"][0]["problems"]
    assert problem["code"] == "OOM" and "out of GPU memory" in problem["message"]


def test_end_to_end_over_loopback_tcp(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = Lab(tmp_path, _stack(QWEN))
    lab.serve("healthy_pair")
    with tcp_daemon(lab.daemon) as docker_host:
        monkeypatch.setenv("DOCKER_HOST", docker_host)
        code, body, _ = lab.status(capsys, "--json")
    assert code == 0 and body["context"] == docker_host


def test_end_to_end_watch_until_the_engines_are_healthy(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = Lab(tmp_path, _stack(QWEN))
    lab.serve("starting")
    healthy, _ = scenario("healthy_pair", lab.expectation)

    class Becomes(DaemonState):
        def find(self, reference: str) -> dict[str, Any] | None:
            listings = sum(1 for path in self.requests if path.startswith("/containers/json"))
            if listings >= 2:  # the second poll sees the engines healthy
                self.containers = healthy
            return super().find(reference)

    lab.daemon = Becomes(lab.daemon.containers, lab.daemon.logs)
    with unix_daemon(tmp_path / "docker.sock", lab.daemon) as docker_host:
        monkeypatch.setenv("DOCKER_HOST", docker_host)
        code, body, err = lab.status(capsys, "--watch", "--interval", "0.05", "--json")
    assert code == 0 and body["outcome"] == "ready"
    assert "qwen-tiny/main: INITIALIZING 0/2 ready" in err
    assert "qwen-tiny/main: DEPLOYED 2/2 ready" in err


def test_end_to_end_no_daemon_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = Lab(tmp_path, _stack(QWEN))
    monkeypatch.setenv("DOCKER_HOST", f"unix://{tmp_path / 'absent.sock'}")
    code, _, err = lab.status(capsys, "--json")
    assert code == 4
    assert "no Docker socket at" in err and "absent.sock" in err


def test_end_to_end_a_daemon_error_is_unreachable(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = Lab(tmp_path, _stack(QWEN))
    lab.daemon.failure = 500
    with unix_daemon(tmp_path / "docker.sock", lab.daemon) as docker_host:
        monkeypatch.setenv("DOCKER_HOST", docker_host)
        code, _, err = lab.status(capsys)
    assert code == 4 and "answered 500" in err and "daemon in trouble" in err


def test_end_to_end_an_unusable_docker_host_is_bad_input(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    lab = Lab(tmp_path, _stack(QWEN))
    monkeypatch.setenv("DOCKER_HOST", "ssh://deploy@gpu-box")
    code, _, err = lab.status(capsys)
    assert code == 2 and "DOCKER_HOST=ssh://deploy@gpu-box" in err


def test_docker_guidance_speaks_docker() -> None:
    from components.status.model import ErrorCode, guidance_for

    for code in ErrorCode:
        advice = guidance_for(code, "docker").advice
        assert "kubectl" not in advice and " pod" not in advice, code
    assert "kubectl" in guidance_for(ErrorCode.MUST_REDOWNLOAD, "kubernetes").advice


def test_a_loader_without_network_must_download_again_not_reconfigure(
    qwen: StackExpectation,
) -> None:
    # huggingface_hub's error when the Hub cannot be reached names a "LocalEntryNotFound".
    containers, _ = scenario("failed_loader", qwen)
    loader = named(containers, "-fetch-")["Name"].lstrip("/")
    log = (
        "huggingface_hub.errors.LocalEntryNotFoundError: An error happened while trying to "
        "locate the file on the Hub and we cannot find the requested files in the local cache."
    )
    slot = only_slot(derive(qwen, containers, {loader: log}), "qwen-tiny")
    (problem,) = slot.problems
    assert problem.code is ErrorCode.MUST_REDOWNLOAD
    assert slot.status is DeploymentStatus.ERROR


def test_colour_codes_in_an_engine_log_do_not_reach_the_evidence(
    llama: StackExpectation,
) -> None:
    containers, logs = scenario("cuda_crash", llama)
    # As the reader gets them: through log_text, from a container with a TTY.
    coloured = {
        name: log_text(
            "".join(f"\x1b[31m{line}\x1b[0m\n" for line in log.splitlines()).encode(), tty=True
        )
        for name, log in logs.items()
    }
    slot = only_slot(derive(llama, containers, coloured), "llama-chat")
    (problem,) = slot.problems
    assert problem.message.startswith("GPU error: RuntimeError: CUDA error: CUDA-capable device")
