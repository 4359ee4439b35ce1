"""modelstack:debugAccess: the stack file's block, the plan's rules per environment, the Role
and RoleBinding on Kubernetes, the guardrail, the diff's words, and the commands status prints."""

from __future__ import annotations

import copy
import shlex
from pathlib import Path
from typing import Any

import pytest

from components import identity
from components.commands.status import text
from components.diff.debug_access_phrases import describe_debug_access
from components.diff.entries import Entry
from components.guardrails.debug_access import check_debug_access
from components.guardrails.enforcement import level_for
from components.guardrails.offline import check_render, kubernetes_type
from components.guardrails.subject import Subject
from components.kubernetes.manifests.debug_access import debug_access_objects
from components.offline.stack_file import read_stack_file
from components.plan import build_plan
from components.planning.helper_images import DEBUG
from components.rendered.objects import object_id
from components.stack_config import parse_stack_spec, read_stack_file_config
from components.status.debug_commands import DebugAccess, commands
from components.status.model import (
    DeploymentStatus,
    Instance,
    InstanceRole,
    InstanceStatus,
    SlotReport,
    StackExpectation,
    StackReport,
    report_as_json,
)
from components.status.report_rollup import deployment_report
from tests.conftest import STACKS, render_document
from tests.support.planned_stacks import plan_stack, stack_problems

ALICE = {"name": "alice@example.com"}
ONCALL = {"kind": "Group", "name": "ml-oncall"}
ROBOT = {"kind": "ServiceAccount", "name": "debugger"}
ROLE = "rbac.authorization.k8s.io/v1"


def chat() -> dict[str, Any]:
    return {
        "name": "chat",
        "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
        "gpu": {"type": "L4", "count": 1},
        "image": "vllm/vllm-openai:v0.10.0",
    }


def tiny() -> dict[str, Any]:
    return {
        "name": "tiny",
        "model": {
            "source": "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf",
            "parameters": "0.5B",
        },
        "engine": "llamacpp",
        "image": "ghcr.io/ggml-org/llama.cpp:server-b4500",
        "resources": {"cpu": "2", "memory": "2Gi"},
    }


def kubernetes(environment: str = "staging", **debug: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "environment": environment,
        "target": "kubernetes",
        "kubernetes": {"namespace": "ml-team", "context": "team-eks"},
        "deployments": [chat() | ({"replicas": 2} if environment == "prod" else {})],
    }
    if debug:
        raw["debugAccess"] = debug
    return raw


def docker(**debug: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "environment": "dev",
        "target": "docker",
        "docker": {"namespace": "lab"},
        "deployments": [tiny()],
    }
    if debug:
        raw["debugAccess"] = debug
    return raw


# -- the stack file ------------------------------------------------------------------------


def test_off_by_default_in_every_committed_stack() -> None:
    for name in ("dev", "staging", "prod"):
        stack = read_stack_file(STACKS / f"Pulumi.{name}.yaml")
        raw, secret_keys = read_stack_file_config(stack)
        assert "debugAccess" not in raw
        plan = build_plan(parse_stack_spec(raw, secret_keys, name), name)
        assert plan.debug_access is None


def test_at_most_five_entries_reported_at_the_key() -> None:
    users = [{"name": f"user{i}@example.com"} for i in range(6)]
    problems = stack_problems(kubernetes(users=users))
    assert len(problems) == 1
    assert problems[0].startswith("debugAccess.users: ")
    assert "6 entries; at most 5" in problems[0]
    assert stack_problems(kubernetes(users=users[:5])) == []


