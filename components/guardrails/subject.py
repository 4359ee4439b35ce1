"""What a guardrail looks at: one resource as Pulumi registers it."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from components.guardrails.wire import mapping
from components.identity import DEPLOYMENT
from components.nested_values import dig

KUBERNETES = "kubernetes"
# The label every modelstack object carries: it names the stack file's deployment.


@dataclass(frozen=True)
class ResourceOptions:
    protect: bool = False
    # None when the caller cannot see the option: pulumi-policy 1.21 does not pass
    # retainOnDelete to policy packs, only the offline render records it.
    retain_on_delete: bool | None = None


@dataclass(frozen=True)
class Subject:
    # Pulumi type token: kubernetes:apps/v1:Deployment, kubernetes:keda.sh/v1alpha1:ScaledObject.
    type: str
    name: str
    # Inputs in wire format (camelCase), plain dicts offline or pulumi-policy's proxies live.
    props: Mapping[str, Any]
    options: ResourceOptions = field(default_factory=ResourceOptions)
    urn: str | None = None

    @property
    def provider(self) -> str:
        return self.type.split(":", 1)[0]

    @property
    def kind(self) -> str:
        return self.type.rsplit(":", 1)[-1]

    @property
    def api_group(self) -> str:
        """apps, core, keda.sh, gateway.networking.k8s.io; '' outside Kubernetes."""
        parts = self.type.split(":")
        if self.provider != KUBERNETES or len(parts) != 3:
            return ""
        return parts[1].rsplit("/", 1)[0] if "/" in parts[1] else parts[1]

    def is_kubernetes(self, kind: str, group: str | None = None) -> bool:
        if self.provider != KUBERNETES or self.kind != kind:
            return False
        return group is None or self.api_group == group

    @property
    def metadata(self) -> Mapping[str, Any]:
        return mapping(self.props.get("metadata"))

    @property
    def object_name(self) -> str:
        return str(self.metadata.get("name") or self.name)

    @property
    def namespace(self) -> str | None:
        namespace = self.metadata.get("namespace")
        return str(namespace) if namespace else None

    @property
    def labels(self) -> Mapping[str, Any]:
        return mapping(self.metadata.get("labels"))

    @property
    def annotations(self) -> Mapping[str, Any]:
        return mapping(self.metadata.get("annotations"))

    @property
    def display(self) -> str:
        """How reports name it: Deployment/llama-chat-blue, the way kubectl does."""
        return f"{self.kind}/{self.object_name}"

    def spec(self, *path: str) -> Any:
        return dig(self.props, "spec", *path)


def stack_deployment(subject: Subject) -> str:
    """Where to look in the stack file: `deployment 'llama-chat'`, or the object itself."""
    name = subject.labels.get(DEPLOYMENT)
    if name:
        return f"deployment '{name}'"
    return f"the stack that declares {subject.display}"


def same_namespace(first: Subject, second: Subject) -> bool:
    # An unset namespace means the provider's default, which only the cluster knows:
    # treat it as a match rather than report a miss nobody can act on.
    if first.namespace is None or second.namespace is None:
        return True
    return first.namespace == second.namespace
