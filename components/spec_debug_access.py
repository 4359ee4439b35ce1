"""`modelstack:debugAccess`: who may open a shell next to the stack's running engines.

One block per stack (per environment), not per deployment: on Kubernetes the grant is a Role
on pods, and pods carry generated names that RBAC cannot match, so any grant of `pods/exec`
reaches every pod of the namespace. A per-deployment key would promise a limit it cannot keep.
Whether the environment allows it (prod only with allowInProd) is the plan's rule.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from components.spec_base import FieldError, SpecModel
from components.spec_identifiers import DNS_1123_LABEL, DNS_1123_SUBDOMAIN, USERNAME

# The seed platform's limit: a debug shell is for a few named people, a team is a Group.
MAX_USERS = 5
# Names Kubernetes gives its own identities; system:authenticated is every signed-in user.
_RESERVED_PREFIX = "system:"


class DebugUserSpec(SpecModel):
    """One RBAC subject: a person (User), a team (Group) or a ServiceAccount."""

    kind: Literal["User", "Group", "ServiceAccount"] = "User"
    name: Annotated[str, AfterValidator(USERNAME.check)]
    # ServiceAccount only; default: the stack's namespace.
    namespace: Annotated[str, AfterValidator(DNS_1123_LABEL.check)] | None = None

    @model_validator(mode="after")
    def _subject(self) -> DebugUserSpec:
        if self.kind == "ServiceAccount":
            problem = DNS_1123_SUBDOMAIN.problem(self.name)
            if problem:
                raise FieldError("name", problem)
        elif self.namespace is not None:
            raise FieldError("namespace", "applies to kind ServiceAccount only")
        if self.name.startswith(_RESERVED_PREFIX):
            raise FieldError(
                "name",
                f"'{_RESERVED_PREFIX}' names belong to Kubernetes and stand for many identities "
                "(system:authenticated is every signed-in user): name people, or a Group of yours",
            )
        return self


def _few(users: list[DebugUserSpec]) -> list[DebugUserSpec]:
    if len(users) > MAX_USERS:
        raise ValueError(
            f"{len(users)} entries; at most {MAX_USERS}: a debug shell is for a few named "
            "people (a team is one Group entry)"
        )
    seen = [(user.kind, user.name, user.namespace) for user in users]
    repeated = sorted(
        {f"{kind} {name}" for kind, name, ns in seen if seen.count((kind, name, ns)) > 1}
    )
    if repeated:
        raise ValueError(f"listed twice: {', '.join(repeated)}")
    return users


class DebugAccessSpec(SpecModel):
    """Off unless the stack file has this block; `enabled: false` keeps the list, grants nothing."""

    enabled: bool = True
    # Kubernetes: the RoleBinding's subjects. Docker grants nothing (whoever may use the
    # Docker daemon can already `docker exec`), so the plan refuses users there.
    users: Annotated[list[DebugUserSpec], AfterValidator(_few)] = Field(default_factory=list)
    # prod refuses debug access unless this says it is meant (environments.py).
    allow_in_prod: bool = False
