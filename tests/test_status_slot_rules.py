"""The status rules both targets share (components/status/slot_rules.py): a slot's facts ->
its conditions and status, on hand-written facts; and one situation seen by each target's
reader gives the same facts and so the same conditions."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from components.status import docker_facts, kubernetes_facts
from components.status.docker_containers import DockerSnapshot, StackContainers
from components.status.kubernetes_objects import ClusterSnapshot, SnapshotIndex
from components.status.model import (
    Condition,
    ConditionType,
    DeploymentStatus,
    ErrorCode,
    ExpectedSlot,
    Problem,
    StackExpectation,
)
from components.status.slot_rules import (
    ROUTE_CONDITIONS,
    CacheFacts,
    LoaderState,
    RouteFacts,
    RouteState,
    RuntimeFacts,
    SlotFacts,
    cache_condition,
    decide,
    distinct_problems,
    loader_overdue,
    ready_condition,
    routing_condition,
    runtime_condition,
    slot_conditions,
    slot_report,
)
from tests.test_status_derive import STAGING, load, prod
from tests.test_status_docker import (
    LLAMA,
    QWEN,
    READ_AT,
    _expectation,
    _stack,
    named,
    scenario,
)

OOM = Problem(ErrorCode.OOM, "killed for using more memory than its limit (28Gi)", "pod/a")
PULL = Problem(ErrorCode.IMAGE_PULL, "cannot pull x: not found", "pod/b")
GAVE_UP = Problem(ErrorCode.MUST_REDOWNLOAD, "the cache loader gave up", "job/c")
REFUSED = Problem(ErrorCode.ROUTING_FAILURE, "Gateway g/w does not accept the route", "r")

WARM = CacheFacts(LoaderState.COMPLETE, "loader completed")
RUNNING = RuntimeFacts(2, 2, "2/2 ready", complete=True)
ROUTED = RouteFacts(RouteState.SERVING, "the route selects this slot")
HEALTHY = SlotFacts(WARM, RUNNING, ROUTED)


def reason(condition: Condition) -> tuple[bool, str]:
    return condition.status, condition.reason


def status_of(facts: SlotFacts) -> DeploymentStatus:
    return slot_report(ExpectedSlot("main", "w", 2, True, "job"), facts).status


# -- CacheReady -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (CacheFacts(None), (True, "NoDownload")),
        (CacheFacts(LoaderState.COMPLETE, "done", (GAVE_UP,)), (True, "CacheWarm")),
        (CacheFacts(LoaderState.FAILED, "failed", (GAVE_UP,)), (False, "CacheFailed")),
        (CacheFacts(LoaderState.COPYING, "copying", (PULL,)), (False, "CacheFailed")),
        (CacheFacts(LoaderState.COPYING, "copying"), (False, "CacheWarming")),
        (CacheFacts(LoaderState.WAITING, "not started"), (False, "WaitingForCache")),
        (CacheFacts(LoaderState.ABSENT, "gone"), (False, "WaitingForCache")),
        (CacheFacts(LoaderState.ABSENT, "gone", found_by_engines="seen"), (True, "CacheWarm")),
        # A failing attempt outweighs what the engines show.
        (CacheFacts(LoaderState.ABSENT, "", (PULL,), "seen"), (False, "CacheFailed")),
    ],
)
def test_the_cache_ladder(facts: CacheFacts, expected: tuple[bool, str]) -> None:
    assert reason(cache_condition(facts)) == expected


def test_cache_messages_are_the_targets_words_or_the_first_problem() -> None:
    assert cache_condition(CacheFacts(LoaderState.COPYING, "Job x copies")).message == (
        "Job x copies"
    )
    failed = cache_condition(CacheFacts(LoaderState.FAILED, "x failed", (GAVE_UP, PULL)))
    assert failed.message == "MUST_REDOWNLOAD: the cache loader gave up"
    found = CacheFacts(LoaderState.ABSENT, "gone", found_by_engines="engines saw it")
    assert cache_condition(found).message == "engines saw it"


# -- RuntimeReady ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (RuntimeFacts(1, 0, "no Deployment", (OOM,), missing=True), (False, "CreatingRuntime")),
        (
            RuntimeFacts(0, 0, "zero", (OOM,), missing=True, stopped=True),
            (False, "CreatingRuntime"),
        ),
        (RuntimeFacts(0, 0, "zero", (OOM,), stopped=True), (False, "Stopped")),
        (RuntimeFacts(2, 1, "1/2", (OOM,), complete=True), (False, "RuntimeFailed")),
        (RuntimeFacts(2, 2, "2/2", complete=True), (True, "RuntimeReady")),
        (RuntimeFacts(2, 1, "1/2", loading=True), (False, "CreatingRuntime")),
    ],
)
def test_the_runtime_ladder(facts: RuntimeFacts, expected: tuple[bool, str]) -> None:
    assert reason(runtime_condition(facts)) == expected


def test_a_failing_runtime_says_its_first_problem() -> None:
    condition = runtime_condition(RuntimeFacts(2, 0, "0/2", (OOM, PULL)))
    assert condition.message == f"OOM: {OOM.message}"


# -- RoutingReady and Ready -----------------------------------------------------------------


@pytest.mark.parametrize("state", list(RouteState))
def test_every_route_state_has_one_meaning(state: RouteState) -> None:
    condition = routing_condition(RouteFacts(state, "words"))
    assert reason(condition) == ROUTE_CONDITIONS[state]
    assert condition.message == "words"


def test_ready_is_the_first_condition_that_is_not() -> None:
    cache = cache_condition(WARM)
    runtime = runtime_condition(RuntimeFacts(1, 0, "0/1 ready"))
    routing = routing_condition(RouteFacts(RouteState.SWITCHING, "elsewhere"))
    assert reason(ready_condition(cache, runtime, routing)) == (False, "CreatingRuntime")
    assert ready_condition(cache, runtime, routing).message == "0/1 ready"
    assert reason(ready_condition(cache, runtime_condition(RUNNING), routing)) == (
        False,
        "Switching",
    )
    conditions = slot_conditions(HEALTHY)
    assert list(conditions) == [
        ConditionType.CACHE_READY,
        ConditionType.RUNTIME_READY,
        ConditionType.ROUTING_READY,
        ConditionType.READY,
        ConditionType.PROGRESSING,
        ConditionType.DEGRADED,
    ]
    assert reason(conditions[ConditionType.READY]) == (True, "Ready")


def test_each_cause_is_reported_once_with_its_first_source() -> None:
    again = replace(OOM, source="pod/other")
    assert distinct_problems((OOM, PULL, again)) == (OOM, PULL)
    facts = SlotFacts(
        CacheFacts(LoaderState.COMPLETE, "done", (GAVE_UP,)),
        RuntimeFacts(2, 0, "0/2", (OOM, again)),
        RouteFacts(RouteState.DOWN, "gateway exited", (PULL,)),
    )
    report = slot_report(ExpectedSlot("main", "w", 2, True, "job"), facts)
    assert report.problems == (GAVE_UP, OOM, PULL)


# -- the slot's status ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        (HEALTHY, DeploymentStatus.DEPLOYED),
        # Scaled to zero on purpose: nothing else counts, unless engines still run.
        (
            replace(HEALTHY, runtime=RuntimeFacts(0, 0, "zero", (OOM,), stopped=True)),
            DeploymentStatus.STOPPED,
        ),
        (
            replace(HEALTHY, runtime=RuntimeFacts(0, 1, "zero", stopped=True, winding_down=True)),
            DeploymentStatus.DEPLOYING,
        ),
        # A workload that does not exist is not stopped, even when the plan asks for zero.
        (
            replace(
                HEALTHY,
                runtime=RuntimeFacts(0, 0, "none", missing=True, stopped=True),
                underway=False,
            ),
            DeploymentStatus.REQUESTED,
        ),
        (replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", (OOM,))), DeploymentStatus.FAILED),
        (replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", (PULL,))), DeploymentStatus.ERROR),
        # A problem counts before anything exists (a gateway down, a loader pod stuck).
        (
            SlotFacts(
                CacheFacts(LoaderState.ABSENT, "gone"),
                RuntimeFacts(2, 0, "none", missing=True),
                RouteFacts(RouteState.DOWN, "down", (PULL,)),
                underway=False,
            ),
            DeploymentStatus.ERROR,
        ),
        (
            SlotFacts(
                CacheFacts(LoaderState.ABSENT, "gone"),
                RuntimeFacts(2, 0, "none", missing=True),
                ROUTED,
                underway=False,
            ),
            DeploymentStatus.REQUESTED,
        ),
        (
            replace(HEALTHY, route=RouteFacts(RouteState.CONFIGURING, "not yet")),
            DeploymentStatus.DEPLOYING,
        ),
        (
            replace(
                HEALTHY,
                cache=CacheFacts(LoaderState.COPYING, "copying"),
                runtime=RuntimeFacts(2, 0, "0/2", loading=True),
            ),
            DeploymentStatus.DEPLOYING,
        ),
        (
            replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", loading=True)),
            DeploymentStatus.INITIALIZING,
        ),
        (replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2")), DeploymentStatus.DEPLOYING),
    ],
)
def test_the_slot_status_ladder(facts: SlotFacts, expected: DeploymentStatus) -> None:
    assert status_of(facts) is expected


# -- serving in part, and past the window ---------------------------------------------------

ONE_OF_TWO = RuntimeFacts(2, 1, "1/2", (OOM,), answering=1)
INCOMPLETE = RouteFacts(RouteState.INCOMPLETE, "refused", (REFUSED,))


@pytest.mark.parametrize(
    ("facts", "expected"),
    [
        # Some replicas fail, others on the current configuration answer.
        (replace(HEALTHY, runtime=ONE_OF_TWO), DeploymentStatus.DEGRADED),
        # The same, but the target cannot tell the answering ones run the current version.
        (replace(HEALTHY, runtime=replace(ONE_OF_TWO, answering=0)), DeploymentStatus.FAILED),
        # A route reaching the engines only in part, every replica answering.
        (
            replace(HEALTHY, runtime=replace(RUNNING, answering=2), route=INCOMPLETE),
            DeploymentStatus.DEGRADED,
        ),
        (replace(HEALTHY, route=INCOMPLETE), DeploymentStatus.ERROR),
        # Nothing reaches a slot whose gateway is down, however many replicas answer.
        (
            replace(
                HEALTHY,
                runtime=replace(RUNNING, answering=2),
                route=RouteFacts(RouteState.DOWN, "down", (PULL,)),
            ),
            DeploymentStatus.ERROR,
        ),
        # A cache that failed is never the part that serves.
        (
            replace(
                HEALTHY,
                cache=CacheFacts(LoaderState.FAILED, "failed", (GAVE_UP,)),
                runtime=ONE_OF_TWO,
            ),
            DeploymentStatus.FAILED,
        ),
        # An idle blue-green slot serves its slot route in part the same way.
        (
            replace(HEALTHY, runtime=ONE_OF_TWO, route=RouteFacts(RouteState.SLOT_ROUTE, "")),
            DeploymentStatus.DEGRADED,
        ),
        # Past the window, nothing named: OVERDUE; a problem still decides; ready is ready.
        (
            replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", overdue="not ready in 2400s")),
            DeploymentStatus.OVERDUE,
        ),
        (
            replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", (PULL,), overdue="2400s")),
            DeploymentStatus.ERROR,
        ),
        (replace(HEALTHY, runtime=replace(RUNNING, overdue="stale")), DeploymentStatus.DEPLOYED),
        # A loader past the plan's window for a download.
        (
            replace(
                HEALTHY,
                cache=CacheFacts(LoaderState.COPYING, "copying", overdue="past 7200s"),
                runtime=RuntimeFacts(2, 0, "none", missing=True),
            ),
            DeploymentStatus.OVERDUE,
        ),
    ],
)
def test_degraded_and_overdue_in_the_ladder(facts: SlotFacts, expected: DeploymentStatus) -> None:
    assert status_of(facts) is expected


@pytest.mark.parametrize(
    ("facts", "progressing", "degraded"),
    [
        (HEALTHY, (False, "Settled"), (False, "FullyServing")),
        (replace(HEALTHY, runtime=ONE_OF_TWO), (False, "Settled"), (True, "ReplicasFailing")),
        (
            replace(HEALTHY, runtime=replace(RUNNING, answering=2), route=INCOMPLETE),
            (False, "Settled"),
            (True, "RouteIncomplete"),
        ),
        (
            replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", loading=True)),
            (True, "Progressing"),
            (False, "NotServing"),
        ),
        (
            replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", overdue="past 2400s")),
            (False, "ProgressDeadlineExceeded"),
            (False, "NotServing"),
        ),
        (
            replace(HEALTHY, runtime=RuntimeFacts(2, 0, "0/2", (OOM,))),
            (False, "Blocked"),
            (False, "NotServing"),
        ),
    ],
)
def test_progressing_and_degraded_say_the_status_in_conditions(
    facts: SlotFacts, progressing: tuple[bool, str], degraded: tuple[bool, str]
) -> None:
    conditions = decide(facts).conditions
    assert reason(conditions[ConditionType.PROGRESSING]) == progressing
    assert reason(conditions[ConditionType.DEGRADED]) == degraded


def test_a_loader_is_overdue_only_past_the_window_it_is_given() -> None:
    assert loader_overdue("loader x", 7200, 7200) is None
    assert loader_overdue("loader x", 9000, None) is None
    assert loader_overdue("loader x", None, 7200) is None
    assert (loader_overdue("loader x", 7201, 7200) or "").startswith(
        "loader x has copied for 7201s, past its 7200s window"
    )


def test_the_conditions_carry_the_window_evidence_and_what_still_answers() -> None:
    overdue = RuntimeFacts(2, 0, "0/2", overdue="not ready within its 2400s window; log: x")
    progressing = decide(replace(HEALTHY, runtime=overdue)).conditions[ConditionType.PROGRESSING]
    assert progressing.message == "not ready within its 2400s window; log: x"
    degraded = decide(replace(HEALTHY, runtime=ONE_OF_TWO)).conditions[ConditionType.DEGRADED]
    assert degraded.message == f"1/2 replicas answer; OOM: {OOM.message}"


def test_the_report_carries_the_facts_counts_and_instances() -> None:
    slot = ExpectedSlot("blue", "llama-blue", 3, False, None)
    report = slot_report(slot, replace(HEALTHY, runtime=RuntimeFacts(4, 1, "1/4")))
    assert (report.slot, report.workload, report.serving) == ("blue", "llama-blue", False)
    assert (report.desired_replicas, report.ready_replicas) == (4, 1)
    assert report.instances == ()


# -- one situation, both targets ------------------------------------------------------------


@pytest.fixture(scope="module")
def docker_stacks(tmp_path_factory: pytest.TempPathFactory) -> dict[str, StackExpectation]:
    return {
        "qwen": _expectation(tmp_path_factory.mktemp("qwen"), _stack(QWEN)),
        "llama": _expectation(tmp_path_factory.mktemp("llama"), _stack(LLAMA)),
    }


def kubernetes_slot_facts(fixture: str, expectation: StackExpectation) -> SlotFacts:
    index = SnapshotIndex(ClusterSnapshot(**load(fixture)))
    deployment = expectation.deployments[0]
    return kubernetes_facts.slot_facts(deployment, deployment.slots[0], index)


def docker_slot_facts(fixture: str, expectation: StackExpectation) -> SlotFacts:
    containers, logs = scenario(fixture, expectation)
    found = StackContainers(expectation.namespace, DockerSnapshot(containers, logs, READ_AT))
    deployment = expectation.deployments[0]
    return docker_facts.slot_facts(deployment, deployment.slots[0], found)


def decisive(facts: SlotFacts) -> tuple[object, ...]:
    """What the rules decide on, without the targets' words, counts or instances."""
    return (
        facts.cache.loader,
        bool(facts.cache.problems),
        facts.cache.found_by_engines is not None,
        facts.runtime.stopped,
        facts.runtime.complete,
        facts.runtime.loading,
        facts.runtime.winding_down,
        facts.runtime.answering > 0,
        facts.runtime.overdue is not None,
        tuple(p.code for p in facts.runtime.problems),
        facts.route.state,
        bool(facts.route.problems),
        facts.underway,
    )


