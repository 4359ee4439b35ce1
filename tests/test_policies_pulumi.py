"""The guardrails through pulumi-policy's API, the way `pulumi preview --policy-pack` runs them,
plus the pack's files: enforcement configs per environment and the tiny entry point."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from typing import Any

import grpc
import pytest
import yaml
from google.protobuf import empty_pb2, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc
from pulumi_policy import (
    PolicyCustomTimeouts,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
)
from pulumi_policy.proxy import UnknownValueError, unknown_checking_proxy

from components.guardrails.caches import (
    MODEL_CACHE_PROTECTED,
    MODEL_CACHE_RETAINED,
    RETAIN_NOT_VISIBLE,
)
from components.guardrails.enforcement import (
    LEVELS,
    Level,
    config_file_text,
    default_level,
    environments,
    pack_config,
)
from components.guardrails.images import PINNED_IMAGE_TAGS
from components.guardrails.offline import kubernetes_type
from components.guardrails.pulumi_pack import PACK_NAME, pulumi_policies, to_pulumi_policy
from components.guardrails.registry import GUARDRAILS
from components.guardrails.replicas import AT_LEAST_TWO_REPLICAS
from tests.conftest import ROOT
from tests.test_policies import cache_claim, container, deployment

POLICIES_DIR = ROOT / "policies"
# pulumi-policy's sentinel for a string the engine does not know yet during preview.
UNKNOWN_STRING = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"


def options(protect: bool = False) -> PolicyResourceOptions:
    return PolicyResourceOptions(
        protect=protect,
        ignore_changes=[],
        delete_before_replace=None,
        aliases=[],
        custom_timeouts=PolicyCustomTimeouts(0, 0, 0),
        additional_secret_outputs=[],
    )


def urn_of(obj: dict[str, Any]) -> str:
    return f"urn:pulumi:prod::modelstack::{kubernetes_type(obj)}::{obj['metadata']['name']}"


def resource_args(obj: dict[str, Any], protect: bool = False) -> ResourceValidationArgs:
    # The analyzer hands validations proxies, not dicts: build them the same way.
    return ResourceValidationArgs(
        resource_type=kubernetes_type(obj),
        props=unknown_checking_proxy(obj),
        urn=urn_of(obj),
        name=obj["metadata"]["name"],
        opts=options(protect),
        provider=None,
    )


class Reports:
    def __init__(self) -> None:
        self.violations: list[tuple[str, str | None]] = []

    def __call__(self, message: str, urn: str | None = None) -> None:
        self.violations.append((message, urn))


def test_pinned_images_through_resource_validation_args() -> None:
    policy = to_pulumi_policy(PINNED_IMAGE_TAGS)
    assert isinstance(policy, ResourceValidationPolicy)
    report = Reports()
    policy.validate(resource_args(deployment()), report)
    assert report.violations == []
    policy.validate(
        resource_args(deployment(containers=[container(image="vllm/vllm-openai")])), report
    )
    [(message, _)] = report.violations
    assert message.startswith("container 'engine' uses 'vllm/vllm-openai' without a tag")


def test_cache_protection_reads_protect_from_the_resource_options() -> None:
    policy = to_pulumi_policy(MODEL_CACHE_PROTECTED)
    report = Reports()
    policy.validate(resource_args(cache_claim(), protect=True), report)
    assert report.violations == []
    policy.validate(resource_args(cache_claim(), protect=False), report)
    [(message, _)] = report.violations
    assert message.startswith("is not protected")


def test_retain_on_delete_is_not_applicable_live_and_says_why() -> None:
    # pulumi-policy 1.21's PolicyResourceOptions has no retain_on_delete to read.
    assert not hasattr(options(), "retain_on_delete")
    policy = to_pulumi_policy(MODEL_CACHE_RETAINED)
    with pytest.raises(Exception) as raised:
        policy.validate(resource_args(cache_claim()), Reports())
    assert getattr(raised.value, "reason", None) == RETAIN_NOT_VISIBLE


def test_unknown_values_during_preview_surface_as_pulumi_policy_expects() -> None:
    # The analyzer turns UnknownValueError into an advisory "can't run during preview" note.
    obj = deployment(containers=[container(image=UNKNOWN_STRING)])
    with pytest.raises(UnknownValueError):
        to_pulumi_policy(PINNED_IMAGE_TAGS).validate(resource_args(obj), Reports())


def test_replicas_through_stack_validation_args_report_the_deployment_urn() -> None:
    policy = to_pulumi_policy(AT_LEAST_TWO_REPLICAS)
    assert isinstance(policy, StackValidationPolicy)
    objects = [deployment("chat-blue", replicas=1), deployment("chat-green", replicas=2)]
    resources = [
        PolicyResource(
            resource_type=kubernetes_type(obj),
            props=unknown_checking_proxy(obj),
            urn=urn_of(obj),
            name=obj["metadata"]["name"],
            opts=options(),
            provider=None,
            parent=None,
            dependencies=[],
            property_dependencies={},
        )
        for obj in objects
    ]
    report = Reports()
    policy.validate(StackValidationArgs(resources), report)
    [(message, urn)] = report.violations
    assert message.startswith("Deployment/chat-blue: runs 1 replica(s)")
    assert urn == urn_of(objects[0])


# Enforcement levels per environment ---------------------------------------------------------


def test_every_guardrail_has_a_level_in_every_environment() -> None:
    assert [g.name for g in GUARDRAILS] == list(LEVELS)
    for levels in LEVELS.values():
        assert set(levels) == set(environments())


def test_prod_is_all_mandatory_and_dev_never_blocks() -> None:
    assert set(pack_config("prod").values()) == {"mandatory"}
    assert "mandatory" not in pack_config("dev").values()
    staging = pack_config("staging")
    assert [p for p, level in staging.items() if level != "mandatory"] == [
        "at-least-two-replicas",
        "model-cache-protected",
        "debug-access-in-prod",
    ]


def test_the_pack_without_a_config_file_applies_prod_levels() -> None:
    for policy in pulumi_policies():
        assert policy.enforcement_level is not None
        assert policy.enforcement_level.value == default_level(policy.name).value == "mandatory"
        assert policy.description and policy.remediation_steps


@pytest.mark.parametrize("environment", environments())
def test_committed_pack_configs_match_the_table(environment: str) -> None:
    committed = (POLICIES_DIR / "config" / f"{environment}.json").read_text()
    assert committed == config_file_text(environment), "run `make policies`"
    assert set(json.loads(committed).values()) <= {level.value for level in Level}


def test_the_pack_project_runs_in_the_project_virtualenv() -> None:
    project = yaml.safe_load((POLICIES_DIR / "PulumiPolicy.yaml").read_text())
    assert project["runtime"] == {"name": "python", "options": {"virtualenv": "../.venv"}}
    assert (POLICIES_DIR / project["runtime"]["options"]["virtualenv"]).resolve() == (
        ROOT / ".venv"
    )
    entry = (POLICIES_DIR / "__main__.py").read_text()
    assert entry.count("PolicyPack(") == 1 and len(entry.splitlines()) < 15


# The real entry point, served over gRPC the way the Pulumi CLI talks to it -----------------


@pytest.fixture
def served_pack() -> Iterator[analyzer_pb2_grpc.AnalyzerStub]:
    # -u as the CLI does: the pack prints its port on stdout and then blocks serving.
    process = subprocess.Popen(
        [sys.executable, "-u", str(POLICIES_DIR / "__main__.py")],
        cwd=POLICIES_DIR,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        line = process.stdout.readline() if process.stdout else ""
        if not line.strip().isdigit():
            process.kill()
            pytest.fail(f"the pack did not print a port: {line!r} {process.stderr.read()}")
        channel = grpc.insecure_channel(f"127.0.0.1:{line.strip()}")
        yield analyzer_pb2_grpc.AnalyzerStub(channel)
        channel.close()
    finally:
        process.terminate()
        process.wait(timeout=10)


def _analyze(stub: analyzer_pb2_grpc.AnalyzerStub, obj: dict[str, Any]) -> list[Any]:
    properties = struct_pb2.Struct()
    properties.update(obj)
    request = analyzer_pb2.AnalyzeRequest(
        type=kubernetes_type(obj),
        properties=properties,
        urn=urn_of(obj),
        name=obj["metadata"]["name"],
        options=analyzer_pb2.AnalyzerResourceOptions(),
    )
    return list(stub.Analyze(request, timeout=30).diagnostics)


def test_the_pack_serves_every_policy_and_takes_levels_from_the_config(
    served_pack: analyzer_pb2_grpc.AnalyzerStub,
) -> None:
    info = served_pack.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)
    assert info.name == PACK_NAME
    assert [policy.name for policy in info.policies] == list(LEVELS)
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}

    unpinned = deployment(containers=[container(image="vllm/vllm-openai:latest")])
    [diagnostic] = _analyze(served_pack, unpinned)
    assert diagnostic.policyName == "pinned-image-tags"
    assert diagnostic.enforcementLevel == analyzer_pb2.MANDATORY
    assert "'vllm/vllm-openai:latest', a floating tag" in diagnostic.message

    # What --policy-pack-config policies/config/dev.json does.
    dev = json.loads((POLICIES_DIR / "config" / "dev.json").read_text())
    served_pack.Configure(
        analyzer_pb2.ConfigureAnalyzerRequest(
            policyConfig={
                name: analyzer_pb2.PolicyConfig(
                    enforcementLevel=analyzer_pb2.EnforcementLevel.Value(level.upper())
                )
                for name, level in dev.items()
            }
        ),
        timeout=30,
    )
    [diagnostic] = _analyze(served_pack, unpinned)
    assert diagnostic.enforcementLevel == analyzer_pb2.ADVISORY
