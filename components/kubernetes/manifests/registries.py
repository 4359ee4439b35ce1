"""Image pull Secrets for private registries, built from Pulumi secrets (never plain text)."""

from __future__ import annotations

import base64
import json
from typing import Any

import pulumi

from components import identity
from components.identity import MANAGED_BY, PART_OF
from components.plan import RegistryPlan, StackPlan


def pull_secret(
    stack: StackPlan, registry: RegistryPlan, passwords: pulumi.Output[dict[str, str]]
) -> dict[str, Any]:
    """A kubernetes.io/dockerconfigjson Secret; its content stays a Pulumi secret."""
    config = pulumi.Output.secret(passwords).apply(
        lambda values: docker_config(registry, values[registry.name])
    )
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": registry.secret_name,
            "namespace": stack.namespace,
            "labels": {
                identity.PART_OF_KEY: PART_OF,
                identity.MANAGED_BY_KEY: MANAGED_BY,
                identity.COMPONENT: "registry-credentials",
            },
        },
        "type": "kubernetes.io/dockerconfigjson",
        "stringData": {".dockerconfigjson": config},
    }


def docker_config(registry: RegistryPlan, password: str) -> str:
    """The JSON kubelet reads: auths -> server -> username, password, auth."""
    assert registry.server is not None and registry.username is not None
    auth = base64.b64encode(f"{registry.username}:{password}".encode()).decode()
    entry = {"username": registry.username, "password": password, "auth": auth}
    return json.dumps({"auths": {registry.server: entry}}, sort_keys=True)
