"""SchemaValidator against the real core and CRD schemas."""

from __future__ import annotations

import copy
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from components.offline.crd_schemas import HOW_TO_GET_SCHEMAS, find_crd_schema_dir
from components.offline.schema_validation import SchemaValidator, SchemaViolation

NO_SCHEMA = "pass --crd-schemas DIR with the CRD's JSON schema"


def deployment() -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "llama-chat", "modelstack/slot": "blue"}
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": "llama-chat-blue", "namespace": "serving", "labels": labels},
        "spec": {
            "replicas": 2,
            "selector": {"matchLabels": labels},
            "template": {
                "metadata": {"labels": labels},
                "spec": {
                    "containers": [
                        {
                            "name": "server",
                            "image": "vllm/vllm-openai:v0.9.0",
                            "args": ["--port", "8000"],
                            "ports": [{"name": "http", "containerPort": 8000}],
                            "resources": {
                                "requests": {"cpu": "4", "memory": "24Gi"},
                                "limits": {"nvidia.com/gpu": 1},
                            },
                            "readinessProbe": {"httpGet": {"path": "/health", "port": "http"}},
                        }
                    ],
                    "tolerations": [{"key": "nvidia.com/gpu", "operator": "Exists"}],
                },
            },
        },
    }


def service() -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {"name": "llama-chat"},
        "spec": {
            "selector": {"app.kubernetes.io/name": "llama-chat"},
            "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
        },
    }


def http_route() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": "llama-chat", "namespace": "serving"},
        "spec": {
            "parentRefs": [{"name": "inference-gateway"}],
            "hostnames": ["chat.example.com"],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}],
                    "backendRefs": [
                        {"name": "llama-chat-blue", "port": 80, "weight": 90},
                        {"name": "llama-chat-green", "port": 80, "weight": 10},
                    ],
                },
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/old"}}],
                    "filters": [
                        {
                            "type": "RequestRedirect",
                            "requestRedirect": {
                                "statusCode": 301,
                                "path": {"type": "ReplaceFullPath", "replaceFullPath": "/v1"},
                            },
                        }
                    ],
                },
            ],
        },
    }


def scaled_object() -> dict[str, Any]:
    return {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {"name": "llama-chat-blue", "namespace": "serving"},
        "spec": {
            "scaleTargetRef": {"name": "llama-chat-blue"},
            "minReplicaCount": 1,
            "maxReplicaCount": 4,
            "triggers": [
                {
                    "type": "prometheus",
                    # A free-form map (additionalProperties: string): any key is fine.
                    "metadata": {
                        "serverAddress": "http://prometheus.monitoring:9090",
                        "query": "sum(vllm:num_requests_waiting)",
                        "threshold": "10",
                    },
                }
            ],
        },
    }


def service_monitor() -> dict[str, Any]:
    return {
        "apiVersion": "monitoring.coreos.com/v1",
        "kind": "ServiceMonitor",
        "metadata": {"name": "llama-chat", "labels": {"release": "prometheus"}},
        "spec": {
            "selector": {"matchLabels": {"app.kubernetes.io/name": "llama-chat"}},
            "endpoints": [{"port": "http", "path": "/metrics", "interval": "30s"}],
        },
    }


def gateway() -> dict[str, Any]:
    return {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "Gateway",
        "metadata": {"name": "inference-gateway"},
        "spec": {
            "gatewayClassName": "eg",
            "listeners": [{"name": "http", "protocol": "HTTP", "port": 80}],
            # Hostname addresses only pass the oneOf if its branches are left open.
            "addresses": [{"type": "Hostname", "value": "gw.example.com"}],
        },
    }


@pytest.fixture(scope="module")
def core() -> SchemaValidator:
    return SchemaValidator()


@pytest.fixture(scope="module")
def crd_dir() -> Path:
    found = find_crd_schema_dir()
    if found is None:
        pytest.skip(HOW_TO_GET_SCHEMAS)
    return found


@pytest.fixture(scope="module")
def with_crds(crd_dir: Path) -> SchemaValidator:
    return SchemaValidator(crd_schema_dir=crd_dir)


def fields(violations: list[SchemaViolation]) -> list[str]:
    return [violation.field for violation in violations]


def test_valid_core_objects_pass(core: SchemaValidator) -> None:
    assert core.validate(deployment()) == []
    assert core.validate(service()) == []


def test_unknown_field_in_deployment_is_reported_at_its_path(core: SchemaValidator) -> None:
    obj = deployment()
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["resource"] = container.pop("resources")

    [violation] = core.validate(obj)

    assert violation.object_ref == "Deployment/llama-chat-blue"
    assert violation.field == "spec.template.spec.containers[0].resource"
    assert "unknown field" in violation.message
    assert "'resources'" in violation.message  # the suggestion


