"""What `kubectl exec` and `kubectl debug` need from RBAC: the debug Role's rules, and the
subresources that amount to a shell in a pod (what the debug-access guardrail looks for).

Sources: the Kubernetes RBAC docs and "Debug Running Pods"
(kubernetes.io/docs/tasks/debug/debug-application/debug-running-pod/#ephemeral-container),
kubernetes/kubernetes#134577 (1.35: WebSocket exec/attach also need `create`; before 1.35
they were authorized as `get`), kubernetes/website#55447 (ephemeral containers: `patch`,
`update` on pods/ephemeralcontainers).

- `kubectl exec deploy/<name>` reads the Deployment, lists its pods, then opens
  pods/exec: `get` over WebSockets (kubectl >= 1.31's default), `create` over SPDY and,
  from Kubernetes 1.35, for WebSockets too. Both verbs keep every kubectl and server working.
- `kubectl debug <pod> --image=... --target=<container>` reads the pod, patches its
  pods/ephemeralcontainers (older kubectl: update), watches the pod until the container
  runs, then attaches (pods/attach, same verbs as exec).
"""

from __future__ import annotations

from typing import Any

# Each one gives a process in a pod's namespaces: what a guardrail calls "a shell".
SHELL_SUBRESOURCES = ("pods/exec", "pods/attach", "pods/ephemeralcontainers")

# (apiGroup, resources, verbs): the manifest turns each into a PolicyRule.
RULES: tuple[tuple[str, tuple[str, ...], tuple[str, ...]], ...] = (
    ("", ("pods",), ("get", "list", "watch")),
    ("", ("pods/exec", "pods/attach"), ("get", "create")),
    ("", ("pods/ephemeralcontainers",), ("patch", "update")),
    ("apps", ("deployments",), ("get",)),
)


def policy_rules() -> list[dict[str, Any]]:
    """The Role's `rules`, fresh lists each time (bodies are patched and serialized)."""
    return [
        {"apiGroups": [group], "resources": list(resources), "verbs": list(verbs)}
        for group, resources, verbs in RULES
    ]
