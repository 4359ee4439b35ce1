"""inference_aware: the plan part (pools per slot, picker, refusals) and the objects it renders."""

from __future__ import annotations

import dataclasses
import re
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components import identity
from components.catalog import endpoint_picker as epp
from components.diff.compare import compare
from components.environments import ENVIRONMENTS
from components.graph.model import EdgeKind, State
from components.graph.topology import build_topology
from components.guardrails.offline import check_render
from components.kubernetes.deployment_objects import deployment_objects
from components.kubernetes.manifests import endpoint_picker as manifests
from components.kubernetes.manifests import services
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from components.plan import DeploymentPlan
from components.planning.inference_routing import plan_inference_routing
from components.planning.inference_routing_plan import InferenceRoutingPlan
from components.spec import KubernetesSettings
from components.spec_traffic import LoadBalancerSpec
from tests.conftest import (
    deployments_of,
    find_object,
    render_document,
    stack_document,
    with_changes,
)
from tests.support.planned_stacks import plan_stack, stack_problems

GATEWAY = {"name": "inference-gateway", "namespace": "gateways"}
DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?")


def _stack(
    environment: str = "dev", rollout: dict[str, Any] | None = None, **changes: Any
) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "name": "chat",
        "model": {"source": "hf://org/model", "parameters": "8B"},
        "gpu": {"type": "L4", "count": 1},
        "engine": "vllm",
        "replicas": 2,
        "route": {"path": "/chat"},
        "rollout": rollout or {"strategy": "blue-green", "active": "blue"},
        **changes,
    }
    if "pools" in changes:
        del deployment["gpu"]  # each pool has its own
    return {
        "environment": environment,
        "target": "kubernetes",
        "kubernetes": {"namespace": "ml", "gateway": dict(GATEWAY)},
        "deployments": [deployment],
    }


def _inference_aware(deployment: DeploymentPlan) -> DeploymentPlan:
    balancer = dataclasses.replace(deployment.load_balancer, algorithm="inference_aware")
    return dataclasses.replace(deployment, load_balancer=balancer)


def _route(
    deployment: DeploymentPlan, settings: dict[str, Any] | None = None, **options: Any
) -> Any:
    kubernetes = KubernetesSettings.model_validate(
        settings if settings is not None else {"namespace": "ml", "gateway": dict(GATEWAY)}
    )
    return plan_inference_routing(
        deployment.name,
        deployment.strategy,
        deployment.slots,
        deployment.load_balancer,
        deployment.route,
        kubernetes,
        deployment.environment,
        **options,
    )


def _planned(environment: str = "dev", **changes: Any) -> tuple[DeploymentPlan, Any]:
    deployment = _inference_aware(plan_stack(_stack(environment, **changes)).deployments[0])
    return deployment, _route(deployment)


def _objects(deployment: DeploymentPlan, routing: InferenceRoutingPlan) -> list[dict[str, Any]]:
    bodies = []
    for pool in routing.pools:
        bodies.append(manifests.inference_pool(deployment, routing, pool))
        bodies += manifests.picker_objects(deployment, routing, pool)
    return bodies


def test_another_algorithm_plans_nothing() -> None:
    deployment = plan_stack(_stack()).deployments[0]
    assert _route(deployment) is None


def test_blue_green_gets_one_pool_and_picker_per_slot_and_routes_to_the_serving_one() -> None:
    _, routing = _planned()
    assert isinstance(routing, InferenceRoutingPlan)
    assert [(p.slot, p.name, p.picker, p.weight) for p in routing.pools] == [
        ("blue", "chat-blue", "chat-blue-epp", 100),
        ("green", "chat-green", "chat-green-epp", 0),
    ]
    assert [manifests.route_backend(p.name, p.weight) for p in routing.routed] == [
        {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": "chat-blue",
            "weight": 100,
        }
    ]
    assert routing.target_port == 8000 and routing.metrics_path == "/metrics"
    assert routing.image == "registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0"
    assert any("one InferencePool per slot (blue, green)" in reason for reason in routing.reasons)


def test_canary_weighs_the_two_pools_and_rolling_has_one() -> None:
    _, canary = _planned(rollout={"strategy": "canary", "active": "blue", "canaryWeight": 10})
    assert [(p.name, p.weight) for p in canary.routed] == [("chat-blue", 90), ("chat-green", 10)]
    _, rolling = _planned(rollout={"strategy": "rolling"})
    assert [(p.slot, p.name, p.picker, p.weight) for p in rolling.pools] == [
        ("main", "chat", "chat-epp", 100)
    ]


