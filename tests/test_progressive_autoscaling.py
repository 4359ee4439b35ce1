"""A progressive canary with autoscaling: the Canary names the target's autoscaler
(`autoscalerRef`), Flagger copies it to `<name>-primary`, and the copy's Prometheus triggers
get queries of their own over the primary's pods (`primaryScalerQueries`)."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from components.diff.compare import compare
from components.offline.schema_validation import SchemaValidator
from components.planning.stack_validation import validated_plan
from tests.support.hostile import check_promql
from tests.test_progressive_delivery import _deployment, _issues, _objects, _raw, _render

CANDIDATE_POD = "llama-chat-5d9c7b8f6-abcde"
PRIMARY_POD = "llama-chat-primary-5d9c7b8f6-abcde"
WINDOW = {"start": "0 8 * * 1-5", "end": "0 18 * * 1-5", "timezone": "UTC", "minReplicas": 3}


def _autoscaled(**autoscaling: Any) -> dict[str, Any]:
    deployment = _deployment(autoscaling={"min": 2, "max": 4, **autoscaling})
    del deployment["replicas"]
    return deployment


def _every_trigger() -> dict[str, Any]:
    metrics = [
        {"type": "queue", "target": 4},
        {"type": "latency", "target": 2},
        {"type": "gpu", "target": 70},
        {"type": "cpu", "target": 80},
    ]
    return _autoscaled(metrics=metrics, schedule=[WINDOW])


def _pod_patterns(query: str) -> list[str]:
    return re.findall(r'pod=~"([^"]*)"', query)


def test_the_canary_names_the_scaled_object_flagger_copies(
    tmp_path: Path, schema_validator: SchemaValidator
) -> None:
    objects = _objects(_render(tmp_path, _raw(_every_trigger())))
    canary = objects[("Canary", "llama-chat")]
    scaled = objects[("ScaledObject", "llama-chat")]
    assert schema_validator.validate_all([canary, scaled]) == []
    reference = canary["spec"]["autoscalerRef"]
    assert {k: v for k, v in reference.items() if k != "primaryScalerQueries"} == {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "name": "llama-chat",
    }
    # modelstack's ScaledObject stays over the candidate; Flagger's copy is not rendered.
    assert scaled["spec"]["scaleTargetRef"]["name"] == "llama-chat"
    assert ("ScaledObject", "llama-chat-primary") not in objects
    # Flagger pauses it between analyses by this annotation: modelstack never sets it here.
    assert "annotations" not in scaled["metadata"]


def test_every_query_trigger_gets_the_primarys_query_by_name(tmp_path: Path) -> None:
    objects = _objects(_render(tmp_path, _raw(_every_trigger())))
    triggers = objects[("ScaledObject", "llama-chat")]["spec"]["triggers"]
    queries = objects[("Canary", "llama-chat")]["spec"]["autoscalerRef"]["primaryScalerQueries"]
    # Flagger matches by trigger name and leaves unnamed or unlisted triggers' queries alone.
    with_query = {t["name"]: t["metadata"]["query"] for t in triggers if "query" in t["metadata"]}
    assert sorted(queries) == sorted(with_query) == ["gpu", "latency", "queue"]
    assert len({t["name"] for t in triggers}) == len(triggers)
    for name, primary_query in queries.items():
        check_promql(primary_query)
        patterns = _pod_patterns(primary_query)
        assert patterns, primary_query
        for pattern in patterns:
            assert re.fullmatch(pattern, PRIMARY_POD), (name, pattern)
            assert not re.fullmatch(pattern, CANDIDATE_POD), (name, pattern)
        for pattern in _pod_patterns(with_query[name]):
            assert re.fullmatch(pattern, CANDIDATE_POD) and not re.fullmatch(pattern, PRIMARY_POD)
        # The same query otherwise: the same builder, another workload.
        assert re.sub(r'pod=~"[^"]*"', "", primary_query) == re.sub(
            r'pod=~"[^"]*"', "", with_query[name]
        )
        assert 'namespace="ml-staging"' in primary_query


def test_schedule_windows_carry_over_to_the_primary(tmp_path: Path) -> None:
    """A cron trigger has no query: Flagger's copy keeps it as is, so both copies follow the
    windows (the candidate only while an analysis resumes its ScaledObject)."""
    deployment = _autoscaled(metric="queue", target=4, schedule=[WINDOW])
    objects = _objects(_render(tmp_path, _raw(deployment)))
    triggers = objects[("ScaledObject", "llama-chat")]["spec"]["triggers"]
    assert [t["type"] for t in triggers] == ["prometheus", "cron"]
    reference = objects[("Canary", "llama-chat")]["spec"]["autoscalerRef"]
    assert list(reference["primaryScalerQueries"]) == ["queue"]


def test_cpu_alone_is_an_hpa_flagger_copies_without_queries(
    tmp_path: Path, schema_validator: SchemaValidator
) -> None:
    objects = _objects(_render(tmp_path, _raw(_autoscaled(metric="cpu", target=70))))
    canary = objects[("Canary", "llama-chat")]
    assert schema_validator.validate_all([canary]) == []
    assert canary["spec"]["autoscalerRef"] == {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "name": "llama-chat",
    }
    assert ("HorizontalPodAutoscaler", "llama-chat") in objects


def test_the_plan_lists_flaggers_copy_among_what_it_owns() -> None:
    raw = _raw(_autoscaled(metric="queue", target=4))
    raw["kubernetes"]["cloud"] = raw.pop("cloud")
    plan, _ = validated_plan(raw, set(), "stacks/Pulumi.test.yaml")
    progressive = plan.deployments[0].on_kubernetes.progressive
    assert progressive is not None and progressive.autoscaler is not None
    assert ("ScaledObject", "llama-chat-primary") in progressive.flagger_owns
    assert progressive.autoscaler.primary_name == "llama-chat-primary"


def test_the_diff_says_what_scales_the_primary(tmp_path: Path) -> None:
    fixed = _render(tmp_path / "fixed", _raw())
    scaled = _render(tmp_path / "scaled", _raw(_autoscaled(metric="queue", target=4)))
    summary = compare(fixed, scaled).summary
    assert (
        "llama-chat: progressive canary: primary at the target's replicas -> primary "
        "autoscaled by Flagger's copy of ScaledObject llama-chat" in summary
    ), summary
    assert "llama-chat: new ScaledObject llama-chat" in summary, summary


def test_fixed_replicas_render_no_autoscaler_reference(tmp_path: Path) -> None:
    canary = _objects(_render(tmp_path, _raw()))[("Canary", "llama-chat")]
    assert "autoscalerRef" not in canary["spec"]


@pytest.mark.parametrize(
    ("autoscaling", "where", "words"),
    [
        (
            {"metric": "queue", "target": 4, "scaleToZero": {"enabled": True}},
            "autoscaling.scaleToZero.enabled",
            "nothing would wake the primary",
        ),
        (
            {"metric": "queue", "target": 4, "schedule": [WINDOW], "outsideWindows": "zero"},
            "autoscaling.outsideWindows",
            "Flagger halts an analysis while the primary is at zero",
        ),
    ],
)
def test_what_would_idle_flaggers_primary_at_zero_is_refused(
    autoscaling: dict[str, Any], where: str, words: str
) -> None:
    found = _issues(_raw(_autoscaled(**autoscaling)))
    assert words in found[f"deployments[0].{where}"], found


def test_replicas_and_autoscaling_together_are_still_refused() -> None:
    deployment = _deployment(autoscaling={"min": 2, "max": 4, "metric": "queue", "target": 4})
    found = _issues(_raw(deployment))
    assert "not both" in found["deployments[0].replicas"]