@pytest.mark.parametrize(
    ("user", "path", "fragment"),
    [
        ({"name": "system:authenticated", "kind": "Group"}, "users[0].name", "every signed-in"),
        ({"name": "system:serviceaccounts", "kind": "Group"}, "users[0].name", "Kubernetes"),
        ({"name": "alice smith"}, "users[0].name", "user name"),
        ({"name": "alice\n"}, "users[0].name", "user name"),
        ({"kind": "ServiceAccount", "name": "Debugger"}, "users[0].name", "DNS-1123"),
        ({"name": "alice", "namespace": "tools"}, "users[0].namespace", "ServiceAccount only"),
        ({"name": "alice", "kind": "Robot"}, "users[0].kind", "User, Group, ServiceAccount"),
        ({"name": "alice", "role": "admin"}, "users[0].role", ""),
    ],
)
def test_bad_subjects_are_reported_with_their_key_path(
    user: dict[str, Any], path: str, fragment: str
) -> None:
    problems = stack_problems(kubernetes(users=[user]))
    assert len(problems) == 1, problems
    assert problems[0].startswith(f"debugAccess.{path}: ")
    assert fragment in problems[0]


def test_a_subject_listed_twice_is_refused() -> None:
    problems = stack_problems(kubernetes(users=[ALICE, ONCALL, dict(ALICE)]))
    assert problems == ["debugAccess.users: listed twice: User alice@example.com"]


def test_kubernetes_needs_someone_to_grant_it_to() -> None:
    problems = stack_problems(kubernetes(allowInProd=False))
    assert len(problems) == 1 and problems[0].startswith("debugAccess.users: name who may")


# -- the plan's rules per environment --------------------------------------------------------


def test_prod_refuses_it_unless_the_stack_file_allows_it() -> None:
    problems = stack_problems(kubernetes("prod", users=[ALICE]))
    assert len(problems) == 1
    assert problems[0].startswith("debugAccess.allowInProd: prod refuses debug access")
    plan = plan_stack(kubernetes("prod", users=[ALICE], allowInProd=True))
    assert plan.debug_access is not None and plan.debug_access.allowed_in_prod
    # prod pins the debug image by digest, as every helper image.
    assert plan.debug_access.image == f"{DEBUG.reference}@{DEBUG.digest}"


@pytest.mark.parametrize("environment", ["dev", "staging"])
def test_dev_and_staging_allow_it_without_saying_so(environment: str) -> None:
    plan = plan_stack(kubernetes(environment, users=[ALICE]))
    assert plan.debug_access is not None
    assert not plan.debug_access.allowed_in_prod
    assert plan.debug_access.image == DEBUG.reference


def test_enabled_false_keeps_the_list_and_grants_nothing() -> None:
    assert plan_stack(kubernetes("prod", users=[ALICE], enabled=False)).debug_access is None


def test_subjects_keep_their_kind_and_service_accounts_get_the_stack_namespace() -> None:
    robot_elsewhere = ROBOT | {"namespace": "tools"}
    plan = plan_stack(kubernetes(users=[ALICE, ONCALL, ROBOT, robot_elsewhere]))
    assert plan.debug_access is not None
    assert [(s.kind, s.name, s.namespace) for s in plan.debug_access.subjects] == [
        ("User", "alice@example.com", None),
        ("Group", "ml-oncall", None),
        ("ServiceAccount", "debugger", "ml-team"),
        ("ServiceAccount", "debugger", "tools"),
    ]


def test_docker_refuses_users_and_needs_none() -> None:
    problems = stack_problems(docker(users=[ALICE]))
    assert len(problems) == 1
    assert problems[0].startswith("debugAccess.users: the docker target grants nothing")
    plan = plan_stack(docker(enabled=True))
    assert plan.debug_access is not None and plan.debug_access.subjects == ()


# -- Kubernetes objects ----------------------------------------------------------------------


