"""debug-access-in-prod: a Role that lets someone open a shell in pods (exec, attach, an
ephemeral container) reaches the engines' memory, model files and mounted credentials.

prod plans refuse `debugAccess` unless the stack file says `allowInProd: true`, and then the
Role carries identity.DEBUG_ACCESS_IN_PROD; this rule catches the rest (a Role widened through
`patches:`, a program change) on the render and in the live policy pack.
"""

from __future__ import annotations

from components.catalog.debug_rbac import SHELL_SUBRESOURCES
from components.guardrails.definitions import ResourceGuardrail
from components.guardrails.subject import Subject
from components.guardrails.wire import items, mapping
from components.identity import DEBUG_ACCESS_IN_PROD

# Verbs that open a shell: exec/attach are `create` (SPDY, WebSockets from 1.35) or `get`
# (WebSockets before 1.35); an ephemeral container is added by `patch` or `update`.
_SHELL_VERBS = frozenset({"get", "create", "patch", "update", "*"})


def shell_grants(subject: Subject) -> list[str]:
    """The shell subresources a Role or ClusterRole grants, in SHELL_SUBRESOURCES' order."""
    if not (subject.is_kubernetes("Role") or subject.is_kubernetes("ClusterRole")):
        return []
    granted: set[str] = set()
    for rule in items(subject.props.get("rules")):
        rule = mapping(rule)
        groups = {str(group) for group in items(rule.get("apiGroups"))}
        verbs = {str(verb) for verb in items(rule.get("verbs"))}
        if not groups & {"", "*"} or not verbs & _SHELL_VERBS:
            continue
        for resource in items(rule.get("resources")):
            resource = str(resource)
            granted |= {s for s in SHELL_SUBRESOURCES if resource in (s, "*", "pods/*")}
    return [resource for resource in SHELL_SUBRESOURCES if resource in granted]


def check_debug_access(subject: Subject) -> list[str]:
    granted = shell_grants(subject)
    if not granted or subject.annotations.get(DEBUG_ACCESS_IN_PROD) == "allowed":
        return []
    return [
        f"grants {', '.join(granted)}: a shell next to the engines (their memory, model files"
        " and credentials); in prod use `modelstack:debugAccess` with `allowInProd: true`, which"
        " says it is meant, or remove the grant"
    ]


DEBUG_ACCESS_IN_PROD_GUARDRAIL = ResourceGuardrail(
    name="debug-access-in-prod",
    description=(
        "No Role or ClusterRole grants pods/exec, pods/attach or pods/ephemeralcontainers unless"
        f" it carries {DEBUG_ACCESS_IN_PROD}=allowed (modelstack:debugAccess with allowInProd)."
    ),
    remediation=(
        "Remove the grant, or use `modelstack:debugAccess: {users: [...], allowInProd: true}`."
    ),
    check=check_debug_access,
)
