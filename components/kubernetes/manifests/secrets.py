"""Credential Secrets (the Hugging Face token, an engine's API key). Each value stays a Pulumi
secret: it is passed in, never built."""

from __future__ import annotations

from typing import Any

from components import identity
from components.kubernetes.manifests import labels
from components.plan import DeploymentPlan

HF_TOKEN_KEY = "token"


def hf_token_secret(deployment: DeploymentPlan, name: str, token: object) -> dict[str, Any]:
    """`token` is a Pulumi secret Output at run time; this function only places it."""
    return credential_secret(deployment, name, HF_TOKEN_KEY, token)


def credential_secret(
    deployment: DeploymentPlan, name: str, key: str, value: object
) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": name,
            "namespace": deployment.namespace,
            "labels": labels.common(deployment, identity.CREDENTIALS),
        },
        "type": "Opaque",
        "stringData": {key: value},
    }
