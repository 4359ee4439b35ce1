"""Each guardrail as a pure function: a passing and a violating case on minimal wire-format
objects (camelCase, as the render and the Pulumi engine see them)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from components.guardrails.caches import check_cache_protected, check_cache_retained
from components.guardrails.container_resources import check_container_resources
from components.guardrails.definitions import OptionNotVisible
from components.guardrails.disruption_budgets import check_disruption_budgets
from components.guardrails.env_secrets import check_env_secrets, looks_secret
from components.guardrails.gpu_placement import check_gpu_placement
from components.guardrails.images import check_pinned_images, image_problem
from components.guardrails.offline import kubernetes_type
from components.guardrails.probes import check_engine_probes
from components.guardrails.replicas import check_replicas
from components.guardrails.route_timeouts import check_route_timeouts, duration_seconds
from components.guardrails.scaling import AutoscalerIndex, autoscalers
from components.guardrails.selector_index import SelectorIndex
from components.guardrails.selectors import selects
from components.guardrails.subject import ResourceOptions, Subject

NAMESPACE = "ml-prod"
PROBE = {"httpGet": {"path": "/health", "port": "http"}}
RESOURCES = {"requests": {"cpu": "1", "memory": "1Gi"}, "limits": {"cpu": "2", "memory": "2Gi"}}


# Minimal wire-format builders -------------------------------------------------------------


def container(name: str = "engine", image: str = "vllm/vllm-openai:v0.31.0", **fields) -> dict:
    body = {"name": name, "image": image, "resources": copy.deepcopy(RESOURCES)}
    if name == "engine":
        body.update(startupProbe=PROBE, readinessProbe=PROBE, livenessProbe=PROBE)
    body.update(fields)
    return body


def deployment(
    name: str = "chat-blue",
    replicas: int | None = 2,
    containers: list[dict] | None = None,
    **pod_fields,
) -> dict:
    labels = {
        "app.kubernetes.io/component": "inference-engine",
        "modelstack.io/deployment": "chat",
        "modelstack.io/slot": name.rsplit("-", 1)[-1],
    }
    selector = {k: v for k, v in labels.items() if k.startswith("modelstack.io/")}
    spec: dict[str, Any] = {
        "selector": {"matchLabels": selector},
        "template": {
            "metadata": {"labels": labels},
            "spec": {"containers": containers or [container()], **pod_fields},
        },
    }
    if replicas is not None:
        spec["replicas"] = replicas
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "namespace": NAMESPACE, "labels": labels},
        "spec": spec,
    }


def job(containers: list[dict]) -> dict:
    return {
        "apiVersion": "batch/v1",
        "kind": "Job",
        "metadata": {"name": "chat-fetch", "namespace": NAMESPACE},
        "spec": {"template": {"spec": {"containers": containers, "restartPolicy": "Never"}}},
    }


def budget(match_labels: dict[str, str], namespace: str = NAMESPACE) -> dict:
    return {
        "apiVersion": "policy/v1",
        "kind": "PodDisruptionBudget",
        "metadata": {"name": "chat", "namespace": namespace},
        "spec": {"maxUnavailable": 1, "selector": {"matchLabels": match_labels}},
    }


def scaled_object(target: str, spec: dict | None = None, annotations: dict | None = None) -> dict:
    metadata: dict[str, Any] = {"name": target, "namespace": NAMESPACE}
    if annotations:
        metadata["annotations"] = annotations
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": metadata,
        "spec": {"scaleTargetRef": {"name": target}, **(spec or {})},
    }


def hpa(target: str, min_replicas: int | None) -> dict:
    spec: dict[str, Any] = {
        "scaleTargetRef": {"apiVersion": "apps/v1", "kind": "Deployment", "name": target},
        "maxReplicas": 6,
    }
    if min_replicas is not None:
        spec["minReplicas"] = min_replicas
    return {
        "apiVersion": "autoscaling/v2",
        "kind": "HorizontalPodAutoscaler",
        "metadata": {"name": target, "namespace": NAMESPACE},
        "spec": spec,
    }


def cache_claim(labelled: bool = True) -> dict:
    labels = {"modelstack.io/deployment": "chat"}
    if labelled:
        labels["app.kubernetes.io/component"] = "model-cache"
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": "chat-cache", "namespace": NAMESPACE, "labels": labels},
        "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": "1Gi"}}},
    }


def http_route(timeouts: dict | None) -> dict:
    rule: dict[str, Any] = {"backendRefs": [{"name": "chat", "port": 80}]}
    if timeouts is not None:
        rule["timeouts"] = timeouts
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {
            "name": "chat",
            "namespace": NAMESPACE,
            "labels": {"modelstack.io/deployment": "chat"},
        },
        "spec": {"rules": [rule]},
    }


def ingress(annotations: dict[str, str], class_name: str = "nginx") -> dict:
    return {
        "apiVersion": "networking.k8s.io/v1",
        "kind": "Ingress",
        "metadata": {
            "name": "chat",
            "namespace": NAMESPACE,
            "labels": {"modelstack.io/deployment": "chat"},
            "annotations": annotations,
        },
        "spec": {"ingressClassName": class_name, "rules": []},
    }


def subject(obj: dict, protect: bool = False, retain_on_delete: bool | None = True) -> Subject:
    options = ResourceOptions(protect=protect, retain_on_delete=retain_on_delete)
    return Subject(kubernetes_type(obj), obj["metadata"]["name"], obj, options)


def subjects(*objects: dict) -> list[Subject]:
    return [subject(obj) for obj in objects]


# at-least-two-replicas --------------------------------------------------------------------


def test_two_fixed_replicas_pass() -> None:
    assert check_replicas(subjects(deployment(replicas=2))) == []


def test_one_fixed_replica_is_reported_with_the_stack_file_fix() -> None:
    [(where, message)] = check_replicas(subjects(deployment(replicas=1)))
    assert where.display == "Deployment/chat-blue"
    assert "runs 1 replica(s)" in message
    assert "`replicas: 2`" in message and "deployment 'chat'" in message


def test_no_replicas_and_no_autoscaler_means_one_replica() -> None:
    [(_, message)] = check_replicas(subjects(deployment(replicas=None)))
    assert "no spec.replicas and no HorizontalPodAutoscaler or ScaledObject" in message


def test_an_autoscaler_with_min_two_owns_a_deployment_without_replicas() -> None:
    objects = (
        deployment("chat-main", replicas=None),
        scaled_object("chat-main", {"minReplicaCount": 2}),
    )
    assert check_replicas(subjects(*objects)) == []


def test_an_autoscaler_that_goes_below_two_is_reported() -> None:
    for scaler in (hpa("chat-main", None), scaled_object("chat-main", {"minReplicaCount": 1})):
        [(_, message)] = check_replicas(subjects(deployment("chat-main", replicas=None), scaler))
        assert "scale down to 1 replica(s)" in message
        assert "`autoscaling.min: 2`" in message


def test_keda_idle_replica_count_is_the_real_minimum() -> None:
    scaler = scaled_object("chat-main", {"minReplicaCount": 2, "idleReplicaCount": 0})
    [(_, message)] = check_replicas(subjects(deployment("chat-main", replicas=None), scaler))
    assert "scale down to 0 replica(s)" in message


def test_an_autoscaler_in_another_namespace_owns_nothing() -> None:
    scaler = scaled_object("chat-main", {"minReplicaCount": 2})
    scaler["metadata"]["namespace"] = "elsewhere"
    findings = check_replicas(subjects(deployment("chat-main", replicas=None), scaler))
    assert len(findings) == 1


def test_the_autoscaler_index_finds_exactly_the_owners_a_scan_would() -> None:
    # Every scaler targets the name "chat-main"; kind and namespace decide ownership.
    other_kind = hpa("chat-main", 2)
    other_kind["spec"]["scaleTargetRef"]["kind"] = "StatefulSet"
    other_namespace = scaled_object("chat-main", {"minReplicaCount": 2})
    other_namespace["metadata"]["namespace"] = "elsewhere"
    keda_default_kind = scaled_object("chat-main", {"minReplicaCount": 3})
    unset_namespace = hpa("chat-main", 4)  # the provider's default: matches any namespace
    del unset_namespace["metadata"]["namespace"]
    objects = (other_kind, other_namespace, keda_default_kind, unset_namespace)
    stack = subjects(deployment("chat-main", replicas=None), *objects)
    index, scalers = AutoscalerIndex(stack), autoscalers(stack)

    owners = index.owners_of(stack[0])
    assert [owner.minimum for owner in owners] == [3, 4]
    assert owners == [scaler for scaler in scalers if scaler.owns(stack[0])]
    # A Deployment without a namespace: every namespace matches, the kind still decides.
    anywhere = deployment("chat-main", replicas=None)
    del anywhere["metadata"]["namespace"]
    assert [owner.minimum for owner in index.owners_of(subject(anywhere))] == [2, 3, 4]
    assert index.owners_of(subject(deployment("chat-other", replicas=None))) == []


def test_deployments_stopped_on_purpose_are_exempt() -> None:
    # An idle blue-green slot: fixed at zero, or a KEDA ScaledObject paused at zero.
    paused = scaled_object(
        "chat-green", {"minReplicaCount": 2}, {"autoscaling.keda.sh/paused-replicas": "0"}
    )
    objects = (deployment("chat-blue", replicas=0), deployment("chat-green", None), paused)
    assert check_replicas(subjects(*objects)) == []


# pod-disruption-budget --------------------------------------------------------------------


def test_a_budget_selecting_the_pods_passes() -> None:
    objects = (
        deployment(),
        budget({"modelstack.io/deployment": "chat", "modelstack.io/slot": "blue"}),
    )
    assert check_disruption_budgets(subjects(*objects)) == []


def test_a_deployment_without_a_budget_is_reported() -> None:
    [(where, message)] = check_disruption_budgets(subjects(deployment()))
    assert where.display == "Deployment/chat-blue"
    assert "no PodDisruptionBudget selects its pods" in message
    assert "modelstack:environment" in message


def test_a_budget_for_other_pods_or_another_namespace_does_not_count() -> None:
    other_slot = budget({"modelstack.io/deployment": "chat", "modelstack.io/slot": "green"})
    other_namespace = budget({"modelstack.io/deployment": "chat"}, namespace="elsewhere")
    for unrelated in (other_slot, other_namespace):
        assert len(check_disruption_budgets(subjects(deployment(), unrelated))) == 1


def test_the_selector_index_offers_every_budget_that_may_select_the_pods() -> None:
    labels = {"modelstack.io/deployment": "chat", "modelstack.io/slot": "blue", "team": "a"}
    same_pods = budget({"modelstack.io/slot": "blue", "team": "a"})
    other_slot = budget({"modelstack.io/deployment": "chat", "modelstack.io/slot": "green"})
    other_deployment = budget({"modelstack.io/deployment": "other", "team": "a"})
    expressions = budget({})
    expressions["spec"]["selector"] = {"matchExpressions": [{"key": "team", "operator": "Exists"}]}
    everything = budget({})
    everything["spec"]["selector"] = {}
    no_selector = budget({})
    del no_selector["spec"]["selector"]
    budgets = subjects(same_pods, other_slot, other_deployment, expressions, everything)
    budgets += subjects(no_selector)
    candidates = SelectorIndex(budgets).candidates(labels)

    selecting = [b for b in budgets if selects(b.spec("selector"), labels)]
    assert all(any(c is b for c in candidates) for b in selecting)
    assert len(selecting) == 3  # same_pods, expressions, everything
    # Each is filed under its rarest pair (team=a is shared): the other deployment's
    # budget is not offered for these pods.
    assert not any(c is budgets[2] for c in candidates)


def test_label_selector_expressions() -> None:
    labels = {"app": "chat", "slot": "blue"}
    assert selects(
        {"matchExpressions": [{"key": "slot", "operator": "In", "values": ["blue"]}]}, labels
    )
    assert not selects(
        {"matchExpressions": [{"key": "slot", "operator": "NotIn", "values": ["blue"]}]}, labels
    )
    assert selects({"matchExpressions": [{"key": "app", "operator": "Exists"}]}, labels)
    assert not selects({"matchExpressions": [{"key": "app", "operator": "DoesNotExist"}]}, labels)
    assert selects({}, labels)  # an empty policy/v1 selector selects every pod
    assert not selects(None, labels)


# pinned-image-tags ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "image",
    [
        "vllm/vllm-openai:v0.31.0",
        "registry.local:5000/team/engine:1.2.3",
        "vllm/vllm-openai@sha256:" + "a" * 64,
        "vllm/vllm-openai:v0.31.0@sha256:" + "b" * 64,
    ],
)
def test_pinned_images_pass(image: str) -> None:
    assert image_problem(image) is None


@pytest.mark.parametrize(
    ("image", "reason"),
    [
        ("vllm/vllm-openai", "without a tag"),
        ("registry.local:5000/team/engine", "without a tag"),
        ("vllm/vllm-openai:latest", "floating tag"),
        ("vllm/vllm-openai:nightly", "floating tag"),
        ("", "has no image"),
    ],
)
def test_unpinned_images_are_reported(image: str, reason: str) -> None:
    assert reason in (image_problem(image) or "")


def test_pinned_images_cover_engines_init_containers_and_loader_jobs() -> None:
    good = deployment(initContainers=[container("wait-for-model", "busybox:1.37.0")])
    assert check_pinned_images(subject(good)) == []
    bad = deployment(
        containers=[container(image="vllm/vllm-openai:latest")],
        initContainers=[container("wait-for-model", "busybox")],
    )
    messages = check_pinned_images(subject(bad))
    assert len(messages) == 2
    engine = next(m for m in messages if m.startswith("container 'engine'"))
    assert "set `image: <repository>:<version>`" in engine and "deployment 'chat'" in engine
    assert any(m.startswith("init container 'wait-for-model'") for m in messages)
    [loader] = check_pinned_images(subject(job([container("loader", "python")])))
    assert loader.startswith("container 'loader' uses 'python' without a tag")


def test_pinned_images_on_the_docker_target() -> None:
    remote = "docker:index/remoteImage:RemoteImage"
    assert check_pinned_images(Subject(remote, "img", {"name": "nginx:1.27.3"})) == []
    [message] = check_pinned_images(Subject(remote, "img", {"name": "nginx"}))
    assert "without a tag" in message


# container-resources ----------------------------------------------------------------------


def test_requests_and_limits_on_every_container_pass() -> None:
    obj = deployment(initContainers=[container("wait-for-model", "busybox:1.37.0")])
    assert check_container_resources(subject(obj)) == []


def test_a_missing_request_or_limit_is_reported() -> None:
    init = container("wait-for-model", "busybox:1.37.0")
    del init["resources"]["limits"]["cpu"]
    engine = container()
    engine["resources"] = {}
    messages = check_container_resources(
        subject(deployment(containers=[engine], initContainers=[init]))
    )
    assert messages[0].startswith("init container 'wait-for-model' has no resources.limits.cpu")
    assert "resources.requests.cpu, resources.requests.memory" in messages[1]
    assert "`resources: {cpu: ..., memory: ...}` on deployment 'chat'" in messages[1]


# engine-probes ----------------------------------------------------------------------------


def test_an_engine_with_all_three_probes_passes() -> None:
    assert check_engine_probes(subject(deployment())) == []


def test_a_missing_probe_on_the_engine_is_reported() -> None:
    engine = container()
    del engine["livenessProbe"], engine["startupProbe"]
    [message] = check_engine_probes(subject(deployment(containers=[engine])))
    assert message.startswith("container 'engine' has no startupProbe, livenessProbe")


def test_probes_apply_only_to_inference_engine_deployments() -> None:
    obj = deployment(containers=[container("sidecar", "envoy:v1.31.0")])
    assert "no container named 'engine'" in check_engine_probes(subject(obj))[0]
    for labels in (obj["metadata"]["labels"], obj["spec"]["template"]["metadata"]["labels"]):
        labels["app.kubernetes.io/component"] = "gateway"
    assert check_engine_probes(subject(obj)) == []


# gpu-placement ----------------------------------------------------------------------------


def gpu_engine(resource: str = "nvidia.com/gpu") -> dict:
    engine = container()
    engine["resources"]["limits"][resource] = "1"
    return engine


def test_a_gpu_pod_with_toleration_and_node_selector_passes() -> None:
    obj = deployment(
        containers=[gpu_engine()],
        tolerations=[{"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"}],
        nodeSelector={"cloud.google.com/gke-accelerator": "nvidia-l4"},
    )
    assert check_gpu_placement(subject(obj)) == []


def test_required_node_affinity_and_a_blanket_toleration_also_pass() -> None:
    affinity = {
        "nodeAffinity": {
            "requiredDuringSchedulingIgnoredDuringExecution": {
                "nodeSelectorTerms": [
                    {
                        "matchExpressions": [
                            {"key": "amd.com/gpu.device-id", "operator": "In", "values": ["74a1"]}
                        ]
                    }
                ]
            }
        }
    }
    obj = deployment(
        containers=[gpu_engine("amd.com/gpu")],
        tolerations=[{"operator": "Exists"}],
        affinity=affinity,
    )
    assert check_gpu_placement(subject(obj)) == []


def test_a_gpu_pod_without_toleration_or_placement_is_reported() -> None:
    messages = check_gpu_placement(subject(deployment(containers=[gpu_engine()])))
    assert messages[0].startswith("requests nvidia.com/gpu but tolerates no 'nvidia.com/gpu' taint")
    assert "modelstack:kubernetes.cloud" in messages[0]
    assert messages[1].startswith(
        "requests nvidia.com/gpu with no nodeSelector or required node affinity"
    )
    assert "`gpu.type` on deployment 'chat'" in messages[1]


def test_cpu_pods_need_no_gpu_placement() -> None:
    assert check_gpu_placement(subject(deployment())) == []


# no-literal-secret-env --------------------------------------------------------------------


def test_secret_references_and_ordinary_settings_pass() -> None:
    env = [
        {
            "name": "HF_TOKEN",
            "valueFrom": {"secretKeyRef": {"name": "chat-hf-token", "key": "token"}},
        },
        {"name": "TOKENIZERS_PARALLELISM", "value": "false"},
        {"name": "MAX_TOKENS", "value": "4096"},
        {"name": "HF_TOKEN_PATH", "value": "/var/run/secrets/hf/token"},
    ]
    assert check_env_secrets(subject(deployment(containers=[container(env=env)]))) == []


def test_a_literal_credential_is_reported() -> None:
    env = [{"name": "OPENAI_API_KEY", "value": "sk-not-a-real-key"}]
    [message] = check_env_secrets(subject(job([container("loader", "python:3.12.8", env=env)])))
    assert message.startswith("container 'loader' sets OPENAI_API_KEY to a literal value")
    assert "pulumi config set --secret hfToken" in message and "secretKeyRef" in message


@pytest.mark.parametrize(
    ("name", "secret"),
    [
        ("HF_TOKEN", True),
        ("HUGGING_FACE_HUB_TOKEN", True),
        ("AWS_SECRET_ACCESS_KEY", True),
        ("DB_PASSWORD", True),
        ("APIKEY", True),
        ("VLLM_LOGGING_LEVEL", False),
        ("TOKENIZERS_PARALLELISM", False),
        ("SECRET_FILE", False),
    ],
)
def test_which_names_mark_credentials(name: str, secret: bool) -> None:
    assert looks_secret(name) is secret


# model-cache-retained / model-cache-protected ---------------------------------------------


def test_a_retained_protected_cache_passes() -> None:
    cache = subject(cache_claim(), protect=True, retain_on_delete=True)
    assert check_cache_retained(cache) == [] and check_cache_protected(cache) == []


def test_a_cache_without_retain_on_delete_is_reported() -> None:
    [message] = check_cache_retained(subject(cache_claim(), retain_on_delete=False))
    assert message.startswith("is not retainOnDelete, so removing deployment 'chat'")


def test_an_unprotected_cache_is_reported() -> None:
    [message] = check_cache_protected(subject(cache_claim(), protect=False))
    assert "`pulumi destroy`" in message and "`modelstack:environment: prod`" in message


def test_retain_on_delete_that_the_caller_cannot_see_is_not_guessed() -> None:
    with pytest.raises(OptionNotVisible, match="retainOnDelete"):
        check_cache_retained(subject(cache_claim(), retain_on_delete=None))


def test_claims_that_are_not_model_caches_are_ignored() -> None:
    other = subject(cache_claim(labelled=False), protect=False, retain_on_delete=False)
    assert check_cache_retained(other) == [] and check_cache_protected(other) == []


# streaming-route-timeouts -----------------------------------------------------------------


@pytest.mark.parametrize("timeout", ["300s", "0s", "1h", "1m30s"])
def test_long_or_disabled_route_timeouts_pass(timeout: str) -> None:
    route = http_route({"request": timeout, "backendRequest": timeout})
    assert check_route_timeouts(subject(route)) == []


def test_short_or_missing_route_timeouts_are_reported() -> None:
    [short] = check_route_timeouts(subject(http_route({"request": "30s"})))
    assert short.startswith("rules[0].timeouts.request is 30s")
    assert "`route.timeoutSeconds` to 60 or more on deployment 'chat'" in short
    [backend] = check_route_timeouts(
        subject(http_route({"request": "300s", "backendRequest": "500ms"}))
    )
    assert backend.startswith("rules[0].timeouts.backendRequest is 500ms")
    [missing] = check_route_timeouts(subject(http_route(None)))
    assert "rules[0].timeouts.request is unset" in missing
    [garbled] = check_route_timeouts(subject(http_route({"request": "five minutes"})))
    assert "is not a duration" in garbled


def test_durations() -> None:
    assert duration_seconds("1h30m") == 5400
    assert duration_seconds("250ms") == 0.25
    assert duration_seconds("90") is None


def test_ingress_nginx_read_timeout() -> None:
    annotation = "nginx.ingress.kubernetes.io/proxy-read-timeout"
    assert check_route_timeouts(subject(ingress({annotation: "300"}))) == []
    [short] = check_route_timeouts(subject(ingress({annotation: "30"})))
    assert short.startswith(f"has {annotation}: '30'")
    [missing] = check_route_timeouts(subject(ingress({})))
    assert missing.startswith(f"has no {annotation} annotation")
    # Other controllers read other annotations: not this policy's business.
    assert check_route_timeouts(subject(ingress({}, class_name="traefik"))) == []
