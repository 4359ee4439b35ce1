"""A canary that moves by itself (issue 16 item 6): `rollout.progressive` becomes a Flagger
Canary with MetricTemplates; modelstack renders nothing Flagger creates and owns."""

from __future__ import annotations

import copy
import re
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.diff.compare import compare
from components.errors import StackConfigError
from components.graph.kubernetes_topology import build_kubernetes_topology
from components.kubernetes.deployment_objects import deployment_objects
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from components.planning.progressive_delivery import INTERVAL_VARIABLE, template_safe
from components.planning.stack_validation import validated_plan
from tests.conftest import render_document
from tests.support.hostile import check_promql

SAFETENSORS = "hf://meta-llama/Llama-3.1-8B-Instruct"
GGUF = "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"
PROGRESSIVE = {"steps": [10, 25, 50], "interval": "5m", "maxErrorRate": 1, "maxLatencyP95": 2}
KUBERNETES = {
    "namespace": "ml-staging",
    "gateway": {"name": "inference-gateway", "namespace": "gateways"},
    "prometheus": "http://prometheus.monitoring:9090",
}


def _deployment(**changes: Any) -> dict[str, Any]:
    deployment: dict[str, Any] = {
        "name": "llama-chat",
        "model": {"source": SAFETENSORS, "parameters": "8B", "revision": "main"},
        "engine": "vllm",
        "gpu": {"type": "L4", "count": 1},
        "replicas": 2,
        "route": {"path": "/chat", "hosts": ["llm.example.com"]},
        "rollout": {"strategy": "canary", "progressive": copy.deepcopy(PROGRESSIVE)},
    }
    deployment.update(changes)
    return deployment


def _raw(deployment: dict[str, Any] | None = None, **stack: Any) -> dict[str, Any]:
    return {
        "environment": stack.pop("environment", "staging"),
        "target": stack.pop("target", "kubernetes"),
        "kubernetes": stack.pop("kubernetes", copy.deepcopy(KUBERNETES)),
        "cloud": "gke",
        **stack,
        "deployments": [deployment if deployment is not None else _deployment()],
    }


def _document(raw: dict[str, Any]) -> dict[str, Any]:
    raw = copy.deepcopy(raw)
    raw["kubernetes"]["cloud"] = raw.pop("cloud")
    return {"config": {f"modelstack:{key}": value for key, value in raw.items()}}


def _issues(raw: dict[str, Any]) -> dict[str, str]:
    if "cloud" in raw:
        raw = copy.deepcopy(raw)
        raw["kubernetes"]["cloud"] = raw.pop("cloud")
    with pytest.raises(StackConfigError) as raised:
        validated_plan(raw, set(), "stacks/Pulumi.test.yaml")
    found: dict[str, str] = {}
    for issue in raised.value.issues:
        found[issue.path] = " | ".join(filter(None, [found.get(issue.path), issue.message]))
    return found


def _render(directory: Path, raw: dict[str, Any]) -> Render:
    directory.mkdir(exist_ok=True)
    return render_document(directory, _document(raw))


def _objects(render: Render) -> dict[tuple[str, str], dict[str, Any]]:
    return {(o["kind"], o["metadata"]["name"]): o for o in render.objects}


# -- the render ----------------------------------------------------------------------------


