"""Kubernetes objects -> status: the pure derivation, on fixtures of what the API returns.

Each fixture in tests/fixtures/status/ is one moment of a real failure or rollout (its
header says which); variants change one thing in a copy to show what that thing decides.
"""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.status.kubernetes_facts import (
    ClusterSnapshot,
    LogRequest,
    derive_stack,
    logs_wanted,
)
from components.status.model import (
    GUIDANCE,
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    ExpectedDeployment,
    ExpectedSlot,
    InstanceRole,
    InstanceStatus,
    Outcome,
    Problem,
    Remedy,
    SlotReport,
    StackExpectation,
    StackReport,
    report_as_json,
)

FIXTURES = Path(__file__).parent / "fixtures" / "status"
BLUE_JOB = "llama-chat-fetch-262e19b0"
GREEN_JOB = "llama-chat-fetch-00f83cfd"

# What the fixtures' stack files ask for (tests/test_status_reader.py builds the same from
# real stack files through the plan).
STAGING = StackExpectation(
    stack="staging",
    target="kubernetes",
    namespace="ml-staging",
    context="staging-gke",
    deployments=(
        ExpectedDeployment(
            name="llama-chat",
            endpoint="http://llama-chat.ml-staging.svc.cluster.local/v1",
            serving_slot="main",
            stable_service="llama-chat",
            hardware="1 x L4",
            slots=(ExpectedSlot("main", "llama-chat", 1, True, BLUE_JOB),),
        ),
    ),
)


# The same, with the plan's window for a download.
STAGING_WINDOW = replace(
    STAGING, deployments=(replace(STAGING.deployments[0], loader_window_seconds=7200),)
)


def prod(serving: str = "blue", green_replicas: int = 2) -> StackExpectation:
    return StackExpectation(
        stack="prod",
        target="kubernetes",
        namespace="ml-prod",
        context="prod-eks",
        deployments=(
            ExpectedDeployment(
                name="llama-chat",
                endpoint="http://llama-chat.ml-prod.svc.cluster.local/v1",
                serving_slot=serving,
                stable_service="llama-chat",
                hardware="1 x H100",
                slots=(
                    ExpectedSlot("blue", "llama-chat-blue", 2, serving == "blue", BLUE_JOB),
                    ExpectedSlot(
                        "green", "llama-chat-green", green_replicas, serving == "green", GREEN_JOB
                    ),
                ),
            ),
        ),
    )


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((FIXTURES / f"{name}.yaml").read_text())


def derive(data: dict[str, Any], expectation: StackExpectation = STAGING) -> StackReport:
    return derive_stack(expectation, ClusterSnapshot(**data))


def only_slot(report: StackReport) -> SlotReport:
    (deployment,) = report.deployments
    (slot,) = deployment.slots
    return slot


def codes(slot: SlotReport) -> list[ErrorCode]:
    return [problem.code for problem in slot.problems]


def condition(slot: SlotReport, kind: ConditionType) -> tuple[bool, str]:
    found = next(c for c in slot.conditions if c.type is kind)
    return found.status, found.reason


def engine_of(data: dict[str, Any]) -> dict[str, Any]:
    return data["pods"][0]["status"]["containerStatuses"][0]


def set_engine_log(data: dict[str, Any], log: str) -> None:
    pod = data["pods"][0]["metadata"]["name"]
    data["logs"] = {f"{pod}/engine": log}


# -- the failure fixtures ------------------------------------------------------------------


def test_container_killed_for_memory_is_oom_and_needs_a_new_configuration() -> None:
    report = derive(load("oom_killed"))
    slot = only_slot(report)
    assert codes(slot) == [ErrorCode.OOM]
    assert "28Gi" in slot.problems[0].message
    assert slot.status is DeploymentStatus.FAILED
    assert report.deployments[0].status is DeploymentStatus.FAILED
    assert report.outcome is Outcome.FAILED
    assert condition(slot, ConditionType.RUNTIME_READY) == (False, "RuntimeFailed")
    assert condition(slot, ConditionType.CACHE_READY) == (True, "CacheWarm")
    (instance,) = slot.instances
    assert (instance.status, instance.restarts, instance.ready) == (InstanceStatus.FAILED, 4, False)