@pytest.mark.parametrize("environment", ["dev", "staging", "prod"])
@pytest.mark.parametrize(
    "rollout",
    [
        {"strategy": "rolling"},
        {"strategy": "blue-green", "active": "green"},
        {"strategy": "canary", "active": "blue", "canaryWeight": 25},
    ],
    ids=["rolling", "blue-green", "canary"],
)
def test_every_object_is_schema_valid(
    environment: str, rollout: dict[str, Any], schema_validator: SchemaValidator
) -> None:
    deployment, routing = _planned(environment, rollout=rollout)
    bodies = _objects(deployment, routing)
    assert schema_validator.validate_all(bodies) == []
    # The InferencePool was checked against its CRD schema, not skipped for want of one.
    assert ("inference.networking.k8s.io/v1", "InferencePool") not in schema_validator.skipped
    for body in bodies:
        assert DNS_LABEL.fullmatch(body["metadata"]["name"]), body["metadata"]["name"]


def test_a_broken_pool_is_reported_against_the_crd_schema(
    schema_validator: SchemaValidator,
) -> None:
    deployment, routing = _planned()
    pool = manifests.inference_pool(deployment, routing, routing.pools[0])
    pool["spec"]["endpointPickerRef"]["failureMode"] = "Sometimes"
    violations = schema_validator.validate(pool)
    assert [v.field for v in violations] == ["spec.endpointPickerRef.failureMode"]


def test_the_pool_selects_what_the_slot_service_selects_and_no_service_selects_the_picker() -> None:
    deployment, routing = _planned()
    blue = routing.pools[0]
    pool = manifests.inference_pool(deployment, routing, blue)
    slot_service = services.slot_service(deployment, "blue")
    assert pool["spec"]["selector"]["matchLabels"] == slot_service["spec"]["selector"]
    assert pool["spec"]["targetPorts"] == [{"number": 8000}]
    assert pool["spec"]["endpointPickerRef"] == {
        "name": "chat-blue-epp",
        "port": {"number": 9002},
        "failureMode": "FailOpen",
    }
    picker = _kind(manifests.picker_objects(deployment, routing, blue), "Deployment")
    pod_labels = picker["spec"]["template"]["metadata"]["labels"]
    for service in (slot_service, services.stable_service(deployment)):
        selector = service["spec"]["selector"]
        assert not selector.items() <= pod_labels.items(), service["metadata"]["name"]
    assert picker["spec"]["selector"]["matchLabels"].items() <= pod_labels.items()
    assert identity.component_of(pod_labels) == identity.ENDPOINT_PICKER


def _kind(bodies: list[dict[str, Any]], kind: str) -> dict[str, Any]:
    (body,) = [b for b in bodies if b["kind"] == kind]
    return body


def test_the_picker_runs_as_the_upstream_chart_runs_it() -> None:
    deployment, routing = _planned()
    bodies = manifests.picker_objects(deployment, routing, routing.pools[1])
    assert [b["kind"] for b in bodies] == [
        "ServiceAccount",
        "Role",
        "RoleBinding",
        "ConfigMap",
        "Deployment",
        "Service",
    ]
    assert {b["metadata"]["name"] for b in bodies} == {"chat-green-epp"}
    picker = _kind(bodies, "Deployment")
    spec = picker["spec"]
    assert spec["replicas"] == 1 and spec["strategy"] == {"type": "Recreate"}
    pod = spec["template"]["spec"]
    assert pod["serviceAccountName"] == "chat-green-epp"
    assert pod["terminationGracePeriodSeconds"] == 130
    (container,) = pod["containers"]
    assert container["args"] == [
        "--pool-name",
        "chat-green",
        "--pool-namespace",
        "ml",
        "--pool-group",
        "inference.networking.k8s.io",
        "--zap-encoder",
        "json",
        "--config-file",
        "/config/default-plugins.yaml",
        "--metrics-endpoint-auth=false",
    ]
    assert container["livenessProbe"]["grpc"] == {"port": 9003, "service": "inference-extension"}
    assert container["readinessProbe"]["grpc"] == {"port": 9003, "service": "inference-extension"}
    assert {e["name"]: e["valueFrom"]["fieldRef"]["fieldPath"] for e in container["env"]} == {
        "NAMESPACE": "metadata.namespace",
        "POD_NAME": "metadata.name",
    }
    assert {"mountPath": "/config", "name": "plugins-config", "readOnly": True} in container[
        "volumeMounts"
    ]
    service = _kind(bodies, "Service")
    assert [(p["name"], p["port"]) for p in service["spec"]["ports"]] == [
        ("grpc-ext-proc", 9002),
        ("grpc-health", 9003),
        ("http-metrics", 9090),
    ]
    role = _kind(bodies, "Role")
    granted = {
        (group, resource): rule["verbs"]
        for rule in role["rules"]
        for group in rule["apiGroups"]
        for resource in rule["resources"]
    }
    assert granted == {
        ("", "pods"): ["get", "watch", "list"],
        ("inference.networking.k8s.io", "inferencepools"): ["get", "watch", "list"],
        ("inference.networking.x-k8s.io", "inferenceobjectives"): ["get", "watch", "list"],
        ("inference.networking.x-k8s.io", "inferencemodelrewrites"): ["get", "watch", "list"],
    }
    binding = _kind(bodies, "RoleBinding")
    assert binding["roleRef"]["name"] == role["metadata"]["name"]
    assert binding["subjects"] == [
        {"kind": "ServiceAccount", "name": "chat-green-epp", "namespace": "ml"}
    ]


