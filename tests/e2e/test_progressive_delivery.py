"""A progressive canary on a real API server: `pulumi up` creates the Flagger Canary and its
MetricTemplates (CRDs from ../shared/schemas/crds-delivery, which the API server validates),
then what Flagger does to the objects around them is done here by hand, and the next
`pulumi preview` (with and without a refresh) and `pulumi up` leave it as Flagger set it.

No Flagger controller runs here (no image registry to pull it from): the test plays its part
through the API server under Flagger's own field manager, as Flagger's client-go calls would:
it scales the target Deployment to zero and creates what Flagger creates on its first
reconcile, the `<name>-primary` Deployment, the `<name>`, `<name>-primary` and
`<name>-canary` Services and the HTTPRoute `<name>` with its weights. Whether Flagger then
moves the weights and promotes is Flagger's part, not this test's. Without the target's
`ignoreChanges` on `spec.replicas`, the refreshed preview fails here: server-side apply
reports a conflict with the `flagger` field manager over `.spec.replicas`.

`modelstack status` reads it back from the same API server: before Flagger's part, a Canary
without status (Flagger has not picked it up); once Flagger's status says Initialized, the
primary serving (found by name: Flagger gives it none of the stack's labels), exit 0; and
once it says Failed (as `rollback` writes it, with a Warning event on the Canary), DEGRADED,
exit 5, with what failed and where to look.
"""

from __future__ import annotations

import contextlib
import copy
import urllib.error
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed
from tests.e2e.test_apply import deployment, edited
from tests.e2e.test_status import status

pytestmark = pytest.mark.e2e

NAMESPACE = "ml-e2e-progressive"
STACK = "progressive"
NAME = "llama-chat"
FLAGGER = "flagger"
APPS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
SERVICES = f"/api/v1/namespaces/{NAMESPACE}/services"
ROUTES = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes"
FLAGGER_API = f"/apis/flagger.app/v1beta1/namespaces/{NAMESPACE}"
EVENTS = f"/api/v1/namespaces/{NAMESPACE}/events"
# The Promoted condition Flagger v1.44 writes per phase (pkg/canary/status.go).
PROMOTED = {
    "Initialized": ("True", "Deployment initialization completed."),
    "Failed": ("False", "Canary analysis failed, Deployment scaled to zero."),
}


def progressive(env_value: str) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        config = document["config"]
        config["modelstack:kubernetes"]["namespace"] = NAMESPACE
        config["modelstack:kubernetes"]["gateway"] = {"name": "inference", "namespace": "gateways"}
        chat = deployment(document, NAME)
        # No host resolves from here: the post-deploy endpoint check is off.
        chat["route"] = {"path": "/chat", "check": False}
        chat.pop("autoscaling")
        chat["replicas"] = 2
        # A pod template change: what starts a Flagger analysis.
        chat["env"] = {"VLLM_LOGGING_LEVEL": env_value}
        chat["rollout"] = {
            "strategy": "canary",
            "progressive": {
                "steps": [10, 25, 50],
                "interval": "5m",
                "maxErrorRate": 1,
                "maxLatencyP95": 2,
            },
        }

    return edit


def as_flagger(cluster: LocalCluster, method: str, path: str, body: Any, kind: str) -> Any:
    return cluster.request(method, f"{path}?fieldManager={FLAGGER}", body, kind)


