"""The stack's credentials as Pulumi secrets: read once, passed to targets, never in the spec."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi

from components.spec import StackSpec
from components.stack_config import NAMESPACE


@dataclass(frozen=True)
class StackSecrets:
    hf_token: pulumi.Output[str] | None = None
    # Registry name -> password.
    registry_passwords: pulumi.Output[dict[str, str]] | None = None
    # Deployment name -> the API key its engine requires (engineApiKeys).
    engine_api_keys: pulumi.Output[dict[str, str]] | None = None

    def engine_api_key(self, deployment: str) -> pulumi.Output[str] | None:
        if self.engine_api_keys is None:
            return None
        return pulumi.Output.secret(self.engine_api_keys.apply(lambda keys: keys[deployment]))


def read_stack_secrets(spec: StackSpec) -> StackSecrets:
    config = pulumi.Config(NAMESPACE)
    return StackSecrets(
        hf_token=config.require_secret("hfToken") if spec.hf_token is True else None,
        registry_passwords=(
            config.require_secret_object("registryPasswords") if spec.registry_passwords else None
        ),
        engine_api_keys=(
            config.require_secret_object("engineApiKeys") if spec.engine_api_keys else None
        ),
    )