def test_the_plugins_file_scores_queue_kv_cache_and_prefix_from_the_engines_metrics() -> None:
    deployment, routing = _planned()
    config_map = _kind(manifests.picker_objects(deployment, routing, routing.pools[0]), "ConfigMap")
    config = yaml.safe_load(config_map["data"]["default-plugins.yaml"])
    assert config["apiVersion"] == "inference.networking.x-k8s.io/v1alpha1"
    assert config["kind"] == "EndpointPickerConfig"
    plugins = {plugin["type"]: plugin.get("parameters") for plugin in config["plugins"]}
    assert plugins == {
        "queue-scorer": None,
        "kv-cache-utilization-scorer": None,
        "prefix-cache-scorer": None,
        "metrics-data-source": {"scheme": "http", "path": "/metrics", "insecureSkipVerify": True},
        # vLLM is the extractor's default engine.
        "core-metrics-extractor": None,
    }
    (profile,) = config["schedulingProfiles"]
    assert profile["plugins"] == [
        {"pluginRef": "queue-scorer", "weight": 2},
        {"pluginRef": "kv-cache-utilization-scorer", "weight": 2},
        {"pluginRef": "prefix-cache-scorer", "weight": 3},
    ]


def test_sglang_is_read_through_the_extractors_default_engine_not_the_refused_flags() -> None:
    deployment, routing = _planned(engine="sglang")
    assert routing.engine.name == "sglang" and routing.target_port == 30000
    bodies = manifests.picker_objects(deployment, routing, routing.pools[0])
    config = yaml.safe_load(_kind(bodies, "ConfigMap")["data"]["default-plugins.yaml"])
    extractor = next(p for p in config["plugins"] if p["type"] == "core-metrics-extractor")
    assert extractor["parameters"] == {"defaultEngine": "sglang"}
    (container,) = _kind(bodies, "Deployment")["spec"]["template"]["spec"]["containers"]
    # v1.5.0's options.go Validate() refuses these (deprecated) flags: the picker would exit.
    assert not any(arg.endswith("-metric") or "-metric=" in arg for arg in container["args"])


def test_a_new_config_restarts_the_picker() -> None:
    deployment, vllm = _planned()
    _, sglang = _planned(engine="sglang")

    def config_hash(routing: InferenceRoutingPlan) -> str:
        picker = _kind(
            manifests.picker_objects(deployment, routing, routing.pools[0]), "Deployment"
        )
        return picker["spec"]["template"]["metadata"]["annotations"][identity.CONFIG_HASH]

    assert config_hash(vllm) != config_hash(sglang)


def test_prod_runs_two_pickers_with_leader_election_and_a_budget_that_lets_drains_through() -> None:
    deployment, routing = _planned("prod")
    assert routing.replicas == 2 and routing.leader_election
    bodies = manifests.picker_objects(deployment, routing, routing.pools[0])
    picker = _kind(bodies, "Deployment")
    (container,) = picker["spec"]["template"]["spec"]["containers"]
    assert container["args"][-1] == "--ha-enable-leader-election"
    assert container["livenessProbe"]["grpc"]["service"] == "liveness"
    assert container["readinessProbe"]["grpc"]["service"] == "readiness"
    role = _kind(bodies, "Role")
    assert any("leases" in rule["resources"] for rule in role["rules"])
    budget = _kind(bodies, "PodDisruptionBudget")
    # Only the leader is ready: a budget keeping one ready pod would block its node's drain.
    assert budget["spec"]["maxUnavailable"] == 2
    assert budget["spec"]["selector"] == picker["spec"]["selector"]