def play_flaggers_first_reconcile(cluster: LocalCluster) -> None:
    """What Flagger does to a new Canary's target, and what it creates beside it."""
    target = cluster.get(f"{APPS}/{NAME}")
    primary_name = f"{NAME}-primary"
    template = copy.deepcopy(target["spec"]["template"])
    # Flagger relabels the primary's pods on its selector label, keeping the others.
    template["metadata"]["labels"]["app.kubernetes.io/name"] = primary_name
    primary = {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        # Its own labels: only the selector label (no -include-label-prefix).
        "metadata": {
            "name": primary_name,
            "namespace": NAMESPACE,
            "labels": {"app.kubernetes.io/name": primary_name},
        },
        "spec": {
            "replicas": target["spec"]["replicas"],
            "selector": {"matchLabels": {"app.kubernetes.io/name": primary_name}},
            "template": template,
        },
    }
    as_flagger(cluster, "POST", APPS, primary, "application/json")
    # The target is the candidate: zero replicas until the next analysis.
    as_flagger(
        cluster,
        "PATCH",
        f"{APPS}/{NAME}",
        {"spec": {"replicas": 0}},
        "application/merge-patch+json",
    )
    for name, selected in (
        (NAME, primary_name),
        (primary_name, primary_name),
        (f"{NAME}-canary", NAME),
    ):
        service = {
            "apiVersion": "v1",
            "kind": "Service",
            "metadata": {"name": name, "namespace": NAMESPACE},
            "spec": {
                "selector": {"app.kubernetes.io/name": selected},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        }
        as_flagger(cluster, "POST", SERVICES, service, "application/json")
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": NAME, "namespace": NAMESPACE},
        "spec": {
            "parentRefs": [{"name": "inference", "namespace": "gateways"}],
            "rules": [
                {
                    "matches": [{"path": {"type": "PathPrefix", "value": "/chat"}}],
                    "backendRefs": [
                        {"name": primary_name, "port": 80, "weight": 90},
                        {"name": f"{NAME}-canary", "port": 80, "weight": 10},
                    ],
                }
            ],
        },
    }
    as_flagger(cluster, "POST", ROUTES, route, "application/json")


def write_canary_status(cluster: LocalCluster, phase: str) -> None:
    """The Canary's status as Flagger writes it: UpdateStatus on the status subresource."""
    canary = cluster.get(f"{FLAGGER_API}/canaries/{NAME}")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    promoted, message = PROMOTED[phase]
    canary["status"] = {
        "phase": phase,
        "canaryWeight": 0,
        "failedChecks": 0,
        "iterations": 0,
        "lastTransitionTime": now,
        "conditions": [
            {
                "type": "Promoted",
                "status": promoted,
                "reason": phase,
                "message": message,
                "lastUpdateTime": now,
                "lastTransitionTime": now,
            }
        ],
    }
    as_flagger(cluster, "PUT", f"{FLAGGER_API}/canaries/{NAME}/status", canary, "")


def record_flagger_warning(cluster: LocalCluster, message: str) -> None:
    """A Warning event on the Canary, as Flagger's event recorder sends one."""
    canary = cluster.get(f"{FLAGGER_API}/canaries/{NAME}")
    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    event = {
        "apiVersion": "v1",
        "kind": "Event",
        "metadata": {"generateName": f"{NAME}.", "namespace": NAMESPACE},
        "involvedObject": {
            "apiVersion": "flagger.app/v1beta1",
            "kind": "Canary",
            "name": NAME,
            "namespace": NAMESPACE,
            "uid": canary["metadata"]["uid"],
        },
        "reason": "Synced",
        "type": "Warning",
        "message": message,
        "source": {"component": FLAGGER},
        "firstTimestamp": now,
        "lastTimestamp": now,
        "count": 1,
    }
    cluster.request("POST", EVENTS, event)


def primary_ready(cluster: LocalCluster) -> bool:
    found = cluster.get(f"{APPS}/{NAME}-primary")
    return (found.get("status") or {}).get("readyReplicas") == found["spec"]["replicas"]


def only_slot(report: dict[str, Any]) -> dict[str, Any]:
    (chat,) = [d for d in report["deployments"] if d["name"] == NAME]
    (slot,) = chat["slots"]
    return slot


def flaggers_objects(cluster: LocalCluster) -> dict[str, Any]:
    """What Flagger set: the target's count, and the spec of everything it created."""
    return {
        "target replicas": cluster.get(f"{APPS}/{NAME}")["spec"]["replicas"],
        "primary": cluster.get(f"{APPS}/{NAME}-primary")["spec"]["template"]["metadata"],
        "services": {
            name: cluster.get(f"{SERVICES}/{name}")["spec"]["selector"]
            for name in (NAME, f"{NAME}-primary", f"{NAME}-canary")
        },
        "route weights": [
            ref["weight"]
            for ref in cluster.get(f"{ROUTES}/{NAME}")["spec"]["rules"][0]["backendRefs"]
        ],
    }