def test_every_violation_of_one_object_is_reported(core: SchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["replicas"] = "two"
    container = obj["spec"]["template"]["spec"]["containers"][0]
    container["ports"][0]["containerPort"] = "8000"
    del container["name"]

    violations = core.validate(obj)

    assert sorted(fields(violations)) == [
        "spec.replicas",
        "spec.template.spec.containers[0].name",
        "spec.template.spec.containers[0].ports[0].containerPort",
    ]
    by_field = {violation.field: violation.message for violation in violations}
    assert by_field["spec.replicas"] == 'expected integer, got string "two"'
    assert "missing" in by_field["spec.template.spec.containers[0].name"]


def test_str_names_object_field_and_problem(core: SchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["replicas"] = "two"
    [violation] = core.validate(obj)
    assert (
        str(violation)
        == 'Deployment/llama-chat-blue: spec.replicas: expected integer, got string "two"'
    )
    assert str(SchemaViolation("Namespace/x", "", "bad")) == "Namespace/x: bad"


def test_integral_float_is_an_integer(core: SchemaValidator) -> None:
    obj = deployment()
    obj["spec"]["replicas"] = 2.0
    assert core.validate(obj) == []
    obj["spec"]["replicas"] = 2.5
    assert fields(core.validate(obj)) == ["spec.replicas"]


def test_one_of_failure_gives_a_readable_message(core: SchemaValidator) -> None:
    obj = service()
    obj["spec"]["ports"][0]["targetPort"] = ["http"]
    [violation] = core.validate(obj)
    assert violation.field == "spec.ports[0].targetPort"
    assert violation.message == "expected string or integer, got array [...]"


def test_label_keys_with_dots_are_quoted_in_the_path(core: SchemaValidator) -> None:
    obj = service()
    obj["metadata"]["labels"] = {"app.kubernetes.io/name": 3}
    assert fields(core.validate(obj)) == ['metadata.labels["app.kubernetes.io/name"]']


def test_core_kind_is_matched_on_its_full_group(core: SchemaValidator) -> None:
    # kubernetes-validate's file name for apps/v1 Deployment would also match example.com/apps.
    obj = deployment()
    obj["apiVersion"] = "apps.example.com/v1"
    # A custom group without schemas: skipped (and counted), never validated as apps/v1.
    assert core.validate(obj) == []
    assert ("apps.example.com/v1", "Deployment") in core.skipped


def test_missing_kind_is_a_violation(core: SchemaValidator) -> None:
    obj = service()
    del obj["kind"]
    assert core.validate(obj) == [
        SchemaViolation("<unknown kind>/llama-chat", "kind", "missing or not a string")
    ]


@pytest.mark.parametrize("make", [http_route, scaled_object, service_monitor, gateway])
def test_valid_custom_resources_pass(with_crds: SchemaValidator, make: Any) -> None:
    assert with_crds.validate(make()) == []


def test_unknown_field_nested_in_crd_spec_is_reported(with_crds: SchemaValidator) -> None:
    obj = scaled_object()
    trigger = obj["spec"]["triggers"][0]
    trigger["metdata"] = trigger.pop("metadata")

    violations = with_crds.validate(obj)

    by_field = {violation.field: violation.message for violation in violations}
    assert set(by_field) == {"spec.triggers[0].metdata", "spec.triggers[0].metadata"}
    assert by_field["spec.triggers[0].metdata"] == "unknown field; did you mean 'metadata'?"
    assert by_field["spec.triggers[0].metadata"] == "required field is missing"
    assert all(violation.object_ref == "ScaledObject/llama-chat-blue" for violation in violations)


def test_crd_metadata_is_checked_strictly(with_crds: SchemaValidator) -> None:
    obj = service_monitor()
    obj["metadata"]["label"] = obj["metadata"].pop("labels")
    assert fields(with_crds.validate(obj)) == ["metadata.label"]


@pytest.mark.parametrize(
    ("name", "problem"),
    [(None, "missing"), ("Llama_Chat", "DNS-1123"), ("a" * 254, "DNS-1123")],
)
def test_crd_object_needs_a_dns_subdomain_name(
    with_crds: SchemaValidator, name: str | None, problem: str
) -> None:
    obj = http_route()
    if name is None:
        del obj["metadata"]["name"]
    else:
        obj["metadata"]["name"] = name
    [violation] = with_crds.validate(obj)
    assert violation.field == "metadata.name"
    assert problem in violation.message


def test_crd_object_without_crd_dir_is_skipped(core: SchemaValidator) -> None:
    # kubeconform's -ignore-missing-schemas: not checked, reported as skipped by validate.
    assert core.validate(scaled_object()) == []
    assert ("keda.sh/v1alpha1", "ScaledObject") in core.skipped


def test_kind_missing_from_crd_dir_has_no_schema(with_crds: SchemaValidator) -> None:
    obj = scaled_object()
    obj["kind"] = "ScaledJob"
    [violation] = with_crds.validate(obj)
    assert violation.message == f"no schema for keda.sh/v1alpha1 ScaledJob; {NO_SCHEMA}"


def test_validate_all_reports_each_object(with_crds: SchemaValidator) -> None:
    bad_route = http_route()
    bad_route["spec"]["rules"][0]["backendRefs"][0]["port"] = "eighty"
    violations = with_crds.validate_all([deployment(), bad_route, service_monitor()])
    assert [(v.object_ref, v.field) for v in violations] == [
        ("HTTPRoute/llama-chat", "spec.rules[0].backendRefs[0].port")
    ]


def test_closing_rules_for_crd_schemas(tmp_path: Path) -> None:
    """Objects with properties are closed, unless they opt out; maps stay open."""
    schema = {
        "type": "object",
        "properties": {
            "spec": {
                "type": "object",
                "properties": {
                    "closed": {"type": "object", "properties": {"a": {"type": "string"}}},
                    "preserved": {
                        "type": "object",
                        "properties": {"a": {"type": "string"}},
                        "x-kubernetes-preserve-unknown-fields": True,
                    },
                    "labels": {"type": "object", "additionalProperties": {"type": "string"}},
                    "optional": {"type": "string", "nullable": True},
                },
            }
        },
    }
    (tmp_path / "example.com").mkdir()
    (tmp_path / "example.com" / "widget_v1.json").write_text(json.dumps(schema), "utf-8")
    validator = SchemaValidator(crd_schema_dir=tmp_path)
    obj = {
        "apiVersion": "example.com/v1",
        "kind": "Widget",
        "metadata": {"name": "w"},
        "spec": {
            "closed": {"a": "x", "b": "typo"},
            "preserved": {"a": "x", "b": "kept"},
            "labels": {"any": "key"},
            "optional": None,
            "extra": 1,
        },
    }
    assert fields(validator.validate(obj)) == ["spec.closed.b", "spec.extra"]
    # The source schema is transformed as a copy: the file itself is untouched.
    assert json.loads((tmp_path / "example.com" / "widget_v1.json").read_text("utf-8")) == schema


def mutations(obj: Any) -> Iterator[Any]:
    """Copies of ``obj`` with one value swapped, one key dropped or one key added."""
    replacements: list[Any] = [None, True, 301, 2.0, 2.5, -1, "x", [], {}, {"zz": "x"}]

    def walk(node: Any, path: tuple[Any, ...]) -> Iterator[tuple[Any, ...]]:
        yield path
        if isinstance(node, dict | list):
            for key, child in node.items() if isinstance(node, dict) else enumerate(node):
                yield from walk(child, (*path, key))

    def at(root: Any, path: tuple[Any, ...]) -> Any:
        for key in path:
            root = root[key]
        return root

    for path in list(walk(obj, ()))[1:]:
        parent_path, key = path[:-1], path[-1]
        for value in replacements:
            changed = copy.deepcopy(obj)
            at(changed, parent_path)[key] = value
            yield changed
        if isinstance(key, str):
            changed = copy.deepcopy(obj)
            del at(changed, parent_path)[key]
            yield changed
        node = at(obj, path)
        if isinstance(node, dict):
            changed = copy.deepcopy(obj)
            at(changed, path)["unknownField"] = "x"
            yield changed


@pytest.mark.parametrize(
    "make", [deployment, service, http_route, scaled_object, service_monitor, gateway]
)
def test_fast_path_agrees_with_jsonschema(with_crds: SchemaValidator, make: Any) -> None:
    """The compiled yes/no check must never call valid what jsonschema calls invalid."""
    obj = make()
    kind_schema = with_crds._kind_schema(obj["apiVersion"], obj["kind"])
    fast_check = with_crds.fast_check_of(obj["apiVersion"], obj["kind"])
    assert kind_schema is not None
    assert fast_check is not None  # otherwise every object takes the slow path
    outcomes = set()
    for variant in mutations(obj):
        expected = kind_schema.validator.is_valid(variant)
        unchanged = copy.deepcopy(variant)
        assert fast_check(variant) == expected, json.dumps(variant)
        assert variant == unchanged  # no defaults written into the object checked
        outcomes.add(expected)
    assert outcomes == {True, False}  # the variants exercised both answers


def test_many_objects_of_a_kind_get_the_same_findings_as_one(crd_dir: Path) -> None:
    """validate_all compiles a fast check for numerous kinds: what it finds does not change."""
    objs = [deployment() for _ in range(100)]
    objs[7]["spec"]["replicas"] = "two"
    objs[42]["spec"]["template"]["spec"]["contaners"] = []
    one_at_a_time = SchemaValidator(crd_schema_dir=crd_dir)
    expected = [found for obj in objs for found in one_at_a_time.validate(obj)]
    assert len(expected) == 2
    many = SchemaValidator(crd_schema_dir=crd_dir)
    assert many.validate_all(objs) == expected
    assert many._fast[("apps/v1", "Deployment")] is not None  # built, and used
