"""Which manifest changes Kubernetes or pulumi-kubernetes answers with a replacement.

Sources: the provider's force-new table (pulumi-kubernetes v4, provider/pkg/provider/diff.go)
for REPLACE, and the API server's update validation for REFUSED (the provider does not
replace, Kubernetes rejects the update, `pulumi up` fails). A new kind needs one entry in
RULES; the first rule that matches a change decides.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from components.diff.diff_model import Consequence, FieldPath, Verdict
from components.diff.tree_diff import keys_of
from components.quantities import parse_quantity

EVERY_KIND = "*"
Keys = tuple[str, ...]
# (old value, new value, old manifest, new manifest) -> does the rule apply?
Condition = Callable[[Any, Any, dict[str, Any], dict[str, Any]], bool]


@dataclass(frozen=True)
class Rule:
    kinds: tuple[str, ...]  # kind keys ("apps/Deployment", "core/Service") or EVERY_KIND
    paths: tuple[Keys, ...]  # fields (or subtrees) the rule covers
    consequence: Consequence
    reason: str  # "{field}" becomes the matched field
    unless: tuple[Keys, ...] = ()  # parts of those subtrees that update in place
    when: Condition | None = None

    def judge(
        self,
        kind: str,
        path: FieldPath,
        old: Any,
        new: Any,
        before: dict[str, Any],
        after: dict[str, Any],
    ) -> Verdict | None:
        if EVERY_KIND not in self.kinds and kind not in self.kinds:
            return None
        keys = keys_of(path)
        for covered in self.paths:
            if not _overlaps(keys, covered):
                continue
            # A whole subtree that merely contains the field is never a harmless update.
            if self.consequence is UPDATE and len(keys) < len(covered):
                continue
            rest = keys[len(covered) :]
            if any(rest[: len(part)] == part for part in self.unless):
                continue
            if self.when is not None and not self.when(old, new, before, after):
                continue
            field = ".".join(covered)
            return Verdict(self.consequence, self.reason.format(field=field))
        return None


def _overlaps(keys: tuple[str | None, ...], covered: Keys) -> bool:
    # A change inside the field, or a change of a whole subtree that contains it.
    shorter = min(len(keys), len(covered))
    return keys[:shorter] == covered[:shorter]


def _storage_shrinks(old: Any, new: Any, *_: Any) -> bool:
    return _quantity(new) < _quantity(old)


def _quantity(value: Any) -> Decimal:
    try:
        return parse_quantity(str(value))
    except ValueError:
        return Decimal(0)


def _headless_gets_ports(_old: Any, new: Any, _before: Any, after: dict[str, Any]) -> bool:
    return new in ("NodePort", "LoadBalancer") and after.get("spec", {}).get("clusterIP") == "None"


DEPLOYMENT = "apps/Deployment"
STATEFUL_SET = "apps/StatefulSet"
JOB = "batch/Job"
CLAIM = "core/PersistentVolumeClaim"
SERVICE = "core/Service"
REPLACE, REFUSED, UPDATE = Consequence.REPLACE, Consequence.REFUSED, Consequence.UPDATE

RULES: tuple[Rule, ...] = (
    Rule(
        (EVERY_KIND,),
        (("metadata", "name"),),
        REPLACE,
        "names are immutable: the object is deleted and created under the new name",
    ),
    Rule(
        (EVERY_KIND,),
        (("metadata", "namespace"),),
        REPLACE,
        "objects cannot move between namespaces: deleted here, created there",
    ),
    Rule(
        (DEPLOYMENT,),
        (("spec", "selector"),),
        REPLACE,
        "Deployment selectors are immutable: the Deployment is replaced, every pod restarts",
    ),
    Rule(
        ("apps/DaemonSet", "apps/ReplicaSet"),
        (("spec", "selector"),),
        REPLACE,
        "selectors are immutable: the workload is replaced, every pod restarts",
    ),
    Rule(
        (STATEFUL_SET,),
        (
            ("spec", "selector"),
            ("spec", "serviceName"),
            ("spec", "volumeClaimTemplates"),
            ("spec", "podManagementPolicy"),
            ("spec", "revisionHistoryLimit"),
        ),
        REPLACE,
        "pulumi-kubernetes replaces a StatefulSet when {field} changes",
    ),
    Rule(
        (STATEFUL_SET,),
        (("spec",),),
        REFUSED,
        "Kubernetes allows StatefulSet spec updates only to replicas, template, updateStrategy,"
        " minReadySeconds, ordinals and persistentVolumeClaimRetentionPolicy",
        unless=(
            ("replicas",),
            ("template",),
            ("updateStrategy",),
            ("minReadySeconds",),
            ("ordinals",),
            ("persistentVolumeClaimRetentionPolicy",),
        ),
    ),
    Rule(
        (JOB,),
        (
            ("spec", "template"),
            ("spec", "selector"),
            ("spec", "completions"),
            ("spec", "parallelism"),
        ),
        REPLACE,
        "{field} of a Job cannot be updated: pulumi-kubernetes deletes the Job and runs it again",
    ),
    Rule(
        (JOB,),
        (("spec",),),
        REFUSED,
        "Kubernetes forbids changing this Job field after creation",
        unless=(
            ("suspend",),
            ("activeDeadlineSeconds",),
            ("ttlSecondsAfterFinished",),
            ("backoffLimit",),
            ("maxFailedIndexes",),
        ),
    ),
    Rule(
        (CLAIM,),
        (("spec", "resources", "requests", "storage"),),
        REFUSED,
        "Kubernetes refuses to shrink a claim: storage requests may only grow",
        when=_storage_shrinks,
    ),
    Rule(
        (CLAIM,),
        (("spec", "resources", "requests", "storage"),),
        UPDATE,
        "expands in place if the StorageClass allows volume expansion",
    ),
    Rule(
        (CLAIM,),
        (
            ("spec", "accessModes"),
            ("spec", "storageClassName"),
            ("spec", "selector"),
            ("spec", "volumeName"),
        ),
        REPLACE,
        "pulumi-kubernetes replaces the claim when {field} changes: a new, empty volume",
    ),
    Rule(
        (CLAIM,),
        (("spec",),),
        REFUSED,
        "a claim's spec is immutable after creation, except storage requests",
        unless=(("resources", "requests"), ("volumeAttributesClassName",)),
    ),
    Rule(
        (SERVICE,),
        (("spec", "clusterIP"),),
        REPLACE,
        "spec.clusterIP is immutable: the Service is replaced and gets a new address",
    ),
    Rule(
        (SERVICE,),
        (("spec", "clusterIPs"),),
        REFUSED,
        "spec.clusterIPs is immutable once allocated",
    ),
    Rule(
        (SERVICE,),
        (("spec", "type"),),
        REFUSED,
        "a headless Service (clusterIP: None) cannot become NodePort or LoadBalancer",
        when=_headless_gets_ports,
    ),
    Rule(
        ("core/Secret",),
        (("type",), ("data",), ("stringData",)),
        REPLACE,
        "pulumi-kubernetes replaces a Secret whose {field} changes (enableSecretMutable is off)",
    ),
    Rule(
        ("core/ConfigMap",),
        (("data",), ("binaryData",)),
        REPLACE,
        "pulumi-kubernetes replaces a ConfigMap whose {field} changes"
        " (enableConfigMapMutable is off)",
    ),
    Rule(
        ("rbac.authorization.k8s.io/RoleBinding", "rbac.authorization.k8s.io/ClusterRoleBinding"),
        (("roleRef",),),
        REPLACE,
        "roleRef is immutable: the binding is replaced",
    ),
    Rule(
        ("storage.k8s.io/StorageClass",),
        (("parameters",), ("provisioner",)),
        REPLACE,
        "pulumi-kubernetes replaces a StorageClass when {field} changes",
    ),
    # pulumi-docker (bridged from kreuzwerker/docker) updates a container in place only for
    # restart policy and resource limits, plus a few settings of the provider's own.
    Rule(
        ("docker:index/container:Container",),
        ((),),
        REPLACE,
        "pulumi-docker recreates the container for this change",
        unless=tuple(
            (name,)
            for name in (
                "restart",
                "maxRetryCount",
                "cpuShares",
                "memory",
                "memorySwap",
                "cpuSet",
                "mustRun",
                "wait",
                "waitTimeout",
                "destroyGraceSeconds",
                "start",
                "attach",
                "logs",
                "removeVolumes",
            )
        ),
    ),
    Rule(
        ("docker:index/volume:Volume", "docker:index/network:Network"),
        ((),),
        REPLACE,
        "docker volumes and networks cannot change: a new one replaces it",
    ),
)


def judge_field(
    kind: str,
    path: FieldPath,
    old: Any,
    new: Any,
    before: dict[str, Any],
    after: dict[str, Any],
) -> Verdict | None:
    """The first rule's verdict on one field change; None: an ordinary in-place update."""
    for rule in RULES:
        verdict = rule.judge(kind, path, old, new, before, after)
        if verdict is not None:
            return verdict
    return None
