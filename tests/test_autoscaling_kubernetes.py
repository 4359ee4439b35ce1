"""Autoscalers as the cluster receives them: HPA, KEDA ScaledObject, HTTPScaledObject."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from components.kubernetes.manifests.autoscaler import NEVER_ACTIVATES
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from tests.conftest import (
    deployments_of,
    find_object,
    find_resource,
    render_document,
    stack_document,
    with_changes,
)

SCALED_OBJECT = "ScaledObject"
HPA = "HorizontalPodAutoscaler"
HTTP_SCALED_OBJECT = "HTTPScaledObject"
BERLIN_OFFICE = {"timezone": "Europe/Berlin", "start": "0 8 * * 1-5", "end": "0 19 * * 1-5"}


def _of_kind(render: Render, kind: str) -> list[dict[str, Any]]:
    return [o for o in render.objects if o["kind"] == kind]


def _staging(**autoscaling: Any) -> dict[str, Any]:
    """The staging stack with its chat deployment's autoscaling block replaced."""

    def change(document: dict[str, Any]) -> None:
        deployments_of(document)[0]["autoscaling"] = autoscaling

    return with_changes(stack_document("staging"), change)


def _prod_chat(**autoscaling: Any) -> dict[str, Any]:
    """The prod stack with its blue-green chat deployment autoscaled (instead of 2 replicas)."""

    def change(document: dict[str, Any]) -> None:
        chat = deployments_of(document)[0]
        del chat["replicas"]
        chat["autoscaling"] = autoscaling

    return with_changes(stack_document("prod"), change)


def _leaf_changes(before: Any, after: Any, path: str = "") -> list[str]:
    if isinstance(before, dict) and isinstance(after, dict):
        return [
            change
            for key in sorted(set(before) | set(after))
            for change in _leaf_changes(before.get(key), after.get(key), f"{path}.{key}")
        ]
    if isinstance(before, list) and isinstance(after, list) and len(before) == len(after):
        return [
            change
            for index, (old, new) in enumerate(zip(before, after, strict=True))
            for change in _leaf_changes(old, new, f"{path}[{index}]")
        ]
    return [] if before == after else [path]


def _changes(before: Render, after: Render) -> dict[str, list[str]]:
    old, new = before.object_files(), after.object_files()
    return {
        name: _leaf_changes(old.get(name), new.get(name))
        for name in sorted(set(old) | set(new))
        if old.get(name) != new.get(name)
    }


@pytest.fixture(scope="module")
def renders(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Render]:
    """The committed stacks and variants that between them render every autoscaler kind."""
    documents = {
        "staging": stack_document("staging"),
        "prod": stack_document("prod"),
        "hpa": _staging(
            min=1, max=4, metrics=[{"type": "cpu", "target": 70}, {"type": "memory", "target": 80}]
        ),
        "zero": _staging(
            min=1,
            max=3,
            metrics=[{"type": "concurrency", "target": 24}, {"type": "gpu", "target": 85}],
            scaleToZero={"enabled": True, "cooldownSeconds": 900},
        ),
        "windows-only": _staging(
            min=1,
            max=3,
            metric="queue",
            target=4,
            schedule=[{**BERLIN_OFFICE, "minReplicas": 2}],
            outsideWindows="zero",
        ),
        "blue-green": _prod_chat(min=2, max=6, metric="latency", target=8),
        "blue-green-hpa": _prod_chat(min=2, max=6, metric="cpu", target=75),
    }
    return {
        name: render_document(tmp_path_factory.mktemp(name), document)
        for name, document in documents.items()
    }


# -- the committed stacks ---------------------------------------------------------------------


def test_staging_scales_on_concurrency_and_its_deployment_carries_no_replicas(
    renders: dict[str, Render],
) -> None:
    render = renders["staging"]
    scaled = find_object(render, SCALED_OBJECT, "llama-chat")
    assert scaled["spec"]["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llama-chat",
    }
    assert (scaled["spec"]["minReplicaCount"], scaled["spec"]["maxReplicaCount"]) == (1, 3)
    assert scaled["spec"]["triggers"] == [
        {
            "type": "prometheus",
            "name": "concurrency",
            "metricType": "AverageValue",
            "metadata": {
                "serverAddress": "http://prometheus.monitoring:9090",
                "query": 'sum(vllm:num_requests_running{namespace="ml-staging",'
                'pod=~"llama-chat-[a-z0-9]+-[a-z0-9]+"}) or vector(0)',
                "threshold": "24",
            },
        }
    ]
    assert "idleReplicaCount" not in scaled["spec"]
    assert "replicas" not in find_object(render, "Deployment", "llama-chat")["spec"]
    assert _of_kind(render, HPA) == [] and _of_kind(render, HTTP_SCALED_OBJECT) == []


