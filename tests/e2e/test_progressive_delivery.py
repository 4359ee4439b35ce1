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

With autoscaling (a second stack, in its own namespace), the Canary names the ScaledObject
modelstack keeps over the target (`autoscalerRef`, with the primary's queries by trigger
name), and the test also does what Flagger v1.44 does with it
(pkg/canary/scaled_object_reconciler.go): it creates the copy `<name>-primary` over the
primary, each named trigger's query set from `primaryScalerQueries`, and pauses the original
with the annotation `autoscaling.keda.sh/paused-replicas: "0"` (an Update under its field
manager). KEDA's CRD comes from ../shared/schemas/crds; no KEDA runs.
"""

from __future__ import annotations

import contextlib
import copy
import re
import urllib.error
from collections.abc import Callable
from dataclasses import dataclass
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
SCALED_NAMESPACE = "ml-e2e-progressive-scaled"
SCALED_STACK = "progressive-scaled"
NAME = "llama-chat"
FLAGGER = "flagger"
# What Flagger sets on the target's ScaledObject between analyses (KEDA's pause).
PAUSED_REPLICAS = "autoscaling.keda.sh/paused-replicas"
WINDOW = {"start": "0 8 * * 1-5", "end": "0 18 * * 1-5", "timezone": "UTC", "minReplicas": 2}


@dataclass(frozen=True)
class Api:
    """The collections one namespace's test works in."""

    namespace: str

    @property
    def apps(self) -> str:
        return f"/apis/apps/v1/namespaces/{self.namespace}/deployments"

    @property
    def services(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/services"

    @property
    def routes(self) -> str:
        return f"/apis/gateway.networking.k8s.io/v1/namespaces/{self.namespace}/httproutes"

    @property
    def flagger(self) -> str:
        return f"/apis/flagger.app/v1beta1/namespaces/{self.namespace}"

    @property
    def scaled_objects(self) -> str:
        return f"/apis/keda.sh/v1alpha1/namespaces/{self.namespace}/scaledobjects"

    @property
    def events(self) -> str:
        return f"/api/v1/namespaces/{self.namespace}/events"


PLAIN = Api(NAMESPACE)
SCALED = Api(SCALED_NAMESPACE)
# The Promoted condition Flagger v1.44 writes per phase (pkg/canary/status.go).
PROMOTED = {
    "Initialized": ("True", "Deployment initialization completed."),
    "Failed": ("False", "Canary analysis failed, Deployment scaled to zero."),
}


def progressive(
    env_value: str, api: Api = PLAIN, autoscaled: bool = False
) -> Callable[[dict[str, Any]], None]:
    """The staging stack with a progressive canary; `autoscaled` keeps its autoscaling."""

    def edit(document: dict[str, Any]) -> None:
        config = document["config"]
        config["modelstack:kubernetes"]["namespace"] = api.namespace
        config["modelstack:kubernetes"]["gateway"] = {"name": "inference", "namespace": "gateways"}
        chat = deployment(document, NAME)
        # No host resolves from here: the post-deploy endpoint check is off.
        chat["route"] = {"path": "/chat", "check": False}
        if autoscaled:
            # Staging's concurrency trigger, and a window: a cron trigger Flagger copies as is.
            chat["autoscaling"]["schedule"] = [copy.deepcopy(WINDOW)]
        else:
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


def play_flaggers_first_reconcile(cluster: LocalCluster, api: Api = PLAIN) -> None:
    """What Flagger does to a new Canary's target, and what it creates beside it."""
    target = cluster.get(f"{api.apps}/{NAME}")
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
            "namespace": api.namespace,
            "labels": {"app.kubernetes.io/name": primary_name},
        },
        "spec": {
            # With an autoscaler the target has no count of its own: Flagger starts at one.
            "replicas": target["spec"].get("replicas", 1),
            "selector": {"matchLabels": {"app.kubernetes.io/name": primary_name}},
            "template": template,
        },
    }
    as_flagger(cluster, "POST", api.apps, primary, "application/json")
    # The target is the candidate: zero replicas until the next analysis.
    as_flagger(
        cluster,
        "PATCH",
        f"{api.apps}/{NAME}",
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
            "metadata": {"name": name, "namespace": api.namespace},
            "spec": {
                "selector": {"app.kubernetes.io/name": selected},
                "ports": [{"name": "http", "port": 80, "targetPort": "http"}],
            },
        }
        as_flagger(cluster, "POST", api.services, service, "application/json")
    route = {
        "apiVersion": "gateway.networking.k8s.io/v1",
        "kind": "HTTPRoute",
        "metadata": {"name": NAME, "namespace": api.namespace},
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
    as_flagger(cluster, "POST", api.routes, route, "application/json")


def write_canary_status(cluster: LocalCluster, phase: str) -> None:
    """The Canary's status as Flagger writes it: UpdateStatus on the status subresource."""
    canary = cluster.get(f"{PLAIN.flagger}/canaries/{NAME}")
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
    as_flagger(cluster, "PUT", f"{PLAIN.flagger}/canaries/{NAME}/status", canary, "")


def record_flagger_warning(cluster: LocalCluster, message: str) -> None:
    """A Warning event on the Canary, as Flagger's event recorder sends one."""
    canary = cluster.get(f"{PLAIN.flagger}/canaries/{NAME}")
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
    cluster.request("POST", PLAIN.events, event)


def primary_ready(cluster: LocalCluster) -> bool:
    found = cluster.get(f"{PLAIN.apps}/{NAME}-primary")
    return (found.get("status") or {}).get("readyReplicas") == found["spec"]["replicas"]


def only_slot(report: dict[str, Any]) -> dict[str, Any]:
    (chat,) = [d for d in report["deployments"] if d["name"] == NAME]
    (slot,) = chat["slots"]
    return slot


def flaggers_objects(cluster: LocalCluster, api: Api = PLAIN) -> dict[str, Any]:
    """What Flagger set: the target's count, and the spec of everything it created."""
    found = {
        "target replicas": cluster.get(f"{api.apps}/{NAME}")["spec"]["replicas"],
        "primary": cluster.get(f"{api.apps}/{NAME}-primary")["spec"]["template"]["metadata"],
        "services": {
            name: cluster.get(f"{api.services}/{name}")["spec"]["selector"]
            for name in (NAME, f"{NAME}-primary", f"{NAME}-canary")
        },
        "route weights": [
            ref["weight"]
            for ref in cluster.get(f"{api.routes}/{NAME}")["spec"]["rules"][0]["backendRefs"]
        ],
    }
    if api == SCALED:
        target = cluster.get(f"{api.scaled_objects}/{NAME}")
        found["target scaler pause"] = (target["metadata"].get("annotations") or {}).get(
            PAUSED_REPLICAS
        )
        found["primary scaler"] = cluster.get(f"{api.scaled_objects}/{NAME}-primary")["spec"]
    return found


def play_flaggers_primary_scaler(cluster: LocalCluster, api: Api) -> None:
    """Flagger's first reconcile of a Canary with a ScaledObject autoscalerRef
    (pkg/canary/scaled_object_reconciler.go at v1.44.0): the copy over the primary, each named
    trigger's query from primaryScalerQueries, then the original paused at zero."""
    canary = cluster.get(f"{api.flagger}/canaries/{NAME}")
    reference = canary["spec"]["autoscalerRef"]
    target = cluster.get(f"{api.scaled_objects}/{reference['name']}")
    queries = reference.get("primaryScalerQueries") or {}
    triggers = copy.deepcopy(target["spec"]["triggers"])
    for trigger in triggers:
        if trigger.get("name") in queries:
            trigger["metadata"]["query"] = queries[trigger["name"]]
    copied = ("pollingInterval", "cooldownPeriod", "minReplicaCount", "maxReplicaCount")
    spec = {key: target["spec"][key] for key in copied if key in target["spec"]}
    spec.update(
        scaleTargetRef={**target["spec"]["scaleTargetRef"], "name": f"{NAME}-primary"},
        advanced=target["spec"].get("advanced", {}),
        triggers=triggers,
    )
    primary_scaler = {
        "apiVersion": "keda.sh/v1alpha1",
        "kind": "ScaledObject",
        "metadata": {
            "name": f"{reference['name']}-primary",
            "namespace": api.namespace,
            # The original's labels and annotations, and the Canary as its controller.
            "labels": target["metadata"].get("labels") or {},
            "ownerReferences": [
                {
                    "apiVersion": "flagger.app/v1beta1",
                    "kind": "Canary",
                    "name": NAME,
                    "uid": canary["metadata"]["uid"],
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        "spec": spec,
    }
    as_flagger(cluster, "POST", api.scaled_objects, primary_scaler, "application/json")
    # PauseTargetScaler: an Update of the whole object, one annotation added.
    target["metadata"].setdefault("annotations", {})[PAUSED_REPLICAS] = "0"
    as_flagger(cluster, "PUT", f"{api.scaled_objects}/{reference['name']}", target, "")


def resume_target_scaler(cluster: LocalCluster, api: Api) -> None:
    """ResumeTargetScaler, as an analysis starts: the annotation goes, by an Update."""
    target = cluster.get(f"{api.scaled_objects}/{NAME}")
    del target["metadata"]["annotations"][PAUSED_REPLICAS]
    as_flagger(cluster, "PUT", f"{api.scaled_objects}/{NAME}", target, "")


def test_pulumi_never_fights_flagger_over_what_it_took_over(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    project.add_stack(STACK, edited(staging, progressive("INFO")))
    project.set_secret(STACK, "modelstack:hfToken", "hf_e2eProgressiveNotARealToken00000")
    apply_all(cluster, prerequisites(read_plan(project.stack_file(STACK))))
    try:
        project.up(STACK)
        canary = cluster.get(f"{PLAIN.flagger}/canaries/{NAME}")
        assert canary["spec"]["targetRef"]["name"] == NAME
        assert canary["spec"]["analysis"]["stepWeights"] == [10, 25, 50]
        templates = cluster.get(f"{PLAIN.flagger}/metrictemplates")
        assert sorted(t["metadata"]["name"] for t in templates["items"]) == [
            f"{NAME}-error-rate",
            f"{NAME}-latency",
        ]
        # Nothing of what Flagger creates exists before it does.
        assert not cluster.exists(f"{PLAIN.services}/{NAME}")
        assert not cluster.exists(f"{PLAIN.routes}/{NAME}")
        assert cluster.get(f"{PLAIN.apps}/{NAME}")["spec"]["replicas"] == 2
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
        target = cluster.get(f"{PLAIN.apps}/{NAME}")
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
            f"{PLAIN.apps}/{NAME}-primary",
            f"{PLAIN.services}/{NAME}",
            f"{PLAIN.services}/{NAME}-primary",
            f"{PLAIN.services}/{NAME}-canary",
            f"{PLAIN.routes}/{NAME}",
        ):
            # Gone with the namespace when the stack created it.
            with contextlib.suppress(urllib.error.HTTPError):
                cluster.request("DELETE", path)


def test_flaggers_copy_of_the_autoscaler_and_its_pause_are_left_to_flagger(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    api = SCALED
    project.add_stack(SCALED_STACK, edited(staging, progressive("INFO", api, autoscaled=True)))
    project.set_secret(SCALED_STACK, "modelstack:hfToken", "hf_e2eProgressiveNotARealToken00000")
    apply_all(cluster, prerequisites(read_plan(project.stack_file(SCALED_STACK))))
    deployment_urn = f"kubernetes:apps/v1:Deployment::{NAME}"
    try:
        project.up(SCALED_STACK)
        reference = cluster.get(f"{api.flagger}/canaries/{NAME}")["spec"]["autoscalerRef"]
        queries = reference.pop("primaryScalerQueries")
        assert reference == {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "name": NAME}
        assert list(queries) == ["concurrency"]
        scaler = cluster.get(f"{api.scaled_objects}/{NAME}")
        assert scaler["spec"]["scaleTargetRef"]["name"] == NAME
        assert [t["name"] for t in scaler["spec"]["triggers"]] == ["concurrency", "window-0"]
        assert not cluster.exists(f"{api.scaled_objects}/{NAME}-primary")

        play_flaggers_first_reconcile(cluster, api)
        play_flaggers_primary_scaler(cluster, api)
        flagger_set = flaggers_objects(cluster, api)
        assert flagger_set["target replicas"] == 0
        assert flagger_set["target scaler pause"] == "0"
        # The copy's query asks about the primary's pods, not the candidate's.
        (query_trigger, window) = flagger_set["primary scaler"]["triggers"]
        assert window["type"] == "cron"
        patterns = re.findall(r'pod=~"([^"]*)"', query_trigger["metadata"]["query"])
        assert patterns
        assert all(re.fullmatch(p, f"{NAME}-primary-5d9c7b8f6-abcde") for p in patterns)
        assert not any(re.fullmatch(p, f"{NAME}-5d9c7b8f6-abcde") for p in patterns)

        # Neither view proposes to undo Flagger's copy, its pause or the target's count.
        assert changed(project.preview(SCALED_STACK)) == {}
        assert changed(project.preview(SCALED_STACK, "--refresh")) == {}
        project.up(SCALED_STACK, "--refresh")
        assert flaggers_objects(cluster, api) == flagger_set

        # A new version changes the target's template only.
        project.write_stack(SCALED_STACK, edited(staging, progressive("DEBUG", api, True)))
        preview = project.preview(SCALED_STACK, "--refresh")
        assert changed(preview) == {"update": [deployment_urn]}
        project.up(SCALED_STACK)
        assert flaggers_objects(cluster, api) == flagger_set

        # A new range updates modelstack's ScaledObject and keeps Flagger's pause on it.
        def wider(document: dict[str, Any]) -> None:
            progressive("DEBUG", api, autoscaled=True)(document)
            deployment(document, NAME)["autoscaling"]["max"] = 4

        project.write_stack(SCALED_STACK, edited(staging, wider))
        (scaler_urn,) = changed(project.preview(SCALED_STACK, "--refresh"))["update"]
        assert scaler_urn.endswith(f"ScaledObject::{NAME}"), scaler_urn
        project.up(SCALED_STACK)
        scaler = cluster.get(f"{api.scaled_objects}/{NAME}")
        assert scaler["spec"]["maxReplicaCount"] == 4
        assert scaler["metadata"]["annotations"][PAUSED_REPLICAS] == "0"

        # Flagger resumes it for an analysis: nothing to put back either.
        resume_target_scaler(cluster, api)
        assert changed(project.preview(SCALED_STACK, "--refresh")) == {}
    finally:
        project.destroy(SCALED_STACK, check=False)
        for path in (
            f"{api.scaled_objects}/{NAME}-primary",
            f"{api.apps}/{NAME}-primary",
            f"{api.services}/{NAME}",
            f"{api.services}/{NAME}-primary",
            f"{api.services}/{NAME}-canary",
            f"{api.routes}/{NAME}",
        ):
            with contextlib.suppress(urllib.error.HTTPError):
                cluster.request("DELETE", path)