def test_crash_loop_with_a_cuda_error_in_its_log_is_cuda_error() -> None:
    slot = only_slot(derive(load("cuda_crash_loop")))
    assert codes(slot) == [ErrorCode.CUDA_ERROR]
    message = slot.problems[0].message
    assert "CUDA driver version is insufficient" in message
    # The log decoration (process tag, level, time, call site) is not part of the evidence.
    assert "core.py" not in message
    assert slot.status is DeploymentStatus.ERROR


def test_the_same_crash_loop_without_its_log_is_only_container_exited() -> None:
    data = load("cuda_crash_loop")
    data["logs"] = {}
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.CONTAINER_EXITED]
    assert "exited with code 1 (Error)" in slot.problems[0].message
    assert slot.status is DeploymentStatus.FAILED


def test_cuda_out_of_memory_in_the_log_is_oom() -> None:
    data = load("cuda_crash_loop")
    set_engine_log(
        data,
        "INFO 06-03 09:24:01 [gpu_model_runner.py:1391] Starting to load model\n"
        "ERROR 06-03 09:24:17 [core.py:700] torch.OutOfMemoryError: CUDA out of memory. "
        "Tried to allocate 1002.00 MiB. GPU 0 has a total capacity of 22.05 GiB of which "
        "611.12 MiB is free.\n"
        "RuntimeError: Engine core initialization failed. See root cause above.\n",
    )
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.OOM]
    assert "Tried to allocate" in slot.problems[0].message
    assert slot.status is DeploymentStatus.FAILED


def test_a_context_longer_than_the_kv_cache_holds_is_oom() -> None:
    data = load("cuda_crash_loop")
    set_engine_log(
        data,
        "ValueError: The model's max seq len (131072) is larger than the maximum number of "
        "tokens that can be stored in KV cache (43968). Try increasing `gpu_memory_utilization`"
        " or decreasing `max_model_len` when initializing the engine.\n",
    )
    assert codes(only_slot(derive(data))) == [ErrorCode.OOM]


@pytest.mark.parametrize(
    "line",
    [
        "OSError: /model-cache/hf/meta-llama/Llama-3.1-8B-Instruct/main does not appear to "
        "have a file named config.json.",
        "safetensors_rust.SafetensorError: Error while deserializing header: "
        "MetadataIncompleteBuffer",
        "llama_model_load: error loading model: tensor 'blk.12.ffn_down.weight' data is not "
        "within the file bounds",
    ],
)
def test_a_model_that_cannot_be_read_is_model_loading_failure(line: str) -> None:
    data = load("cuda_crash_loop")
    set_engine_log(data, f"INFO 06-03 09:24:01 [api_server.py:1805] starting\n{line}\n")
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.MODEL_LOADING_FAILURE]
    assert slot.status is DeploymentStatus.FAILED


def test_an_exception_without_a_known_cause_is_runtime_error() -> None:
    data = load("cuda_crash_loop")
    set_engine_log(
        data,
        "INFO 06-03 09:24:01 [api_server.py:1805] vLLM API server version 0.31.0\n"
        "Traceback (most recent call last):\n"
        '  File "/usr/local/bin/vllm", line 10, in <module>\n'
        "KeyError: 'rope_type'\n",
    )
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.RUNTIME_ERROR]
    assert slot.problems[0].message == "KeyError: 'rope_type'"
    assert slot.status is DeploymentStatus.ERROR


def test_an_exit_the_log_does_not_explain_is_container_exited() -> None:
    data = load("cuda_crash_loop")
    engine_of(data)["lastState"]["terminated"]["exitCode"] = 2
    set_engine_log(
        data,
        "usage: vllm serve [model_tag] [options]\n"
        "vllm serve: error: unrecognized arguments: --max-num-seqs=32x\n",
    )
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.CONTAINER_EXITED]
    assert "code 2" in slot.problems[0].message


def test_image_pull_back_off_is_image_pull_with_the_registry_answer() -> None:
    slot = only_slot(derive(load("image_pull_backoff")))
    assert codes(slot) == [ErrorCode.IMAGE_PULL]
    message = slot.problems[0].message
    assert message.startswith("cannot pull vllm/vllm-openai:v0.31.1:")
    assert message.endswith("not found")
    assert slot.status is DeploymentStatus.ERROR


