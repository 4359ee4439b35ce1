"""The autoscaling plan: metrics per engine, kinds, slots, windows, zero, behavior."""

from __future__ import annotations

import re
from dataclasses import replace
from typing import Any

import pytest

from components.catalog.engines import ENGINES
from components.cron_expressions import guided_window
from components.plan import DeploymentPlan
from components.planning.autoscaling import (
    DEFAULT_INTERCEPTOR_CONCURRENCY,
    AutoscalingContext,
    plan_autoscaling,
)
from components.planning.autoscaling_plan import (
    AutoscalingPlan,
    ScalingPolicyPlan,
    ScalingRulesPlan,
)
from components.planning.scaling_queries import pod_selector
from components.spec import KubernetesSettings
from components.spec_autoscaling import AutoscalingSpec
from tests.support.autoscaling_stacks import GGUF, PROMETHEUS, chat, plan_of, scaling, stack

SELECTOR = 'namespace="ml",pod=~"chat-[a-z0-9]+-[a-z0-9]+"'
ALL_REQUEST_METRICS = [
    {"type": "concurrency", "target": 8},
    {"type": "queue", "target": 2},
    {"type": "throughput", "target": 1.5},
    {"type": "latency", "target": 4},
]


def only(plan: DeploymentPlan) -> AutoscalingPlan:
    """The autoscaler of a one-slot deployment."""
    (slot,) = plan.slots
    assert slot.autoscaling is not None
    return slot.autoscaling


def metrics_block(*metrics: dict[str, Any], **changes: Any) -> dict[str, Any]:
    return scaling(metric=None, target=None, metrics=list(metrics), **changes)


def blue_green(idle: str = "keep") -> dict[str, Any]:
    return {"strategy": "blue-green", "active": "blue", "idle": idle}


# -- which series each engine's metrics read --------------------------------------------------


@pytest.mark.parametrize(
    ("engine", "expected"),
    [
        (
            "vllm",
            {
                "concurrency": f"sum(vllm:num_requests_running{{{SELECTOR}}}) or vector(0)",
                "queue": f"sum(vllm:num_requests_waiting{{{SELECTOR}}}) or vector(0)",
                "throughput": f"sum(rate(vllm:request_success_total{{{SELECTOR}}}[2m]))"
                " or vector(0)",
                "latency": "histogram_quantile(0.95, sum by (le) (rate("
                f"vllm:e2e_request_latency_seconds_bucket{{{SELECTOR}}}[2m]))) > 0 or vector(0)",
            },
        ),
        (
            "sglang",
            {
                "concurrency": f"sum(sglang:num_running_reqs{{{SELECTOR}}}) or vector(0)",
                "queue": f"sum(sglang:num_queue_reqs{{{SELECTOR}}}) or vector(0)",
                "throughput": "sum(rate("
                f"sglang:e2e_request_latency_seconds_count{{{SELECTOR}}}[2m])) or vector(0)",
                "latency": "histogram_quantile(0.95, sum by (le) (rate("
                f"sglang:e2e_request_latency_seconds_bucket{{{SELECTOR}}}[2m]))) > 0 or vector(0)",
            },
        ),
        (
            "tgi",
            {
                "concurrency": f"sum(tgi_batch_current_size{{{SELECTOR}}}) or vector(0)",
                "queue": f"sum(tgi_queue_size{{{SELECTOR}}}) or vector(0)",
                "throughput": f"sum(rate(tgi_request_duration_count{{{SELECTOR}}}[2m]))"
                " or vector(0)",
                "latency": "histogram_quantile(0.95, sum by (le) (rate("
                f"tgi_request_duration_bucket{{{SELECTOR}}}[2m]))) > 0 or vector(0)",
            },
        ),
    ],
)
def test_each_request_metric_reads_the_engines_own_series(
    engine: str, expected: dict[str, str]
) -> None:
    plan = only(plan_of(stack(chat(metrics_block(*ALL_REQUEST_METRICS), engine=engine))))
    assert {metric.type: metric.query for metric in plan.metrics} == expected
    kinds = {metric.type: metric.metric_type for metric in plan.metrics}
    # Sums over replicas are held per replica; p95 latency is one figure, scaled in proportion.
    assert kinds == {
        "concurrency": "AverageValue",
        "queue": "AverageValue",
        "throughput": "AverageValue",
        "latency": "Value",
    }
    assert [metric.target for metric in plan.metrics] == [8, 2, 1.5, 4]
    assert plan.kind == "keda" and plan.prometheus == PROMETHEUS