def test_a_progressive_canary_is_one_target_a_canary_and_its_templates(
    tmp_path: Path, schema_validator: SchemaValidator
) -> None:
    objects = _objects(_render(tmp_path, _raw()))
    canary = objects[("Canary", "llama-chat")]
    templates = [objects[("MetricTemplate", f"llama-chat-{c}")] for c in ("error-rate", "latency")]
    assert schema_validator.validate_all([canary, *templates]) == []
    spec = canary["spec"]
    assert spec["provider"] == "gatewayapi:v1"
    assert spec["targetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llama-chat",
    }
    assert spec["analysis"]["stepWeights"] == [10, 25, 50]
    assert spec["analysis"]["interval"] == "5m"
    assert spec["analysis"]["threshold"] == 2
    assert [(m["name"], m["thresholdRange"], m["templateRef"]["name"], m["interval"])
            for m in spec["analysis"]["metrics"]] == [
        ("error-rate", {"max": 1}, "llama-chat-error-rate", "5m"),
        ("latency", {"max": 2}, "llama-chat-latency", "5m"),
    ]  # fmt: skip
    service = spec["service"]
    assert service["gatewayRefs"] == [{"name": "inference-gateway", "namespace": "gateways"}]
    assert service["hosts"] == ["llm.example.com"]
    assert service["match"] == [{"uri": {"prefix": "/chat"}}]
    assert service["rewrite"] == {"uri": "/"}
    assert service["timeout"] == service["backendTimeout"] == "300s"
    # Model loading takes long: Flagger must wait as long as Kubernetes does.
    deployment = objects[("Deployment", "llama-chat")]
    assert spec["progressDeadlineSeconds"] == deployment["spec"]["progressDeadlineSeconds"]
    for template in templates:
        assert template["spec"]["provider"] == {
            "type": "prometheus",
            "address": "http://prometheus.monitoring:9090",
        }


def test_modelstack_renders_nothing_flagger_creates_and_owns(tmp_path: Path) -> None:
    objects = _objects(_render(tmp_path, _raw()))
    # Flagger creates <name>, <name>-primary, <name>-canary and the HTTPRoute <name>.
    for kind, name in [
        ("Service", "llama-chat"),
        ("Service", "llama-chat-primary"),
        ("Service", "llama-chat-canary"),
        ("Deployment", "llama-chat-primary"),
        ("HTTPRoute", "llama-chat"),
    ]:
        assert (kind, name) not in objects
    assert [name for kind, name in objects if kind == "Deployment"] == ["llama-chat"]
    # Flagger picks the pods by app.kubernetes.io/name (its default selector labels).
    deployment = objects[("Deployment", "llama-chat")]
    selector = deployment["spec"]["selector"]["matchLabels"]
    assert selector["app.kubernetes.io/name"] == "llama-chat"
    labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert all(labels[key] == value for key, value in selector.items())
    # Flagger copies no budget: the primary's pods get one of modelstack's.
    budget = objects[("PodDisruptionBudget", "llama-chat-primary")]["spec"]
    assert budget == {
        "maxUnavailable": 1,
        "selector": {"matchLabels": {"app.kubernetes.io/name": "llama-chat-primary"}},
    }
    # Envoy Gateway's policy attaches to Flagger's route by its name.
    policy = objects[("BackendTrafficPolicy", "llama-chat")]
    assert policy["spec"]["targetRefs"][0]["name"] == "llama-chat"


def test_the_queries_parse_and_select_the_candidates_pods_only(tmp_path: Path) -> None:
    objects = _objects(_render(tmp_path, _raw()))
    for check in ("error-rate", "latency"):
        query = objects[("MetricTemplate", f"llama-chat-{check}")]["spec"]["query"]
        assert INTERVAL_VARIABLE in query
        # Flagger fills the interval in before Prometheus reads the query.
        check_promql(query.replace(INTERVAL_VARIABLE, "5m"))
        assert query.replace(INTERVAL_VARIABLE, "").count("{{") == 0
        assert 'namespace="ml-staging"' in query
        for pattern in re.findall(r'pod=~"([^"]*)"', query):
            assert re.fullmatch(pattern, "llama-chat-5d9c7b8f6-abcde")
            assert not re.fullmatch(pattern, "llama-chat-primary-5d9c7b8f6-abcde")
            assert not re.fullmatch(pattern, "llama-chat-2-5d9c7b8f6-abcde")


def test_a_query_with_another_template_action_is_refused() -> None:
    assert template_safe(f"x[{INTERVAL_VARIABLE}]") == f"x[{INTERVAL_VARIABLE}]"
    with pytest.raises(ValueError, match="template delimiters"):
        template_safe('x{pod="{{ .Values }}"}[5m]')


def test_only_the_checks_asked_for_are_rendered(tmp_path: Path) -> None:
    progressive = {"steps": [50], "maxLatencyP95": 1.5}
    deployment = _deployment(rollout={"strategy": "canary", "progressive": progressive})
    objects = _objects(_render(tmp_path, _raw(deployment)))
    assert [n for k, n in objects if k == "MetricTemplate"] == ["llama-chat-latency"]
    analysis = objects[("Canary", "llama-chat")]["spec"]["analysis"]
    assert analysis["interval"] == "1m"
    assert analysis["metrics"][0]["thresholdRange"] == {"max": 1.5}