def test_a_node_whose_gpu_setup_fails_at_container_creation_is_cuda_error() -> None:
    data = load("image_pull_backoff")
    engine_of(data)["state"] = {
        "waiting": {
            "reason": "RunContainerError",
            "message": "failed to create containerd task: failed to create shim task: OCI "
            "runtime create failed: nvidia-container-cli: initialization error: nvml error: "
            "driver not loaded: unknown",
        }
    }
    assert codes(only_slot(derive(data))) == [ErrorCode.CUDA_ERROR]


def test_a_startup_probe_that_never_passes_is_startup_timeout() -> None:
    slot = only_slot(derive(load("startup_probe_never_passes")))
    assert codes(slot) == [ErrorCode.STARTUP_TIMEOUT]
    assert "restarted 2 time(s)" in slot.problems[0].message
    assert slot.status is DeploymentStatus.FAILED


def test_a_startup_probe_failing_on_the_first_load_is_just_initializing() -> None:
    data = load("startup_probe_never_passes")
    engine = engine_of(data)
    engine["restartCount"] = 0
    engine["lastState"] = {}
    data["events"] = [e for e in data["events"] if e["reason"] != "Killing"]
    slot = only_slot(derive(data))
    assert slot.problems == ()
    assert slot.status is DeploymentStatus.INITIALIZING
    (instance,) = slot.instances
    assert instance.status is InstanceStatus.STARTING
    assert derive(data).outcome is Outcome.PROGRESSING


def test_old_startup_kills_do_not_count_once_the_engine_has_started() -> None:
    data = load("startup_probe_never_passes")
    engine_of(data)["started"] = True  # passed its startup probe; readiness still pending
    slot = only_slot(derive(data))
    assert slot.problems == ()
    assert slot.status is DeploymentStatus.INITIALIZING


def test_an_engine_restarted_by_its_liveness_probe_is_runtime_error() -> None:
    data = load("startup_probe_never_passes")
    engine_of(data)["started"] = True
    for event in data["events"]:
        if event["reason"] == "Unhealthy":
            event["message"] = "Liveness probe failed: context deadline exceeded"
        if event["reason"] == "Killing":
            event["message"] = "Container engine failed liveness probe, will be restarted"
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.RUNTIME_ERROR]
    assert "stopped answering its health check" in slot.problems[0].message


def past_deadline(data: dict[str, Any]) -> dict[str, Any]:
    """The fixture's Deployment as the controller marks it once progressDeadlineSeconds
    passed without progress."""
    progressing = data["deployments"][0]["status"]["conditions"][1]
    progressing.update(
        status="False",
        reason="ProgressDeadlineExceeded",
        message='ReplicaSet "llama-chat-6d5f8b9c7d" has timed out progressing.',
    )
    return data


def test_a_rollout_past_its_deadline_without_pod_evidence_is_overdue_not_failed() -> None:
    """Progressing with timeout: nothing names a cause, so the window and the newest
    evidence are what the slot says, and it is not a failure with a code."""
    data = past_deadline(load("startup_probe_never_passes"))
    engine = engine_of(data)
    engine["restartCount"] = 0
    engine["lastState"] = {}
    data["events"] = [e for e in data["events"] if e["reason"] not in ("Killing", "Unhealthy")]
    set_engine_log(data, "INFO loading safetensors checkpoint shards: 40% completed\n")
    report = derive(data)
    slot = only_slot(report)
    assert (slot.status, slot.problems) == (DeploymentStatus.OVERDUE, ())
    assert report.outcome is Outcome.OVERDUE
    assert condition(slot, ConditionType.PROGRESSING) == (False, "ProgressDeadlineExceeded")
    message = next(c.message for c in slot.conditions if c.type is ConditionType.PROGRESSING)
    assert message.startswith("not ready within its 2400s window (progressDeadlineSeconds)")
    assert "last event pod/" in message
    assert message.endswith("log: INFO loading safetensors checkpoint shards: 40% completed")


