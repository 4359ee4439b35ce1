"""Alerts (issue 16 item 2) and the LLM series behind them (issue 14 item 4): the catalog's
series per engine and GPU vendor, the `alerts` keys, the plan's PrometheusRule and its
expressions selecting this deployment's objects only."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
import yaml

from components.catalog.endpoint_picker import ENGINES as PICKER_ENGINES
from components.catalog.engines import ENGINES
from components.catalog.gpu_metrics import GPU_METRICS
from components.diff.compare import compare
from components.environments import ENVIRONMENTS
from components.kubernetes.manifests.alerts import duration, prometheus_rule
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from components.planning.alert_rules import plan_alerts
from components.planning.alerts_plan import AlertsPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.spec import StackSpec
from components.stack_config import SpecError, parse_stack_spec
from tests.conftest import deployments_of, render_document, stack_document, with_changes
from tests.support.hostile import check_promql

GGUF = "hf://Qwen/Qwen2.5-0.5B-Instruct-GGUF/qwen2.5-0.5b-instruct-q4_k_m.gguf"
MONITORED = {"monitoring": {"enabled": True, "serviceMonitorLabels": {"release": "kps"}}}

# -- the catalog ---------------------------------------------------------------------------

# (kv cache, ttft buckets, itl buckets) per engine at the pinned image version.
LLM_SERIES = {
    "vllm": (
        "vllm:kv_cache_usage_perc",
        "vllm:time_to_first_token_seconds_bucket",
        "vllm:inter_token_latency_seconds_bucket",
    ),
    "sglang": (
        "sglang:token_usage",
        "sglang:time_to_first_token_seconds_bucket",
        "sglang:inter_token_latency_seconds_bucket",
    ),
    "tgi": (None, None, "tgi_request_mean_time_per_token_duration_bucket"),
    "llamacpp": (None, None, None),
}


@pytest.mark.parametrize("engine", sorted(LLM_SERIES))
def test_each_engine_names_its_llm_series(engine: str) -> None:
    metrics = ENGINES[engine].request_metrics
    assert metrics is not None
    assert (metrics.kv_cache_usage, metrics.ttft_bucket, metrics.itl_bucket) == LLM_SERIES[engine]


def test_ollama_exports_nothing() -> None:
    assert ENGINES["ollama"].request_metrics is None


def test_the_endpoint_picker_reads_the_same_kv_cache_gauge() -> None:
    for name, picker in PICKER_ENGINES.items():
        metrics = ENGINES[name].request_metrics
        assert metrics is not None and picker.kv_cache_usage == metrics.kv_cache_usage


def test_gpu_vendors_name_utilization_and_memory_with_pod_labels() -> None:
    nvidia, amd = GPU_METRICS["nvidia"], GPU_METRICS["amd"]
    assert (nvidia.utilization, nvidia.memory_used, nvidia.memory_free) == (
        "DCGM_FI_DEV_GPU_UTIL",
        "DCGM_FI_DEV_FB_USED",
        "DCGM_FI_DEV_FB_FREE",
    )
    assert (amd.utilization, amd.memory_used, amd.memory_free) == (
        "gpu_gfx_activity",
        "gpu_used_vram",
        "gpu_free_vram",
    )
    assert {(g.pod_label, g.namespace_label) for g in GPU_METRICS.values()} == {
        ("pod", "namespace")
    }
    assert "cpu" not in GPU_METRICS


# -- the stack file ------------------------------------------------------------------------


def _raw(deployment: dict[str, Any] | None = None, **stack: Any) -> dict[str, Any]:
    return {
        "environment": stack.pop("environment", "prod"),
        "target": stack.pop("target", "kubernetes"),
        **stack,
        "deployments": [{"name": "chat", "model": {"source": GGUF}, **(deployment or {})}],
    }


@pytest.mark.parametrize(
    ("alerts", "where", "words"),
    [
        ({"for": "5min"}, "for", 'a duration such as "5m"'),
        ({"for": "30s"}, "for", "outside 1m to 24h"),
        ({"pendingFor": "2d"}, "pendingFor", "duration"),
        ({"errorRatePercent": 0}, "errorRatePercent", "greater than 0"),
        ({"errorRatePercent": 150}, "errorRatePercent", "less than or equal to 100"),
        ({"latencyP95Seconds": 7200}, "latencyP95Seconds", "less than or equal to 3600"),
        ({"enabled": "yes"}, "enabled", "true or false"),
        ({"severity": "page"}, "severity", "unknown key"),
    ],
)
def test_alert_keys_are_checked_at_their_key_paths(
    alerts: dict[str, Any], where: str, words: str
) -> None:
    for raw, path in (
        (_raw({"alerts": alerts}), f"deployments[0].alerts.{where}"),
        (
            _raw(kubernetes={"monitoring": {"enabled": True, "alerts": alerts}}),
            f"kubernetes.monitoring.alerts.{where}",
        ),
    ):
        with pytest.raises(SpecError) as raised:
            parse_stack_spec(raw, set(), "stacks/Pulumi.test.yaml")
        found = {issue.path: issue.message for issue in raised.value.issues}
        assert any(p.endswith(path) and words in m for p, m in found.items()), found


# -- the plan ------------------------------------------------------------------------------


def _context(deployment: dict[str, Any] | None = None, **stack: Any) -> PlanningContext:
    stack.setdefault("kubernetes", {"namespace": "ml", **MONITORED})
    spec = StackSpec.model_validate(_raw(deployment, **stack))
    return PlanningContext.of(spec, spec.deployments[0], 0)


def _plan(
    deployment: dict[str, Any] | None = None, engine: str = "vllm", **stack: Any
) -> tuple[AlertsPlan | None, IssueCollector]:
    issues = IssueCollector(0)
    ctx = _context(deployment, **stack)
    series = ENGINES[engine].request_metrics
    return plan_alerts(ctx, issues, series, ["chat-blue", "chat-green"]), issues


def _rules(plan: AlertsPlan | None) -> dict[str, Any]:
    assert plan is not None
    return {rule.alert: rule for rule in plan.rules}


def test_prod_alerts_by_default_with_strict_thresholds() -> None:
    plan, issues = _plan()
    assert not issues.issues
    rules = _rules(plan)
    assert set(rules) == {
        "ModelstackHighErrorRate",
        "ModelstackHighLatency",
        "ModelstackNoReadyReplicas",
        "ModelstackEnginePodPending",
    }
    prod = ENVIRONMENTS["prod"].alerts
    assert rules["ModelstackHighErrorRate"].expression.endswith(f"> {prod.error_rate_percent:g}")
    assert rules["ModelstackHighLatency"].for_seconds == prod.for_seconds
    assert rules["ModelstackEnginePodPending"].for_seconds == prod.pending_for_seconds
    assert plan is not None and plan.severity == "critical"
    assert plan.selector_labels == {"release": "kps"}
    assert plan.alert_labels == {"modelstack_deployment": "chat", "namespace": "ml"}


def test_environments_get_stricter_towards_prod() -> None:
    dev, staging, prod = (ENVIRONMENTS[name].alerts for name in ("dev", "staging", "prod"))
    assert not dev.enabled and staging.enabled and prod.enabled
    for looser, stricter in ((dev, staging), (staging, prod)):
        assert stricter.error_rate_percent < looser.error_rate_percent
        assert stricter.latency_p95_seconds < looser.latency_p95_seconds
        assert stricter.for_seconds < looser.for_seconds
        assert stricter.pending_for_seconds < looser.pending_for_seconds


def test_dev_has_no_alerts_unless_asked() -> None:
    assert _plan(environment="dev")[0] is None
    plan, _ = _plan({"alerts": {"enabled": True}}, environment="dev")
    assert plan is not None and plan.severity == "info"


def test_the_deployment_wins_over_the_stack_and_the_stack_over_the_environment() -> None:
    stack = {"namespace": "ml", "monitoring": {"enabled": True, "alerts": {"for": "2m"}}}
    stack["monitoring"]["alerts"]["errorRatePercent"] = 3
    plan, _ = _plan({"alerts": {"errorRatePercent": 0.5}}, kubernetes=stack)
    rules = _rules(plan)
    assert rules["ModelstackHighErrorRate"].expression.endswith("> 0.5")
    assert rules["ModelstackHighErrorRate"].for_seconds == 120
    latency = ENVIRONMENTS["prod"].alerts.latency_p95_seconds
    assert rules["ModelstackHighLatency"].expression.endswith(f"> {latency:g}")
    plan, _ = _plan({"alerts": {"enabled": False}}, kubernetes=stack)
    assert plan is None


def test_engines_without_the_series_get_only_the_cluster_alerts() -> None:
    for engine in ("llamacpp", "ollama"):
        assert set(_rules(_plan(engine=engine)[0])) == {
            "ModelstackNoReadyReplicas",
            "ModelstackEnginePodPending",
        }
    # SGLang has a latency histogram but no failure counter.
    assert "ModelstackHighErrorRate" not in _rules(_plan(engine="sglang")[0])
    assert "ModelstackHighLatency" in _rules(_plan(engine="sglang")[0])


def test_asking_for_alerts_without_monitoring_or_on_docker_is_refused() -> None:
    plan, issues = _plan({"alerts": {"enabled": True}}, kubernetes={"namespace": "ml"})
    assert plan is None
    assert [i.path for i in issues.issues] == ["deployments[0].alerts.enabled"]
    assert "set monitoring.enabled: true" in issues.issues[0].message
    plan, issues = _plan({"alerts": {"for": "5m"}}, target="docker", kubernetes={})
    assert plan is None
    assert [i.path for i in issues.issues] == ["deployments[0].alerts"]
    stack = {"namespace": "ml", "monitoring": {"alerts": {"enabled": True}}}
    plan, issues = _plan(kubernetes=stack)
    assert plan is None
    assert [i.path for i in issues.issues] == ["kubernetes.monitoring.alerts.enabled"]
    # Nothing asked, nothing refused.
    plan, issues = _plan(kubernetes={"namespace": "ml"})
    assert plan is None and not issues.issues


def test_cold_starts_wait_for_the_model_load() -> None:
    scaling = {"max": 3, "metric": "queue", "target": 4, "scaleToZero": {"enabled": True}}
    plan, _ = _plan({"autoscaling": scaling, "startupTimeoutSeconds": 2400}, environment="staging")
    assert _rules(plan)["ModelstackNoReadyReplicas"].for_seconds == 2400
    assert _rules(_plan()[0])["ModelstackNoReadyReplicas"].for_seconds == 300


# -- the expressions -----------------------------------------------------------------------


def _matchers(expression: str, label: str) -> set[str]:
    return set(re.findall(label + r'=~?"((?:[^"\\]|\\.)*)"', expression))


def test_every_expression_parses_as_promql() -> None:
    for engine in ("vllm", "sglang", "tgi", "llamacpp"):
        for rule in _rules(_plan(engine=engine)[0]).values():
            check_promql(rule.expression)


@pytest.mark.parametrize(
    ("label", "name", "selected"),
    [
        ("pod", "chat-blue-7c9f8d6b5-x2x4z", True),
        ("pod", "chat-green-7c9f8d6b5-x2x4z", True),
        ("pod", "chat-2-blue-7c9f8d6b5-x2x4z", False),
        ("pod", "chat-cache-loader-x2x4z", False),
        ("pod", "chat-blue-epp-7c9f8d6b5-x2x4z", False),
        ("deployment", "chat-blue", True),
        ("deployment", "chat-green", True),
        ("deployment", "chat-blue-epp", False),
        ("deployment", "chat", False),
    ],
)
def test_expressions_select_this_deployments_objects_only(
    label: str, name: str, selected: bool
) -> None:
    rules = _rules(_plan()[0])
    for rule in rules.values():
        assert _matchers(rule.expression, "namespace") == {"ml"}
        for pattern in _matchers(rule.expression, label):
            # PromQL anchors =~ at both ends, like fullmatch.
            assert (re.fullmatch(pattern, name) is not None) == selected, (rule.alert, pattern)
    assert 'phase="Pending"' in rules["ModelstackEnginePodPending"].expression
    assert "kube_deployment_spec_replicas" in rules["ModelstackNoReadyReplicas"].expression


# -- the PrometheusRule --------------------------------------------------------------------


def test_the_rule_is_schema_valid_and_selected_like_the_service_monitor(schema_validator) -> None:
    plan = _plan()[0]
    assert plan is not None
    deployment = SimpleNamespace(name="chat", namespace="ml", tags={"team": "a"})
    rule = prometheus_rule(deployment, plan)  # type: ignore[arg-type]
    assert schema_validator.validate(rule) == []
    assert rule["metadata"]["labels"]["release"] == "kps"
    alerts = rule["spec"]["groups"][0]["rules"]
    assert {a["for"] for a in alerts} == {"5m", "15m"}
    assert all(a["labels"]["severity"] == "critical" for a in alerts)


@pytest.mark.parametrize(
    ("seconds", "text"), [(60, "1m"), (300, "5m"), (3600, "1h"), (5400, "90m"), (90, "90s")]
)
def test_durations_render_in_their_largest_whole_unit(seconds: int, text: str) -> None:
    assert duration(seconds) == text


# -- rendered stacks -----------------------------------------------------------------------


def _rules_of(render: Render) -> dict[str, dict[str, Any]]:
    return {o["metadata"]["name"]: o for o in render.objects if o["kind"] == "PrometheusRule"}


def test_prod_renders_one_valid_rule_per_deployment_over_its_own_workloads(
    tmp_path: Path, schema_validator: SchemaValidator
) -> None:
    render = render_document(tmp_path, stack_document("prod"))
    rules = _rules_of(render)
    names = [d["name"] for d in deployments_of(stack_document("prod"))]
    assert sorted(rules) == sorted(f"{name}-alerts" for name in names)
    assert schema_validator.validate_all(list(rules.values())) == []
    workloads = {
        o["metadata"]["name"]: o["metadata"]["labels"]["modelstack.io/deployment"]
        for o in render.objects
        if o["kind"] == "Deployment"
    }
    for name in names:
        rule = rules[f"{name}-alerts"]
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        own = sorted(w for w, owner in workloads.items() if owner == name)
        for alert in rule["spec"]["groups"][0]["rules"]:
            check_promql(alert["expr"])
            for pattern in _matchers(alert["expr"], "deployment"):
                assert sorted(w for w in workloads if re.fullmatch(pattern, w)) == own
            for pattern in _matchers(alert["expr"], "pod"):
                pods = [f"{w}-5d9c7b8f6-abcde" for w in workloads]
                selected = [p for p in pods if re.fullmatch(pattern, p)]
                assert selected == [f"{w}-5d9c7b8f6-abcde" for w in workloads if w in own]


def _render(directory: Path, document: dict[str, Any]) -> Render:
    directory.mkdir()
    return render_document(directory, document)


def test_dev_renders_no_rule_and_staging_warns(tmp_path: Path) -> None:
    assert not _rules_of(_render(tmp_path / "dev", stack_document("dev")))
    staging = _rules_of(_render(tmp_path / "staging", stack_document("staging")))
    (rule,) = staging.values()
    alerts = rule["spec"]["groups"][0]["rules"]
    assert {a["labels"]["severity"] for a in alerts} == {"warning"}
    assert {a["for"] for a in alerts} == {"10m", "30m"}


def test_the_diff_says_new_rules_and_changed_thresholds_in_words(tmp_path: Path) -> None:
    def alerts(settings: dict[str, Any]) -> Callable[[dict[str, Any]], None]:
        def change(document: dict[str, Any]) -> None:
            deployments_of(document)[0]["alerts"] = settings

        return change

    staging = stack_document("staging")
    off = _render(tmp_path / "off", with_changes(staging, alerts({"enabled": False})))
    on = _render(tmp_path / "on", staging)
    assert "llama-chat: new alert rules llama-chat-alerts" in compare(off, on).summary
    stricter = alerts({"errorRatePercent": 2.5, "for": "3m"})
    changed = _render(tmp_path / "changed", with_changes(staging, stricter))
    (line,) = compare(on, changed).summary
    assert line.startswith("llama-chat-alerts: alerts: ModelstackHighErrorRate above 5 -> 2.5")
    assert "for 10m -> 3m" in line


def _readme_example(heading: str) -> dict[str, Any]:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split(heading)[1]
    return yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])


def test_the_readme_example_renders_its_thresholds(tmp_path: Path) -> None:
    example = _readme_example("### Alerts (Kubernetes)")
    document = stack_document("prod")
    document["config"]["modelstack:kubernetes"].update(example["modelstack:kubernetes"])
    (override,) = example["modelstack:deployments"]
    (target,) = [d for d in deployments_of(document) if d["name"] == override["name"]]
    target.update(override)
    rules = _rules_of(render_document(tmp_path, document))
    expressions = {
        (name, alert["alert"]): (alert["expr"], alert["for"])
        for name, rule in rules.items()
        for alert in rule["spec"]["groups"][0]["rules"]
    }
    assert expressions[("llama-70b-alerts", "ModelstackHighLatency")][0].endswith("> 60")
    assert expressions[("llama-chat-alerts", "ModelstackHighLatency")][0].endswith("> 20")
    assert expressions[("llama-chat-alerts", "ModelstackHighErrorRate")][0].endswith("> 2")
    assert expressions[("llama-chat-alerts", "ModelstackEnginePodPending")][1] == "20m"


def test_many_rules_take_the_fast_path_too(schema_validator: SchemaValidator) -> None:
    """Past enough objects of a kind, validation compiles a fast check: the PrometheusRule
    schema's `^(?i)...` pattern (RE2 flags after the anchor) must compile in Python."""
    check = schema_validator.fast_check_of("monitoring.coreos.com/v1", "PrometheusRule")
    assert check is not None
    plan = _plan()[0]
    assert plan is not None
    deployment = SimpleNamespace(name="chat", namespace="ml", tags={})
    rule = prometheus_rule(deployment, plan)  # type: ignore[arg-type]
    assert check(rule)
    rule["spec"]["groups"][0]["rules"][0]["for"] = "5 minutes"
    assert not check(rule)
