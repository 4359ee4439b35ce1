"""modelstack:debugAccess on Kubernetes: a Role with what `kubectl exec` and `kubectl debug`
need, and a RoleBinding to the stack file's subjects, both in the stack's namespace.

No sshd in the engine pods: the API server already authenticates the people, RBAC says who
may, the audit log records each exec, and removing the block revokes it on the next
`pulumi up`. Nothing to keep in sync (keys, a second port, a sidecar image to patch).
"""

from __future__ import annotations

from typing import Any

from components import identity
from components.catalog.debug_rbac import policy_rules
from components.identity import MANAGED_BY, PART_OF
from components.plan import StackPlan
from components.planning.debug_access import DebugAccessPlan, DebugSubject

RBAC_GROUP = "rbac.authorization.k8s.io"
RBAC_VERSION = f"{RBAC_GROUP}/v1"


def debug_access_objects(stack: StackPlan) -> list[dict[str, Any]]:
    """The Role, then its RoleBinding; none when the stack file asks for no debug access."""
    access = stack.debug_access
    if access is None:
        return []
    return [role(stack, access), role_binding(stack, access)]


def role(stack: StackPlan, access: DebugAccessPlan) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_VERSION,
        "kind": "Role",
        "metadata": _metadata(stack, access),
        "rules": policy_rules(),
    }


def role_binding(stack: StackPlan, access: DebugAccessPlan) -> dict[str, Any]:
    return {
        "apiVersion": RBAC_VERSION,
        "kind": "RoleBinding",
        "metadata": _metadata(stack, access),
        "subjects": [_subject(subject) for subject in access.subjects],
        "roleRef": {"apiGroup": RBAC_GROUP, "kind": "Role", "name": access.name},
    }


def _metadata(stack: StackPlan, access: DebugAccessPlan) -> dict[str, Any]:
    metadata: dict[str, Any] = {
        "name": access.name,
        "namespace": stack.namespace,
        "labels": {
            identity.PART_OF_KEY: PART_OF,
            identity.MANAGED_BY_KEY: MANAGED_BY,
            identity.COMPONENT: identity.DEBUG_ACCESS,
        },
    }
    if access.allowed_in_prod:
        metadata["annotations"] = {identity.DEBUG_ACCESS_IN_PROD: "allowed"}
    return metadata


def _subject(subject: DebugSubject) -> dict[str, str]:
    if subject.kind == "ServiceAccount":
        # The core group: ServiceAccount subjects carry a namespace and no apiGroup.
        assert subject.namespace is not None
        return {"kind": "ServiceAccount", "name": subject.name, "namespace": subject.namespace}
    return {"apiGroup": RBAC_GROUP, "kind": subject.kind, "name": subject.name}