def test_a_rollout_within_its_deadline_is_progressing_and_asks_for_no_log() -> None:
    data = load("startup_probe_never_passes")
    engine = engine_of(data)
    engine["restartCount"] = 0
    engine["lastState"] = {}
    data["events"] = []
    slot = only_slot(derive(data))
    assert slot.status is DeploymentStatus.INITIALIZING
    assert condition(slot, ConditionType.PROGRESSING) == (True, "Progressing")
    assert logs_wanted(ClusterSnapshot(**data)) == ()
    pod = data["pods"][0]["metadata"]["name"]
    wanted = logs_wanted(ClusterSnapshot(**past_deadline(data)))
    assert wanted == (LogRequest(pod, "engine", previous=False),)


def test_past_its_deadline_a_pod_problem_still_decides() -> None:
    slot = only_slot(derive(past_deadline(load("startup_probe_never_passes"))))
    assert codes(slot) == [ErrorCode.STARTUP_TIMEOUT]
    assert slot.status is DeploymentStatus.FAILED
    assert condition(slot, ConditionType.PROGRESSING) == (False, "Blocked")


def test_a_pending_pod_without_a_free_gpu_is_unschedulable_and_names_the_gpu() -> None:
    slot = only_slot(derive(load("unschedulable_gpu")))
    assert codes(slot) == [ErrorCode.UNSCHEDULABLE]
    assert slot.problems[0].message == (
        "0/3 nodes are available: 3 Insufficient nvidia.com/gpu. The pod asks for "
        "1 nvidia.com/gpu on nodes with cloud.google.com/gke-accelerator=nvidia-l4."
    )
    (instance,) = slot.instances
    assert instance.status is InstanceStatus.ERROR
    assert instance.node is None


def test_a_pod_no_node_label_matches_is_unschedulable() -> None:
    data = load("unschedulable_gpu")
    message = "0/3 nodes are available: 3 node(s) didn't match Pod's node affinity/selector."
    for event in data["events"]:
        if event["reason"] == "FailedScheduling":
            event["message"] = message
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.UNSCHEDULABLE]
    assert "didn't match Pod's node affinity/selector" in slot.problems[0].message


def test_a_pending_pod_the_autoscaler_is_adding_a_node_for_is_only_waiting() -> None:
    data = load("unschedulable_gpu")
    scale_up = json.loads(json.dumps(data["events"][1]))
    scale_up.update(
        reason="TriggeredScaleUp",
        message="pod triggered scale-up: [{https://www.googleapis.com/compute/v1/projects/"
        "ml/zones/europe-west4-a/instanceGroups/gke-ml-staging-l4-pool-grp 3->4 (max: 6)}]",
        lastTimestamp="2025-06-03T09:18:02Z",
    )
    scale_up["metadata"]["name"] += "-scaleup"
    data["events"].append(scale_up)
    slot = only_slot(derive(data))
    assert slot.problems == ()
    assert slot.status is DeploymentStatus.DEPLOYING
    (instance,) = slot.instances
    assert instance.status is InstanceStatus.REQUESTED
    assert "autoscaler" in instance.detail


def test_a_download_job_that_gave_up_on_the_network_must_redownload() -> None:
    data = load("failed_download_job")
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.MUST_REDOWNLOAD]
    problem = slot.problems[0]
    assert problem.source == f"job/{BLUE_JOB}"
    assert "failed 5 time(s)" in problem.message
    assert problem.message.endswith("httpx.ReadTimeout: The read operation timed out")
    assert condition(slot, ConditionType.CACHE_READY) == (False, "CacheFailed")
    # pulumi up waits for the Job before it creates the engines: none exist.
    assert condition(slot, ConditionType.RUNTIME_READY) == (False, "CreatingRuntime")
    assert slot.status is DeploymentStatus.ERROR
    # Of the five attempts, the last one is shown, with the Job's problem.
    (instance,) = slot.instances
    assert instance.name == f"{BLUE_JOB}-r9fhs"
    assert (instance.role, instance.status) == (InstanceRole.LOADER, InstanceStatus.ERROR)


