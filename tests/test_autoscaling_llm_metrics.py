"""Autoscaling on the metrics that matter for LLMs (issue 14 item 4): KV-cache use, p95 time
to first token, p95 inter-token latency; each from the engine's own series, over the slot's
pods, refused with the engines that export it where the engine does not."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.catalog.engines import ENGINES
from components.offline.schema_validation import SchemaValidator
from components.planning.autoscaling import exporters_of
from tests.conftest import deployments_of, render_document, stack_document, with_changes
from tests.support.autoscaling_stacks import (
    AUTOSCALING,
    GGUF,
    assert_one_issue,
    chat,
    plan_issues,
    plan_of,
    scaling,
    spec_issues,
    stack,
)
from tests.support.hostile import check_promql

SELECTOR = 'namespace="ml",pod=~"chat-[a-z0-9]+-[a-z0-9]+"'
LLM_METRICS = [
    {"type": "kv-cache", "target": 70},
    {"type": "ttft", "target": 2},
    {"type": "itl", "target": 0.1},
]


def _p95(bucket: str) -> str:
    return (
        f"histogram_quantile(0.95, sum by (le) (rate({bucket}{{{SELECTOR}}}[2m]))) > 0 or vector(0)"
    )


@pytest.mark.parametrize(
    ("engine", "kv_cache", "ttft", "itl"),
    [
        (
            "vllm",
            "vllm:kv_cache_usage_perc",
            "vllm:time_to_first_token_seconds_bucket",
            "vllm:inter_token_latency_seconds_bucket",
        ),
        (
            "sglang",
            "sglang:token_usage",
            "sglang:time_to_first_token_seconds_bucket",
            "sglang:inter_token_latency_seconds_bucket",
        ),
    ],
)
def test_llm_metrics_read_the_engines_series_over_the_slots_pods(
    engine: str, kv_cache: str, ttft: str, itl: str
) -> None:
    block = scaling(metric=None, target=None, metrics=LLM_METRICS)
    (slot,) = plan_of(stack(chat(block, engine=engine))).slots
    assert slot.autoscaling is not None
    metrics = {metric.type: metric for metric in slot.autoscaling.metrics}
    assert {name: metric.query for name, metric in metrics.items()} == {
        # A share (0-1) averaged over the pods, held at a percent.
        "kv-cache": f"avg({kv_cache}{{{SELECTOR}}}) * 100 or vector(0)",
        "ttft": _p95(ttft),
        "itl": _p95(itl),
    }
    # Each is one figure for the workload: KEDA compares it with the target as is.
    assert {metric.metric_type for metric in metrics.values()} == {"Value"}
    assert [metric.target for metric in metrics.values()] == [70, 2, 0.1]
    for metric in metrics.values():
        assert metric.query is not None
        check_promql(metric.query)


def test_tgi_scales_on_its_mean_time_per_token() -> None:
    (slot,) = plan_of(stack(chat(scaling(metric="itl", target=0.05), engine="tgi"))).slots
    assert slot.autoscaling is not None
    (metric,) = slot.autoscaling.metrics
    assert metric.query == _p95("tgi_request_mean_time_per_token_duration_bucket")


@pytest.mark.parametrize(
    ("engine", "metric", "exporters"),
    [
        ("tgi", "kv-cache", "vllm, sglang export it"),
        ("tgi", "ttft", "vllm, sglang export it"),
        ("llamacpp", "itl", "vllm, sglang, tgi export it"),
    ],
)
def test_an_engine_without_the_series_is_refused_naming_those_with_it(
    engine: str, metric: str, exporters: str
) -> None:
    changes = {"model": {"source": GGUF, "parameters": "3B"}, "gpu": None}
    deployment = chat(
        scaling(metric=metric, target=50),
        engine=engine,
        **(changes if engine == "llamacpp" else {}),
    )
    assert_one_issue(
        plan_issues(stack(deployment)),
        f"{AUTOSCALING}.metric",
        f"{engine} exports no series for {metric}",
        exporters,
    )


def test_ollama_is_refused_naming_the_engines_that_export_the_metric() -> None:
    deployment = chat(
        scaling(metric="kv-cache", target=80),
        model={"source": "ollama://llama3.2:3b"},
        engine="ollama",
    )
    assert_one_issue(
        plan_issues(stack(deployment)),
        f"{AUTOSCALING}.metric",
        "ollama exports no request metrics",
        "vllm, sglang export kv-cache",
    )


def test_exporters_follow_the_catalog() -> None:
    for metric, field in (("kv-cache", "kv_cache_usage"), ("ttft", "ttft_bucket")):
        assert exporters_of(metric) == [
            name
            for name, engine in ENGINES.items()
            if engine.request_metrics and getattr(engine.request_metrics, field)
        ]


@pytest.mark.parametrize(
    ("metric", "target", "words"),
    [
        ("kv-cache", 0.8, "a kv-cache utilization target is a whole percent, 1 to 100"),
        ("kv-cache", 120, "a kv-cache utilization target is a whole percent, 1 to 100"),
        ("ttft", 5000, "a p95 ttft target in seconds, at most 3600"),
        ("itl", 4000, "a p95 itl target in seconds, at most 3600"),
    ],
)
def test_targets_are_checked_in_their_units(metric: str, target: float, words: str) -> None:
    assert_one_issue(
        spec_issues(stack(chat(scaling(metric=metric, target=target)))),
        f"{AUTOSCALING}.target",
        words,
    )


def test_the_scaled_object_holds_kv_cache_and_ttft_and_is_schema_valid(
    tmp_path: Path, schema_validator: SchemaValidator
) -> None:
    def change(document: dict[str, Any]) -> None:
        deployments_of(document)[0]["autoscaling"] = {
            "min": 1,
            "max": 4,
            "metrics": [{"type": "kv-cache", "target": 75}, {"type": "ttft", "target": 1.5}],
        }

    render = render_document(tmp_path, with_changes(stack_document("staging"), change))
    (scaled,) = [o for o in render.objects if o["kind"] == "ScaledObject"]
    triggers = {trigger["name"]: trigger for trigger in scaled["spec"]["triggers"]}
    assert {name: t["metricType"] for name, t in triggers.items()} == {
        "kv-cache": "Value",
        "ttft": "Value",
    }
    assert triggers["kv-cache"]["metadata"]["threshold"] == "75"
    assert triggers["ttft"]["metadata"]["threshold"] == "1.5"
    assert "vllm:kv_cache_usage_perc" in triggers["kv-cache"]["metadata"]["query"]
    for trigger in triggers.values():
        assert trigger["type"] == "prometheus"
        check_promql(trigger["metadata"]["query"])
    assert schema_validator.validate(scaled) == []


def test_the_readme_example_plans_three_triggers(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("### Autoscaling on KV-cache use and token latency")[1]
    example = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    (chat,) = example["modelstack:deployments"]

    def change(document: dict[str, Any]) -> None:
        deployments_of(document)[0].update(chat)

    render = render_document(tmp_path, with_changes(stack_document("staging"), change))
    (scaled,) = [o for o in render.objects if o["kind"] == "ScaledObject"]
    assert [t["name"] for t in scaled["spec"]["triggers"]] == ["kv-cache", "ttft", "itl"]
