"""Each planning step on its own, over a frozen context, and each planner rule beside its
guardrail: where both judge the same thing, they agree over a table of inputs."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from components.catalog.engines import ENGINES
from components.catalog.gpus import GPUS
from components.guardrails.enforcement import Level, level_for
from components.guardrails.env_secrets import NO_LITERAL_SECRET_ENV, check_env_secrets
from components.guardrails.images import PINNED_IMAGE_TAGS, check_pinned_images
from components.guardrails.replicas import AT_LEAST_TWO_REPLICAS, check_replicas
from components.guardrails.subject import Subject
from components.planning.cache_steps import HfToken, Loaders, hf_token, plan_cache
from components.planning.engine_steps import (
    ApiKeyDelivery,
    EngineHardware,
    api_key_delivery,
    check_engine_args,
    check_precision,
    choose_deployment_engine,
    plan_engine,
)
from components.planning.hardware_steps import (
    check_gpu_count,
    plan_placement,
    plan_resources,
    pool_gpu,
)
from components.planning.image_steps import check_pinned_images as plan_pinned_images
from components.planning.model_location import locate
from components.planning.model_steps import adapter_locations, as_served_by, plan_model
from components.planning.plan_model import ModelPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.serving_steps import (
    endpoint,
    network_peers,
    plan_load_balancer,
    plan_monitoring,
    plan_route,
)
from components.planning.slot_steps import (
    deployment_pools,
    pool_replicas,
    slot_specs,
    traffic_split,
    with_autoscalers,
)
from components.planning.target_part_steps import plan_docker_part, plan_kubernetes_part
from components.planning.target_support import check_target_support
from components.planning.timeouts import WAIT_MARGIN_SECONDS, in_minutes, plan_timeouts
from components.spec import SlotSpec, StackSpec
from components.stack_config import SpecError, parse_stack_spec

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


# -- more steps, each on its own ----------------------------------------------------------

SAFETENSORS = {"model": {"source": "hf://org/model", "parameters": "8B"}}


def _gpu_pool(ctx: PlanningContext, issues: IssueCollector) -> tuple[Any, Any]:
    pool = deployment_pools(ctx, issues)[0]
    return pool, pool_gpu(issues, pool)


def test_blue_green_plans_both_slots_and_rolling_one() -> None:
    assert list(slot_specs(_context({}))) == ["main"]
    blue_green = _context({"rollout": {"strategy": "blue-green", "active": "blue"}})
    assert list(slot_specs(blue_green)) == ["blue", "green"]


def test_placement_is_kubernetes_only_and_follows_the_clouds_labels() -> None:
    deployment = {**SAFETENSORS, "gpu": {"type": "L4", "count": 1}}
    issues = IssueCollector(0)
    ctx = _context(deployment, kubernetes={"cloud": "gke"})
    pool, gpu = _gpu_pool(ctx, issues)
    placement = plan_placement(ctx, issues, gpu, pool)
    assert placement is not None
    assert placement.node_selector == {"cloud.google.com/gke-accelerator": "nvidia-l4"}
    docker = _context(deployment, target="docker")
    assert plan_placement(docker, issues, gpu, pool) is None
    assert not issues.found


def test_an_uneven_gpu_count_is_refused_for_a_sharding_engine_only() -> None:
    deployment = {**SAFETENSORS, "gpu": {"type": "L4", "count": 3}}
    issues = IssueCollector(0)
    ctx = _context(deployment)
    pool, _ = _gpu_pool(ctx, issues)
    check_gpu_count(ctx, issues, ENGINES["llamacpp"], pool, 3)
    assert not issues.found
    check_gpu_count(ctx, issues, ENGINES["vllm"], pool, 3)
    assert _paths(issues) == ["deployments[0].gpu.count"]


def test_a_model_too_big_for_its_gpu_is_reported_at_parameters() -> None:
    deployment = {
        "model": {"source": "hf://org/model", "parameters": "70B"},
        "gpu": {"type": "L4", "count": 1},
    }
    issues = IssueCollector(0)
    ctx = _context(deployment)
    pool, gpu = _gpu_pool(ctx, issues)
    model = plan_model(ctx, issues, "main", SlotSpec())
    assert model is not None
    plan_resources(ctx, issues, gpu, 1, pool, "main", model)
    assert _paths(issues) == ["deployments[0].model.parameters"]


def test_adapters_need_an_engine_that_serves_them() -> None:
    deployment = {**SAFETENSORS, "adapters": [{"name": "sql", "source": "hf://org/sql-lora"}]}
    ctx = _context(deployment)
    refused = IssueCollector(0)
    assert adapter_locations(ctx, refused, ENGINES["tgi"]) == []
    assert _paths(refused) == ["deployments[0].adapters"]
    served = IssueCollector(0)
    assert [name for name, _ in adapter_locations(ctx, served, ENGINES["vllm"])] == ["sql"]
    assert not served.found


def test_precision_the_gpu_lacks_is_refused() -> None:
    issues = IssueCollector(0)
    ctx = _context({**SAFETENSORS, "precision": "fp8"})
    check_precision(ctx, issues, ENGINES["vllm"], GPUS["L4"])
    assert not issues.found
    check_precision(ctx, issues, ENGINES["vllm"], GPUS["T4"])
    assert _paths(issues) == ["deployments[0].precision"]


def test_engine_args_may_not_set_what_the_stack_file_sets_or_carry_credentials() -> None:
    issues = IssueCollector(0)
    ctx = _context({**SAFETENSORS, "engineArgs": ["--port=9000", "--api-key=abc", "--seed=1"]})
    check_engine_args(ctx, issues, ENGINES["vllm"])
    assert _paths(issues) == ["deployments[0].engineArgs[0]", "deployments[0].engineArgs[1]"]


def test_the_engine_plan_takes_slot_overrides_and_the_api_key_from_its_secret() -> None:
    issues = IssueCollector(0)
    deployment = {**SAFETENSORS, "gpu": {"type": "L4", "count": 1}, "env": {"A": "1"}}
    ctx = _context(deployment)
    model = plan_model(ctx, issues, "main", SlotSpec())
    assert model is not None
    override = SlotSpec.model_validate({"image": "vllm/vllm-openai:v9.9.9", "env": {"B": "2"}})
    key = ApiKeyDelivery("VLLM_API_KEY", "chat-api-key")
    on = EngineHardware("nvidia", 1, GPUS["L4"])
    engine = plan_engine(ctx, issues, ENGINES["vllm"], model, override, on, (), key)
    assert engine.image == "vllm/vllm-openai:v9.9.9"
    assert engine.env["A"] == "1" and engine.env["B"] == "2"
    assert engine.env_refs["VLLM_API_KEY"] == ("secretKeyRef", "chat-api-key", "api-key")
    assert not issues.found


def test_user_env_may_not_replace_the_api_key_variable() -> None:
    issues = IssueCollector(0)
    ctx = _context(
        {**SAFETENSORS, "env": {"VLLM_API_KEY": {"secretKeyRef": {"name": "s", "key": "k"}}}}
    )
    model = plan_model(ctx, issues, "main", SlotSpec())
    assert model is not None
    key = ApiKeyDelivery("VLLM_API_KEY", "chat-api-key")
    on = EngineHardware("nvidia", 1, GPUS["L4"])
    plan_engine(ctx, issues, ENGINES["vllm"], model, SlotSpec(), on, (), key)
    assert _paths(issues) == ["deployments[0].env.VLLM_API_KEY"]


def test_one_loader_per_download_however_often_it_is_asked_for() -> None:
    issues = IssueCollector(0)
    ctx = _context(SAFETENSORS)
    location = locate("hf://org/model", None)
    model = ModelPlan(location, "safetensors", 8.0, "chat", "auto")
    loaders = Loaders(ctx, plan_cache(ctx, issues, {"main": model}, []), HfToken(None, None))
    first = loaders.for_location(location, "chat")
    assert first is not None and loaders.for_location(location, "chat") == first
    assert loaders.planned == (first,)
    assert Loaders(ctx, None, HfToken(None, None)).for_location(location) is None


def test_weighted_balancing_needs_pools() -> None:
    issues = IssueCollector(0)
    ctx = _context({"loadBalancer": {"algorithm": "weighted"}}, target="docker")
    balancer = plan_load_balancer(ctx, issues, ENGINES["llamacpp"], deployment_pools(ctx, issues))
    assert balancer.health_check.path == ENGINES["llamacpp"].health_path
    assert _paths(issues) == ["deployments[0].loadBalancer.algorithm"]


def test_network_peers_and_monitoring_are_kubernetes_settings() -> None:
    kubernetes = {
        "networkPolicies": True,
        "allowedNamespaces": ["batch"],
        "monitoring": {"enabled": True},
    }
    ctx = _context({}, kubernetes=kubernetes)
    assert network_peers(ctx) == ("monitoring", "batch")
    assert plan_monitoring(ctx, ENGINES["llamacpp"]) is not None
    assert plan_monitoring(ctx, ENGINES["ollama"]) is None  # no metrics to scrape
    docker = _context({}, target="docker")
    assert network_peers(docker) is None and plan_monitoring(docker, ENGINES["llamacpp"]) is None


def test_the_kubernetes_part_lists_pull_secrets_registries_first_once_each() -> None:
    registries = [
        {"name": "corp", "existingSecret": "corp-regcred"},
        {"name": "ghcr", "server": "ghcr.io", "username": "bot"},
    ]
    ctx = _context(
        {"imagePullSecrets": ["team", "corp-regcred"]},
        registries=registries,
        registryPasswords=["ghcr"],
    )
    part = plan_kubernetes_part(ctx, ENGINES["llamacpp"], None, any_gpu=False)
    assert part.image_pull_secrets == ("corp-regcred", "modelstack-registry-ghcr", "team")
    # A CPU deployment surges one pod at a time; rolling has no slot Services.
    assert (part.max_surge, part.max_unavailable) == (1, 0)
    assert part.slot_services == {}
    assert (part.disruption_budget, part.spread, part.protect_secrets) == (None, None, False)


def test_the_kubernetes_part_replaces_gpu_pods_in_place_and_names_slot_services() -> None:
    ctx = _context({"rollout": {"strategy": "blue-green", "active": "green"}})
    part = plan_kubernetes_part(ctx, ENGINES["llamacpp"], None, any_gpu=True)
    assert (part.max_surge, part.max_unavailable) == (0, 1)
    assert part.slot_services == {"blue": "chat-blue", "green": "chat-green"}


def test_the_docker_part_waits_past_the_loaders_own_deadline() -> None:
    timeouts = plan_timeouts(600)
    assert (timeouts.rollout_seconds, timeouts.loader_seconds) == (1200, 7200)
    part = plan_docker_part(timeouts)
    assert part.loader_wait_seconds == timeouts.loader_seconds + WAIT_MARGIN_SECONDS
    assert in_minutes(part.loader_wait_seconds) == "130m"


def test_autoscaling_leaves_docker_slots_alone() -> None:
    issues = IssueCollector(0)
    ctx = _context({}, target="docker")
    slots: list[Any] = [SimpleNamespace(workload_name="chat")]
    assert with_autoscalers(ctx, issues, ENGINES["llamacpp"], slots, None) is slots


ENV_CASES = [
    ("LOG_LEVEL", "INFO"),
    ("MAX_TOKENS", "4096"),
    ("TOKENIZERS_PARALLELISM", "false"),
    ("HF_TOKEN_PATH", "/var/run/secrets/hf/token"),
    ("OPENAI_API_KEY", "placeholder"),
    ("DB_PASSWORD", "hunter2"),
    ("HF_TOKEN", "hf_" + "a" * 34),
    ("MODEL_URL", "https://user:hunter2@example.com/model"),
    ("UPSTREAM", "sk-" + "b" * 24),
    ("NOTE", "see https://example.com/docs"),
]


def _stack_file_refuses(name: str, value: str) -> bool:
    raw = {
        "environment": "prod",
        "target": "kubernetes",
        "deployments": [{"name": "chat", "model": {"source": GGUF}, "env": {name: value}}],
    }
    try:
        parse_stack_spec(raw, set(), "stacks/Pulumi.test.yaml")
    except SpecError:
        return True
    return False


@pytest.mark.parametrize(("name", "value"), ENV_CASES)
def test_the_stack_file_refuses_a_literal_env_exactly_when_the_guardrail_would(
    name: str, value: str
) -> None:
    pod = {
        "template": {
            "spec": {"containers": [{"name": "engine", "env": [{"name": name, "value": value}]}]}
        }
    }
    subject = Subject(type="kubernetes:apps/v1:Deployment", name="chat", props={"spec": pod})
    assert level_for(NO_LITERAL_SECRET_ENV.name, "prod") is Level.MANDATORY
    assert _stack_file_refuses(name, value) == bool(check_env_secrets(subject))


def test_an_empty_credential_variable_is_where_the_stack_file_is_stricter() -> None:
    # The name alone marks a credential in the stack file; an empty value in a rendered pod
    # carries no secret, so the guardrail lets it be.
    assert _stack_file_refuses("API_KEY", "")
    pod = {
        "template": {
            "spec": {"containers": [{"name": "engine", "env": [{"name": "API_KEY", "value": ""}]}]}
        }
    }
    subject = Subject(type="kubernetes:apps/v1:Deployment", name="chat", props={"spec": pod})
    assert not check_env_secrets(subject)