def test_the_diff_and_the_picture_know_the_canary(tmp_path: Path) -> None:
    plain = _deployment(rollout={"strategy": "rolling"})
    before = _render(tmp_path / "before", _raw(plain))
    after = _render(tmp_path / "after", _raw())
    summary = compare(before, after).summary
    assert "llama-chat: new progressive canary (Flagger) llama-chat" in summary, summary
    assert "llama-chat: new canary check llama-chat-latency" in summary, summary
    faster = _deployment()
    faster["rollout"]["progressive"].update(steps=[20, 50], interval="2m")
    moved = compare(after, _render(tmp_path / "faster", _raw(faster))).summary
    assert (
        "llama-chat: progressive canary: steps 10, 25, 50 every 5m -> steps 20, 50 every 2m"
        in moved
    ), moved
    topology = build_kubernetes_topology(after, "progressive")
    (canary,) = [node for node in topology.nodes.values() if node.kind == "Canary"]
    deployment = next(n for n in topology.nodes.values() if n.kind == "Deployment")
    assert canary.beside == deployment.id
    assert any(e.source == canary.id and e.target == deployment.id for e in topology.edges)


# -- refusals ------------------------------------------------------------------------------


def test_docker_refuses_progressive_with_what_to_do() -> None:
    deployment = _deployment(model={"source": GGUF}, engine="llamacpp")
    del deployment["route"], deployment["gpu"]
    raw = {"environment": "dev", "target": "docker", "deployments": [deployment]}
    found = _issues(raw)
    message = found["deployments[0].rollout.progressive"]
    assert "Flagger" in message and "canaryWeight" in message


def test_every_missing_prerequisite_is_reported_at_once() -> None:
    zero_when_idle = {"min": 2, "max": 4, "metric": "queue", "target": 4}
    zero_when_idle["scaleToZero"] = {"enabled": True}
    deployment = _deployment(
        autoscaling=zero_when_idle, loadBalancer={"algorithm": "inference_aware"}
    )
    del deployment["replicas"]
    del deployment["route"]
    found = _issues(_raw(deployment, kubernetes={"namespace": "ml-staging"}))
    progressive = found["deployments[0].rollout.progressive"]
    assert "route" in progressive
    assert (
        "nothing would wake the primary" in found["deployments[0].autoscaling.scaleToZero.enabled"]
    )
    assert "InferencePools" in found["deployments[0].loadBalancer.algorithm"]


@pytest.mark.parametrize(
    ("kubernetes", "words"),
    [
        ({"namespace": "ml"}, "kubernetes.gateway"),
        (
            {"namespace": "ml", "gateway": {"name": "g", "namespace": "gateways"}},
            "kubernetes.prometheus",
        ),
    ],
)
def test_gateway_and_prometheus_are_required(kubernetes: dict[str, Any], words: str) -> None:
    found = _issues(_raw(kubernetes=kubernetes))
    assert words in found["deployments[0].rollout.progressive"], found


def test_a_standard_gateway_implementation_is_enough() -> None:
    kubernetes = {**KUBERNETES, "gateway": {**KUBERNETES["gateway"], "implementation": "standard"}}
    raw = _raw(kubernetes=kubernetes)
    raw["kubernetes"]["cloud"] = raw.pop("cloud")
    plan, _ = validated_plan(raw, set(), "stacks/Pulumi.test.yaml")
    assert plan.deployments[0].on_kubernetes.progressive is not None


def test_a_stopped_progressive_canary_is_refused() -> None:
    found = _issues(_raw(_deployment(state="stopped")))
    assert "remove progressive first" in found["deployments[0].state"]


def test_pools_are_refused_at_their_key() -> None:
    deployment = _deployment(pools=[{"name": "big", "gpu": {"type": "L4"}, "replicas": 2}])
    del deployment["gpu"]
    found = _issues(_raw(deployment))
    assert "remove pools" in found["deployments[0].pools"]