def test_prod_scales_the_70b_on_its_queue_with_weekday_windows_and_behavior(
    renders: dict[str, Render],
) -> None:
    render = renders["prod"]
    written = deployments_of(stack_document("prod"))[1]["autoscaling"]
    spec = find_object(render, SCALED_OBJECT, "llama-70b")["spec"]
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (written["min"], written["max"])
    queue, *windows = spec["triggers"]
    assert queue["metadata"]["query"].startswith("sum(vllm:num_requests_waiting{")
    assert queue["metadata"]["threshold"] == str(written["target"])
    assert windows == [
        {
            "type": "cron",
            "name": "window-0",
            "metadata": {
                "timezone": "Europe/Berlin",
                "start": "0 8 * * 1,2,3,4,5",
                "end": "0 19 * * 1,2,3,4,5",
                "desiredReplicas": "4",
            },
        },
        {
            "type": "cron",
            "name": "window-1",
            "metadata": {
                "timezone": "America/New_York",
                "start": "0 9 * * 1-5",
                "end": "0 17 * * 1-5",
                "desiredReplicas": "3",
            },
        },
    ]
    # Behavior one to one: our names become HPA's, values and order unchanged.
    behavior = spec["advanced"]["horizontalPodAutoscalerConfig"]["behavior"]
    for direction in ("scaleUp", "scaleDown"):
        ours = written["behavior"][direction]
        assert behavior[direction] == {
            "stabilizationWindowSeconds": ours["stabilizationSeconds"],
            "selectPolicy": ours["selectPolicy"],
            "policies": ours["policies"],
        }
    assert "replicas" not in find_object(render, "Deployment", "llama-70b")["spec"]


def test_deployments_with_fixed_replicas_keep_them_and_get_no_autoscaler(
    renders: dict[str, Render],
) -> None:
    render = renders["prod"]
    for name in ("llama-chat-blue", "llama-chat-green", "summarizer-cpu"):
        assert find_object(render, "Deployment", name)["spec"]["replicas"] == 2
    scaled = {
        o["metadata"]["name"] for o in _of_kind(render, SCALED_OBJECT) + _of_kind(render, HPA)
    }
    assert scaled == {"llama-70b"}


def test_custom_resources_are_registered_under_the_deployments_component(
    renders: dict[str, Render],
) -> None:
    scaled = find_resource(renders["prod"], "kubernetes:keda.sh/v1alpha1:ScaledObject", "llama-70b")
    assert scaled["parent"].endswith("ModelDeployment::llama-70b")
    holder = find_resource(
        renders["zero"],
        "kubernetes:http.keda.sh/v1alpha1:HTTPScaledObject",
        "llama-chat-interceptor",
    )
    assert holder["parent"].endswith("ModelDeployment::llama-chat")
    hpa = find_resource(
        renders["hpa"], "kubernetes:autoscaling/v2:HorizontalPodAutoscaler", "llama-chat"
    )
    assert hpa["parent"].endswith("ModelDeployment::llama-chat")


# -- HPA and the highest recommendation ----------------------------------------------------------


def test_cpu_and_memory_become_an_hpa_with_a_metric_each(renders: dict[str, Render]) -> None:
    render = renders["hpa"]
    assert _of_kind(render, SCALED_OBJECT) == []
    spec = find_object(render, HPA, "llama-chat")["spec"]
    assert spec["scaleTargetRef"] == {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "name": "llama-chat",
    }
    assert (spec["minReplicas"], spec["maxReplicas"]) == (1, 4)
    # One entry per metric: the HPA computes a count for each and keeps the highest.
    assert spec["metrics"] == [
        {
            "type": "Resource",
            "resource": {
                "name": "cpu",
                "target": {"type": "Utilization", "averageUtilization": 70},
            },
        },
        {
            "type": "Resource",
            "resource": {
                "name": "memory",
                "target": {"type": "Utilization", "averageUtilization": 80},
            },
        },
    ]
    assert spec["behavior"] == {
        "scaleUp": {"stabilizationWindowSeconds": 60, "selectPolicy": "Max"},
        "scaleDown": {"stabilizationWindowSeconds": 180, "selectPolicy": "Min"},
    }
    assert "replicas" not in find_object(render, "Deployment", "llama-chat")["spec"]


