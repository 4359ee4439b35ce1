"""`patches:`: RFC 6902 operations on a deployment's rendered Kubernetes objects."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from components import identity
from components.errors import ConfigIssue, StackConfigError
from components.kubernetes.deployment_objects import deployment_objects
from components.offline.render import Render
from components.offline.schema_validation import SchemaValidator
from components.planning.stack_validation import validated_plan
from tests.conftest import (
    KUBERNETES_STACKS,
    deployments_of,
    find_object,
    render_document,
    stack_document,
    with_changes,
)
from tests.test_spec_validation import STACK_FILE, deployment, read_stack, stack

TOLERATION = {"key": "team", "operator": "Equal", "value": "ml", "effect": "NoSchedule"}


def patch(kind: str, name: str, *ops: dict[str, Any]) -> dict[str, Any]:
    return {"target": {"kind": kind, "name": name}, "ops": list(ops)}


def issues_of(raw: dict[str, Any]) -> list[ConfigIssue]:
    with pytest.raises(StackConfigError) as caught:
        validated_plan(raw, set(), STACK_FILE)
    return caught.value.issues


def paths_and_messages(raw: dict[str, Any]) -> dict[str, str]:
    return {issue.path: issue.message for issue in issues_of(raw)}


@pytest.mark.parametrize(
    "operation",
    [
        {"op": "replace", "path": "/metadata/name", "value": "other"},
        {"op": "add", "path": "/metadata/namespace", "value": "other"},
        {"op": "remove", "path": "/metadata"},
        {"op": "replace", "path": "/kind", "value": "StatefulSet"},
        {"op": "replace", "path": "/apiVersion", "value": "apps/v1beta1"},
        {"op": "replace", "path": "", "value": {}},
        {"op": "move", "from": "/metadata/name", "path": "/spec/name"},
    ],
)
def test_operations_on_identity_are_refused_at_their_key_path(operation: dict[str, Any]) -> None:
    raw = stack(deployment(patches=[patch("Deployment", "chat", operation)]))
    found = paths_and_messages(raw)
    assert list(found) == ["deployments[0].patches[0].ops[0]"]
    assert "modelstack owns those" in found["deployments[0].patches[0].ops[0]"]


def test_identity_may_be_tested_and_fields_below_metadata_changed() -> None:
    ops = [
        {"op": "test", "path": "/metadata/name", "value": "chat"},
        {"op": "add", "path": "/metadata/labels/team", "value": "ml"},
    ]
    plan, _ = validated_plan(stack(deployment(patches=[patch("Deployment", "chat", *ops)])),
                             set(), STACK_FILE)  # fmt: skip
    assert plan.deployments[0].on_kubernetes.patches[0].ops == ops


@pytest.mark.parametrize(
    ("operation", "fragment"),
    [
        ({"op": "merge", "path": "/spec"}, "must be one of add, remove"),
        ({"op": "add", "path": "/spec/x"}, "needs `value`"),
        ({"op": "remove", "path": "/spec/x", "value": 1}, "remove value"),
        ({"op": "add", "path": "spec/x", "value": 1}, "not a JSON Pointer"),
    ],
)
def test_malformed_operations_are_stack_file_errors(
    operation: dict[str, Any], fragment: str
) -> None:
    found = paths_and_messages(stack(deployment(patches=[patch("Deployment", "chat", operation)])))
    assert list(found) == ["deployments[0].patches[0].ops[0]"]
    assert fragment in found["deployments[0].patches[0].ops[0]"]


def test_unknown_target_lists_the_deployments_objects() -> None:
    found = paths_and_messages(
        stack(
            deployment(patches=[patch("Deployment", "chat-blue", {"op": "remove", "path": "/x"})])
        )
    )
    message = found["deployments[0].patches[0].target"]
    assert "no Deployment named 'chat-blue'" in message
    assert "Deployment/chat" in message and "Service/chat" in message


def test_failing_operations_are_reported_with_every_other_problem_at_once() -> None:
    ops = [
        {"op": "add", "path": "/spec/template/spec/tolerations/-", "value": TOLERATION},
        {"op": "replace", "path": "/spec/paused", "value": True},  # not set: nothing to replace
    ]
    raw = stack(
        deployment(patches=[patch("Deployment", "chat", *ops)]),
        deployment(
            name="other",
            gpu={"type": "NoSuchGPU"},
            patches=[patch("Service", "other", {"op": "test", "path": "/spec/type", "value": "X"})],
        ),
        deployment(
            name="third",
            unknownKey=1,  # a spec error: the rest is still planned and checked
            patches=[patch("Service", "third", {"op": "remove", "path": "/spec/nothing"})],
        ),
    )
    with pytest.raises(StackConfigError) as caught:
        validated_plan(raw, set(), STACK_FILE)
    found = {issue.path: issue.message for issue in caught.value.issues}
    assert "`/spec/paused` does not exist" in found["deployments[0].patches[0].ops[1]"]
    assert "deployments[0].patches[0].ops[0]" not in found
    assert "deployments[1].gpu.type" in found  # the unknown GPU; its patches cannot be checked
    assert "deployments[2].unknownKey" in found
    assert "`/spec/nothing` does not exist" in found["deployments[2].patches[0].ops[0]"]
    report = str(caught.value)
    assert (
        "modelstack:deployments[0].patches[0].ops[1]: path `/spec/paused` does not exist "
        "[deployment chat]" in report
    )


def test_a_failing_test_operation_is_an_error() -> None:
    op = {"op": "test", "path": "/spec/type", "value": "LoadBalancer"}
    found = paths_and_messages(stack(deployment(patches=[patch("Service", "chat", op)])))
    assert found == {"deployments[0].patches[0].ops[0]": "test failed: the value at "
                     "`/spec/type` differs"}  # fmt: skip


def test_docker_refuses_patches() -> None:
    op = {"op": "add", "path": "/spec/x", "value": 1}
    found = paths_and_messages(
        stack(deployment(patches=[patch("Deployment", "chat", op)]), target="docker")
    )
    assert "docker containers are not" in found["deployments[0].patches"]


def _staging_with(*patches: dict[str, Any]) -> dict[str, Any]:
    def change(document: dict[str, Any]) -> None:
        deployments_of(document)[0]["patches"] = list(patches)

    return with_changes(stack_document("staging"), change)


@pytest.fixture(scope="module")
def staging_workload() -> str:
    raw, secret = read_stack("staging")
    plan, _ = validated_plan(raw, secret, "stacks/Pulumi.staging.yaml")
    return next(b for b in deployment_objects(plan.deployments[0]) if b["kind"] == "Deployment")[
        "metadata"
    ]["name"]


def test_patches_reach_the_rendered_object_and_mark_it(
    tmp_path: Path, stack_renders: dict[str, Render], staging_workload: str
) -> None:
    ops = [
        {"op": "add", "path": "/spec/template/spec/tolerations", "value": [TOLERATION]},
        {"op": "add", "path": "/metadata/labels/team", "value": "ml"},
    ]
    render = render_document(tmp_path, _staging_with(patch("Deployment", staging_workload, *ops)))
    patched = find_object(render, "Deployment", staging_workload)
    assert patched["spec"]["template"]["spec"]["tolerations"] == [TOLERATION]
    assert patched["metadata"]["labels"]["team"] == "ml"
    assert patched["metadata"]["annotations"][identity.PATCHED_ANNOTATION] == "true"
    before = find_object(stack_renders["staging"], "Deployment", staging_workload)
    assert patched["metadata"]["name"] == before["metadata"]["name"]
    # Nothing else changed.
    others = [o for o in render.objects if o is not patched]
    assert others == [o for o in stack_renders["staging"].objects if o != before]


def test_a_patched_objects_schema_violation_names_the_patches(
    tmp_path: Path, staging_workload: str
) -> None:
    op = {"op": "add", "path": "/spec/replicas", "value": "many"}
    render = render_document(tmp_path, _staging_with(patch("Deployment", staging_workload, op)))
    violations = SchemaValidator("1.33").validate(
        find_object(render, "Deployment", staging_workload)
    )
    assert violations
    assert all("changed by the stack file's `patches:`" in str(v) for v in violations)
    assert any(v.field == "spec.replicas" for v in violations)


@pytest.mark.parametrize("name", KUBERNETES_STACKS)
def test_deployment_objects_are_what_the_target_renders(
    name: str, stack_renders: dict[str, Render]
) -> None:
    raw, secret = read_stack(name)
    plan, _ = validated_plan(raw, secret, f"stacks/Pulumi.{name}.yaml")
    listed = [(b["kind"], b["metadata"]["name"]) for d in plan.deployments
              for b in deployment_objects(d)]  # fmt: skip
    rendered = [(o["kind"], o["metadata"]["name"]) for o in stack_renders[name].objects]
    stack_level = {("Namespace", plan.namespace)} | {
        ("Secret", registry.secret_name) for registry in plan.registries if registry.created
    }
    assert sorted(listed) == sorted(r for r in rendered if r not in stack_level)


def test_the_readme_example_plans_on_the_staging_stack() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    section = readme.split("## Patches: the escape hatch")[1]
    example = yaml.safe_load(section.split("```yaml\n")[1].split("```")[0])
    raw, secret = read_stack("staging")
    raw["deployments"][0]["patches"] = example["patches"]
    plan, _ = validated_plan(raw, secret, "stacks/Pulumi.staging.yaml")
    assert len(plan.deployments[0].on_kubernetes.patches) == 2