def test_role_grants_what_kubectl_exec_and_debug_need_and_nothing_else() -> None:
    role, binding = debug_access_objects(plan_stack(kubernetes(users=[ALICE, ONCALL, ROBOT])))
    assert (role["kind"], binding["kind"]) == ("Role", "RoleBinding")
    assert role["metadata"]["name"] == binding["metadata"]["name"] == identity.debug_access()
    assert role["metadata"]["namespace"] == "ml-team"
    grants = {
        (group, resource, verb)
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
        for verb in rule["verbs"]
    }
    assert grants == {
        ("", "pods", "get"),
        ("", "pods", "list"),
        ("", "pods", "watch"),
        *{("", sub, verb) for sub in ("pods/exec", "pods/attach") for verb in ("get", "create")},
        ("", "pods/ephemeralcontainers", "patch"),
        ("", "pods/ephemeralcontainers", "update"),
        ("apps", "deployments", "get"),
    }
    assert binding["roleRef"] == {
        "apiGroup": "rbac.authorization.k8s.io",
        "kind": "Role",
        "name": identity.debug_access(),
    }
    assert binding["subjects"] == [
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "alice@example.com"},
        {"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": "ml-oncall"},
        {"kind": "ServiceAccount", "name": "debugger", "namespace": "ml-team"},
    ]
    assert "annotations" not in role["metadata"]


def test_no_objects_without_debug_access() -> None:
    assert debug_access_objects(plan_stack(kubernetes())) == []


def _document(raw: dict[str, Any]) -> dict[str, Any]:
    return {"config": {f"modelstack:{key}": value for key, value in raw.items()}}


def test_pulumi_registers_both_schema_valid_and_prod_passes_its_guardrail(
    tmp_path: Path, schema_validator
) -> None:
    raw = kubernetes("prod", users=[ALICE, ROBOT], allowInProd=True)
    render = render_document(tmp_path, _document(raw))
    found = {(o["kind"], o["metadata"]["name"]) for o in render.objects}
    assert {("Role", identity.debug_access()), ("RoleBinding", identity.debug_access())} <= found
    debug_objects = [o for o in render.objects if o["kind"] in ("Role", "RoleBinding")]
    assert schema_validator.validate_all(debug_objects) == []
    role = next(o for o in debug_objects if o["kind"] == "Role")
    assert role["metadata"]["annotations"] == {identity.DEBUG_ACCESS_IN_PROD: "allowed"}
    report = check_render(render, "prod")
    assert [f for f in report.findings if f.policy == "debug-access-in-prod"] == []
    # Without the annotation (a Role that got there another way) prod's guardrail objects.
    del role["metadata"]["annotations"]
    flagged = [f for f in check_render(render, "prod").findings if f.policy.startswith("debug")]
    assert [f.where for f in flagged] == [f"Role/{identity.debug_access()}"]


# -- the guardrail ---------------------------------------------------------------------------


def _role(rules: list[dict[str, Any]], annotations: dict[str, str] | None = None) -> Subject:
    body: dict[str, Any] = {
        "apiVersion": ROLE,
        "kind": "Role",
        "metadata": {"name": "r", "annotations": annotations or {}},
        "rules": rules,
    }
    return Subject(kubernetes_type(body), "r", body)


@pytest.mark.parametrize(
    ("rule", "flagged"),
    [
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["create"]}, True),
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["get"]}, True),
        ({"apiGroups": [""], "resources": ["pods/ephemeralcontainers"], "verbs": ["patch"]}, True),
        ({"apiGroups": ["*"], "resources": ["*"], "verbs": ["*"]}, True),
        ({"apiGroups": [""], "resources": ["pods/*"], "verbs": ["create"]}, True),
        ({"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]}, False),
        ({"apiGroups": [""], "resources": ["pods/exec"], "verbs": ["list"]}, False),
        ({"apiGroups": ["apps"], "resources": ["pods/exec"], "verbs": ["create"]}, False),
        ({"apiGroups": [""], "resources": ["pods/log"], "verbs": ["get"]}, False),
    ],
)
def test_the_guardrail_flags_roles_that_open_a_shell(rule: dict[str, Any], flagged: bool) -> None:
    assert bool(check_debug_access(_role([rule]))) is flagged