def test_staging_has_one_picker_and_a_budget() -> None:
    deployment, routing = _planned("staging")
    assert routing.replicas == 1 and not routing.leader_election
    bodies = manifests.picker_objects(deployment, routing, routing.pools[0])
    assert _kind(bodies, "PodDisruptionBudget")["spec"]["maxUnavailable"] == 1


def test_a_stopped_deployment_runs_no_picker() -> None:
    deployment = _inference_aware(plan_stack(_stack()).deployments[0])
    routing = _route(deployment, stopped=True)
    assert routing.replicas == 0
    assert any("stopped" in reason for reason in routing.reasons)


def test_names_and_objects_are_deterministic() -> None:
    first = _objects(*_planned("prod"))
    second = _objects(*_planned("prod"))
    assert first == second


def test_a_blue_green_switch_changes_no_pool_or_picker_object_only_the_route() -> None:
    blue_deployment, blue = _planned()
    green_deployment, green = _planned(rollout={"strategy": "blue-green", "active": "green"})
    assert _objects(blue_deployment, blue) == _objects(green_deployment, green)
    assert [p.name for p in blue.routed] == ["chat-blue"]
    assert [p.name for p in green.routed] == ["chat-green"]


# -- refusals ----------------------------------------------------------------------------------


def _problems(result: Any) -> dict[tuple[str, ...], str]:
    assert isinstance(result, list), result
    return dict(result)


def test_an_ingress_or_no_gateway_is_refused() -> None:
    deployment = _inference_aware(plan_stack(_stack()).deployments[0])
    problems = _problems(_route(deployment, {"namespace": "ml", "ingress": {"className": "nginx"}}))
    assert "set kubernetes.gateway" in problems[("loadBalancer", "algorithm")]


def test_a_gateway_without_a_route_is_refused() -> None:
    deployment = _inference_aware(plan_stack(_stack()).deployments[0])
    problems = _problems(_route(dataclasses.replace(deployment, route=None)))
    assert "needs a route" in problems[("loadBalancer", "algorithm")]


@pytest.mark.parametrize(
    ("engine", "source"),
    [
        ("tgi", "hf://org/model"),
        ("llamacpp", "hf://org/repo/model-Q4_K_M.gguf"),
        ("ollama", "ollama://qwen2.5:0.5b"),
    ],
)
def test_engines_the_picker_cannot_read_are_refused_naming_those_it_can(
    engine: str, source: str
) -> None:
    raw = _stack(engine=engine, model={"source": source, "parameters": "1B"})
    deployment = _inference_aware(plan_stack(raw).deployments[0])
    message = _problems(_route(deployment))[("loadBalancer", "algorithm")]
    assert f"{engine} exports none it understands" in message
    assert "sglang and vllm" in message


def test_every_problem_is_reported_at_once_with_its_key_path() -> None:
    deployment = _inference_aware(
        plan_stack(
            _stack(
                pools=[
                    {"name": "big", "gpu": {"type": "L40S", "count": 1}, "weight": 3},
                    {"name": "small", "gpu": {"type": "L4", "count": 1}, "weight": 1},
                ]
            )
        ).deployments[0]
    )
    balancer = dataclasses.replace(
        deployment.load_balancer, stickiness="source-ip", health_check_customized=True
    )
    deployment = dataclasses.replace(deployment, load_balancer=balancer)
    problems = _problems(_route(deployment, scale_to_zero=True))
    assert sorted(problems) == [
        ("autoscaling", "scaleToZero"),
        ("loadBalancer", "healthCheck"),
        ("loadBalancer", "stickySessions"),
        ("pools",),
    ]


def test_pools_of_equal_weight_share_the_slots_pool() -> None:
    pools = [
        {"name": "big", "gpu": {"type": "L40S", "count": 1}},
        {"name": "small", "gpu": {"type": "L4", "count": 1}},
    ]
    _, routing = _planned(pools=pools)
    assert [p.name for p in routing.pools] == ["chat-blue", "chat-green"]


