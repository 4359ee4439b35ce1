"""Each planning step on its own, over a frozen context, and each planner rule beside its
guardrail: where both judge the same thing, they agree over a table of inputs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from components.catalog.engines import ENGINES
from components.guardrails.enforcement import Level, level_for
from components.guardrails.images import PINNED_IMAGE_TAGS, check_pinned_images
from components.guardrails.replicas import AT_LEAST_TWO_REPLICAS, check_replicas
from components.guardrails.subject import Subject
from components.planning.cache_steps import hf_token, plan_cache
from components.planning.engine_steps import api_key_delivery, choose_deployment_engine
from components.planning.hardware_steps import pool_gpu
from components.planning.image_steps import check_pinned_images as plan_pinned_images
from components.planning.model_location import locate
from components.planning.model_steps import as_served_by, plan_model
from components.planning.plan_model import ModelPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.serving_steps import endpoint, plan_route
from components.planning.slot_steps import deployment_pools, pool_replicas, traffic_split
from components.planning.target_support import check_target_support
from components.spec import SlotSpec, StackSpec

GGUF = "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"


def _context(deployment: dict[str, Any], **stack: Any) -> PlanningContext:
    spec = StackSpec.model_validate(
        {
            "environment": "dev",
            "target": "kubernetes",
            **stack,
            "deployments": [{"name": "chat", "model": {"source": GGUF}, **deployment}],
        }
    )
    return PlanningContext.of(spec, spec.deployments[0], 0)


def _paths(issues: IssueCollector) -> list[str]:
    return [issue.path for issue in issues.issues]


# -- the context and the collector --------------------------------------------------------


def test_the_collector_reports_under_the_deployment_and_turns_helper_problems_into_reports() -> (
    None
):
    issues = IssueCollector(3)
    issues.report("gpu", "count", message="odd")
    assert issues.accept({"planned": True}) == {"planned": True}
    assert issues.accept([(("min",), "too low")], "autoscaling") is None
    issues.report_stack_key("engineApiKeys", "chat", message="no key here")
    assert _paths(issues) == [
        "deployments[3].gpu.count",
        "deployments[3].autoscaling.min",
        "engineApiKeys.chat",
    ]
    assert issues.found


def test_the_context_is_frozen_and_knows_the_targets_namespace() -> None:
    ctx = _context({}, target="docker", docker={"namespace": "ms"})
    assert ctx.namespace == "ms"
    with pytest.raises(AttributeError):
        ctx.index = 1  # type: ignore[misc]


def test_a_model_key_is_where_the_slot_overrides_it() -> None:
    ctx = _context(
        {
            "model": {"source": "hf://org/model"},
            "rollout": {
                "strategy": "blue-green",
                "active": "blue",
                "slots": {"green": {"model": {"revision": "v2"}}},
            },
        }
    )
    assert ctx.model_key_path("green", "revision") == (
        "rollout",
        "slots",
        "green",
        "model",
        "revision",
    )
    assert ctx.model_key_path("blue", "revision") == ("model", "revision")


# -- steps ------------------------------------------------------------------------------


def test_docker_refuses_what_only_kubernetes_can_do_and_kubernetes_refuses_none_of_it() -> None:
    deployment = {
        "placement": {"nodeSelector": {"pool": "a"}},
        "env": {"TOKEN": {"secretKeyRef": {"name": "s", "key": "k"}}},
    }
    on_docker = IssueCollector(0)
    check_target_support(_context(deployment, target="docker"), on_docker)
    assert _paths(on_docker) == ["deployments[0].env.TOKEN", "deployments[0].placement"]
    on_kubernetes = IssueCollector(0)
    check_target_support(_context(deployment), on_kubernetes)
    assert not on_kubernetes.found


def test_pools_and_a_deployment_gpu_are_one_too_many() -> None:
    issues = IssueCollector(0)
    ctx = _context(
        {
            "model": {"source": "hf://org/model"},
            "gpu": {"type": "L4", "count": 1},
            "pools": [{"name": "big", "gpu": {"type": "L40S", "count": 1}}],
        }
    )
    pools = deployment_pools(ctx, issues)
    assert [pool.name for pool in pools] == ["big"]
    assert _paths(issues) == ["deployments[0].gpu"]


def test_an_unknown_gpu_is_reported_at_its_pool_with_a_suggestion() -> None:
    issues = IssueCollector(0)
    ctx = _context({"pools": [{"name": "big", "gpu": {"type": "A100", "count": 1}}]})
    assert pool_gpu(issues, deployment_pools(ctx, issues)[0]) is None
    assert _paths(issues) == ["deployments[0].pools[0].gpu.type"]
    assert "'A100-40GB' or 'A100-80GB'" in issues.issues[0].message


def test_canary_traffic_sends_the_weight_to_the_candidate() -> None:
    ctx = _context(
        {"rollout": {"strategy": "canary", "active": "green", "canaryWeight": 10}},
        target="docker",
    )
    assert traffic_split(ctx) == {"green": 90, "blue": 10}
    assert traffic_split(_context({})) == {"main": 100}


def test_a_revision_outside_hugging_face_is_refused_where_it_was_written() -> None:
    issues = IssueCollector(0)
    ctx = _context({"model": {"source": "s3://bucket/model", "revision": "v1"}})
    assert plan_model(ctx, issues, "main", SlotSpec()) is not None
    assert _paths(issues) == ["deployments[0].model.revision"]


def test_ollama_pulls_a_hugging_face_gguf_by_its_quantization() -> None:
    issues = IssueCollector(0)
    ctx = _context({"engine": "ollama"})
    model = plan_model(ctx, issues, "main", SlotSpec())
    assert model is not None
    served = as_served_by(ctx, issues, ENGINES["ollama"], "main", model)
    assert served is not None and served.location.scheme == "ollama"
    assert served.location.reference.endswith(":Q4_K_M")
    assert not issues.found


def test_safetensors_on_cpu_has_no_engine() -> None:
    issues = IssueCollector(0)
    ctx = _context({"model": {"source": "hf://org/model"}})
    pools = deployment_pools(ctx, issues)
    engine = choose_deployment_engine(ctx, issues, "safetensors", pools, {None: None})
    assert engine is None
    assert _paths(issues) == ["deployments[0].engine"]


def test_an_api_key_on_docker_is_a_stack_level_error() -> None:
    issues = IssueCollector(0)
    ctx = _context({"engine": "llamacpp"}, target="docker", engineApiKeys=["chat"])
    assert api_key_delivery(ctx, issues, ENGINES["llamacpp"]) is None
    assert _paths(issues) == ["engineApiKeys.chat"]


def test_a_cache_too_small_for_its_model_versions_is_reported() -> None:
    issues = IssueCollector(0)
    ctx = _context(
        {"model": {"source": "hf://org/model", "parameters": "70B"}, "cache": {"size": "10Gi"}}
    )
    model = ModelPlan(locate("hf://org/model", None), "safetensors", 70.0, "chat", "auto")
    cache = plan_cache(ctx, issues, {"main": model}, [])
    assert cache is not None and cache.claim_name == "chat-cache"
    assert _paths(issues) == ["deployments[0].cache.size"]


def test_the_hf_token_is_created_or_referenced() -> None:
    hf = [locate("hf://org/model", None)]
    created = hf_token(_context({}, hfToken=True), hf)
    assert (created.secret, created.created_secret) == ("chat-hf-token", "chat-hf-token")
    referenced = hf_token(
        _context({}, hfToken={"secretKeyRef": {"name": "hf", "key": "token"}}), hf
    )
    assert (referenced.secret, referenced.key, referenced.created_secret) == ("hf", "token", None)
    assert hf_token(_context({}, hfToken=True), [locate("s3://b/m", None)]).secret is None


def test_routes_and_endpoints_per_target() -> None:
    issues = IssueCollector(0)
    kubernetes = _context({})
    assert plan_route(kubernetes, issues) is None
    assert endpoint(kubernetes, None) == "http://chat.modelstack.svc.cluster.local/v1"
    docker = _context({}, target="docker")
    route = plan_route(docker, issues)
    assert route is not None and route.path == "/chat"
    assert endpoint(docker, route).endswith(":8080/chat/v1")
    assert not issues.found


# -- planner rules beside their guardrails -------------------------------------------------

IMAGES = [
    "vllm/vllm-openai",
    "vllm/vllm-openai:latest",
    "vllm/vllm-openai:nightly",
    "vllm/vllm-openai:main",
    "vllm/vllm-openai:",
    "registry:5000/vllm",
    "registry:5000/vllm:v0.11.0",
    "vllm/vllm-openai:v0.11.0",
    "vllm/vllm-openai@sha256:" + "a" * 64,
    "vllm/vllm-openai:latest@sha256:" + "a" * 64,
]


def _deployment_subject(image: str | None = None, replicas: int | None = None) -> Subject:
    spec: dict[str, Any] = {
        "template": {"spec": {"containers": [{"name": "engine", "image": image}]}}
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return Subject(
        type="kubernetes:apps/v1:Deployment",
        name="chat",
        props={
            "metadata": {"name": "chat", "labels": {"modelstack.io/deployment": "chat"}},
            "spec": spec,
        },
    )


def _slot_with_image(image: str) -> Any:
    return SimpleNamespace(slot="main", engine=SimpleNamespace(image=image))


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
@pytest.mark.parametrize("image", IMAGES)
def test_the_planner_refuses_an_image_exactly_when_the_mandatory_guardrail_would(
    environment: str, image: str
) -> None:
    # The step judges the planned image (the spec refuses some of these earlier).
    ctx = _context({}, environment=environment)
    issues = IssueCollector(0)
    plan_pinned_images(ctx, issues, [_slot_with_image(image)])
    flagged = bool(check_pinned_images(_deployment_subject(image=image)))
    mandatory = level_for(PINNED_IMAGE_TAGS.name, environment) is Level.MANDATORY
    assert issues.found == (flagged and mandatory)
    if issues.found:
        assert _paths(issues) == ["deployments[0].image"]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
@pytest.mark.parametrize("replicas", [1, 2, 3])
def test_the_planner_refuses_a_replica_count_exactly_when_the_mandatory_guardrail_would(
    environment: str, replicas: int
) -> None:
    ctx = _context({"replicas": replicas}, environment=environment)
    issues = IssueCollector(0)
    pool_replicas(ctx, issues, deployment_pools(ctx, issues)[0])
    flagged = bool(check_replicas([_deployment_subject(replicas=replicas)]))
    mandatory = level_for(AT_LEAST_TWO_REPLICAS.name, environment) is Level.MANDATORY
    assert issues.found == (flagged and mandatory)


def test_zero_replicas_in_prod_is_where_the_planner_is_stricter_than_the_guardrail() -> None:
    # The render cannot tell `replicas: 0` from an idle slot, so the guardrail exempts zero;
    # the stack file can, and prod runs at least two while serving.
    ctx = _context({"replicas": 0}, environment="prod")
    issues = IssueCollector(0)
    pool_replicas(ctx, issues, deployment_pools(ctx, issues)[0])
    assert issues.found
    assert not check_replicas([_deployment_subject(replicas=0)])