def test_the_guardrail_accepts_what_allow_in_prod_writes_and_names_the_fix() -> None:
    rule = {"apiGroups": [""], "resources": ["pods/exec", "pods/attach"], "verbs": ["create"]}
    (message,) = check_debug_access(_role([rule]))
    assert message.startswith("grants pods/exec, pods/attach:")
    assert "allowInProd: true" in message
    assert check_debug_access(_role([rule], {identity.DEBUG_ACCESS_IN_PROD: "allowed"})) == []


def test_the_guardrail_is_prods_alone() -> None:
    levels = {env: level_for("debug-access-in-prod", env).value for env in ("dev", "staging")}
    assert levels == {"dev": "disabled", "staging": "disabled"}
    assert level_for("debug-access-in-prod", "prod").value == "mandatory"


# -- the diff --------------------------------------------------------------------------------


def _entries(raw: dict[str, Any]) -> dict[str, Entry]:
    bodies = debug_access_objects(plan_stack(raw))
    return {object_id(b): Entry(object_id(b), "t", b["metadata"]["name"], None, b) for b in bodies}


def test_the_diff_says_who_gains_and_loses_a_shell() -> None:
    none, some = _entries(kubernetes()), _entries(kubernetes(users=[ALICE, ROBOT]))
    assert describe_debug_access(none, some) == [
        "debug access granted to User alice@example.com, ServiceAccount ml-team/debugger "
        "(kubectl exec and debug, every pod of the namespace)"
    ]
    assert describe_debug_access(some, none) == ["debug access removed"]
    other = _entries(kubernetes(users=[ONCALL, ROBOT]))
    assert describe_debug_access(some, other) == [
        "debug access: + Group ml-oncall, - User alice@example.com"
    ]
    assert describe_debug_access(some, copy.deepcopy(some)) == []


# -- what status prints ----------------------------------------------------------------------


def _engine(name: str, ready: bool) -> Instance:
    status = InstanceStatus.DEPLOYED if ready else InstanceStatus.STARTING
    return Instance(name, InstanceRole.ENGINE, status, ready, 0, None, "")


def _report(raw: dict[str, Any], instances: tuple[Instance, ...]) -> StackReport:
    expectation = StackExpectation.from_plan("team", plan_stack(raw))
    deployments = []
    for expected in expectation.deployments:
        slots = tuple(
            SlotReport(
                slot.slot, slot.workload, slot.serving, DeploymentStatus.DEPLOYED,
                1, 1, (), instances,
            )
            for slot in expected.slots
        )  # fmt: skip
        deployments.append(deployment_report(expected, slots))
    return StackReport(
        "team", expectation.target, expectation.namespace, expectation.context, tuple(deployments)
    )


def test_kubernetes_status_prints_exec_and_debug_for_a_ready_pod() -> None:
    pods = (_engine("chat-7d9f-starting", False), _engine("chat-7d9f-abcde", True))
    report = _report(kubernetes(users=[ALICE]), pods)
    (deployment,) = report.deployments
    assert deployment.debug_commands == (
        "kubectl --context team-eks -n ml-team exec -it deploy/chat -c engine -- sh",
        "kubectl --context team-eks -n ml-team debug -it chat-7d9f-abcde "
        f"--image={DEBUG.reference} --target=engine --profile=restricted -- sh",
    )
    lines = text(report)
    at = lines.index("  debug access (a shell next to the engine):")
    assert lines[at + 1 : at + 3] == [f"    {c}" for c in deployment.debug_commands]
    assert report_as_json(report)["deployments"][0]["debugCommands"] == list(
        deployment.debug_commands
    )