def test_a_download_refused_for_a_gated_repository_is_model_loading_failure() -> None:
    data = load("failed_download_job")
    data["logs"] = {
        f"{BLUE_JOB}-r9fhs/loader": "huggingface_hub.errors.GatedRepoError: 401 Client Error. "
        "(Request ID: Root=1-683ebf5a-2c1f0d6e4b8a9c7d)\n"
        "Cannot access gated repo for url https://huggingface.co/meta-llama/"
        "Llama-3.1-8B-Instruct/resolve/0e9e39f249a16976918f6564b8830bc894c89659/config.json.\n"
        "Access to model meta-llama/Llama-3.1-8B-Instruct is restricted. You must have access "
        "to it and be authenticated to access it. Please log in.\n"
    }
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.MODEL_LOADING_FAILURE]
    assert slot.status is DeploymentStatus.FAILED


def test_without_a_log_the_termination_message_of_the_last_attempt_is_the_evidence() -> None:
    data = load("failed_download_job")
    data["logs"] = {}
    last = next(p for p in data["pods"] if p["metadata"]["name"] == f"{BLUE_JOB}-r9fhs")
    terminated = last["status"]["containerStatuses"][0]["state"]["terminated"]
    terminated["message"] = "huggingface_hub.errors.RepositoryNotFoundError: 404 Client Error."
    slot = only_slot(derive(data))
    assert codes(slot) == [ErrorCode.MODEL_LOADING_FAILURE]
    assert "RepositoryNotFoundError" in slot.problems[0].message


# -- progress and healthy states -----------------------------------------------------------


def test_a_running_loader_job_shows_an_instance_copying_files() -> None:
    report = derive(load("copying_files"))
    slot = only_slot(report)
    (instance,) = slot.instances
    assert (instance.role, instance.status) == (InstanceRole.LOADER, InstanceStatus.COPYING_FILES)
    assert condition(slot, ConditionType.CACHE_READY) == (False, "CacheWarming")
    assert condition(slot, ConditionType.READY) == (False, "CacheWarming")
    assert slot.status is DeploymentStatus.DEPLOYING
    assert report.outcome is Outcome.PROGRESSING


def test_a_cache_claim_that_cannot_be_provisioned_says_why() -> None:
    data = load("copying_files")
    claim = data["claims"][0]
    claim["status"] = {"phase": "Pending"}
    event = json.loads(json.dumps(data["events"][0]))
    event["involvedObject"].update(kind="PersistentVolumeClaim", name="llama-chat-cache")
    event.update(
        reason="ProvisioningFailed",
        type="Warning",
        message='storageclass.storage.k8s.io "standard-rwx" not found',
    )
    data["events"].append(event)
    slot = only_slot(derive(data))
    cache = next(c for c in slot.conditions if c.type is ConditionType.CACHE_READY)
    assert cache.reason == "CacheWarming"
    assert cache.message.endswith(
        'claim llama-chat-cache: storageclass.storage.k8s.io "standard-rwx" not found'
    )


def test_an_engine_pod_waiting_for_the_model_files_is_copying_files() -> None:
    data = load("oom_killed")
    pod = data["pods"][0]
    pod["status"]["initContainerStatuses"][0]["state"] = {
        "running": {"startedAt": "2025-06-03T09:03:05Z"}
    }
    pod["status"]["containerStatuses"][0] = {
        **engine_of(data),
        "restartCount": 0,
        "state": {"waiting": {"reason": "PodInitializing"}},
        "lastState": {},
    }
    slot = only_slot(derive(data))
    (instance,) = slot.instances
    assert instance.status is InstanceStatus.COPYING_FILES
    assert slot.status is DeploymentStatus.DEPLOYING


def test_a_deployment_scaled_to_zero_is_stopped_and_counts_as_ready() -> None:
    report = derive(load("scaled_to_zero"))
    slot = only_slot(report)
    assert slot.status is DeploymentStatus.STOPPED
    assert (slot.desired_replicas, slot.instances) == (0, ())
    assert condition(slot, ConditionType.RUNTIME_READY) == (False, "Stopped")
    assert report.deployments[0].status is DeploymentStatus.STOPPED
    assert report.outcome is Outcome.READY


