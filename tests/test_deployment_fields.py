"""Fields users of the seed platforms expect: requests and limits, node placement, engine
arguments and env references. Each validated with key paths and rendered schema-valid."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.conftest import deployments_of, find_object, render_document, stack_document


def _prod(**chat_changes: Any) -> dict[str, Any]:
    document = stack_document("prod")
    deployments_of(document)[0].update(chat_changes)
    return document


def _engine(render: Any, name: str = "llama-chat-blue") -> dict[str, Any]:
    return find_object(render, "Deployment", name)["spec"]["template"]["spec"]


def _error(tmp_path: Path, document: dict[str, Any]) -> str:
    with pytest.raises(pulumi.RunError) as failure:
        render_document(tmp_path, document)
    return str(failure.value)


def test_requests_and_limits_apart(tmp_path: Path, schema_validator) -> None:
    resources = {
        "requests": {"cpu": "4", "memory": "32Gi"},
        "limits": {"cpu": "8", "memory": "64Gi"},
    }
    render = render_document(tmp_path, _prod(resources=resources))
    container = _engine(render)["containers"][0]
    assert container["resources"]["requests"] == {"cpu": "4", "memory": "32Gi"}
    assert container["resources"]["limits"] == {"cpu": "8", "memory": "64Gi", "nvidia.com/gpu": "1"}
    assert schema_validator.validate_all(render.objects) == []


def test_a_request_alone_sets_the_limit_too(tmp_path: Path) -> None:
    render = render_document(tmp_path, _prod(resources={"requests": {"memory": "48Gi"}}))
    resources = _engine(render)["containers"][0]["resources"]
    assert resources["requests"]["memory"] == resources["limits"]["memory"] == "48Gi"


@pytest.mark.parametrize(
    ("resources", "path", "fragment"),
    [
        ({"cpu": "8", "limits": {"cpu": "16"}}, "resources.cpu", "sets both request and limit"),
        (
            {"requests": {"memory": "64Gi"}, "limits": {"memory": "32Gi"}},
            "resources.requests",
            "memory request 64Gi is above its limit 32Gi",
        ),
        ({"limits": {"cpu": "lots"}}, "resources.limits.cpu", "not a Kubernetes quantity"),
    ],
)
def test_resource_errors(tmp_path: Path, resources: dict, path: str, fragment: str) -> None:
    message = _error(tmp_path, _prod(resources=resources))
    assert f"modelstack:deployments[0].{path}: " in message and fragment in message


def test_placement_merges_with_the_gpu_labels(tmp_path: Path, schema_validator) -> None:
    placement = {
        "nodeGroup": "gpu-h100",
        "capacity": "spot",
        "nodeSelector": {"topology.kubernetes.io/zone": "us-east-1a"},
        "tolerations": [{"key": "dedicated", "value": "inference", "effect": "NoSchedule"}],
        "affinity": {
            "podAntiAffinity": {
                "preferredDuringSchedulingIgnoredDuringExecution": [
                    {
                        "weight": 50,
                        "podAffinityTerm": {
                            "topologyKey": "kubernetes.io/hostname",
                            "labelSelector": {"matchLabels": {"team": "support"}},
                        },
                    }
                ]
            }
        },
        "runtimeClass": "nvidia",
    }
    render = render_document(tmp_path, _prod(placement=placement))
    pod = _engine(render)
    assert pod["nodeSelector"] == {
        "karpenter.k8s.aws/instance-gpu-name": "h100",
        "karpenter.sh/nodepool": "gpu-h100",
        "karpenter.sh/capacity-type": "spot",
        "topology.kubernetes.io/zone": "us-east-1a",
    }
    assert {"key": "nvidia.com/gpu", "operator": "Exists", "effect": "NoSchedule"} in pod[
        "tolerations"
    ]
    assert {
        "key": "dedicated",
        "operator": "Equal",
        "value": "inference",
        "effect": "NoSchedule",
    } in (pod["tolerations"])
    assert pod["affinity"]["podAntiAffinity"] == placement["affinity"]["podAntiAffinity"]
    assert pod["runtimeClassName"] == "nvidia"
    assert schema_validator.validate_all(render.objects) == []


def test_on_demand_capacity_and_multi_valued_gpu_labels_go_to_node_affinity(
    tmp_path: Path, schema_validator
) -> None:
    document = _prod(placement={"capacity": "on-demand"})
    document["config"]["modelstack:kubernetes"]["cloud"] = "gke"
    render = render_document(tmp_path, document)
    terms = _engine(render)["affinity"]["nodeAffinity"][
        "requiredDuringSchedulingIgnoredDuringExecution"
    ]["nodeSelectorTerms"]
    assert terms == [
        {
            "matchExpressions": [
                {
                    "key": "cloud.google.com/gke-accelerator",
                    "operator": "In",
                    "values": ["nvidia-h100-80gb", "nvidia-h100-mega-80gb"],
                },
                {"key": "cloud.google.com/gke-spot", "operator": "NotIn", "values": ["true"]},
            ]
        }
    ]
    assert schema_validator.validate_all(render.objects) == []


def test_conflicting_placement_is_a_validation_error(tmp_path: Path) -> None:
    document = _prod(placement={"nodeSelector": {"karpenter.k8s.aws/instance-gpu-name": "a100"}})
    message = _error(tmp_path, document)
    assert "deployments[0].placement.nodeSelector: karpenter.k8s.aws/instance-gpu-name" in message
    assert "no node can have at once" in message


def test_placement_that_the_cloud_cannot_express(tmp_path: Path) -> None:
    document = _prod(placement={"nodeGroup": "gpus"})
    document["config"]["modelstack:kubernetes"]["cloud"] = "generic"
    document["config"]["modelstack:deployments"] = [deployments_of(document)[2]]
    deployments_of(document)[0]["placement"] = {"nodeGroup": "gpus"}
    assert "deployments[0].placement.nodeGroup: generic has no node-pool label" in _error(
        tmp_path, document
    )


def test_engine_args_are_appended_and_owned_flags_protected(tmp_path: Path) -> None:
    render = render_document(
        tmp_path, _prod(engineArgs=["--max-model-len", "8192", "--max-num-seqs=64"])
    )
    args = _engine(render)["containers"][0]["args"]
    assert args[-3:] == ["--max-model-len", "8192", "--max-num-seqs=64"]
    message = _error(tmp_path, _prod(engineArgs=["--enable-prefix-caching", "--port=9000"]))
    assert "deployments[0].engineArgs[1]: --port is set by modelstack" in message


def test_env_from_secret_and_config_map_references(tmp_path: Path, schema_validator) -> None:
    env = {
        "VLLM_API_KEY": {"secretKeyRef": {"name": "vllm-auth", "key": "api-key"}},
        "VLLM_LOGGING_CONFIG_PATH": {"configMapKeyRef": {"name": "vllm-logging", "key": "path"}},
        "VLLM_LOGGING_LEVEL": "DEBUG",
    }
    render = render_document(tmp_path, _prod(env=env))
    container_env = _engine(render)["containers"][0]["env"]
    assert {
        "name": "VLLM_API_KEY",
        "valueFrom": {"secretKeyRef": {"name": "vllm-auth", "key": "api-key"}},
    } in container_env
    assert {
        "name": "VLLM_LOGGING_CONFIG_PATH",
        "valueFrom": {"configMapKeyRef": {"name": "vllm-logging", "key": "path"}},
    } in container_env
    assert {"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"} in container_env
    assert schema_validator.validate_all(render.objects) == []


def test_a_credential_as_a_literal_env_value_is_refused(tmp_path: Path) -> None:
    message = _error(tmp_path, _prod(env={"VLLM_API_KEY": "sk-123"}))
    assert "deployments[0].env.VLLM_API_KEY: looks like a credential" in message


def test_env_references_do_not_exist_on_docker(tmp_path: Path) -> None:
    document = stack_document("dev")
    deployments_of(document)[0]["env"] = {"API_KEY": {"secretKeyRef": {"name": "a", "key": "b"}}}
    assert "deployments[0].env.API_KEY: Secret and ConfigMap references need Kubernetes" in _error(
        tmp_path, document
    )