def test_llamacpp_scales_on_running_and_deferred_requests() -> None:
    block = metrics_block({"type": "concurrency", "target": 2}, {"type": "queue", "target": 1})
    deployment = chat(
        block, model={"source": GGUF, "parameters": "3B"}, engine="llamacpp", gpu=None
    )
    queries = [metric.query for metric in only(plan_of(stack(deployment))).metrics]
    assert queries == [
        f"sum(llamacpp:requests_processing{{{SELECTOR}}}) or vector(0)",
        f"sum(llamacpp:requests_deferred{{{SELECTOR}}}) or vector(0)",
    ]


def test_pod_pattern_matches_only_the_workloads_own_pods() -> None:
    # PromQL anchors =~ at both ends, like fullmatch.
    pattern = re.compile(re.search(r'pod=~"([^"]+)"', pod_selector("ml", "chat"))[1])
    assert pattern.fullmatch("chat-7d9f8b6c5-x2k4q")
    # Another slot, a deployment whose name starts the same, the loader Job's pod.
    for other in (
        "chat-blue-7d9f8b6c5-x2k4q",
        "chatty-7d9f8b6c5-x2k4q",
        "chat-fetch-1a2b3c4d-abcde",
    ):
        assert not pattern.fullmatch(other), other


def test_gpu_utilization_reads_dcgm_under_either_label_spelling() -> None:
    block = metrics_block({"type": "gpu", "target": 70})
    plan = only(plan_of(stack(chat(block, gpu={"type": "L4", "count": 2}))))
    (metric,) = plan.metrics
    pods = '"chat-[a-z0-9]+-[a-z0-9]+"'
    assert metric.query == (
        f'sum(DCGM_FI_DEV_GPU_UTIL{{namespace="ml",pod=~{pods}}} or '
        f'DCGM_FI_DEV_GPU_UTIL{{exported_namespace="ml",exported_pod=~{pods}}}) / 2 or vector(0)'
    )
    assert metric.metric_type == "AverageValue" and metric.target == 70
    assert metric.wakes is False


def test_one_gpu_needs_no_division() -> None:
    plan = only(plan_of(stack(chat(metrics_block({"type": "gpu", "target": 70})))))
    assert "/ " not in (plan.metrics[0].query or "")


# -- HPA or KEDA --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("block", "rollout", "kind"),
    [
        (metrics_block({"type": "cpu", "target": 70}), None, "hpa"),
        (
            metrics_block({"type": "cpu", "target": 70}, {"type": "memory", "target": 80}),
            None,
            "hpa",
        ),
        (metrics_block({"type": "cpu", "target": 70}), blue_green("keep"), "hpa"),
        (
            metrics_block({"type": "cpu", "target": 70}, {"type": "concurrency", "target": 8}),
            None,
            "keda",
        ),
        (
            metrics_block({"type": "memory", "target": 80}, {"type": "gpu", "target": 60}),
            None,
            "keda",
        ),
        (
            metrics_block(
                {"type": "cpu", "target": 70},
                schedule=[
                    {"timezone": "UTC", "start": "0 8 * * *", "end": "0 20 * * *", "minReplicas": 2}
                ],
            ),
            None,
            "keda",
        ),
        (metrics_block({"type": "cpu", "target": 70}, scaleToZero={"enabled": True}), None, "keda"),
        # HPA cannot hold the idle slot at zero: both slots use KEDA.
        (metrics_block({"type": "cpu", "target": 70}), blue_green("scale-to-zero"), "keda"),
    ],
    ids=[
        "cpu",
        "cpu-memory",
        "cpu-blue-green-keep",
        "cpu-concurrency",
        "memory-gpu",
        "cpu-window",
        "cpu-zero",
        "cpu-blue-green-idle-zero",
    ],
)
def test_hpa_only_for_cpu_and_memory_with_nothing_else_asked(
    block: dict[str, Any], rollout: dict[str, Any] | None, kind: str
) -> None:
    plan = plan_of(stack(chat(block, rollout=rollout)))
    assert {slot.autoscaling.kind for slot in plan.slots if slot.autoscaling} == {kind}


def test_resource_metrics_carry_no_query() -> None:
    block = metrics_block({"type": "cpu", "target": 70}, {"type": "memory", "target": 80})
    metrics = only(plan_of(stack(chat(block)))).metrics
    assert [(m.type, m.target, m.query, m.metric_type) for m in metrics] == [
        ("cpu", 70, None, "Utilization"),
        ("memory", 80, None, "Utilization"),
    ]