def test_a_healthy_blue_green_pair_is_deployed_with_every_readiness_condition_true() -> None:
    report = derive(load("healthy_blue_green"), prod())
    (deployment,) = report.deployments
    assert deployment.status is DeploymentStatus.DEPLOYED
    assert report.outcome is Outcome.READY
    blue, green = deployment.slots
    for slot in (blue, green):
        assert slot.status is DeploymentStatus.DEPLOYED
        readiness = [c.status for c in slot.conditions if c.type.value.endswith("Ready")]
        assert readiness == [True] * 4, slot.conditions
        assert condition(slot, ConditionType.PROGRESSING) == (False, "Settled")
        assert condition(slot, ConditionType.DEGRADED) == (False, "FullyServing")
        assert [i.status for i in slot.instances] == [InstanceStatus.DEPLOYED] * 2
        assert (slot.ready_replicas, slot.desired_replicas, slot.problems) == (2, 2, ())
    # Startup-probe failures while loading are normal: they are no problem once it passed.
    assert condition(blue, ConditionType.ROUTING_READY) == (True, "RouteReady")
    assert condition(green, ConditionType.ROUTING_READY) == (True, "SlotRoute")


def test_a_switch_the_cluster_has_not_applied_yet_is_deploying() -> None:
    report = derive(load("healthy_blue_green"), prod(serving="green"))
    blue, green = report.deployments[0].slots
    assert condition(green, ConditionType.ROUTING_READY) == (False, "Switching")
    assert condition(blue, ConditionType.ROUTING_READY) == (False, "Switching")
    assert report.deployments[0].status is DeploymentStatus.DEPLOYING
    assert report.outcome is Outcome.PROGRESSING


def test_an_idle_slot_scaled_to_zero_leaves_the_deployment_deployed() -> None:
    data = load("healthy_blue_green")
    green = next(d for d in data["deployments"] if d["metadata"]["name"] == "llama-chat-green")
    green["spec"]["replicas"] = 0
    green["status"] = {"observedGeneration": 1, "conditions": green["status"]["conditions"]}
    data["pods"] = [
        p for p in data["pods"] if p["metadata"]["labels"]["modelstack.io/slot"] != "green"
    ]
    report = derive(data, prod(green_replicas=0))
    blue_slot, green_slot = report.deployments[0].slots
    assert (blue_slot.status, green_slot.status) == (
        DeploymentStatus.DEPLOYED,
        DeploymentStatus.STOPPED,
    )
    assert report.deployments[0].status is DeploymentStatus.DEPLOYED


def test_a_deployment_with_nothing_in_the_cluster_is_requested() -> None:
    report = derive({}, prod())
    assert [s.status for s in report.deployments[0].slots] == [DeploymentStatus.REQUESTED] * 2
    assert report.deployments[0].status is DeploymentStatus.REQUESTED
    assert report.outcome is Outcome.PROGRESSING


def test_objects_of_deployments_no_longer_in_the_stack_file_are_listed() -> None:
    data = load("scaled_to_zero")
    old_cache = json.loads(json.dumps(data["claims"][0]))
    old_cache["metadata"]["name"] = "qwen-old-cache"
    old_cache["metadata"]["labels"]["modelstack.io/deployment"] = "qwen-old"
    data["claims"].append(old_cache)
    assert derive(data).unmanaged == ("qwen-old",)
    assert derive(load("scaled_to_zero")).unmanaged == ()


def test_derivation_does_not_depend_on_the_order_the_api_returned_things() -> None:
    data = load("failed_download_job")
    shuffled = {
        key: list(reversed(value)) if isinstance(value, list) else value
        for key, value in data.items()
    }
    assert derive(shuffled) == derive(data)


# -- what a reader must fetch --------------------------------------------------------------


def test_logs_are_wanted_of_crashed_containers_and_the_last_failed_loader_only() -> None:
    oom = ClusterSnapshot(**load("oom_killed"))
    assert logs_wanted(oom) == (LogRequest("llama-chat-6d5f8b9c7d-x7k2p", "engine", True),)
    failed_job = ClusterSnapshot(**load("failed_download_job"))
    assert logs_wanted(failed_job) == (LogRequest(f"{BLUE_JOB}-r9fhs", "loader", False),)
    assert logs_wanted(ClusterSnapshot(**load("healthy_blue_green"))) == ()


# -- the vocabulary ------------------------------------------------------------------------