def test_a_pool_named_like_a_picker_is_refused() -> None:
    pools = [{"name": "epp", "gpu": {"type": "L4", "count": 1}}]
    deployment = _inference_aware(
        plan_stack(_stack(rollout={"strategy": "rolling"}, pools=pools)).deployments[0]
    )
    assert "chat-epp" in _problems(_route(deployment))[("pools",)]


def test_the_catalog_names_an_engine_entry_for_each_engine_it_reads() -> None:
    from components.catalog.engines import ENGINES

    for name, picker_engine in epp.ENGINES.items():
        engine = ENGINES[name]
        assert engine.metrics_path is not None
        # The series the picker scores with are the engine's own queue series.
        assert engine.request_metrics is not None
        assert picker_engine.queued == engine.request_metrics.waiting
        assert picker_engine.running == engine.request_metrics.running
    assert ENVIRONMENTS["prod"].min_replicas >= 2


# -- through the whole program: render, diff, graph, guardrails ---------------------------------


def _prod_document(**chat: Any) -> dict[str, Any]:
    """The prod stack, its chat deployment inference-aware behind a Gateway."""
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"]["gateway"] = dict(GATEWAY)
    llama_chat = deployments_of(document)[0]
    llama_chat["route"] = {"path": "/chat", "hosts": ["llm.example.com"]}
    # The spelling: hyphens read as underscores in every algorithm value.
    llama_chat["loadBalancer"] = {"algorithm": "inference-aware"}
    llama_chat.update(chat)
    return document


def _switched(document: dict[str, Any], active: str) -> dict[str, Any]:
    return with_changes(document, lambda d: deployments_of(d)[0]["rollout"].update(active=active))


@pytest.fixture(scope="module")
def prod_render(tmp_path_factory: pytest.TempPathFactory) -> Render:
    return render_document(tmp_path_factory.mktemp("prod"), _prod_document())


def test_the_render_has_pools_pickers_and_a_route_on_the_serving_pool(
    prod_render: Render, schema_validator: SchemaValidator
) -> None:
    assert schema_validator.validate_all(prod_render.objects) == []
    pools = [o for o in prod_render.objects if o["kind"] == "InferencePool"]
    assert [p["metadata"]["name"] for p in pools] == ["llama-chat-blue", "llama-chat-green"]
    route = find_object(prod_render, "HTTPRoute", "llama-chat")
    assert route["spec"]["rules"][0]["backendRefs"] == [
        {
            "group": "inference.networking.k8s.io",
            "kind": "InferencePool",
            "name": "llama-chat-blue",
            "weight": 100,
        }
    ]
    policy = find_object(prod_render, "BackendTrafficPolicy", "llama-chat")["spec"]
    assert "loadBalancer" not in policy and "healthCheck" not in policy and "retry" in policy
    engines = find_object(prod_render, "NetworkPolicy", "llama-chat-engines")
    (rule,) = engines["spec"]["ingress"]
    assert {
        "podSelector": {
            "matchLabels": {
                identity.DEPLOYMENT: "llama-chat",
                identity.COMPONENT: identity.ENDPOINT_PICKER,
            }
        }
    } in rule["from"]
    for picker in ("llama-chat-blue-epp", "llama-chat-green-epp"):
        assert find_object(prod_render, "Deployment", picker)["spec"]["replicas"] == 2


def test_prod_guardrails_pass_with_the_pickers(prod_render: Render) -> None:
    report = check_render(prod_render, "prod")
    assert report.mandatory == [], report.lines()


def test_the_target_renders_what_deployment_objects_lists(prod_render: Render) -> None:
    rendered = {(o["kind"], o["metadata"]["name"]) for o in prod_render.objects}
    raw = {k.removeprefix("modelstack:"): v for k, v in _prod_document()["config"].items()}
    raw.pop("hfToken", None)
    listed = {
        (b["kind"], b["metadata"]["name"])
        for d in plan_stack(raw).deployments
        for b in deployment_objects(d)
    }
    assert {("InferencePool", "llama-chat-blue"), ("ConfigMap", "llama-chat-blue-epp")} <= listed
    assert listed <= rendered


def test_a_blue_green_switch_moves_the_route_and_the_in_cluster_service_only(
    tmp_path: Path, prod_render: Render
) -> None:
    after = render_document(tmp_path, _switched(_prod_document(), "green"))
    old, new = prod_render.object_files(), after.object_files()
    changed = sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n))
    assert [n for n in changed if n.startswith("kubernetes/")] == [
        "kubernetes/httproute-llama-chat.yaml",
        "kubernetes/service-llama-chat.yaml",
    ]
    summary = compare(prod_render, after).summary
    assert "llama-chat: traffic inference pool llama-chat-blue -> llama-chat-green" in summary
    assert "llama-chat: traffic blue -> green" in summary