def conditions_of(facts: SlotFacts) -> list[tuple[ConditionType, bool, str]]:
    return [(c.type, c.status, c.reason) for c in slot_conditions(facts).values()]


# (Kubernetes fixture, its expectation, docker fixture, its stack, the same facts by hand)
SAME_SITUATION = {
    "healthy": (
        "healthy_blue_green",
        prod(),
        "healthy_pair",
        "qwen",
        SlotFacts(WARM, replace(RUNNING, loading=True, answering=2), ROUTED),
    ),
    "oom": (
        "oom_killed",
        STAGING,
        "oom_killed",
        "llama",
        SlotFacts(WARM, RuntimeFacts(1, 0, "", (OOM,)), ROUTED),
    ),
    "cuda": (
        "cuda_crash_loop",
        STAGING,
        "cuda_crash",
        "llama",
        SlotFacts(WARM, RuntimeFacts(1, 0, "", (replace(OOM, code=ErrorCode.CUDA_ERROR),)), ROUTED),
    ),
}


@pytest.mark.parametrize("situation", sorted(SAME_SITUATION))
def test_the_same_facts_through_both_targets_give_the_same_conditions(
    situation: str, docker_stacks: dict[str, StackExpectation]
) -> None:
    kubernetes_fixture, expectation, docker_fixture, stack, by_hand = SAME_SITUATION[situation]
    on_kubernetes = kubernetes_slot_facts(kubernetes_fixture, expectation)
    on_docker = docker_slot_facts(docker_fixture, docker_stacks[stack])
    assert decisive(on_kubernetes) == decisive(on_docker) == decisive(by_hand)
    assert conditions_of(on_kubernetes) == conditions_of(on_docker) == conditions_of(by_hand)
    assert status_of(on_kubernetes) is status_of(on_docker) is status_of(by_hand)


