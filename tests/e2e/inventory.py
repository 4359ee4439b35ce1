"""What a cluster must already offer before a stack is applied, derived from its plan.

A cloud cluster comes with these; the local one gets them here: the namespace when the stack
does not create it, the CRDs the render uses (upstream manifests from shared/schemas), the
storage classes the caches name with a pre-provisioned volume per claim (no CSI driver runs
here, so volumes are static: the binder in kube-controller-manager binds them as a cloud's
provisioner would), and the claims that `pvc://` sources expect to exist.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from components.plan import StackPlan, build_plan
from tests.e2e.cluster import ROOT, LocalCluster

CRD_MANIFESTS = ROOT.parent / "shared" / "schemas"
CRD_FOLDERS = ("crds", "crds-inference", "crds-delivery")
# A claim of an external model store (`pvc://claim/path`): big enough for any model here.
EXTERNAL_CLAIM_SIZE = "500Gi"


def crd_documents() -> list[dict[str, Any]]:
    documents = []
    for folder in CRD_FOLDERS:
        for path in sorted((CRD_MANIFESTS / folder / "original").glob("*.y*ml")):
            for document in yaml.safe_load_all(path.read_text()):
                if document and document.get("kind") == "CustomResourceDefinition":
                    documents.append(document)
    return documents


def install_crds(cluster: LocalCluster) -> list[str]:
    names = []
    for document in crd_documents():
        cluster.apply(document)
        names.append(document["metadata"]["name"])
    for name in names:
        cluster.wait_for(
            f"CRD {name} established",
            lambda name=name: _established(cluster, name),
            timeout=60,
        )
    return names


def prerequisites(plan: StackPlan) -> list[dict[str, Any]]:
    """Namespaces, storage classes, volumes and external claims this plan expects."""
    documents: list[dict[str, Any]] = []
    namespaces = {deployment.namespace for deployment in plan.deployments} | {plan.namespace}
    if plan.on_kubernetes.create_namespace:
        namespaces.discard(plan.namespace)
    for namespace in sorted(namespaces):
        documents.append({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": namespace}})
    classes: set[str] = set()
    for deployment in plan.deployments:
        cache = deployment.cache
        if cache is not None:
            classes.add(cache.storage_class or "")
            documents.append(
                _volume(
                    deployment.namespace,
                    cache.claim_name,
                    cache.size,
                    cache.storage_class,
                    cache.access_mode,
                )
            )
        for claim in deployment.external_claims:
            documents.append(
                _volume(deployment.namespace, claim, EXTERNAL_CLAIM_SIZE, None, "ReadWriteMany")
            )
            documents.append(_claim(deployment.namespace, claim))
    for storage_class in sorted(classes - {""}):
        documents.append(
            {
                "apiVersion": "storage.k8s.io/v1",
                "kind": "StorageClass",
                "metadata": {"name": storage_class},
                "provisioner": "kubernetes.io/no-provisioner",
                "volumeBindingMode": "Immediate",
                "reclaimPolicy": "Retain",
                # As the clouds' CSI classes do: a cache may grow in place.
                "allowVolumeExpansion": True,
            }
        )
    return documents


def apply_all(cluster: LocalCluster, documents: list[dict[str, Any]]) -> None:
    """Cluster-scoped objects first, so namespaces exist before what lives in them."""
    for document in sorted(documents, key=lambda d: "namespace" in d["metadata"]):
        cluster.apply(document)


def _volume(
    namespace: str, claim: str, size: str, storage_class: str | None, access_mode: str
) -> dict[str, Any]:
    """A volume reserved for one claim (claimRef), as a provisioner would make it."""
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolume",
        "metadata": {"name": f"e2e-{namespace}-{claim}"[:253]},
        "spec": {
            "capacity": {"storage": size},
            "accessModes": [access_mode],
            "persistentVolumeReclaimPolicy": "Retain",
            "storageClassName": storage_class or "",
            "claimRef": {"namespace": namespace, "name": claim},
            "hostPath": {"path": f"/var/lib/e2e-volumes/{namespace}/{claim}"},
        },
    }


def _claim(namespace: str, claim: str) -> dict[str, Any]:
    return {
        "apiVersion": "v1",
        "kind": "PersistentVolumeClaim",
        "metadata": {"name": claim, "namespace": namespace},
        "spec": {
            "accessModes": ["ReadWriteMany"],
            "storageClassName": "",
            "resources": {"requests": {"storage": EXTERNAL_CLAIM_SIZE}},
        },
    }


def _established(cluster: LocalCluster, name: str) -> bool:
    crd = cluster.get(f"/apis/apiextensions.k8s.io/v1/customresourcedefinitions/{name}")
    conditions = crd.get("status", {}).get("conditions") or []
    return any(c["type"] == "Established" and c["status"] == "True" for c in conditions)


def read_plan(stack_file: Path) -> StackPlan:
    """The plan of a stack file, as the program builds it from the same config."""
    from components.stack_config import NAMESPACE, parse_stack_spec

    config = (yaml.safe_load(stack_file.read_text()) or {}).get("config") or {}
    prefix = f"{NAMESPACE}:"
    raw = {key[len(prefix) :]: value for key, value in config.items() if key.startswith(prefix)}
    secret_keys = {
        key for key, value in raw.items() if isinstance(value, dict) and "secure" in value
    }
    raw.update({key: "secret" for key in secret_keys})
    return build_plan(parse_stack_spec(raw, secret_keys, str(stack_file)), str(stack_file))
