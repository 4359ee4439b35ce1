"""Planning `modelstack:debugAccess`: decided once for the stack, translated by each target.

Kubernetes: a Role in the stack's namespace with what `kubectl exec` and `kubectl debug`
need (catalog/debug_rbac.py) and a RoleBinding to the listed subjects. The Role cannot be
narrowed to one deployment's pods: they carry generated names (`<workload>-<hash>-<id>`) and
RBAC's resourceNames match whole names only, so the grant covers every pod in the namespace,
and the key is the stack's. Docker: nothing to create (the daemon's users can `docker exec`);
status prints the commands on both targets.
"""

from __future__ import annotations

from dataclasses import dataclass

from components import identity
from components.environments import EnvironmentDefaults
from components.errors import ConfigIssue, key_path
from components.planning.helper_images import DEBUG
from components.planning.target_profiles import TargetProfile
from components.spec import StackSpec

KEY = "debugAccess"


@dataclass(frozen=True)
class DebugSubject:
    """A RoleBinding subject: User, Group, or ServiceAccount (with its namespace)."""

    kind: str
    name: str
    namespace: str | None = None


@dataclass(frozen=True)
class DebugAccessPlan:
    # The Role and the RoleBinding (Kubernetes).
    name: str
    subjects: tuple[DebugSubject, ...]
    # For engines without a shell: `kubectl debug --image`, `docker run --pid=container:`.
    image: str
    # prod with `allowInProd: true`: the Role says so, for the debug-access guardrail.
    allowed_in_prod: bool


def plan_debug_access(
    spec: StackSpec, profile: TargetProfile, environment: EnvironmentDefaults, namespace: str
) -> tuple[DebugAccessPlan | None, list[ConfigIssue]]:
    """The stack's debug access (None: off) and the problems of its block."""
    access = spec.debug_access
    if access is None or not access.enabled:
        return None, []
    issues = []
    if environment.refuse_debug_access and not access.allow_in_prod:
        issues.append(
            ConfigIssue(
                key_path(KEY, "allowInProd"),
                f"{environment.name} refuses debug access (a shell next to the engines, "
                "reaching their memory, files and credentials): set `allowInProd: true` to mean "
                "it, or remove debugAccess",
            )
        )
    refusal = profile.debug_subjects.refusal
    if access.users and refusal is not None:
        issues.append(ConfigIssue(key_path(KEY, "users"), refusal))
    if not access.users and refusal is None:
        issues.append(
            ConfigIssue(
                key_path(KEY, "users"),
                "name who may open a shell: 1 to 5 entries of {kind: User | Group | "
                "ServiceAccount, name}",
            )
        )
    if issues:
        return None, issues
    subjects = tuple(
        DebugSubject(
            kind=user.kind,
            name=user.name,
            namespace=(user.namespace or namespace) if user.kind == "ServiceAccount" else None,
        )
        for user in access.users
    )
    return (
        DebugAccessPlan(
            name=identity.debug_access(),
            subjects=subjects,
            image=DEBUG.pinned(environment.pin_helper_digests),
            allowed_in_prod=environment.refuse_debug_access and access.allow_in_prod,
        ),
        [],
    )