def test_turning_it_on_reads_as_new_pools_and_pickers(tmp_path: Path) -> None:
    before = render_document(tmp_path, _prod_document(loadBalancer={"algorithm": "round_robin"}))
    summary = compare(before, render_document(tmp_path, _prod_document())).summary
    assert "llama-chat: new inference pool llama-chat-blue" in summary
    assert "llama-chat: new endpoint picker Deployment llama-chat-green-epp" in summary


def test_the_picture_routes_to_the_pool_and_the_pool_to_its_pods_and_picker(
    prod_render: Render,
) -> None:
    topology = build_topology(prod_render, "prod")
    names = {node_id: node.name for node_id, node in topology.nodes.items()}
    edges = {
        (names[e.source], names[e.target], e.label)
        for e in topology.edges
        if e.kind is EdgeKind.TRAFFIC
    }
    assert ("llama-chat", "llama-chat-blue", None) in edges  # route -> pool
    assert ("llama-chat-blue", "llama-chat-blue", None) in edges  # pool -> engine workload
    assert ("llama-chat-blue", "llama-chat-blue-epp", "picks") in edges
    served = {n.name for n in topology.nodes.values() if n.state is State.SERVING}
    assert {"llama-chat-blue", "llama-chat-blue-epp"} <= served
    assert "llama-chat-green-epp" not in served


@pytest.mark.parametrize(
    ("change", "where"),
    [
        ({"stickySessions": True}, "loadBalancer.stickySessions"),
        ({"healthCheck": {"intervalSeconds": 30}}, "loadBalancer.healthCheck"),
    ],
)
def test_refusals_name_the_stack_file_key(tmp_path: Path, change: dict, where: str) -> None:
    document = _prod_document()
    deployments_of(document)[0]["loadBalancer"].update(change)
    with pytest.raises(pulumi.RunError, match=rf"deployments\[0\]\.{re.escape(where)}: "):
        render_document(tmp_path, document)


def test_docker_refuses_it_with_a_suggestion() -> None:
    raw = {
        "environment": "dev",
        "target": "docker",
        "deployments": [
            {
                "name": "tiny",
                "model": {"source": "hf://org/repo/model-Q4_K_M.gguf", "parameters": "0.5B"},
                "loadBalancer": {"algorithm": "inference-aware"},
            }
        ],
    }
    (problem,) = stack_problems(raw)
    assert problem.startswith("deployments[0].loadBalancer.algorithm: ")
    assert "least_connections" in problem


def test_hyphens_read_as_underscores_for_every_algorithm() -> None:
    for spelled, meant in (("least-connections", "least_connections"), ("ip-hash", "ip_hash")):
        assert LoadBalancerSpec.model_validate({"algorithm": spelled}).algorithm == meant


def test_the_readme_example_plans_on_the_prod_stack() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Inference-aware load balancing (Kubernetes)")[1]
    example = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"].update(example["modelstack:kubernetes"])
    (chat,) = example["modelstack:deployments"]
    deployments_of(document)[0].update(chat)
    raw = {k.removeprefix("modelstack:"): v for k, v in document["config"].items()}
    raw.pop("hfToken", None)
    traffic = plan_stack(raw).deployments[0].traffic
    assert traffic is not None and traffic.inference is not None
    assert [pool.name for pool in traffic.inference.routed] == ["llama-chat-blue"]


def test_a_canary_weight_move_changes_only_the_route(tmp_path: Path) -> None:
    def canary(weight: int) -> dict[str, Any]:
        rollout = {"strategy": "canary", "active": "blue", "canaryWeight": weight}
        return _prod_document(rollout=rollout)

    before = render_document(tmp_path, canary(10))
    refs = find_object(before, "HTTPRoute", "llama-chat")["spec"]["rules"][0]["backendRefs"]
    assert [(ref["name"], ref["weight"]) for ref in refs] == [
        ("llama-chat-blue", 90),
        ("llama-chat-green", 10),
    ]
    after = render_document(tmp_path, canary(30))
    old, new = before.object_files(), after.object_files()
    assert sorted(n for n in set(old) | set(new) if old.get(n) != new.get(n)) == [
        "kubernetes/httproute-llama-chat.yaml"
    ]