# -- range, slots ----------------------------------------------------------------------------


def test_min_defaults_to_the_environments_replica_count() -> None:
    assert (
        only(plan_of(stack(chat(scaling(min=None, max=6)), environment="prod"))).min_replicas == 2
    )
    assert only(plan_of(stack(chat(scaling(min=None, max=6))))).min_replicas == 1


def test_autoscaled_slot_reports_its_floor_as_replicas() -> None:
    (slot,) = plan_of(stack(chat(scaling(min=3, max=5)))).slots
    assert slot.replicas == 3


@pytest.mark.parametrize(("idle", "held"), [("keep", 2), ("scale-to-zero", 0)])
def test_serving_slot_scales_and_idle_slot_keeps_its_own_setting(idle: str, held: int) -> None:
    plan = plan_of(stack(chat(scaling(min=2, max=6), rollout=blue_green(idle))))
    by_slot = {slot.slot: slot for slot in plan.slots}
    blue, green = by_slot["blue"], by_slot["green"]
    assert blue.autoscaling and green.autoscaling
    assert blue.autoscaling.held_replicas is None and blue.autoscaling.serving
    assert (green.autoscaling.held_replicas, green.replicas) == (held, held)
    # Each slot's autoscaler reads its own pods.
    assert 'pod=~"chat-blue-' in (blue.autoscaling.metrics[0].query or "")
    assert 'pod=~"chat-green-' in (green.autoscaling.metrics[0].query or "")
    assert (blue.autoscaling.workload, green.autoscaling.workload) == ("chat-blue", "chat-green")


def test_switching_moves_serving_and_holding_between_slots() -> None:
    def slots_after(active: str) -> dict[str, int | None]:
        rollout = {**blue_green(), "active": active}
        plan = plan_of(stack(chat(scaling(min=2, max=6), rollout=rollout)))
        return {s.slot: s.autoscaling.held_replicas for s in plan.slots if s.autoscaling}

    assert slots_after("blue") == {"blue": None, "green": 2}
    assert slots_after("green") == {"blue": 2, "green": None}


# -- windows ---------------------------------------------------------------------------------


def test_windows_keep_their_timezones_and_guided_windows_become_cron() -> None:
    block = scaling(
        max=6,
        schedule=[
            {
                "timezone": "Europe/Berlin",
                "start": "0 9 * * 1-5",
                "end": "0 18 * * 1-5",
                "minReplicas": 4,
            },
            {
                "timezone": "America/New_York",
                "days": ["fri", "mon", "wed"],
                "wakeUp": "07:30",
                "coolDown": "16:05",
                "minReplicas": 3,
            },
        ],
    )
    windows = only(plan_of(stack(chat(block)))).windows
    assert [(w.timezone, w.start, w.end, w.min_replicas) for w in windows] == [
        ("Europe/Berlin", "0 9 * * 1-5", "0 18 * * 1-5", 4),
        ("America/New_York", "30 7 * * 1,3,5", "5 16 * * 1,3,5", 3),
    ]


def test_overnight_windows_end_on_the_next_day() -> None:
    assert guided_window(["fri", "sun"], "22:00", "06:00") == ("0 22 * * 0,5", "0 6 * * 1,6")
    # Sunday night ends on Monday morning (day 0 wraps to 1), Saturday night on Sunday.
    assert guided_window(["sat"], "23:15", "01:00") == ("15 23 * * 6", "0 1 * * 0")
    # Same-day windows keep their days.
    assert guided_window(["sat"], "01:00", "23:15") == ("0 1 * * 6", "15 23 * * 6")


def test_zero_outside_windows_lets_only_windows_wake_the_workload() -> None:
    block = scaling(
        schedule=[{"timezone": "UTC", "start": "0 8 * * *", "end": "0 20 * * *", "minReplicas": 2}],
        outsideWindows="zero",
    )
    plan = only(plan_of(stack(chat(block))))
    assert (plan.idle_replicas, plan.cooldown_seconds, plan.min_replicas) == (0, 300, 1)
    assert [metric.wakes for metric in plan.metrics] == [False]
    assert plan.request_holding is None


# -- scale to zero -------------------------------------------------------------------------------