def test_every_error_code_has_guidance_and_its_remedy_decides_error_or_failed() -> None:
    assert set(GUIDANCE) == set(ErrorCode)
    reconfigure = {ErrorCode.OOM, ErrorCode.MODEL_LOADING_FAILURE}
    reconfigure |= {ErrorCode.CONTAINER_EXITED, ErrorCode.STARTUP_TIMEOUT}
    # Flagger tries a version once: only a changed Deployment starts another analysis.
    reconfigure |= {ErrorCode.ROLLED_BACK}
    for code in ErrorCode:
        guidance = code.guidance
        assert len(guidance.advice) > 40
        expected = Remedy.RECONFIGURE if code in reconfigure else Remedy.RETRY
        assert guidance.remedy is expected, code
        status = Problem(code, "m", "s").status
        failed = expected is Remedy.RECONFIGURE
        assert status is (DeploymentStatus.FAILED if failed else DeploymentStatus.ERROR)


def test_the_json_report_carries_codes_guidance_and_kubernetes_style_conditions() -> None:
    document = json.loads(json.dumps(report_as_json(derive(load("oom_killed")))))
    assert document["outcome"] == "failed"
    slot = document["deployments"][0]["slots"][0]
    assert slot["status"] == "FAILED"
    assert {c["type"]: c["status"] for c in slot["conditions"]} == {
        "CacheReady": "True",
        "RuntimeReady": "False",
        "RoutingReady": "True",
        "Ready": "False",
        "Progressing": "False",
        "Degraded": "False",
    }
    (problem,) = slot["problems"]
    assert problem["code"] == "OOM"
    assert problem["remedy"] == "reconfigure"
    assert "resources.memory" in problem["guidance"]
    assert slot["instances"][0]["errorCodes"] == ["OOM"]


# -- serving in part (DEGRADED) and past the window (OVERDUE) -------------------------------


def test_one_replica_failing_while_the_other_answers_is_degraded_not_failed() -> None:
    report = derive(load("degraded_one_replica_oom"), prod())
    blue, green = report.deployments[0].slots
    assert codes(blue) == [ErrorCode.OOM]
    assert (blue.status, blue.ready_replicas, blue.desired_replicas) == (
        DeploymentStatus.DEGRADED,
        1,
        2,
    )
    assert condition(blue, ConditionType.DEGRADED) == (True, "ReplicasFailing")
    message = next(c.message for c in blue.conditions if c.type is ConditionType.DEGRADED)
    assert message.startswith("1/2 replicas answer; OOM: killed for using more memory")
    assert condition(blue, ConditionType.RUNTIME_READY) == (False, "RuntimeFailed")
    assert [i.status for i in blue.instances] == [InstanceStatus.DEPLOYED, InstanceStatus.FAILED]
    assert green.status is DeploymentStatus.DEPLOYED
    assert report.deployments[0].status is DeploymentStatus.DEGRADED
    assert report.outcome is Outcome.DEGRADED


def test_the_same_failing_replica_mid_rollout_is_still_failed() -> None:
    """Replicas of an earlier version may be the ones that answer: the new configuration
    failed, and nothing says it serves."""
    data = load("degraded_one_replica_oom")
    data["deployments"][0]["status"].update(replicas=3, updatedReplicas=2)
    blue = derive(data, prod()).deployments[0].slots[0]
    assert blue.status is DeploymentStatus.FAILED
    assert condition(blue, ConditionType.DEGRADED) == (False, "NotServing")


def test_every_replica_failing_is_failed_not_degraded() -> None:
    data = load("degraded_one_replica_oom")
    data["deployments"][0]["status"].update(readyReplicas=0, availableReplicas=0)
    assert derive(data, prod()).deployments[0].slots[0].status is DeploymentStatus.FAILED


def refused(data: dict[str, Any], kind: str, reason: str, message: str) -> dict[str, Any]:
    """The fixture with its HTTPRoute as a Gateway reports it when it refuses it."""
    (route,) = data["routes"]
    for found in route["status"]["parents"][0]["conditions"]:
        if found["type"] == kind:
            found.update(status="False", reason=reason, message=message)
    return data


def healthy_with_route_of(kind: str, reason: str, message: str) -> dict[str, Any]:
    data = load("healthy_blue_green")
    data["routes"] = refused(load("degraded_one_replica_oom"), kind, reason, message)["routes"]
    return data