def test_an_engine_without_the_series_is_refused_naming_those_with_it() -> None:
    found = _issues(_raw(_deployment(engine="sglang")))
    message = found["deployments[0].rollout.progressive.maxErrorRate"]
    assert "sglang exports no failed-request series" in message and "vllm" in message
    assert "deployments[0].rollout.progressive.maxLatencyP95" not in found


@pytest.mark.parametrize(
    ("rollout", "where", "words"),
    [
        ({"canaryWeight": 10}, "canaryWeight", "Flagger sets the canary's weight"),
        ({"active": "blue"}, "active", "remove active and slots"),
        ({"strategy": "blue-green"}, "progressive", "applies to strategy canary only"),
        ({"progressive": {"steps": [25, 10], "maxErrorRate": 1}}, "steps", "grow strictly"),
        ({"progressive": {"steps": [10, 10], "maxErrorRate": 1}}, "steps", "grow strictly"),
        ({"progressive": {"steps": [0], "maxErrorRate": 1}}, "steps[0]", "greater than or equal"),
        ({"progressive": {"steps": [100], "maxErrorRate": 1}}, "steps[0]", "less than or equal"),
        ({"progressive": {"steps": [], "maxErrorRate": 1}}, "steps", "at least 1"),
        ({"progressive": {"steps": [10], "maxErrorRate": 1, "interval": "5min"}}, "interval",
         'a duration such as "5m"'),
        ({"progressive": {"steps": [10], "maxErrorRate": 1, "interval": "30s"}}, "interval",
         "outside 1m to 1h"),
        ({"progressive": {"steps": [10], "maxErrorRate": 1, "interval": "2h"}}, "interval",
         "outside 1m to 1h"),
        ({"progressive": {"steps": [10]}}, "maxErrorRate", "without a check"),
        ({"progressive": {"steps": [10], "maxErrorRate": 0}}, "maxErrorRate", "greater than 0"),
    ],
)  # fmt: skip
def test_rollout_keys_are_checked_at_their_key_paths(
    rollout: dict[str, Any], where: str, words: str
) -> None:
    deployment = _deployment()
    deployment["rollout"].update(rollout)
    found = _issues(_raw(deployment))
    matching = {
        path: message
        for path, message in found.items()
        if path.startswith("deployments[0].rollout") and path.endswith(where)
    }
    assert any(words in message for message in matching.values()), found


def test_the_readme_example_plans(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### A canary that moves by itself (Kubernetes)")[1]
    example = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    raw = {key.removeprefix("modelstack:"): value for key, value in example.items()}
    raw.setdefault("environment", "staging")
    raw.setdefault("target", "kubernetes")
    plan, _ = validated_plan(raw, set(), "stacks/Pulumi.test.yaml")
    progressive = plan.deployments[0].on_kubernetes.progressive
    assert progressive is not None and progressive.step_weights == (10, 25, 50)


def test_the_alerts_watch_flaggers_primary_too(tmp_path: Path) -> None:
    raw = _raw()
    raw["kubernetes"]["monitoring"] = {"enabled": True}
    rule = _objects(_render(tmp_path, raw))[("PrometheusRule", "llama-chat-alerts")]
    expressions = [r["expr"] for g in rule["spec"]["groups"] for r in g["rules"]]
    pods = [p for e in expressions for p in re.findall(r'pod=~"([^"]*)"', e)]
    assert pods and all(re.fullmatch(p, "llama-chat-primary-5d9c7b8f6-abcde") for p in pods)
    assert all(re.fullmatch(p, "llama-chat-5d9c7b8f6-abcde") for p in pods)


def test_the_objects_patches_are_checked_against_are_what_renders(tmp_path: Path) -> None:
    raw = _raw()
    rendered = [(o["kind"], o["metadata"]["name"]) for o in _render(tmp_path, raw).objects]
    raw["kubernetes"]["cloud"] = raw.pop("cloud")
    plan, _ = validated_plan(raw, set(), "stacks/Pulumi.test.yaml")
    listed = [(b["kind"], b["metadata"]["name"]) for b in deployment_objects(plan.deployments[0])]
    assert ("Canary", "llama-chat") in listed
    assert sorted(listed) == sorted(r for r in rendered if r[0] != "Namespace")