@pytest.mark.parametrize(
    ("kubernetes_fixture", "docker_fixture", "stack"),
    [("failed_download_job", "failed_loader", "qwen"), ("copying_files", "copying_files", "qwen")],
)
def test_a_loader_at_work_or_given_up_is_one_cache_condition_on_both_targets(
    kubernetes_fixture: str,
    docker_fixture: str,
    stack: str,
    docker_stacks: dict[str, StackExpectation],
) -> None:
    """Kubernetes makes the engine Deployment with the Job, docker after the loader: the
    runtime facts differ, the cache and the conditions do not."""
    on_kubernetes = kubernetes_slot_facts(kubernetes_fixture, STAGING)
    on_docker = docker_slot_facts(docker_fixture, docker_stacks[stack])
    assert on_kubernetes.cache.loader is on_docker.cache.loader
    assert conditions_of(on_kubernetes) == conditions_of(on_docker)
    assert on_kubernetes.runtime.missing and not on_docker.runtime.missing


def test_one_replica_failing_while_the_other_answers_is_degraded_on_both_targets(
    docker_stacks: dict[str, StackExpectation],
) -> None:
    on_kubernetes = kubernetes_slot_facts("degraded_one_replica_oom", prod())
    # Docker: healthy_pair with its second engine in the oom_killed fixture's state.
    qwen = docker_stacks["qwen"]
    containers, _ = scenario("healthy_pair", qwen)
    engine = named(containers, "-qwen-tiny-1-")
    dying = named(scenario("oom_killed", docker_stacks["llama"])[0], "-llama-chat-0-")
    engine["State"], engine["RestartCount"] = dying["State"], dying["RestartCount"]
    found = StackContainers(qwen.namespace, DockerSnapshot(containers, {}, READ_AT))
    deployment = qwen.deployments[0]
    on_docker = docker_facts.slot_facts(deployment, deployment.slots[0], found)
    by_hand = SlotFacts(WARM, RuntimeFacts(2, 1, "", (OOM,), loading=True, answering=1), ROUTED)
    assert decisive(on_kubernetes) == decisive(on_docker) == decisive(by_hand)
    assert conditions_of(on_kubernetes) == conditions_of(on_docker) == conditions_of(by_hand)
    assert status_of(on_kubernetes) is status_of(on_docker) is DeploymentStatus.DEGRADED