def test_every_metric_and_window_is_its_own_trigger_so_the_highest_count_wins(
    tmp_path: Path,
) -> None:
    document = _staging(
        min=2,
        max=8,
        metrics=[
            {"type": "cpu", "target": 70},
            {"type": "memory", "target": 80},
            {"type": "gpu", "target": 60},
            {"type": "concurrency", "target": 16},
            {"type": "latency", "target": 6.5},
        ],
        schedule=[
            {**BERLIN_OFFICE, "minReplicas": 4},
            {
                "timezone": "Europe/Berlin",
                "days": ["mon"],
                "wakeUp": "10:00",
                "coolDown": "12:00",
                "minReplicas": 6,
            },
        ],
    )
    spec = find_object(render_document(tmp_path, document), SCALED_OBJECT, "llama-chat")["spec"]
    triggers = {t["name"]: t for t in spec["triggers"]}
    assert list(triggers) == [
        "cpu",
        "memory",
        "gpu",
        "concurrency",
        "latency",
        "window-0",
        "window-1",
    ]
    assert triggers["cpu"] == {
        "type": "cpu",
        "name": "cpu",
        "metricType": "Utilization",
        "metadata": {"value": "70"},
    }
    assert triggers["memory"]["metadata"] == {"value": "80"}
    assert triggers["gpu"]["metadata"]["query"].startswith("sum(DCGM_FI_DEV_GPU_UTIL{")
    assert triggers["latency"]["metricType"] == "Value"
    assert triggers["latency"]["metadata"]["threshold"] == "6.5"
    # Overlapping windows each ask for their own minimum; KEDA's HPA takes the larger one.
    assert [triggers[f"window-{i}"]["metadata"]["desiredReplicas"] for i in (0, 1)] == ["4", "6"]
    # No formula combines the triggers: that would replace "highest wins".
    assert "scalingModifiers" not in spec["advanced"]
    # The range still bounds every trigger, windows included.
    assert (spec["minReplicaCount"], spec["maxReplicaCount"]) == (2, 8)


# -- zero ---------------------------------------------------------------------------------


def test_scale_to_zero_holds_requests_at_the_interceptor(renders: dict[str, Render]) -> None:
    render = renders["zero"]
    spec = find_object(render, SCALED_OBJECT, "llama-chat")["spec"]
    # Zero while every trigger is idle; at least one replica once a request arrives.
    assert (spec["idleReplicaCount"], spec["minReplicaCount"], spec["cooldownPeriod"]) == (
        0,
        1,
        900,
    )
    triggers = {t["name"]: t for t in spec["triggers"]}
    assert triggers["held-requests"] == {
        "type": "external-push",
        "name": "held-requests",
        "metadata": {
            "scalerAddress": "keda-add-ons-http-external-scaler.keda:9090",
            "httpScaledObject": "llama-chat-interceptor",
        },
    }
    # Requests wake the workload; the GPU's idle activity must not.
    assert "activationThreshold" not in triggers["concurrency"]["metadata"]
    assert triggers["gpu"]["metadata"]["activationThreshold"] == NEVER_ACTIVATES

    holder = find_object(render, HTTP_SCALED_OBJECT, "llama-chat-interceptor")
    assert holder["metadata"]["annotations"] == {
        "httpscaledobject.keda.sh/skip-scaledobject-creation": "true"
    }
    assert holder["spec"] == {
        "hosts": ["llama-chat.ml-staging.svc.cluster.local"],
        "scaleTargetRef": {
            "apiVersion": "apps/v1",
            "kind": "Deployment",
            "name": "llama-chat",
            "service": "llama-chat",
            "port": 80,
        },
        "scalingMetric": {"concurrency": {"targetValue": 24}},
        "timeouts": {"conditionWait": "1800s", "responseHeader": "300s"},
    }
    assert "replicas" not in find_object(render, "Deployment", "llama-chat")["spec"]


def test_scale_to_zero_lets_the_interceptor_through_the_network_policy(
    renders: dict[str, Render],
) -> None:
    def peers(render: Render) -> list[str]:
        policy = find_object(render, "NetworkPolicy", "llama-chat-engines")
        return [
            peer["namespaceSelector"]["matchLabels"]["kubernetes.io/metadata.name"]
            for peer in policy["spec"]["ingress"][0]["from"]
        ]

    assert "keda" in peers(renders["zero"])
    assert "keda" not in peers(renders["staging"])


def test_zero_outside_windows_only_windows_wake_the_workload(renders: dict[str, Render]) -> None:
    render = renders["windows-only"]
    spec = find_object(render, SCALED_OBJECT, "llama-chat")["spec"]
    assert (spec["idleReplicaCount"], spec["cooldownPeriod"]) == (0, 300)
    queue, window = spec["triggers"]
    assert queue["metadata"]["activationThreshold"] == NEVER_ACTIVATES
    assert window["type"] == "cron" and "activationThreshold" not in window["metadata"]
    assert _of_kind(render, HTTP_SCALED_OBJECT) == []


# -- blue-green -------------------------------------------------------------------------------