def test_a_multi_node_slot_execs_into_its_first_leader() -> None:
    raw = kubernetes(users=[ALICE])
    raw["deployments"] = [
        {
            "name": "big",
            "model": {"source": "hf://org/model", "parameters": "405B"},
            "engine": "vllm",
            "image": "vllm/vllm-openai:v0.10.0",
            "gpu": {"type": "H100", "count": 8, "nodes": 2},
            "cache": {"size": "1Ti"},
        }
    ]
    (deployment,) = _report(raw, (_engine("big-0", True),)).deployments
    # A LeaderWorkerSet is no `deploy/`: its leaders are named <workload>-<group>.
    assert deployment.debug_commands[0] == (
        "kubectl --context team-eks -n ml-team exec -it big-0 -c engine -- sh"
    )


def test_no_pod_yet_leaves_only_the_exec_command() -> None:
    (deployment,) = _report(kubernetes(users=[ALICE]), ()).deployments
    assert deployment.debug_commands == (
        "kubectl --context team-eks -n ml-team exec -it deploy/chat -c engine -- sh",
    )


def test_without_debug_access_status_prints_no_commands() -> None:
    report = _report(kubernetes(), (_engine("chat-1", True),))
    assert report.deployments[0].debug_commands == ()
    assert not any("debug access" in line for line in text(report))
    assert report_as_json(report)["deployments"][0]["debugCommands"] == []


def test_docker_status_prints_docker_exec_for_the_engine_container() -> None:
    plan = plan_stack(docker(enabled=True))
    (container,) = StackExpectation.from_plan("lab", plan).deployments[0].slots[0].instance_names
    (deployment,) = _report(docker(enabled=True), (_engine(container, True),)).deployments
    assert deployment.debug_commands == (
        f"docker exec -it {container} sh",
        f"docker run --rm -it --pid=container:{container} --network=container:{container} "
        f"{DEBUG.reference} sh",
    )


def test_every_value_is_shell_quoted() -> None:
    hostile = "x; rm -rf ~"
    access = DebugAccess("kubernetes", "ns", hostile, "busybox:1.37.0")
    (exec_line, debug_line) = commands(access, "chat", ["pod $(id)"])
    assert shlex.split(exec_line)[1:3] == ["--context", hostile]
    assert "pod $(id)" in shlex.split(debug_line)
    (docker_exec, _) = commands(DebugAccess("docker", "lab", None, "busybox"), "w", ["c`id`"])
    assert shlex.split(docker_exec) == ["docker", "exec", "-it", "c`id`", "sh"]


def test_the_docker_reader_prints_them_for_the_containers_it_found(tmp_path: Path) -> None:
    from tests.test_status_docker import QWEN, _expectation, _stack, derive, scenario

    document = _stack(QWEN)
    document["config"]["modelstack:debugAccess"] = {"enabled": True}
    expectation = _expectation(tmp_path, document)
    report = derive(expectation, *scenario("healthy_pair", expectation))
    (deployment,) = report.deployments
    first = expectation.deployments[0].slots[0].instance_names[0]
    assert deployment.debug_commands[0] == f"docker exec -it {first} sh"
    assert f"    docker exec -it {first} sh" in text(report)


def test_the_kubernetes_reader_prints_them_for_the_pods_it_found() -> None:
    from dataclasses import replace

    from tests.test_status_derive import STAGING, derive, load

    access = DebugAccess("kubernetes", "ml-staging", "staging-gke", DEBUG.reference)
    expectation = replace(
        STAGING, deployments=(replace(STAGING.deployments[0], debug_access=access),)
    )
    report = derive(load("oom_killed"), expectation)
    (deployment,) = report.deployments
    (slot,) = deployment.slots
    (pod,) = [i.name for i in slot.instances if i.role is InstanceRole.ENGINE][:1]
    assert deployment.debug_commands == (
        "kubectl --context staging-gke -n ml-staging exec -it deploy/llama-chat -c engine -- sh",
        f"kubectl --context staging-gke -n ml-staging debug -it {pod} "
        f"--image={DEBUG.reference} --target=engine --profile=restricted -- sh",
    )