def test_past_the_window_with_nothing_named_is_overdue_on_both_targets(
    docker_stacks: dict[str, StackExpectation],
) -> None:
    """Kubernetes measures the Deployment's deadline, docker the health check's start
    period: the pod waits for a node, the container loads; both are past the plan's window."""
    on_kubernetes = kubernetes_slot_facts("progress_deadline_waiting_for_node", STAGING)
    on_docker = docker_slot_facts("past_start_period", docker_stacks["qwen"])
    for facts in (on_kubernetes, on_docker):
        assert facts.runtime.overdue is not None and not facts.runtime.problems
        assert status_of(facts) is DeploymentStatus.OVERDUE
        progressing = slot_conditions(facts)[ConditionType.PROGRESSING]
        assert reason(progressing) == (False, "ProgressDeadlineExceeded")
        assert "window" in progressing.message


def test_a_loader_past_its_window_is_overdue_on_both_targets(
    docker_stacks: dict[str, StackExpectation],
) -> None:
    """Kubernetes times the Job from status.startTime, docker the container from StartedAt,
    each against the plan's window and the moment it was read."""
    qwen = docker_stacks["qwen"]
    data = load("copying_files")
    started = datetime.fromisoformat(data["jobs"][0]["status"]["startTime"])
    index = SnapshotIndex(ClusterSnapshot(**data, read_at=started + timedelta(seconds=7300)))
    deployment = replace(STAGING.deployments[0], loader_window_seconds=7200)
    on_kubernetes = kubernetes_facts.slot_facts(deployment, deployment.slots[0], index)
    containers, logs = scenario("copying_files", qwen)
    loader = named(containers, "-fetch-")
    late = datetime.fromisoformat(loader["State"]["StartedAt"][:26]).replace(tzinfo=UTC)
    found = StackContainers(
        qwen.namespace, DockerSnapshot(containers, logs, late + timedelta(seconds=7300))
    )
    on_docker = docker_facts.slot_facts(qwen.deployments[0], qwen.deployments[0].slots[0], found)
    for facts in (on_kubernetes, on_docker):
        assert facts.cache.overdue is not None and "past its 7200s window" in facts.cache.overdue
        assert status_of(facts) is DeploymentStatus.OVERDUE


def test_the_same_messages_as_each_target_words_them() -> None:
    """The rules keep the targets' words: a Kubernetes slot names its Job and Deployment."""
    facts = kubernetes_slot_facts("copying_files", STAGING)
    conditions = slot_conditions(facts)
    assert conditions[ConditionType.CACHE_READY].message.startswith("loader Job llama-chat-fetch-")
    assert conditions[ConditionType.RUNTIME_READY].message == (
        "Deployment llama-chat does not exist yet"
    )
