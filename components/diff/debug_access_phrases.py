"""modelstack:debugAccess in words: who gains or loses a shell next to the engines.

The Role and RoleBinding belong to the stack, not to a deployment, so the deployments'
phrases never mention them: "debug access granted to User alice@example.com, Group oncall
(kubectl exec and debug, every pod of the namespace)", "debug access: + User bob, - User
alice", "debug access removed".
"""

from __future__ import annotations

from typing import Any

from components.diff.entries import Entry
from components.identity import DEBUG_ACCESS
from components.rendered.objects import component_of

_BINDING = "rbac.authorization.k8s.io/RoleBinding"
_SCOPE = "(kubectl exec and debug, every pod of the namespace)"


def describe_debug_access(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    old, new = _subjects(before), _subjects(after)
    if old is None and new is None:
        return []
    if old is None:
        return [f"debug access granted to {', '.join(new or ['nobody'])} {_SCOPE}"]
    if new is None:
        return ["debug access removed"]
    changes = [f"+ {who}" for who in new if who not in old]
    changes += [f"- {who}" for who in old if who not in new]
    return [f"debug access: {', '.join(changes)}"] if changes else []


def _subjects(entries: dict[str, Entry]) -> list[str] | None:
    """The debug RoleBinding's subjects as 'Kind name' (None: no debug access)."""
    for entry in entries.values():
        body = entry.body
        if body is not None and entry.kind_key == _BINDING and component_of(body) == DEBUG_ACCESS:
            return [_who(subject) for subject in body.get("subjects") or []]
    return None


def _who(subject: dict[str, Any]) -> str:
    name = str(subject.get("name"))
    if subject.get("namespace"):
        name = f"{subject['namespace']}/{name}"
    return f"{subject.get('kind')} {name}"