def test_pulumi_never_fights_flagger_over_what_it_took_over(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    project.add_stack(STACK, edited(staging, progressive("INFO")))
    project.set_secret(STACK, "modelstack:hfToken", "hf_e2eProgressiveNotARealToken00000")
    apply_all(cluster, prerequisites(read_plan(project.stack_file(STACK))))
    try:
        project.up(STACK)
        canary = cluster.get(f"{FLAGGER_API}/canaries/{NAME}")
        assert canary["spec"]["targetRef"]["name"] == NAME
        assert canary["spec"]["analysis"]["stepWeights"] == [10, 25, 50]
        templates = cluster.get(f"{FLAGGER_API}/metrictemplates")
        assert sorted(t["metadata"]["name"] for t in templates["items"]) == [
            f"{NAME}-error-rate",
            f"{NAME}-latency",
        ]
        # Nothing of what Flagger creates exists before it does.
        assert not cluster.exists(f"{SERVICES}/{NAME}")
        assert not cluster.exists(f"{ROUTES}/{NAME}")
        assert cluster.get(f"{APPS}/{NAME}")["spec"]["replicas"] == 2
        # And status says so: no route yet, no word from Flagger.
        code, report = status(project, STACK)
        assert code == 3, report
        slot = only_slot(report)
        assert slot["status"] == "DEPLOYING" and slot["canary"]["phase"] is None
        assert "Flagger has not picked up" in slot["canary"]["summary"]

        play_flaggers_first_reconcile(cluster)
        flagger_set = flaggers_objects(cluster)
        assert flagger_set["target replicas"] == 0

        # Neither the stack file's view nor the live one proposes to undo Flagger's work.
        assert changed(project.preview(STACK)) == {}
        assert changed(project.preview(STACK, "--refresh")) == {}
        project.up(STACK, "--refresh")
        assert flaggers_objects(cluster) == flagger_set

        # A new version (what starts an analysis): the target's template changes, and only
        # that; its count stays Flagger's.
        project.write_stack(STACK, edited(staging, progressive("DEBUG")))
        preview = project.preview(STACK, "--refresh")
        assert changed(preview) == {"update": [f"kubernetes:apps/v1:Deployment::{NAME}"]}
        project.up(STACK)
        target = cluster.get(f"{APPS}/{NAME}")
        (engine,) = [
            c for c in target["spec"]["template"]["spec"]["containers"] if c["name"] == "engine"
        ]
        env = engine["env"]
        assert {"name": "VLLM_LOGGING_LEVEL", "value": "DEBUG"} in env
        assert flaggers_objects(cluster) == flagger_set

        # Flagger's status: the primary serves, the target rests at zero.
        write_canary_status(cluster, "Initialized")
        cluster.wait_for("the primary's pods ready", lambda: primary_ready(cluster), timeout=120)
        code, report = status(project, STACK)
        assert code == 0, report
        slot = only_slot(report)
        assert (slot["status"], slot["readyReplicas"], slot["desiredReplicas"]) == (
            "DEPLOYED",
            2,
            2,
        )
        assert slot["canary"]["phase"] == "Initialized"
        engines = [i["name"] for i in slot["instances"] if i["role"] == "engine"]
        assert len(engines) == 2
        assert all(name.startswith(f"{NAME}-primary-") for name in engines), engines

        # Flagger rolled the DEBUG version back: the primary still serves the INFO one.
        record_flagger_warning(cluster, f"Halt {NAME}.{NAMESPACE} advancement error-rate 4.20 > 1")
        write_canary_status(cluster, "Failed")
        code, report = status(project, STACK)
        assert code == 5, report
        assert report["outcome"] == "degraded"
        slot = only_slot(report)
        assert slot["status"] == "DEGRADED" and slot["readyReplicas"] == 2
        (problem,) = slot["problems"]
        assert problem["code"] == "ROLLED_BACK", problem
        assert "Canary analysis failed" in problem["message"]
        assert "error-rate 4.20 > 1" in problem["message"]
        assert f"kubectl describe canary {NAME} -n {NAMESPACE}" in problem["message"]
    finally:
        project.destroy(STACK, check=False)
        for path in (
            f"{APPS}/{NAME}-primary",
            f"{SERVICES}/{NAME}",
            f"{SERVICES}/{NAME}-primary",
            f"{SERVICES}/{NAME}-canary",
            f"{ROUTES}/{NAME}",
        ):
            # Gone with the namespace when the stack created it.
            with contextlib.suppress(urllib.error.HTTPError):
                cluster.request("DELETE", path)
