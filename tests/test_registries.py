"""Private registries: pull Secrets from Pulumi secrets or by name, on engines and loaders."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.kubernetes.manifests.registries import docker_config
from components.offline.stack_file import PLACEHOLDER_PREFIX
from components.plan import RegistryPlan
from tests.conftest import (
    deployments_of,
    find_object,
    find_resource,
    render_document,
    stack_document,
)

REGISTRIES = [
    {"name": "ghcr", "server": "ghcr.io", "username": "deploy-bot"},
    {"name": "corp", "existingSecret": "corp-regcred"},
]


def _prod_with_registries() -> dict[str, Any]:
    document = stack_document("prod")
    config = document["config"]
    config["modelstack:registries"] = REGISTRIES
    config["modelstack:registryPasswords"] = {"ghcr": {"secure": "v1:ciphertext"}}
    deployments_of(document)[0]["imagePullSecrets"] = ["team-regcred"]
    return document


def test_pull_secrets_on_engines_and_loaders(tmp_path: Path, schema_validator) -> None:
    render = render_document(tmp_path, _prod_with_registries())
    secret = find_object(render, "Secret", "modelstack-registry-ghcr")
    assert secret["type"] == "kubernetes.io/dockerconfigjson"
    assert secret["stringData"] == {".dockerconfigjson": "[secret]"}
    assert find_resource(render, "kubernetes:core/v1:Secret", "modelstack-registry-ghcr")["protect"]
    pod = find_object(render, "Deployment", "llama-chat-blue")["spec"]["template"]["spec"]
    assert pod["imagePullSecrets"] == [
        {"name": "modelstack-registry-ghcr"},
        {"name": "corp-regcred"},
        {"name": "team-regcred"},
    ]
    other = find_object(render, "Deployment", "summarizer-cpu")["spec"]["template"]["spec"]
    assert other["imagePullSecrets"] == [
        {"name": "modelstack-registry-ghcr"},
        {"name": "corp-regcred"},
    ]
    job = next(o for o in render.objects if o["kind"] == "Job")
    assert job["spec"]["template"]["spec"]["imagePullSecrets"][0] == {
        "name": "modelstack-registry-ghcr"
    }
    # Deployments wait for the pull Secret.
    assert (
        "kubernetes:core/v1:Secret::modelstack-registry-ghcr"
        in find_resource(render, "kubernetes:apps/v1:Deployment", "llama-chat-blue")["dependsOn"]
    )
    assert PLACEHOLDER_PREFIX not in json.dumps(render.object_files())
    assert render.leaks == []
    assert schema_validator.validate_all(render.objects) == []


def test_the_docker_config_kubelet_reads() -> None:
    registry = RegistryPlan("ghcr", "ghcr.io", "bot", "modelstack-registry-ghcr", True)
    config = json.loads(docker_config(registry, "s3cret"))
    entry = config["auths"]["ghcr.io"]
    assert entry["username"] == "bot" and entry["password"] == "s3cret"
    assert base64.b64decode(entry["auth"]).decode() == "bot:s3cret"


def _error(tmp_path: Path, document: dict[str, Any]) -> str:
    with pytest.raises(pulumi.RunError) as failure:
        render_document(tmp_path, document)
    return str(failure.value)


def test_a_registry_without_its_password(tmp_path: Path) -> None:
    document = _prod_with_registries()
    del document["config"]["modelstack:registryPasswords"]
    assert "modelstack:registryPasswords: no password for ghcr" in _error(tmp_path, document)


def test_registry_passwords_must_be_secret(tmp_path: Path) -> None:
    document = _prod_with_registries()
    document["config"]["modelstack:registryPasswords"] = {"ghcr": "plain"}
    assert "modelstack:registryPasswords: must be a secret" in _error(tmp_path, document)


def test_username_or_existing_secret(tmp_path: Path) -> None:
    document = _prod_with_registries()
    document["config"]["modelstack:registries"] = [{"name": "x", "server": "ghcr.io"}]
    del document["config"]["modelstack:registryPasswords"]
    assert "modelstack:registries[0].username: give username and server" in _error(
        tmp_path, document
    )


def test_docker_authenticates_through_its_provider(tmp_path: Path) -> None:
    document = stack_document("dev")
    document["config"]["modelstack:registries"] = [REGISTRIES[0]]
    document["config"]["modelstack:registryPasswords"] = {"ghcr": {"secure": "v1:abc"}}
    render = render_document(tmp_path, document)
    provider = find_resource(render, "pulumi:providers:docker", "docker")
    assert provider["parent"] is None
    engine = next(r for r in render.resources if r["type"] == "docker:index/container:Container")
    assert engine["provider"] == "pulumi:providers:docker::docker"
    assert render.leaks == []
    document["config"]["modelstack:registries"] = [REGISTRIES[1]]
    del document["config"]["modelstack:registryPasswords"]
    assert "modelstack:registries[0].existingSecret: a Kubernetes Secret means nothing" in _error(
        tmp_path, document
    )
