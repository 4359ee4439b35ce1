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
"""

from __future__ import annotations

import contextlib
import copy
import urllib.error
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed
from tests.e2e.test_apply import deployment, edited

pytestmark = pytest.mark.e2e

NAMESPACE = "ml-e2e-progressive"
STACK = "progressive"
NAME = "llama-chat"
FLAGGER = "flagger"
APPS = f"/apis/apps/v1/namespaces/{NAMESPACE}/deployments"
SERVICES = f"/api/v1/namespaces/{NAMESPACE}/services"
ROUTES = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes"
FLAGGER_API = f"/apis/flagger.app/v1beta1/namespaces/{NAMESPACE}"


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
        "metadata": {"name": primary_name, "namespace": NAMESPACE},
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
