"""Stack-file validation: every bad input is reported at its key path with a clear message."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components.errors import ConfigIssue, StackConfigError
from components.plan import build_plan
from components.stack_config import parse_stack_spec

STACK_FILE = "stacks/Pulumi.test.yaml"
STACKS = Path(__file__).resolve().parent.parent / "stacks"
DIGEST = "sha256:" + "a" * 64


def deployment(**changes: Any) -> dict[str, Any]:
    """A minimal valid deployment (8B on one L4), with keys replaced by `changes`."""
    spec: dict[str, Any] = {
        "name": "chat",
        "model": {"source": "hf://meta-llama/Llama-3.1-8B-Instruct", "parameters": "8B"},
        "gpu": {"type": "L4", "count": 1},
    }
    spec.update(changes)
    return {key: value for key, value in spec.items() if value is not None}


def gguf(**changes: Any) -> dict[str, Any]:
    """A valid CPU deployment serving a 3B GGUF file with llama.cpp."""
    source = "hf://bartowski/Llama-3.2-3B-Instruct-GGUF/Llama-3.2-3B-Instruct-Q4_K_M.gguf"
    return deployment(
        **{"model": {"source": source, "parameters": "3B"}, "gpu": None, "engine": "llamacpp"}
        | changes
    )


def blue_green(**slots: Any) -> dict[str, Any]:
    return {"strategy": "blue-green", "active": "blue", "slots": slots}


def stack(*deployments: dict[str, Any], **top: Any) -> dict[str, Any]:
    raw = {"environment": "dev", "target": "kubernetes", "deployments": list(deployments)}
    raw.update(top)
    return {key: value for key, value in raw.items() if value is not None}


def issues_of(raw: dict[str, Any], secret_keys: frozenset[str] = frozenset()) -> list[ConfigIssue]:
    try:
        parse_stack_spec(raw, set(secret_keys), STACK_FILE)
    except StackConfigError as error:
        return error.issues
    return []


def plan_issues_of(raw: dict[str, Any]) -> list[ConfigIssue]:
    spec = parse_stack_spec(raw, set(), STACK_FILE)  # the spec itself must be valid
    try:
        build_plan(spec, STACK_FILE)
    except StackConfigError as error:
        return error.issues
    return []


def assert_reported(issues: list[ConfigIssue], path: str, fragment: str | tuple[str, ...]) -> None:
    """Every issue is at `path` (unions may add one per member); one says every fragment."""
    fragments = (fragment,) if isinstance(fragment, str) else fragment
    assert issues, f"no issue reported; expected {path}: {fragments}"
    assert {issue.path for issue in issues} == {path}, issues
    assert any(all(f in issue.message for f in fragments) for issue in issues), issues


ONE = deployment()
DEP = "deployments[0]"

SPEC_CASES = [
    # -- unknown keys, with "did you mean" where one is close -------------------------------
    pytest.param(
        stack(deployment=[ONE]),
        "deployment",
        "unknown key 'deployment'; did you mean 'deployments'?",
        id="unknown-top-level-key",
    ),
    pytest.param(
        stack(ONE, colour="blue"),
        "colour",
        "unknown key 'colour' (allowed: debugAccess, deployments, docker, engineApiKeys,",
        id="unknown-top-level-key-no-suggestion",
    ),
    pytest.param(
        stack(ONE, kubernetes={"namspace": "ml"}),
        "kubernetes.namspace",
        "did you mean 'namespace'?",
        id="unknown-kubernetes-key",
    ),
    pytest.param(
        stack(ONE, kubernetes={"createNamespaces": True}),
        "kubernetes.createNamespaces",
        "did you mean 'createNamespace'?",
        id="unknown-kubernetes-key-plural",
    ),
    pytest.param(
        stack(deployment(replica=2)),
        f"{DEP}.replica",
        "unknown key 'replica'; did you mean 'replicas'?",
        id="unknown-deployment-key",
    ),
    pytest.param(
        stack(deployment(startupTimeout=600)),
        f"{DEP}.startupTimeout",
        "did you mean 'startupTimeoutSeconds'?",
        id="unknown-deployment-key-prefix",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b", "revison": "v1"})),
        f"{DEP}.model.revison",
        "did you mean 'revision'?",
        id="unknown-model-key",
    ),
    pytest.param(
        stack(deployment(gpu={"type": "L4", "cout": 1})),
        f"{DEP}.gpu.cout",
        "unknown key 'cout'; did you mean 'count'?",
        id="unknown-gpu-key",
    ),
    pytest.param(
        stack(deployment(rollout={"stratgy": "rolling"})),
        f"{DEP}.rollout.stratgy",
        "did you mean 'strategy'?",
        id="unknown-rollout-key",
    ),
    pytest.param(
        stack(deployment(rollout=blue_green(blue={"imag": "vllm/vllm-openai:v0.31.0"}))),
        f"{DEP}.rollout.slots.blue.imag",
        "unknown key 'imag'; did you mean 'image'? (allowed: env, image, model)",
        id="unknown-slot-key",
    ),
    pytest.param(
        stack(deployment(rollout=blue_green(green={"model": {"revsion": "v2"}}))),
        f"{DEP}.rollout.slots.green.model.revsion",
        "did you mean 'revision'?",
        id="unknown-slot-model-key",
    ),
    pytest.param(
        stack(deployment(cache={"storageclass": "standard"})),
        f"{DEP}.cache.storageclass",
        "did you mean 'storageClass'?",
        id="unknown-cache-key-case",
    ),
    # -- enums ------------------------------------------------------------------------------
    pytest.param(
        stack(ONE, environment="production"),
        "environment",
        "must be one of dev, staging, prod (got 'production')",
        id="enum-environment",
    ),
    pytest.param(
        stack(ONE, target="ecs"),
        "target",
        "must be one of kubernetes, docker (got 'ecs')",
        id="enum-target",
    ),
    pytest.param(
        stack(ONE, kubernetes={"cloud": "gcp"}),
        "kubernetes.cloud",
        "(got 'gcp')",
        id="enum-cloud",
    ),
    pytest.param(
        stack(deployment(engine="trtllm")),
        f"{DEP}.engine",
        "vllm, sglang, tgi, llamacpp, ollama (got 'trtllm')",
        id="enum-engine",
    ),
    pytest.param(
        stack(deployment(precision="fp6")),
        f"{DEP}.precision",
        "must be one of auto, fp32, bf16, fp16, fp8, fp4, int8, int4 (got 'fp6')",
        id="enum-precision",
    ),
    pytest.param(
        stack(deployment(profile="batch")),
        f"{DEP}.profile",
        "must be one of latency, throughput (got 'batch')",
        id="enum-profile",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b", "format": "onnx"})),
        f"{DEP}.model.format",
        "must be one of safetensors, gguf (got 'onnx')",
        id="enum-format",
    ),
    pytest.param(
        stack(deployment(rollout={"strategy": "recreate"})),
        f"{DEP}.rollout.strategy",
        "(got 'recreate')",
        id="enum-strategy",
    ),
    pytest.param(
        stack(deployment(rollout={**blue_green(), "idle": "sleep"})),
        f"{DEP}.rollout.idle",
        "must be one of keep, scale-to-zero (got 'sleep')",
        id="enum-idle",
    ),
    pytest.param(
        stack(deployment(rollout={**blue_green(), "active": "red"})),
        f"{DEP}.rollout.active",
        "must be one of blue, green (got 'red')",
        id="enum-active",
    ),
    pytest.param(
        stack(deployment(rollout=blue_green(red={}))),
        f"{DEP}.rollout.slots.red",
        "must be one of blue, green (got 'red')",
        id="enum-slot-name",
    ),
    pytest.param(
        stack(deployment(cache={"accessMode": "ReadWriteonce"})),
        f"{DEP}.cache.accessMode",
        "(got 'ReadWriteonce')",
        id="enum-access-mode",
    ),
    # -- names --------------------------------------------------------------------------------
    pytest.param(
        stack(deployment(name="Llama-Chat")),
        f"{DEP}.name",
        "'Llama-Chat' is not a DNS label",
        id="name-uppercase",
    ),
    pytest.param(
        stack(deployment(name="8b-chat")),
        f"{DEP}.name",
        "starting with a letter",
        id="name-leading-digit",
    ),
    pytest.param(
        stack(deployment(name="a" * 41)),
        f"{DEP}.name",
        "is 41 characters; at most 40",
        id="name-too-long",
    ),
    pytest.param(
        stack(deployment(name="llama_chat")),
        f"{DEP}.name",
        "'llama_chat' is not a DNS label",
        id="name-underscore",
    ),
    pytest.param(
        stack(deployment(name="chat-")),
        f"{DEP}.name",
        "ending with a letter or digit",
        id="name-trailing-hyphen",
    ),
    pytest.param(
        stack(ONE, deployment(name="chat")),
        "deployments[1].name",
        "duplicate deployment name 'chat' (also deployments[0])",
        id="name-duplicate",
    ),
    pytest.param(
        stack(ONE, kubernetes={"namespace": "ML_prod"}),
        "kubernetes.namespace",
        "'ML_prod' is not a DNS-1123 label",
        id="namespace-invalid",
    ),
    # -- Kubernetes quantities ----------------------------------------------------------------
    pytest.param(
        stack(deployment(resources={"cpu": "eight"})),
        f"{DEP}.resources.cpu",
        "'eight' is not a Kubernetes quantity",
        id="cpu-bad-syntax",
    ),
    pytest.param(
        stack(deployment(resources={"cpu": "0"})),
        f"{DEP}.resources.cpu",
        "'0' must be greater than zero",
        id="cpu-zero",
    ),
    pytest.param(
        stack(deployment(resources={"cpu": True})),
        f"{DEP}.resources.cpu",
        "must be a Kubernetes quantity such as",
        id="cpu-boolean",
    ),
    pytest.param(
        stack(deployment(resources={"memory": "64GB"})),
        f"{DEP}.resources.memory",
        "'64GB' is not a Kubernetes quantity",
        id="memory-bad-suffix",
    ),
    pytest.param(
        stack(deployment(resources={"memory": "0Gi"})),
        f"{DEP}.resources.memory",
        "'0Gi' must be greater than zero",
        id="memory-zero",
    ),
    pytest.param(
        stack(deployment(resources={"memory": "-8Gi"})),
        f"{DEP}.resources.memory",
        "must be greater than zero",
        id="memory-negative",
    ),
    pytest.param(
        stack(deployment(cache={"size": "100 GiB"})),
        f"{DEP}.cache.size",
        "'100 GiB' is not a Kubernetes quantity",
        id="cache-size-bad-syntax",
    ),
    pytest.param(
        stack(deployment(cache={"size": 0})),
        f"{DEP}.cache.size",
        "'0' must be greater than zero",
        id="cache-size-zero",
    ),
    # -- model sources and parameter counts ---------------------------------------------------
    pytest.param(
        stack(deployment(model={"source": "meta-llama/Llama-3.1-8B"})),
        f"{DEP}.model.source",
        "is not a model source: use one of hf://, s3://",
        id="source-no-scheme",
    ),
    pytest.param(
        stack(deployment(model={"source": "https://example.com/model"})),
        f"{DEP}.model.source",
        "'https://example.com/model' is not a model source",
        id="source-unknown-scheme",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://llama"})),
        f"{DEP}.model.source",
        "an hf:// source is hf://<org>/<repo>",
        id="source-hf-one-segment",
    ),
    pytest.param(
        stack(deployment(model={"source": "s3://"})),
        f"{DEP}.model.source",
        "'s3://' names no model",
        id="source-empty-path",
    ),
    pytest.param(
        stack(deployment(model={"parameters": "8B"})),
        f"{DEP}.model.source",
        "required",
        id="source-missing",
    ),
    pytest.param(
        stack(deployment(rollout=blue_green(green={"model": {"source": "llama"}}))),
        f"{DEP}.rollout.slots.green.model.source",
        "'llama' is not a model source",
        id="source-in-slot",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b", "parameters": "8X"})),
        f"{DEP}.model.parameters",
        "'8X' is not a parameter count",
        id="parameters-bad-unit",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b", "parameters": "-8B"})),
        f"{DEP}.model.parameters",
        "'-8B' is not a parameter count",
        id="parameters-negative",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b", "parameters": 0})),
        f"{DEP}.model.parameters",
        "'0' must be greater than zero",
        id="parameters-zero",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b", "revision": "v 1"})),
        f"{DEP}.model.revision",
        "'v 1' is not a revision",
        id="revision-with-space",
    ),
    # -- GPUs, replicas, timeouts -------------------------------------------------------------
    pytest.param(
        stack(deployment(gpu={"type": "H100", "count": 17})),
        f"{DEP}.gpu.count",
        "less than or equal to 16 (got 17)",
        id="gpu-count-too-high",
    ),
    pytest.param(
        stack(deployment(gpu={"type": "H100", "count": -1})),
        f"{DEP}.gpu.count",
        "greater than or equal to 0 (got -1)",
        id="gpu-count-negative",
    ),
    pytest.param(
        stack(deployment(gpu={"count": 2})),
        f"{DEP}.gpu.type",
        "required when count > 0",
        id="gpu-count-without-type",
    ),
    pytest.param(
        stack(deployment(replicas=-1)),
        f"{DEP}.replicas",
        "greater than or equal to 0",
        id="replicas-negative",
    ),
    pytest.param(
        stack(deployment(startupTimeoutSeconds=30)),
        f"{DEP}.startupTimeoutSeconds",
        "greater than or equal to 60 (got 30)",
        id="startup-timeout-too-short",
    ),
    pytest.param(
        stack(deployment(startupTimeoutSeconds=7 * 3600)),
        f"{DEP}.startupTimeoutSeconds",
        "less than or equal to 21600",
        id="startup-timeout-too-long",
    ),
    # -- env and tags -------------------------------------------------------------------------
    pytest.param(
        stack(deployment(env={"1ST_FLAG": "x"})),
        f"{DEP}.env.1ST_FLAG",
        "'1ST_FLAG' is not an environment variable name",
        id="env-name-leading-digit",
    ),
    pytest.param(
        stack(deployment(env={"LOG-LEVEL": "info"})),
        f"{DEP}.env.LOG-LEVEL",
        "'LOG-LEVEL' is not an environment variable name",
        id="env-name-hyphen",
    ),
    pytest.param(
        stack(deployment(env={"HF_TOKEN": "hf_abc"})),
        f"{DEP}.env.HF_TOKEN",
        "must not be a literal value: set the token as a secret",
        id="env-hf-token-literal",
    ),
    pytest.param(
        stack(deployment(env={"HUGGING_FACE_HUB_TOKEN": "hf_abc"})),
        f"{DEP}.env.HUGGING_FACE_HUB_TOKEN",
        "pulumi config set --secret hfToken",
        id="env-hub-token-literal",
    ),
    pytest.param(
        stack(deployment(rollout=blue_green(green={"env": {"HF_TOKEN": "hf_abc"}}))),
        f"{DEP}.rollout.slots.green.env.HF_TOKEN",
        "must not be a literal value",
        id="env-hf-token-in-slot",
    ),
    pytest.param(
        stack(deployment(tags={"cost center": "cx"})),
        f"{DEP}.tags.cost center",
        "not a valid Kubernetes label key",
        id="tag-key-space",
    ),
    pytest.param(
        stack(deployment(tags={"Example.com/team": "cx"})),
        f"{DEP}.tags.Example.com/team",
        "not a valid Kubernetes label key",
        id="tag-key-uppercase-prefix",
    ),
    pytest.param(
        stack(deployment(tags={"team": "support desk"})),
        f"{DEP}.tags.team",
        "'support desk' is not a label value: at most 63 letters",
        id="tag-value-space",
    ),
    pytest.param(
        stack(deployment(tags={"team": "x" * 64})),
        f"{DEP}.tags.team",
        "is 64 characters; at most 63",
        id="tag-value-too-long",
    ),
    pytest.param(
        stack(deployment(tags={"app.kubernetes.io/name": "chat"})),
        f"{DEP}.tags.app.kubernetes.io/name",
        "this label prefix is reserved for the system",
        id="tag-reserved-kubernetes-io",
    ),
    pytest.param(
        stack(deployment(tags={"modelstack.io/slot": "blue"})),
        f"{DEP}.tags.modelstack.io/slot",
        "this label prefix is reserved for the system",
        id="tag-reserved-modelstack-io",
    ),
    pytest.param(
        stack(deployment(rollout={"canaryWeight": 10})),
        f"{DEP}.rollout.canaryWeight",
        "applies to strategy canary only",
        id="canary-weight-without-canary",
    ),
    pytest.param(
        stack(deployment(rollout={"strategy": "canary", "active": "blue"})),
        f"{DEP}.rollout.canaryWeight",
        "required for canary",
        id="canary-without-weight",
    ),
    pytest.param(
        stack(deployment(rollout={"strategy": "blue-green"})),
        f"{DEP}.rollout.active",
        "required for blue-green",
        id="blue-green-without-active",
    ),
    pytest.param(
        stack(deployment(rollout={"strategy": "rolling", "active": "blue"})),
        f"{DEP}.rollout.active",
        "applies to strategies blue-green and canary only",
        id="active-with-rolling",
    ),
    pytest.param(
        stack(deployment(rollout={"slots": {"blue": {}}})),
        f"{DEP}.rollout.slots",
        "apply to strategies blue-green and canary only",
        id="slots-with-rolling",
    ),
    pytest.param(
        stack(deployment(rollout={"maxSurge": 0, "maxUnavailable": "0%"})),
        f"{DEP}.rollout.maxUnavailable",
        "maxSurge and maxUnavailable cannot both be zero",
        id="surge-and-unavailable-zero",
    ),
    pytest.param(
        stack(deployment(rollout={"maxSurge": "half"})),
        f"{DEP}.rollout.maxSurge",
        "must be a whole number of pods or a percentage such as '25%'",
        id="surge-not-a-number-or-percent",
    ),
    # -- images -------------------------------------------------------------------------------
    pytest.param(
        stack(deployment(image="vllm/vllm openai:v0.31.0")),
        f"{DEP}.image",
        "is not a container image reference",
        id="image-space",
    ),
    pytest.param(
        stack(deployment(image="VLLM/vllm-openai:v0.31.0")),
        f"{DEP}.image",
        "'VLLM/vllm-openai:v0.31.0' is not a container image reference",
        id="image-uppercase-repository",
    ),
    pytest.param(
        stack(deployment(image="vllm/vllm-openai@sha256:abc")),
        f"{DEP}.image",
        "is not a container image reference",
        id="image-short-digest",
    ),
    pytest.param(
        stack(deployment(rollout=blue_green(green={"image": "-vllm:v1"}))),
        f"{DEP}.rollout.slots.green.image",
        "is not a container image reference",
        id="image-in-slot",
    ),
    # -- shape of the namespace ---------------------------------------------------------------
    pytest.param(
        stack(deployments="chat"),
        "deployments",
        "must be a list of deployments",
        id="deployments-not-a-list",
    ),
    pytest.param(
        stack(deployments=["chat"]),
        DEP,
        "must be a mapping (`key: value` lines), not the text 'chat'",
        id="deployment-not-a-mapping",
    ),
    pytest.param(
        {"target": "kubernetes", "deployments": [ONE]},
        "environment",
        "required: one of dev, staging, prod",
        id="environment-missing",
    ),
    pytest.param(
        stack(ONE, kubernetes={"prometheus": "prometheus.monitoring:9090"}),
        "kubernetes.prometheus",
        "'prometheus.monitoring:9090' is not an http(s) URL",
        id="prometheus-not-a-url",
    ),
]


@pytest.mark.parametrize(("raw", "path", "fragment"), SPEC_CASES)
def test_invalid_stack_is_reported_at_its_key_path(raw, path, fragment):
    assert_reported(issues_of(raw), path, fragment)


def test_hf_token_must_be_a_secret():
    raw = stack(ONE, hfToken="hf_abc")
    assert_reported(issues_of(raw), "hfToken", "must be a secret: `pulumi config set --secret")


def test_hf_token_secret_must_not_be_empty():
    raw = stack(ONE, hfToken="")
    assert_reported(issues_of(raw, frozenset({"hfToken"})), "hfToken", "must be a non-empty")


def test_hf_token_as_secret_is_accepted():
    spec = parse_stack_spec(stack(ONE, hfToken="hf_abc"), {"hfToken"}, STACK_FILE)
    assert spec.hf_token is True


S3 = "s3://models/llama-3.1-8b"
BIG_CACHE = {"size": "1Ti"}

PLAN_CASES = [
    # -- declared, but not on this target (yet) ----------------------------------------------
    pytest.param(
        stack(deployment(autoscaling={"min": 2, "max": 8})),
        f"{DEP}.autoscaling.metric",
        "required: a metric to scale on",
        id="autoscaling-without-a-metric",
    ),
    pytest.param(
        stack(gguf(autoscaling={"min": 1, "max": 2}), target="docker"),
        f"{DEP}.autoscaling",
        "is not available on the docker target: set replicas",
        id="autoscaling-on-docker",
    ),
    pytest.param(
        stack(deployment(loadBalancer={"algorithm": "least_connections"})),
        f"{DEP}.loadBalancer.algorithm",
        "least_connections needs Envoy Gateway",
        id="least-connections-without-envoy",
    ),
    pytest.param(
        stack(deployment(route={"path": "/chat"})),
        f"{DEP}.route",
        "a route needs kubernetes.gateway (Gateway API) or kubernetes.ingress",
        id="route-without-gateway-or-ingress",
    ),
    pytest.param(
        stack(deployment(rollout={"strategy": "canary", "active": "blue", "canaryWeight": 10})),
        f"{DEP}.rollout.strategy",
        "canary splits traffic with HTTPRoute weights",
        id="canary-without-a-route",
    ),
    pytest.param(
        stack(deployment(loadBalancer={"stickySessions": "cookie"})),
        f"{DEP}.loadBalancer.stickySessions",
        "cookie stickiness needs Envoy Gateway",
        id="cookie-stickiness-without-envoy",
    ),
    pytest.param(
        stack(gguf(loadBalancer={"stickySessions": "cookie"}), target="docker"),
        f"{DEP}.loadBalancer.stickySessions",
        "nginx open source cannot pin clients by cookie",
        id="cookie-stickiness-on-docker",
    ),
    pytest.param(
        stack(deployment(loadBalancer={"healthCheck": {"intervalSeconds": 5}})),
        f"{DEP}.loadBalancer.healthCheck",
        "active and passive health checks needs Envoy Gateway",
        id="health-checks-without-envoy",
    ),
    pytest.param(
        stack(gguf(loadBalancer={"algorithm": "weighted"}), target="docker"),
        f"{DEP}.loadBalancer.algorithm",
        "weighted splits requests across pools",
        id="weighted-without-pools",
    ),
    pytest.param(
        stack(
            gguf(
                loadBalancer={"algorithm": "failover"},
                pools=[{"name": "a"}, {"name": "b"}],
            ),
            target="docker",
        ),
        f"{DEP}.loadBalancer.algorithm",
        "failover needs pools with at least two priorities",
        id="failover-with-one-priority",
    ),
    pytest.param(
        stack(gguf(route={"path": "/{labels.team}/{name}"}), target="docker"),
        f"{DEP}.route.path",
        "{labels.team}: the deployment has no tag 'team'",
        id="route-path-missing-label",
    ),
    pytest.param(
        stack(gguf(gpu={"type": "H10", "count": 1})),
        f"{DEP}.gpu.type",
        "unknown GPU type 'H10'; did you mean 'H100'? (known: T4, V100-16GB, V100-32GB, L4,",
        id="gpu-type-unknown",
    ),
    pytest.param(
        stack(deployment(gpu={"type": "A10G", "count": 1}), kubernetes={"cloud": "gke"}),
        f"{DEP}.gpu.type",
        "A10G has no node label in the gke scheme (schemes with one: eks, eks-auto-mode, "
        "eks-instance-type, generic",
        id="gpu-not-on-cloud",
    ),
    pytest.param(
        stack(
            deployment(
                model={"source": "hf://meta-llama/Llama-3.3-70B-Instruct", "parameters": "70B"},
                precision="bf16",
                cache=BIG_CACHE,
            )
        ),
        f"{DEP}.model.parameters",
        (
            "70B parameters at bf16 need about 158 GiB (130 GiB weights",
            "1 x L4",
            # 8 x L4 is 8 x 23034 MiB: 162 GiB usable, short of 158 GiB + 8 x 1.5 GiB.
            "20 GiB usable; would fit: gpu.type: B200",
        ),
        id="memory-fit-70b-on-one-l4",
    ),
    pytest.param(
        stack(deployment(gpu=None)),
        f"{DEP}.engine",
        "no engine in the catalog serves safetensors on CPU",
        id="safetensors-on-cpu",
    ),
    pytest.param(
        stack(deployment(engine="llamacpp")),
        f"{DEP}.engine",
        "llamacpp does not serve safetensors models; use vllm or sglang or tgi",
        id="llamacpp-with-safetensors",
    ),
    pytest.param(
        stack(gguf(engine="vllm", gpu={"type": "L4", "count": 1})),
        f"{DEP}.engine",
        "vllm's GGUF support is experimental, needs the base model's tokenizer",
        id="vllm-with-gguf",
    ),
    pytest.param(
        stack(deployment(engine="sglang", gpu=None, model={"source": "pvc://weights/llama"})),
        f"{DEP}.engine",
        "sglang runs on NVIDIA GPUs, AMD GPUs, not on CPU",
        id="sglang-on-cpu",
    ),
    pytest.param(
        stack(deployment(precision="fp8", gpu={"type": "A100-80GB", "count": 1})),
        f"{DEP}.precision",
        "A100-80GB has no fp8 support (L4, L40S, H100",
        id="fp8-on-a100",
    ),
    pytest.param(
        stack(
            deployment(
                precision="bf16",
                gpu={"type": "T4", "count": 1},
                model={"source": "hf://Qwen/Qwen2.5-1.5B-Instruct", "parameters": "1.5B"},
            )
        ),
        f"{DEP}.precision",
        "T4 has no bf16 support; use fp16",
        id="bf16-on-t4",
    ),
    pytest.param(
        stack(gguf(precision="int4")),
        f"{DEP}.precision",
        "the model file fixes the precision",
        id="precision-with-gguf",
    ),
    pytest.param(
        stack(deployment(replicas=1), environment="prod"),
        f"{DEP}.replicas",
        "prod runs at least 2 replicas (got 1)",
        id="prod-one-replica",
    ),
    pytest.param(
        stack(deployment(image="vllm/vllm-openai"), environment="staging"),
        f"{DEP}.image",
        "the image uses 'vllm/vllm-openai' without a tag (the runtime pulls :latest): staging "
        "needs a version tag or a digest",
        id="staging-image-without-tag",
    ),
    pytest.param(
        stack(
            deployment(
                rollout=blue_green(
                    blue={"image": "vllm/vllm-openai:v0.31.0"},
                    green={"image": "vllm/vllm-openai:latest"},
                )
            ),
            environment="prod",
        ),
        f"{DEP}.rollout.slots.green.image",
        "the image uses 'vllm/vllm-openai:latest', a floating tag: prod needs a version tag",
        id="prod-slot-image-latest",
    ),
    pytest.param(
        stack(deployment(gpu={"type": "L4", "count": 3}, engine="vllm")),
        f"{DEP}.gpu.count",
        "vllm gives each GPU an equal share of the attention heads, and most models' head "
        "counts (32, 64) do not divide by 3: set model.attentionHeads",
        id="vllm-three-gpus",
    ),
    pytest.param(
        stack(deployment(gpu={"type": "L4", "count": 16}, engine="vllm")),
        f"{DEP}.gpu.count",
        "vllm runs one pod on one node, and GPU nodes hold at most 8 GPUs (got 16)",
        id="vllm-sixteen-gpus",
    ),
    pytest.param(
        stack(
            deployment(
                gpu={"type": "L4", "count": 6},
                engine="vllm",
                model={"source": "hf://Qwen/Qwen2.5-7B-Instruct", "attentionHeads": 28},
            )
        ),
        f"{DEP}.gpu.count",
        "28 heads do not divide by 6 GPUs",
        id="vllm-heads-not-divisible",
    ),
    pytest.param(
        stack(deployment(image="vllm/vllm-openai:nightly"), environment="prod"),
        f"{DEP}.image",
        "the image uses 'vllm/vllm-openai:nightly', a floating tag: prod needs",
        id="prod-image-nightly",
    ),
    pytest.param(
        stack(deployment(cache={"size": "10Gi"})),
        f"{DEP}.cache.size",
        "10Gi cannot hold the 1 model version(s) of this deployment (about 17 GiB)",
        id="cache-too-small",
    ),
    pytest.param(
        stack(gguf(resources={"memory": "2Gi"})),
        f"{DEP}.resources.memory",
        "2Gi is less than the ~4 GiB this model needs in memory on CPU",
        id="cpu-memory-too-small",
    ),
    pytest.param(
        stack(deployment(model={"source": "pvc://weights/llama", "revision": "v2"})),
        f"{DEP}.model.revision",
        "revision applies to hf:// sources only",
        id="revision-on-pvc-source",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://org/repo/model.bin"})),
        f"{DEP}.model.format",
        "cannot tell the format from the source: set it",
        id="format-not-inferable",
    ),
    pytest.param(
        stack(deployment(model={"source": "hf://a/b/model-Q4_K_M.gguf", "format": "safetensors"})),
        f"{DEP}.model.format",
        "the source is a gguf model, not safetensors",
        id="format-contradicts-source",
    ),
]


@pytest.mark.parametrize(("raw", "path", "fragment"), PLAN_CASES)
def test_plan_reports_catalog_problems_at_their_key_path(raw, path, fragment):
    assert_reported(plan_issues_of(raw), path, fragment)


def test_revision_on_s3_source_is_reported():
    raw = stack(deployment(model={"source": S3, "revision": "v2"}))
    issues = plan_issues_of(raw)
    assert ConfigIssue(f"{DEP}.model.revision", "revision applies to hf:// sources only") in issues


@pytest.mark.parametrize(
    "model",
    [
        pytest.param({"source": S3, "parameters": "8B"}, id="s3"),
        pytest.param({"source": "pvc://weights/llama", "parameters": "8B"}, id="pvc"),
        pytest.param({"source": "ollama://llama3.1:8b"}, id="ollama"),
    ],
)
def test_non_hf_source_without_revision_plans(model):
    assert plan_issues_of(stack(deployment(model=model, cache=BIG_CACHE))) == []


def test_every_error_is_reported_at_once_with_the_stack_file():
    raw = stack(
        deployment(name="Chat", gpu={"count": 1}, replica=2),
        deployment(
            name="embed",
            model={"source": "hf://solo"},
            resources={"memory": "0"},
            rollout={"strategy": "blue-green"},
            env={"HF_TOKEN": "x"},
        ),
        environment="production",
        kubernetes={"cloud": "gcp"},
        hfToken="hf_abc",
    )
    with pytest.raises(StackConfigError) as caught:
        parse_stack_spec(raw, set(), STACK_FILE)
    error = caught.value
    expected = [
        "environment",
        "hfToken",
        "kubernetes.cloud",
        "deployments[0].name",
        "deployments[0].gpu.type",
        "deployments[0].replica",
        "deployments[1].model.source",
        "deployments[1].resources.memory",
        "deployments[1].rollout.active",
        "deployments[1].env.HF_TOKEN",
    ]
    assert sorted(issue.path for issue in error.issues) == sorted(expected)
    report = str(error)
    assert report.startswith(f"{STACK_FILE}: {len(expected)} errors in the stack file")
    for path in expected:
        assert f"{STACK_FILE}: modelstack:{path}: " in report
    # Deployments are named by name as well as index.
    assert report.count("[deployment Chat]") == 3
    assert report.count("[deployment embed]") == 4
    assert report.endswith("Nothing was applied.")


def test_plan_reports_every_deployment_at_once():
    raw = stack(
        gguf(gpu={"type": "H10", "count": 1}),
        deployment(name="small", replicas=1, cache={"size": "1Gi"}),
        environment="prod",
    )
    with pytest.raises(StackConfigError) as caught:
        build_plan(parse_stack_spec(raw, set(), STACK_FILE), STACK_FILE)
    paths = [issue.path for issue in caught.value.issues]
    assert paths == [
        "deployments[0].gpu.type",
        "deployments[1].cache.size",
        "deployments[1].replicas",
    ]
    assert STACK_FILE in str(caught.value)


def read_stack(name: str) -> tuple[dict[str, Any], set[str]]:
    config = yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())["config"]
    raw = {key.removeprefix("modelstack:"): value for key, value in config.items()}
    secret = {key for key, value in raw.items() if isinstance(value, dict) and "secure" in value}
    return raw, secret


@pytest.mark.parametrize("name", ["dev", "staging", "prod"])
def test_shipped_stacks_parse_and_plan(name):
    raw, secret = read_stack(name)
    spec = parse_stack_spec(raw, secret, f"stacks/Pulumi.{name}.yaml")
    plan = build_plan(spec, f"stacks/Pulumi.{name}.yaml")
    assert [d.name for d in plan.deployments] == [d["name"] for d in raw["deployments"]]


def test_prod_stack_plans_as_written():
    raw, _ = read_stack("prod")
    plan = build_plan(parse_stack_spec(raw, set(), STACK_FILE), STACK_FILE)
    chat, big, cpu = plan.deployments
    assert plan.namespace == "ml-prod"
    assert chat.serving_slot == "blue"
    assert [s.engine.image for s in chat.slots] == [
        "vllm/vllm-openai:v0.30.0",
        "vllm/vllm-openai:v0.31.0",
    ]
    assert (big.gpu_summary, big.serving.model.precision) == ("2 x H100", "fp8")
    assert (cpu.gpu_summary, cpu.serving.engine.name) == ("cpu", "llamacpp")


# -- regressions: bugs found while writing these tests, now fixed ------------------------


def test_snake_case_hf_token_is_not_a_way_around_the_secret():
    assert any(
        issue.path in ("hf_token", "hfToken") for issue in issues_of(stack(ONE, hf_token=True))
    )


def test_k8s_io_label_prefix_is_reserved():
    raw = stack(deployment(tags={"k8s.io/team": "cx"}))
    assert_reported(issues_of(raw), f"{DEP}.tags.k8s.io/team", "reserved")


def test_unrelated_domain_ending_in_kubernetes_io_is_allowed():
    assert issues_of(stack(deployment(tags={"mykubernetes.io/team": "cx"}))) == []


def test_image_tag_with_uppercase_is_accepted():
    assert issues_of(stack(deployment(image="rocm/vllm:rocm6.3.1_MI300_v0.8.5"))) == []


def test_image_with_empty_tag_is_rejected():
    raw = stack(deployment(image="vllm/vllm-openai:"))
    assert_reported(issues_of(raw), f"{DEP}.image", "is not a container image reference")


def test_zero_surge_written_as_00_percent_is_rejected():
    raw = stack(deployment(rollout={"maxSurge": "00%", "maxUnavailable": 0}))
    assert_reported(issues_of(raw), f"{DEP}.rollout.maxUnavailable", "cannot both be zero")


def test_max_unavailable_over_100_percent_is_rejected():
    raw = stack(deployment(rollout={"maxUnavailable": "150%"}))
    assert issues_of(raw) != []


def test_memory_fit_in_blue_green_points_at_the_key_the_user_wrote():
    raw = stack(
        deployment(
            model={"source": "hf://meta-llama/Llama-3.3-70B-Instruct", "parameters": "70B"},
            cache=BIG_CACHE,
            rollout=blue_green(
                blue={"image": "vllm/vllm-openai:v0.30.0"},
                green={"image": "vllm/vllm-openai:v0.31.0"},
            ),
        )
    )
    assert_reported(plan_issues_of(raw), f"{DEP}.model.parameters", "70B parameters at bf16")


def test_unknown_gpu_type_is_the_only_issue():
    raw = stack(deployment(gpu={"type": "H10", "count": 1}))
    assert_reported(plan_issues_of(raw), f"{DEP}.gpu.type", "unknown GPU type 'H10'")


def test_a_stack_without_environment_is_told_which_values_exist():
    """No default (dev would be a guess that reaches prod clusters): the report says where
    and what to write."""
    with pytest.raises(StackConfigError) as caught:
        parse_stack_spec({"target": "kubernetes", "deployments": [ONE]}, set(), STACK_FILE)
    assert f"{STACK_FILE}: modelstack:environment: required: one of dev, staging, prod" in str(
        caught.value
    )