def test_a_route_the_gateway_accepts_changes_nothing() -> None:
    data = load("healthy_blue_green")
    data["routes"] = load("degraded_one_replica_oom")["routes"]
    report = derive(data, prod())
    assert report.outcome is Outcome.READY
    assert condition(report.deployments[0].slots[0], ConditionType.ROUTING_READY) == (
        True,
        "RouteReady",
    )


@pytest.mark.parametrize(
    ("kind", "reason", "words"),
    [
        ("Accepted", "NotAllowedByListeners", "does not accept the route"),
        ("ResolvedRefs", "BackendNotFound", "cannot resolve some of the route's backends"),
    ],
)
def test_a_route_the_gateway_refuses_leaves_the_serving_slot_degraded(
    kind: str, reason: str, words: str
) -> None:
    """The Gateway's verdict is the evidence; the engines still answer through the Service."""
    data = healthy_with_route_of(kind, reason, "No listeners allowed this attachment.")
    report = derive(data, prod())
    blue, green = report.deployments[0].slots
    assert codes(blue) == [ErrorCode.ROUTING_FAILURE]
    assert blue.problems[0].message == (
        f"Gateway gateways/inference {words} ({reason}): No listeners allowed this attachment."
    )
    assert blue.problems[0].source == "httproute/llama-chat"
    assert condition(blue, ConditionType.ROUTING_READY) == (False, "RouteIncomplete")
    assert condition(blue, ConditionType.DEGRADED) == (True, "RouteIncomplete")
    assert blue.status is DeploymentStatus.DEGRADED
    # The idle slot is not behind the HTTPRoute: nothing of it is refused.
    assert (green.status, green.problems) == (DeploymentStatus.DEPLOYED, ())
    assert report.outcome is Outcome.DEGRADED


def test_a_refusal_of_an_earlier_generation_of_the_route_is_not_evidence() -> None:
    data = healthy_with_route_of("Accepted", "NotAllowedByListeners", "old")
    data["routes"][0]["metadata"]["generation"] = 2  # fixed since; the Gateway has not looked
    assert derive(data, prod()).outcome is Outcome.READY


def test_a_pod_waiting_for_a_new_node_past_the_deadline_is_overdue_with_its_evidence() -> None:
    report = derive(load("progress_deadline_waiting_for_node"))
    slot = only_slot(report)
    assert (slot.status, slot.problems) == (DeploymentStatus.OVERDUE, ())
    assert report.deployments[0].status is DeploymentStatus.OVERDUE
    assert report.outcome is Outcome.OVERDUE
    progressing = next(c for c in slot.conditions if c.type is ConditionType.PROGRESSING)
    assert (progressing.status, progressing.reason) == (False, "ProgressDeadlineExceeded")
    assert progressing.message.startswith(
        "not ready within its 2400s window (progressDeadlineSeconds); last event pod/"
    )
    assert "TriggeredScaleUp: pod triggered scale-up" in progressing.message
    (instance,) = slot.instances
    assert instance.detail == "waiting for a new node from the autoscaler"


def test_a_loader_copying_past_its_window_is_overdue_and_says_so() -> None:
    """The plan gives a download 7200 s; Pulumi stops waiting then, the Job goes on."""
    data = load("copying_files")
    started = datetime.fromisoformat(data["jobs"][0]["status"]["startTime"])
    on_time = derive_stack(STAGING_WINDOW, ClusterSnapshot(**data, read_at=started))
    assert only_slot(on_time).status is DeploymentStatus.DEPLOYING
    late = started + timedelta(seconds=7300)
    report = derive_stack(STAGING_WINDOW, ClusterSnapshot(**data, read_at=late))
    slot = only_slot(report)
    assert (slot.status, slot.problems, report.outcome) == (
        DeploymentStatus.OVERDUE,
        (),
        Outcome.OVERDUE,
    )
    progressing = next(c for c in slot.conditions if c.type is ConditionType.PROGRESSING)
    assert progressing.message.startswith(
        f"loader Job {BLUE_JOB} has copied for 7300s, past its 7200s window: `pulumi up` "
        "stopped waiting"
    )
    # Without the plan's window (a hand-made expectation) nothing is past it.
    assert derive_stack(STAGING, ClusterSnapshot(**data, read_at=late)).outcome is (
        Outcome.PROGRESSING
    )
