"""gpu.nodes > 1: a model larger than one node runs as groups (a LeaderWorkerSet per slot)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

from components.catalog.multi_node import LEADER_INDEX, WORKER_INDEX_LABEL
from components.diff.compare import compare
from components.graph.model import EdgeKind, State
from components.graph.topology import build_topology
from components.guardrails.images import check_pinned_images
from components.guardrails.offline import check_render
from components.guardrails.probes import check_engine_probes
from components.guardrails.subject import Subject
from components.kubernetes.deployment_objects import deployment_objects
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from components.plan import DeploymentPlan
from components.status.kubernetes_facts import ClusterSnapshot, derive_stack
from components.status.model import (
    ConditionType,
    DeploymentStatus,
    ExpectedDeployment,
    ExpectedSlot,
    StackExpectation,
)
from tests.conftest import deployments_of, find_object, render_document, stack_document
from tests.support.planned_stacks import plan_stack, stack_problems

LWS = "LeaderWorkerSet"
PROMETHEUS = "http://prometheus.monitoring:9090"


def _deployment(**changes: Any) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "name": "big",
        "model": {"source": "hf://org/model", "parameters": "405B"},
        "engine": "vllm",
        "gpu": {"type": "H100", "count": 8, "nodes": 2},
        "replicas": 2,
        "cache": {"size": "1Ti"},
        **changes,
    }
    return {key: value for key, value in deployment.items() if value is not None}


def _stack(environment: str = "dev", target: str = "kubernetes", **changes: Any) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "environment": environment,
        "target": target,
        "deployments": [_deployment(**changes)],
    }
    if target == "kubernetes":
        raw["kubernetes"] = {
            "namespace": "ml",
            "prometheus": PROMETHEUS,
            "gateway": {"name": "gateway", "namespace": "gateways"},
        }
    return raw


def _plan(**changes: Any) -> DeploymentPlan:
    return plan_stack(_stack(**changes)).deployments[0]


def _objects(plan: DeploymentPlan, kind: str) -> list[dict[str, Any]]:
    return [body for body in deployment_objects(plan) if body["kind"] == kind]


def _engine(template: dict[str, Any]) -> dict[str, Any]:
    return next(c for c in template["spec"]["containers"] if c["name"] == "engine")


def test_one_node_stays_a_deployment_and_nodes_defaults_to_one() -> None:
    plan = _plan(
        gpu={"type": "H100", "count": 8}, model={"source": "hf://org/m", "parameters": "70B"}
    )
    assert [slot.group for slot in plan.slots] == [None]
    assert len(_objects(plan, "Deployment")) == 1
    assert _objects(plan, LWS) == []


def test_a_vllm_group_is_a_leader_worker_set_with_tensor_and_pipeline_parallel() -> None:
    plan = _plan()
    (lws,) = _objects(plan, LWS)
    assert _objects(plan, "Deployment") == []
    assert lws["apiVersion"] == "leaderworkerset.x-k8s.io/v1"
    assert lws["metadata"]["name"] == "big"
    spec = lws["spec"]
    assert spec["replicas"] == 2  # groups, not pods
    template = spec["leaderWorkerTemplate"]
    assert template["size"] == 2
    assert template["restartPolicy"] == "RecreateGroupOnPodRestart"
    leader = _engine(template["leaderTemplate"])
    worker = _engine(template["workerTemplate"])
    assert leader["args"][-8:] == [
        "--pipeline-parallel-size", "2",
        "--nnodes", "2",
        "--node-rank", "0",
        "--master-addr", "$(LWS_LEADER_ADDRESS)",
    ]  # fmt: skip
    assert worker["args"][-9:] == [
        "--pipeline-parallel-size", "2",
        "--nnodes", "2",
        "--node-rank", "$(LWS_WORKER_INDEX)",
        "--master-addr", "$(LWS_LEADER_ADDRESS)",
        "--headless",
    ]  # fmt: skip
    # Tensor parallel within a node: the GPUs of one pod.
    assert leader["args"][leader["args"].index("--tensor-parallel-size") + 1] == "8"
    assert leader["resources"]["limits"]["nvidia.com/gpu"] == "8"
    # Both run the same engine on the same model; only the leader serves and is probed.
    assert leader["args"][:-8] == worker["args"][:-9]
    assert {"startupProbe", "readinessProbe", "livenessProbe", "ports"} <= set(leader)
    assert not {"startupProbe", "readinessProbe", "livenessProbe", "ports"} & set(worker)
    assert plan.serving.gpu_summary == "8 x H100 x 2 nodes"


def test_sglang_counts_tensor_parallel_over_the_whole_group() -> None:
    (lws,) = _objects(_plan(engine="sglang"), LWS)
    template = lws["spec"]["leaderWorkerTemplate"]
    leader = _engine(template["leaderTemplate"])["args"]
    worker = _engine(template["workerTemplate"])["args"]
    assert leader[leader.index("--tp-size") + 1] == "16"
    assert leader[-6:] == [
        "--nnodes", "2", "--node-rank", "0", "--dist-init-addr", "$(LWS_LEADER_ADDRESS):20000"
    ]  # fmt: skip
    assert worker[-6:] == [
        "--nnodes", "2",
        "--node-rank", "$(LWS_WORKER_INDEX)",
        "--dist-init-addr", "$(LWS_LEADER_ADDRESS):20000",
    ]  # fmt: skip


@pytest.mark.parametrize("engine", ["tgi", "llamacpp", "ollama"])
def test_engines_without_multi_node_serving_are_refused_naming_those_with_it(engine: str) -> None:
    model = {"source": "hf://org/model", "parameters": "405B"}
    if engine != "tgi":
        model = {"source": "hf://org/repo/model-Q4_K_M.gguf", "parameters": "405B"}
    problems = stack_problems(_stack(engine=engine, model=model))
    assert any(
        p.startswith("deployments[0].gpu.nodes:")
        and f"{engine} serves a model on one node only" in p
        and "vllm and sglang" in p
        for p in problems
    ), problems


def test_docker_refuses_nodes_above_one_through_its_profile() -> None:
    problems = stack_problems(_stack(target="docker"))
    assert problems == [
        "deployments[0].gpu.nodes: gpu.nodes spreads one model over several machines, and the "
        "docker target runs on one host: use gpu.nodes: 1 with at most the host's GPUs, or the "
        "Kubernetes target"
    ]
    one = _stack(target="docker", gpu={"type": "L4", "count": 1}, model={"source": "hf://o/m"})
    assert stack_problems(one) == []


def test_the_spec_refuses_a_group_without_gpus_and_bounds_nodes() -> None:
    assert any(
        "deployments[0].gpu.nodes" in p and "needs GPUs" in p
        for p in stack_problems(_stack(gpu={"count": 0, "nodes": 2}))
    )
    assert any(
        "deployments[0].gpu.nodes" in p
        for p in stack_problems(_stack(gpu={"type": "H100", "count": 8, "nodes": 0}))
    )


def test_services_select_only_the_leaders_of_every_slot() -> None:
    plan = _plan(rollout={"strategy": "blue-green", "active": "green"})
    assert sorted(body["metadata"]["name"] for body in _objects(plan, LWS)) == [
        "big-blue",
        "big-green",
    ]
    selectors = {s["metadata"]["name"]: s["spec"]["selector"] for s in _objects(plan, "Service")}
    assert selectors["big"]["modelstack.io/slot"] == "green"
    for selector in selectors.values():
        assert selector[WORKER_INDEX_LABEL] == LEADER_INDEX
    # A one-node deployment's Services carry no LWS label: its pods have none.
    single = _plan(
        gpu={"type": "H100", "count": 8}, model={"source": "hf://o/m", "parameters": "8B"}
    )
    for service in _objects(single, "Service"):
        assert WORKER_INDEX_LABEL not in service["spec"]["selector"]


def test_only_the_plans_own_references_expand_and_stack_values_stay_escaped() -> None:
    plan = _plan(
        engineArgs=["--seed=$(LWS_WORKER_INDEX)"],
        env={"NOTE": "$(LWS_LEADER_ADDRESS)"},
    )
    (lws,) = _objects(plan, LWS)
    for role in ("leaderTemplate", "workerTemplate"):
        engine = _engine(lws["spec"]["leaderWorkerTemplate"][role])
        assert "--seed=$$(LWS_WORKER_INDEX)" in engine["args"]
        assert {"name": "NOTE", "value": "$$(LWS_LEADER_ADDRESS)"} in engine["env"]
        expanded = [arg for arg in engine["args"] if "$(" in arg and "$$(" not in arg]
        assert expanded and all(
            arg.startswith(("$(LWS_LEADER_ADDRESS)", "$(LWS_WORKER_INDEX)")) for arg in expanded
        )


def test_memory_fits_over_every_gpu_of_the_group() -> None:
    one_node = stack_problems(_stack(gpu={"type": "H100", "count": 8}))
    assert any("8 x H100 has 573 GiB usable" in p and "gpu.nodes: 2" in p for p in one_node), (
        one_node
    )
    assert stack_problems(_stack()) == []
    too_big = stack_problems(
        _stack(model={"source": "hf://org/model", "parameters": "900B"}, cache={"size": "2Ti"})
    )
    assert any(
        p.startswith("deployments[0].model.parameters:")
        and "2 nodes x 8 x H100" in p
        and "would fit: gpu.nodes: 4" in p
        for p in too_big
    ), too_big


def test_gpus_per_pod_stay_within_one_node() -> None:
    problems = stack_problems(_stack(gpu={"type": "H100", "count": 16, "nodes": 2}))
    assert any(
        p.startswith("deployments[0].gpu.count:") and "at most 8 GPUs" in p and "gpu.nodes" in p
        for p in problems
    ), problems


def test_attention_heads_divide_by_what_the_engine_shards_over() -> None:
    model = {"source": "hf://org/model", "parameters": "405B", "attentionHeads": 24}
    # vLLM shards heads over the 8 GPUs of a node (pipeline stages across nodes) ...
    assert stack_problems(_stack(model=model)) == []
    # ... SGLang over all 16 of the group.
    problems = stack_problems(_stack(engine="sglang", model=model))
    assert any("24 heads do not divide by 16 GPUs" in p for p in problems), problems


@pytest.mark.parametrize("mode", ["ReadWriteOnce", "ReadWriteOncePod"])
def test_a_cache_one_node_mounts_is_refused_for_a_group(mode: str) -> None:
    problems = stack_problems(_stack(cache={"size": "1Ti", "accessMode": mode}))
    assert any(
        p.startswith("deployments[0].cache.accessMode:") and "ReadWriteMany" in p for p in problems
    ), problems
    single = _stack(
        gpu={"type": "H100", "count": 8},
        model={"source": "hf://o/m", "parameters": "8B"},
        cache={"accessMode": mode},
    )
    assert stack_problems(single) == []


def test_pools_run_on_the_same_number_of_nodes() -> None:
    pools = [
        {"name": "a", "gpu": {"type": "H100", "count": 8, "nodes": 2}},
        {"name": "b", "gpu": {"type": "H200", "count": 8}},
    ]
    problems = stack_problems(_stack(gpu=None, pools=pools))
    assert {p.split(":")[0] for p in problems} >= {
        "deployments[0].pools[0].gpu.nodes",
        "deployments[0].pools[1].gpu.nodes",
    }, problems


def test_engine_args_may_not_set_the_groups_flags() -> None:
    problems = stack_problems(_stack(engineArgs=["--nnodes=4"]))
    assert any(p.startswith("deployments[0].engineArgs[0]:") for p in problems), problems
    # On one node the same flag is the user's to set.
    single = _stack(
        gpu={"type": "H100", "count": 8},
        model={"source": "hf://o/m", "parameters": "8B"},
        engineArgs=["--nnodes=1"],
    )
    assert stack_problems(single) == []


def test_rollouts_roll_whole_groups_within_the_plans_surge() -> None:
    plan = _plan(rollout={"strategy": "rolling", "maxSurge": 0, "maxUnavailable": 1})
    (lws,) = _objects(plan, LWS)
    assert lws["spec"]["rolloutStrategy"] == {
        "type": "RollingUpdate",
        "rollingUpdateConfiguration": {"maxSurge": 0, "maxUnavailable": 1},
    }


@pytest.mark.parametrize(
    "autoscaling, kind",
    [
        ({"min": 1, "max": 3, "metric": "concurrency", "target": 8}, "ScaledObject"),
        ({"min": 1, "max": 3, "metric": "cpu", "target": 70}, "HorizontalPodAutoscaler"),
    ],
)
def test_autoscalers_scale_groups_through_the_leader_worker_set(
    autoscaling: dict[str, Any], kind: str
) -> None:
    plan = _plan(autoscaling=autoscaling, replicas=None)
    (lws,) = _objects(plan, LWS)
    assert "replicas" not in lws["spec"]
    (scaler,) = _objects(plan, kind)
    assert scaler["spec"]["scaleTargetRef"] == {
        "apiVersion": "leaderworkerset.x-k8s.io/v1",
        "kind": LWS,
        "name": "big",
    }


def test_network_policies_let_a_groups_pods_reach_each_other() -> None:
    plan = _plan(environment="prod")
    assert plan.on_kubernetes.network_peers is not None
    policy = next(
        p for p in _objects(plan, "NetworkPolicy") if p["metadata"]["name"] == "big-engines"
    )
    group = {"podSelector": {"matchLabels": {
        "modelstack.io/deployment": "big", "app.kubernetes.io/component": "inference-engine"
    }}}  # fmt: skip
    assert {"from": [group]} in policy["spec"]["ingress"]
    assert {"to": [group]} in policy["spec"]["egress"]


@pytest.mark.parametrize("environment", ["dev", "prod"])
@pytest.mark.parametrize(
    "rollout",
    [
        {"strategy": "rolling"},
        {"strategy": "blue-green", "active": "blue"},
        {"strategy": "canary", "active": "blue", "canaryWeight": 10},
    ],
    ids=["rolling", "blue-green", "canary"],
)
def test_every_object_is_schema_valid(
    environment: str, rollout: dict[str, Any], schema_validator: SchemaValidator
) -> None:
    plan = _plan(environment=environment, rollout=rollout, route={"path": "/big"})
    bodies = deployment_objects(plan)
    assert any(body["kind"] == LWS for body in bodies)
    assert schema_validator.validate_all(bodies) == []
    assert ("leaderworkerset.x-k8s.io/v1", LWS) not in schema_validator.skipped


def test_a_broken_group_is_reported_against_the_crd_schema(
    schema_validator: SchemaValidator,
) -> None:
    (lws,) = _objects(_plan(), LWS)
    lws["spec"]["leaderWorkerTemplate"]["restartPolicy"] = "Sometimes"
    violations = schema_validator.validate(lws)
    assert [v.field for v in violations] == ["spec.leaderWorkerTemplate.restartPolicy"]


def _prod_group_document(nodes: int = 2) -> dict[str, Any]:
    """The prod stack, its llama-70b a 405B model on groups of H100 nodes (KEDA-scaled)."""
    document = stack_document("prod")
    big = next(d for d in deployments_of(document) if d["name"] == "llama-70b")
    big["model"] = {"source": "hf://meta-llama/Llama-3.1-405B-Instruct", "parameters": "405B"}
    big["gpu"] = {"type": "H100", "count": 8, "nodes": nodes}
    big["cache"] = {"size": "1Ti", "storageClass": "efs-sc"}
    return document


@pytest.fixture(scope="module")
def group_render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    return render_document(tmp_path_factory.mktemp("group"), _prod_group_document())


def test_the_render_holds_a_schema_valid_group_its_scaler_targets(
    group_render: Render, schema_validator: SchemaValidator
) -> None:
    assert schema_validator.validate_all(group_render.objects) == []
    lws = find_object(group_render, LWS, "llama-70b")
    assert lws["spec"]["leaderWorkerTemplate"]["size"] == 2
    scaler = find_object(group_render, "ScaledObject", "llama-70b")
    assert scaler["spec"]["scaleTargetRef"]["kind"] == LWS
    # The other deployments are untouched: still Deployments.
    assert {o["metadata"]["name"] for o in group_render.objects if o["kind"] == "Deployment"} >= {
        "llama-chat-blue",
        "summarizer-cpu",
    }


def test_prod_guardrails_pass_on_a_group_and_see_its_leaders_probes(
    group_render: Render,
) -> None:
    report = check_render(group_render, "prod")
    assert report.mandatory == [], report.lines()
    lws = copy.deepcopy(find_object(group_render, LWS, "llama-70b"))
    leader = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["spec"]["containers"][0]
    del leader["readinessProbe"]
    subject = Subject("kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet", "x", lws)
    assert check_engine_probes(subject) and "readinessProbe" in check_engine_probes(subject)[0]
    # Workers carry no probes on purpose: the guardrail does not ask them to.
    assert (
        check_engine_probes(
            Subject(
                "kubernetes:leaderworkerset.x-k8s.io/v1:LeaderWorkerSet", "x", _lws_of(group_render)
            )
        )
        == []
    )
    worker = lws["spec"]["leaderWorkerTemplate"]["workerTemplate"]["spec"]["containers"][0]
    worker["image"] = "vllm/vllm-openai:latest"
    assert any("latest" in m for m in check_pinned_images(subject))


def _lws_of(render: Render) -> dict[str, Any]:
    return find_object(render, LWS, "llama-70b")


def test_the_picture_draws_the_group_served_by_its_service_and_scaled(
    group_render: Render,
) -> None:
    topology = build_topology(group_render, "prod")
    names = {node_id: node.name for node_id, node in topology.nodes.items()}
    node = next(n for n in topology.nodes.values() if n.kind == LWS)
    assert node.state is State.SERVING
    assert "groups of 2 nodes" in node.lines
    edges = {(names[e.source], names[e.target], e.kind) for e in topology.edges}
    assert ("llama-70b", "llama-70b", EdgeKind.SCALES) in edges
    assert ("llama-70b", "llama-70b-cache", EdgeKind.MOUNTS) in edges
    assert any(kind is EdgeKind.TRAFFIC and target == "llama-70b" for _, target, kind in edges), (
        edges
    )


def test_diff_words_for_a_group(group_render: Render, tmp_path: Path) -> None:
    three = render_document(tmp_path, _prod_group_document(nodes=3))
    summary = compare(group_render, three).summary
    assert "llama-70b: nodes per group 2 -> 3" in summary
    single = render_document(tmp_path, stack_document("prod"))
    summary = compare(single, group_render).summary
    assert "llama-70b: new multi-node group set llama-70b" in summary


def _running_pod(name: str, labels: dict[str, str], index: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {
            "name": name,
            "namespace": "ml",
            "labels": {**labels, WORKER_INDEX_LABEL: index},
        },
        "status": {
            "phase": "Running",
            "conditions": [{"type": "Ready", "status": "True"}],
            "containerStatuses": [
                {
                    "name": "engine",
                    "ready": True,
                    "restartCount": 0,
                    "state": {"running": {"startedAt": "2026-12-03T10:00:00Z"}},
                }
            ],
        },
    }


def _status_of(ready_groups: int) -> Any:
    plan = _plan(replicas=1)
    (lws,) = _objects(plan, LWS)
    lws["metadata"]["generation"] = 1
    lws["status"] = {
        "replicas": 1,
        "readyReplicas": ready_groups,
        "updatedReplicas": 1,
        "observedGeneration": 1,
        "hpaPodSelector": "leaderworkerset.sigs.k8s.io/name=big,"
        "leaderworkerset.sigs.k8s.io/worker-index=0",
    }
    labels = lws["spec"]["leaderWorkerTemplate"]["leaderTemplate"]["metadata"]["labels"]
    snapshot = ClusterSnapshot(
        leader_worker_sets=[lws],
        pods=[_running_pod("big-0", labels, "0"), _running_pod("big-0-1", labels, "1")],
        services=_objects(plan, "Service"),
    )
    expectation = StackExpectation(
        stack="test",
        target="kubernetes",
        namespace="ml",
        context=None,
        deployments=(
            ExpectedDeployment(
                name="big",
                endpoint="http://big.ml.svc.cluster.local/v1",
                serving_slot="main",
                stable_service="big",
                hardware=plan.gpu_summary,
                slots=(ExpectedSlot("main", "big", 1, True, None),),
            ),
        ),
    )
    return derive_stack(expectation, snapshot).deployments[0].slots[0]


def test_status_reads_a_groups_readiness_from_its_leader_worker_set() -> None:
    ready = _status_of(ready_groups=1)
    assert (ready.desired_replicas, ready.ready_replicas) == (1, 1)
    assert ready.status is DeploymentStatus.DEPLOYED, ready
    routing = next(c for c in ready.conditions if c.type is ConditionType.ROUTING_READY)
    assert routing.status, routing  # the Service selects the group's leader
    waiting = _status_of(ready_groups=0)
    assert waiting.ready_replicas == 0 and waiting.status is not DeploymentStatus.DEPLOYED