def test_blue_green_serving_slot_scales_and_idle_slot_is_held(renders: dict[str, Render]) -> None:
    render = renders["blue-green"]
    blue = find_object(render, SCALED_OBJECT, "llama-chat-blue")
    green = find_object(render, SCALED_OBJECT, "llama-chat-green")
    assert "annotations" not in blue["metadata"]
    # idle: keep holds the idle slot at min, through KEDA rather than spec.replicas.
    assert green["metadata"]["annotations"] == {"autoscaling.keda.sh/paused-replicas": "2"}
    assert green["spec"]["scaleTargetRef"]["name"] == "llama-chat-green"
    for slot in ("blue", "green"):
        assert "replicas" not in find_object(render, "Deployment", f"llama-chat-{slot}")["spec"]


def test_an_hpa_holds_the_idle_slot_with_min_equal_to_max(renders: dict[str, Render]) -> None:
    render = renders["blue-green-hpa"]
    blue = find_object(render, HPA, "llama-chat-blue")["spec"]
    green = find_object(render, HPA, "llama-chat-green")["spec"]
    assert (blue["minReplicas"], blue["maxReplicas"]) == (2, 6)
    assert (green["minReplicas"], green["maxReplicas"]) == (2, 2)


def test_idle_scale_to_zero_pauses_the_idle_slot_at_zero(tmp_path: Path) -> None:
    def idle_to_zero(document: dict[str, Any]) -> None:
        deployments_of(document)[0]["rollout"]["idle"] = "scale-to-zero"

    document = with_changes(_prod_chat(min=2, max=6, metric="cpu", target=75), idle_to_zero)
    render = render_document(tmp_path, document)
    assert _of_kind(render, HPA) == []  # an HPA cannot hold zero
    green = find_object(render, SCALED_OBJECT, "llama-chat-green")
    assert green["metadata"]["annotations"] == {"autoscaling.keda.sh/paused-replicas": "0"}


def test_a_switch_moves_the_pause_and_never_touches_a_deployment(
    tmp_path: Path, renders: dict[str, Render]
) -> None:
    def switch(document: dict[str, Any]) -> None:
        deployments_of(document)[0]["rollout"]["active"] = "green"

    after = render_document(
        tmp_path, with_changes(_prod_chat(min=2, max=6, metric="latency", target=8), switch)
    )
    assert _changes(renders["blue-green"], after) == {
        "kubernetes/scaledobject-llama-chat-blue.yaml": [".metadata.annotations"],
        "kubernetes/scaledobject-llama-chat-green.yaml": [".metadata.annotations"],
        "kubernetes/service-llama-chat.yaml": [".spec.selector.modelstack.io/slot"],
    }
    assert renders["blue-green"].resources == after.resources


# -- routine changes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("variant", "deployment", "change", "changed_file", "fields"),
    [
        (
            "staging",
            0,
            {"min": 2, "max": 5},
            "kubernetes/scaledobject-llama-chat.yaml",
            [".spec.maxReplicaCount", ".spec.minReplicaCount"],
        ),
        (
            "prod",
            1,
            {"max": 8},
            "kubernetes/scaledobject-llama-70b.yaml",
            [".spec.maxReplicaCount"],
        ),
        (
            "hpa",
            0,
            {"min": 2},
            "kubernetes/horizontalpodautoscaler-llama-chat.yaml",
            [".spec.minReplicas"],
        ),
    ],
)
def test_a_scale_change_touches_only_the_autoscaler(
    tmp_path: Path,
    renders: dict[str, Render],
    variant: str,
    deployment: int,
    change: dict[str, int],
    changed_file: str,
    fields: list[str],
) -> None:
    base = {
        "staging": stack_document("staging"),
        "prod": stack_document("prod"),
        "hpa": _staging(
            min=1, max=4, metrics=[{"type": "cpu", "target": 70}, {"type": "memory", "target": 80}]
        ),
    }[variant]

    def scale(document: dict[str, Any]) -> None:
        deployments_of(document)[deployment]["autoscaling"].update(change)

    after = render_document(tmp_path, with_changes(base, scale))
    assert _changes(renders[variant], after) == {changed_file: fields}
    # Same resources with the same options: nothing created, deleted or replaced.
    assert renders[variant].resources == after.resources


# -- schemas --------------------------------------------------------------------------------


def test_everything_rendered_is_valid_against_the_real_schemas(
    renders: dict[str, Render], schema_validator: SchemaValidator
) -> None:
    kinds: set[str] = set()
    for name, render in renders.items():
        assert schema_validator.validate_all(render.objects) == [], name
        kinds |= {o["kind"] for o in render.objects}
    # Every autoscaler kind was among what got checked.
    assert {SCALED_OBJECT, HPA, HTTP_SCALED_OBJECT} <= kinds


def test_the_schemas_would_catch_a_misspelt_trigger_field(
    renders: dict[str, Render], schema_validator: SchemaValidator
) -> None:
    scaled = find_object(renders["staging"], SCALED_OBJECT, "llama-chat")
    broken = with_changes(scaled, lambda o: o["spec"].update(minReplicas=1))
    assert [v.field for v in schema_validator.validate(broken)] == ["spec.minReplicas"]
