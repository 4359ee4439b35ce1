"""The `autoscaling` block: every bad input reported at its key path, good input accepted."""

from __future__ import annotations

from typing import Any

import pytest

from components.cron_expressions import check_cron
from tests.support.autoscaling_stacks import (
    AUTOSCALING,
    GGUF,
    assert_one_issue,
    chat,
    plan_issues,
    scaling,
    spec_issues,
    stack,
)

BERLIN = "Europe/Berlin"
OFFICE = {"timezone": BERLIN, "start": "0 9 * * 1-5", "end": "0 18 * * 1-5", "minReplicas": 2}
GUIDED = {
    "timezone": BERLIN,
    "days": ["mon", "tue"],
    "wakeUp": "08:00",
    "coolDown": "19:00",
    "minReplicas": 2,
}


def window(**changes: Any) -> dict[str, Any]:
    merged = {**OFFICE, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def guided(**changes: Any) -> dict[str, Any]:
    merged = {**GUIDED, **changes}
    return {key: value for key, value in merged.items() if value is not None}


def policy(**changes: Any) -> dict[str, Any]:
    return {"type": "Pods", "value": 2, "periodSeconds": 60, **changes}


SPEC_CASES = [
    # -- range ---------------------------------------------------------------------------
    pytest.param(scaling(min=0), "min", ("at least 1", "scaleToZero.enabled"), id="min-zero"),
    pytest.param(scaling(min=5, max=4), "min", ("5 is above max (4)",), id="min-above-max"),
    pytest.param(scaling(max=None), "max", ("required",), id="max-missing"),
    pytest.param(scaling(max=0), "max", ("greater than or equal to 1",), id="max-zero"),
    # -- metrics -------------------------------------------------------------------------
    pytest.param(scaling(target=None), "target", ("required with metric",), id="metric-no-target"),
    pytest.param(
        scaling(metric=None), "metric", ("required with target",), id="target-without-metric"
    ),
    pytest.param(
        scaling(metrics=[{"type": "cpu", "target": 70}]),
        "metrics",
        ("not both",),
        id="shorthand-and-list",
    ),
    pytest.param(
        scaling(metric="rps"),
        "metric",
        ("cpu, memory", "latency, kv-cache, ttft, itl (got 'rps')"),
        id="unknown-metric",
    ),
    pytest.param(
        scaling(metric="cpu", target=150), "target", ("whole percent, 1 to 100",), id="cpu-150"
    ),
    pytest.param(
        scaling(metric=None, target=None, metrics=[{"type": "gpu", "target": 50.5}]),
        "metrics[0].target",
        ("whole percent",),
        id="gpu-fraction",
    ),
    pytest.param(
        scaling(metric="latency", target=5000), "target", ("at most 3600",), id="latency-ms"
    ),
    pytest.param(
        scaling(
            metric=None,
            target=None,
            metrics=[{"type": "cpu", "target": 70}, {"type": "queue", "target": 0}],
        ),
        "metrics[1].target",
        ("greater than 0",),
        id="queue-target-zero",
    ),
    pytest.param(
        scaling(
            metric=None,
            target=None,
            metrics=[{"type": "cpu", "target": 70}, {"type": "cpu", "target": 80}],
        ),
        "metrics[1].type",
        ("cpu is listed twice",),
        id="metric-twice",
    ),
    pytest.param(
        scaling(target="16"),
        "target",
        ("must be a number, not the text '16'",),
        id="target-as-text",
    ),
    # -- behavior -------------------------------------------------------------------------
    pytest.param(
        scaling(behavior={"scaleUp": {"stabilizationSeconds": 3601}}),
        "behavior.scaleUp.stabilizationSeconds",
        ("less than or equal to 3600",),
        id="stabilization-over-an-hour",
    ),
    pytest.param(
        scaling(behavior={"scaleDown": {"stabilizationSeconds": -1}}),
        "behavior.scaleDown.stabilizationSeconds",
        ("greater than or equal to 0",),
        id="stabilization-negative",
    ),
    pytest.param(
        scaling(behavior={"scaleDown": {"selectPolicy": "Maximum"}}),
        "behavior.scaleDown.selectPolicy",
        ("must be one of Max, Min, Disabled",),
        id="select-policy-unknown",
    ),
    pytest.param(
        scaling(behavior={"scaleUp": {"policies": [policy(type="Percent", value=150)]}}),
        "behavior.scaleUp.policies[0].value",
        ("a Percent policy is at most 100 (got 150)",),
        id="percent-over-100",
    ),
    pytest.param(
        scaling(behavior={"scaleUp": {"policies": [policy(), policy(periodSeconds=0)]}}),
        "behavior.scaleUp.policies[1].periodSeconds",
        ("greater than or equal to 1",),
        id="period-zero",
    ),
    pytest.param(
        scaling(behavior={"scaleDown": {"policies": [policy(periodSeconds=1801)]}}),
        "behavior.scaleDown.policies[0].periodSeconds",
        ("less than or equal to 1800",),
        id="period-over-1800",
    ),
    pytest.param(
        scaling(behavior={"scaleDown": {"policies": [policy(type="Replicas")]}}),
        "behavior.scaleDown.policies[0].type",
        ("must be one of Pods, Percent",),
        id="policy-type-unknown",
    ),
    pytest.param(
        scaling(behavior={"scaleUp": {"policies": [policy(value=0)]}}),
        "behavior.scaleUp.policies[0].value",
        ("greater than or equal to 1",),
        id="policy-value-zero",
    ),
    pytest.param(
        scaling(behavior={"scaleUp": {"policies": [{"type": "Pods", "value": 1}]}}),
        "behavior.scaleUp.policies[0].periodSeconds",
        ("required",),
        id="policy-period-missing",
    ),
    pytest.param(
        scaling(behavior={"scaleUp": {"stabilizationWindowSeconds": 30}}),
        "behavior.scaleUp.stabilizationWindowSeconds",
        ("did you mean 'stabilizationSeconds'?",),
        id="hpa-spelling-suggests-ours",
    ),
    pytest.param(
        scaling(behavior={"scaleup": {}}),
        "behavior.scaleup",
        ("did you mean 'scaleUp'?",),
        id="behavior-key-case",
    ),
    # -- scale to zero ----------------------------------------------------------------------
    pytest.param(
        scaling(scaleToZero={"enabled": True, "cooldownSeconds": 10}),
        "scaleToZero.cooldownSeconds",
        ("greater than or equal to 30",),
        id="cooldown-too-short",
    ),
    pytest.param(
        scaling(scaleToZero={"enabled": True}, schedule=[OFFICE], outsideWindows="zero"),
        "scaleToZero.enabled",
        ("mutually exclusive", "outsideWindows: zero"),
        id="zero-twice",
    ),
    pytest.param(
        scaling(outsideWindows="zero"),
        "outsideWindows",
        ("applies to schedule windows",),
        id="zero-outside-no-windows",
    ),
    # -- schedule windows ----------------------------------------------------------------------
    pytest.param(
        scaling(schedule=[window(timezone="Mars/Olympus_Mons")]),
        "schedule[0].timezone",
        ("'Mars/Olympus_Mons' is not an IANA time zone",),
        id="timezone-unknown",
    ),
    pytest.param(
        scaling(schedule=[OFFICE, window(timezone="CET+1")]),
        "schedule[1].timezone",
        ("not an IANA time zone",),
        id="timezone-malformed",
    ),
    pytest.param(
        scaling(schedule=[window(start="0 25 * * 1-5")]),
        "schedule[0].start",
        ("hour 25 is out of range 0-23",),
        id="cron-hour-25",
    ),
    pytest.param(
        scaling(schedule=[window(end="0 18 * *")]),
        "schedule[0].end",
        ("has 4 fields; a cron expression has 5",),
        id="cron-four-fields",
    ),
    pytest.param(
        scaling(schedule=[window(start="0 9 * * 1-7")]),
        "schedule[0].start",
        ("day of week (0 = Sunday) 7 is out of range 0-6",),
        id="cron-weekday-7",
    ),
    pytest.param(
        scaling(schedule=[window(start="*/0 9 * * 1-5")]),
        "schedule[0].start",
        ("step '/0'",),
        id="cron-step-zero",
    ),
    pytest.param(
        scaling(schedule=[window(start="0 9 * * fri-mon")]),
        "schedule[0].start",
        ("runs backwards",),
        id="cron-range-backwards",
    ),
    pytest.param(
        scaling(schedule=[window(end="0 9 * * 1-5")]),
        "schedule[0].end",
        ("same as start",),
        id="window-start-equals-end",
    ),
    pytest.param(
        scaling(schedule=[window(minReplicas=9)], max=10),
        "schedule[0].minReplicas",
        ("less than or equal to 8",),
        id="window-min-over-8",
    ),
    pytest.param(
        scaling(schedule=[window(minReplicas=0)]),
        "schedule[0].minReplicas",
        ("greater than or equal to 1",),
        id="window-min-zero",
    ),
    pytest.param(
        scaling(schedule=[OFFICE, window(minReplicas=6)], max=4),
        "schedule[1].minReplicas",
        ("6 is above max (4)",),
        id="window-min-above-max",
    ),
    pytest.param(
        scaling(schedule=[window(days=["mon"])]),
        "schedule[0].days",
        ("not both",),
        id="window-two-forms",
    ),
    pytest.param(
        scaling(schedule=[window(end=None)]),
        "schedule[0].end",
        ("required with start",),
        id="window-start-only",
    ),
    pytest.param(
        scaling(schedule=[guided(coolDown=None)]),
        "schedule[0].coolDown",
        ("required with days, wakeUp",),
        id="guided-without-cool-down",
    ),
    pytest.param(
        scaling(schedule=[{"timezone": BERLIN, "minReplicas": 2}]),
        "schedule[0].start",
        ("required: start and end cron expressions, or days + wakeUp + coolDown",),
        id="window-without-times",
    ),
    pytest.param(
        scaling(schedule=[guided(wakeUp="25:00")]),
        "schedule[0].wakeUp",
        ("'25:00' is not a time of day such as \"08:00\"",),
        id="guided-hour-25",
    ),
    pytest.param(
        scaling(schedule=[guided(coolDown=64800)]),
        "schedule[0].coolDown",
        ('write times quoted, e.g. "18:00"',),
        id="guided-unquoted-time",
    ),
    pytest.param(
        scaling(schedule=[guided(days=["mon", "mon"])]),
        "schedule[0].days",
        ("lists a day twice",),
        id="guided-day-twice",
    ),
    pytest.param(
        scaling(schedule=[guided(days=["monday"])]),
        "schedule[0].days[0]",
        ("one of mon, tue", "got 'monday'"),
        id="guided-day-spelled-out",
    ),
    pytest.param(
        scaling(schedule=[guided(coolDown="08:00")]),
        "schedule[0].coolDown",
        ("same as wakeUp",),
        id="guided-empty-window",
    ),
]


@pytest.mark.parametrize(("block", "key", "fragments"), SPEC_CASES)
def test_spec_errors_name_their_key_path(
    block: dict[str, Any], key: str, fragments: tuple[str, ...]
) -> None:
    assert_one_issue(spec_issues(stack(chat(block))), f"{AUTOSCALING}.{key}", *fragments)


def test_every_autoscaling_error_of_every_deployment_is_reported_at_once() -> None:
    raw = stack(
        chat(scaling(min=0)),
        chat(scaling(schedule=[window(start="0 9 * * 8")]), name="second"),
    )
    paths = [issue.path for issue in spec_issues(raw)]
    assert paths == [
        "deployments[0].autoscaling.min",
        "deployments[1].autoscaling.schedule[0].start",
    ]


def test_keda_http_add_on_namespace_is_checked() -> None:
    raw = stack(chat(scaling()), kubernetes={"kedaHttpAddOn": {"namespace": "KEDA"}})
    assert_one_issue(spec_issues(raw), "kubernetes.kedaHttpAddOn.namespace", "not a DNS-1123 label")


@pytest.mark.parametrize(
    "block",
    [
        scaling(),
        scaling(min=None),
        scaling(metric=None, target=None, metrics=[{"type": "cpu", "target": 70}]),
        scaling(metric="latency", target=2.5),
        scaling(schedule=[OFFICE, guided()], outsideWindows="zero"),
        scaling(scaleToZero={"enabled": True, "cooldownSeconds": 600}),
        scaling(
            behavior={
                "scaleUp": {
                    "stabilizationSeconds": 0,
                    "selectPolicy": "Disabled",
                    "policies": [policy(type="Percent", value=100, periodSeconds=1800)],
                },
                "scaleDown": {"stabilizationSeconds": 3600, "policies": [policy(periodSeconds=1)]},
            }
        ),
    ],
    ids=[
        "shorthand",
        "min-from-environment",
        "list",
        "fractional-latency",
        "both-window-forms",
        "scale-to-zero",
        "behavior-at-its-limits",
    ],
)
def test_valid_blocks_are_accepted(block: dict[str, Any]) -> None:
    assert spec_issues(stack(chat(block))) == []


@pytest.mark.parametrize(
    "expression",
    ["0 9 * * 1-5", "*/15 8-18 1,15 jan-jun *", "30 6 * * MON-FRI", "0 0 1 */3 0", "5/10 * * * *"],
)
def test_cron_expressions_keda_accepts(expression: str) -> None:
    assert check_cron(expression) == expression


@pytest.mark.parametrize(
    ("expression", "reason"),
    [
        ("60 9 * * *", "minute 60 is out of range 0-59"),
        ("0 9 0 * *", "day of month 0 is out of range 1-31"),
        ("0 9 * 13 *", "month 13 is out of range 1-12"),
        ("0 9 * * 1-5 2026", "has 6 fields"),
        ("@daily", "has 1 fields"),
        ("0 9 * * mon-", "not a value, range, list or step"),
        ("0 9 L * *", "day of month 'l' is not a number"),
    ],
)
def test_cron_expressions_keda_refuses(expression: str, reason: str) -> None:
    with pytest.raises(ValueError, match=reason):
        check_cron(expression)


# -- rules that need the plan: engine, hardware, environment, cluster settings --------------

PLAN_CASES = [
    pytest.param(
        stack(chat(scaling(), replicas=2)),
        "deployments[0].replicas",
        ("set replicas or autoscaling, not both",),
        id="replicas-and-autoscaling",
    ),
    pytest.param(
        stack(chat(scaling(), gpu=None, pools=[{"name": "a", "gpu": {"type": "L4"}}])),
        AUTOSCALING,
        ("with pools is not supported",),
        id="pools",
    ),
    pytest.param(
        stack(chat(scaling()), kubernetes={"namespace": "ml"}),
        f"{AUTOSCALING}.metric",
        ("read from Prometheus", "kubernetes", "prometheus"),
        id="no-prometheus",
    ),
    pytest.param(
        stack(
            chat(scaling(metric=None, target=None, metrics=[{"type": "gpu", "target": 80}])),
            kubernetes={"namespace": "ml"},
        ),
        f"{AUTOSCALING}.metrics[0].type",
        ("gpu is read from Prometheus",),
        id="gpu-needs-prometheus",
    ),
    pytest.param(
        stack(chat(scaling(), model={"source": "ollama://llama3.2:3b"}, engine="ollama")),
        f"{AUTOSCALING}.metric",
        ("ollama exports no request metrics", "cpu or memory"),
        id="ollama-requests",
    ),
    pytest.param(
        stack(
            chat(
                scaling(metric=None, target=None, metrics=[{"type": "throughput", "target": 2}]),
                model={"source": GGUF, "parameters": "3B"},
                engine="llamacpp",
                gpu=None,
            )
        ),
        f"{AUTOSCALING}.metrics[0].type",
        ("llamacpp exports no series for throughput", "concurrency, queue"),
        id="llamacpp-throughput",
    ),
    pytest.param(
        stack(
            chat(
                scaling(metric="latency", target=3),
                model={"source": GGUF, "parameters": "3B"},
                engine="llamacpp",
                gpu=None,
            )
        ),
        f"{AUTOSCALING}.metric",
        ("no series for latency",),
        id="llamacpp-latency",
    ),
    pytest.param(
        stack(
            chat(
                scaling(metric="gpu", target=70),
                model={"source": GGUF, "parameters": "3B"},
                engine="llamacpp",
                gpu=None,
            )
        ),
        f"{AUTOSCALING}.metric",
        ("DCGM exporter", "runs on CPU"),
        id="gpu-on-cpu",
    ),
    pytest.param(
        stack(chat(scaling(metric="gpu", target=70), gpu={"type": "MI300X", "count": 1})),
        f"{AUTOSCALING}.metric",
        ("on AMD GPUs",),
        id="gpu-on-amd",
    ),
    pytest.param(
        stack(chat(scaling(min=1)), environment="prod"),
        f"{AUTOSCALING}.min",
        ("prod runs at least 2 replicas (got 1)",),
        id="prod-min",
    ),
    pytest.param(
        stack(chat(scaling(min=None, max=1)), environment="prod"),
        f"{AUTOSCALING}.max",
        ("below prod's default of 2 replicas",),
        id="prod-default-min-above-max",
    ),
    pytest.param(
        stack(chat(scaling(min=2, scaleToZero={"enabled": True})), environment="prod"),
        f"{AUTOSCALING}.scaleToZero.enabled",
        ("prod keeps at least 2 replicas serving",),
        id="prod-scale-to-zero",
    ),
    pytest.param(
        stack(chat(scaling(min=2, schedule=[OFFICE], outsideWindows="zero")), environment="prod"),
        f"{AUTOSCALING}.outsideWindows",
        ("use outsideWindows: range",),
        id="prod-zero-outside-windows",
    ),
    pytest.param(
        stack(chat(scaling(metric=None, target=None))),
        f"{AUTOSCALING}.metric",
        ("required: a metric to scale on",),
        id="nothing-to-scale-on",
    ),
]


@pytest.mark.parametrize(("raw", "path", "fragments"), PLAN_CASES)
def test_plan_errors_name_their_key_path(
    raw: dict[str, Any], path: str, fragments: tuple[str, ...]
) -> None:
    assert_one_issue(plan_issues(raw), path, *fragments)


def test_docker_still_refuses_autoscaling() -> None:
    raw = stack(
        chat(scaling(), model={"source": GGUF, "parameters": "3B"}, engine="llamacpp", gpu=None),
        target="docker",
        kubernetes=None,
    )
    assert_one_issue(
        plan_issues(raw), AUTOSCALING, "not available on the docker target: set replicas"
    )


def test_schedule_alone_is_enough_to_scale_on() -> None:
    assert plan_issues(stack(chat(scaling(metric=None, target=None, schedule=[OFFICE])))) == []