def test_scale_to_zero_holds_requests_through_the_add_on() -> None:
    block = metrics_block(
        {"type": "concurrency", "target": 12.4},
        {"type": "gpu", "target": 80},
        scaleToZero={"enabled": True, "cooldownSeconds": 900},
    )
    raw = stack(
        chat(block, startupTimeoutSeconds=2400),
        kubernetes={
            "namespace": "ml",
            "prometheus": PROMETHEUS,
            "kedaHttpAddOn": {"namespace": "autoscale"},
        },
    )
    plan = only(plan_of(raw))
    assert (plan.idle_replicas, plan.cooldown_seconds, plan.min_replicas) == (0, 900, 1)
    # Requests wake the workload; an idle GPU's residual activity must not keep it up.
    assert {m.type: m.wakes for m in plan.metrics} == {"concurrency": True, "gpu": False}
    holding = plan.request_holding
    assert holding is not None
    assert holding.name == "chat-interceptor"
    assert (holding.workload, holding.service, holding.port) == ("chat", "chat", 80)
    assert holding.host == "chat.ml.svc.cluster.local"
    assert holding.interceptor == "keda-add-ons-http-interceptor-proxy.autoscale:8080"
    assert holding.scaler_address == "keda-add-ons-http-external-scaler.autoscale:9090"
    assert holding.concurrency_target == 12
    # A held request waits as long as a model may take to load, not the add-on's 20 s.
    assert holding.condition_wait_seconds == 2400
    assert holding.response_header_seconds == 300


def test_without_a_concurrency_target_the_add_on_gets_a_high_default() -> None:
    block = scaling(metric="queue", target=3, scaleToZero={"enabled": True})
    holding = only(plan_of(stack(chat(block)))).request_holding
    assert holding is not None and holding.concurrency_target == DEFAULT_INTERCEPTOR_CONCURRENCY


def test_blue_green_scale_to_zero_holds_requests_for_the_serving_slot_only() -> None:
    block = scaling(scaleToZero={"enabled": True})
    plan = plan_of(stack(chat(block, rollout=blue_green())))
    holders = {s.slot: s.autoscaling.request_holding for s in plan.slots if s.autoscaling}
    assert holders["green"] is None
    assert holders["blue"] is not None and holders["blue"].workload == "chat-blue"
    # Still one route per deployment: the Service it forwards to selects the serving slot.
    assert holders["blue"].service == "chat"


def test_two_serving_slots_cannot_share_the_request_holder() -> None:
    plan = plan_of(stack(chat(scaling(min=1, max=3), rollout=blue_green())))
    canary = [replace(slot, traffic_percent=50, autoscaling=None) for slot in plan.slots]
    context = AutoscalingContext(
        deployment="chat",
        namespace="ml",
        environment=plan.environment,
        engine=ENGINES["vllm"],
        idle="keep",
        slots=tuple(canary),
        kubernetes=KubernetesSettings.model_validate({"prometheus": PROMETHEUS}),
        replicas_set=False,
        has_pools=False,
        stable_service="chat",
        service_port=80,
        startup_timeout_seconds=1800,
        response_timeout_seconds=None,
    )
    spec = AutoscalingSpec.model_validate(scaling(scaleToZero={"enabled": True}))
    problems = plan_autoscaling(spec, context)
    assert problems == [
        (
            ("autoscaling", "scaleToZero", "enabled"),
            "requests are held for one serving workload; a canary serves two",
        )
    ]
    # Without scale to zero both canary slots scale (neither is held).
    plans = plan_autoscaling(AutoscalingSpec.model_validate(scaling()), context)
    assert isinstance(plans, dict) and all(p.serving for p in plans.values())


# -- behavior ---------------------------------------------------------------------------------


def test_behavior_defaults_are_60_and_180_seconds() -> None:
    plan = only(plan_of(stack(chat(scaling()))))
    assert plan.scale_up == ScalingRulesPlan(60, "Max")
    assert plan.scale_down == ScalingRulesPlan(180, "Min")


def test_behavior_is_taken_one_to_one() -> None:
    behavior = {
        "scaleUp": {
            "stabilizationSeconds": 0,
            "selectPolicy": "Min",
            "policies": [
                {"type": "Pods", "value": 4, "periodSeconds": 60},
                {"type": "Percent", "value": 100, "periodSeconds": 15},
            ],
        },
        "scaleDown": {"stabilizationSeconds": 900, "selectPolicy": "Disabled"},
    }
    plan = only(plan_of(stack(chat(scaling(behavior=behavior)))))
    assert plan.scale_up == ScalingRulesPlan(
        0, "Min", (ScalingPolicyPlan("Pods", 4, 60), ScalingPolicyPlan("Percent", 100, 15))
    )
    assert plan.scale_down == ScalingRulesPlan(900, "Disabled")
