"""External endpoints on a real API server: `pulumi up` creates an Envoy Gateway Backend per
endpoint (CRD from ../shared/schemas/crds, which the API server validates them against, its CEL
rules included) and the HTTPRoute that weighs them, and a weight edit in the stack file updates
that route alone. No Envoy Gateway runs here: whether Envoy checks and ejects the endpoints is
the gateway's part, not this test's."""

from __future__ import annotations

from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed

pytestmark = pytest.mark.e2e

NAMESPACE = "ml-e2e-external"
STACK = "external"
BACKENDS = f"/apis/gateway.envoyproxy.io/v1alpha1/namespaces/{NAMESPACE}/backends"
ROUTE = f"/apis/gateway.networking.k8s.io/v1/namespaces/{NAMESPACE}/httproutes/chat-global"


def document(primary_weight: int) -> dict[str, Any]:
    return {
        "config": {
            "modelstack:environment": "staging",
            "modelstack:target": "kubernetes",
            "modelstack:kubernetes": {
                "namespace": NAMESPACE,
                "gateway": {"name": "inference", "namespace": "gateways"},
            },
            "modelstack:deployments": [
                {
                    "name": "chat-global",
                    # No host: nothing resolves here, so no connectivity check runs.
                    "route": {"path": "/chat"},
                    "external": {
                        "endpoints": [
                            {"url": "http://10.0.0.5:8000/v1", "weight": primary_weight},
                            {"url": "http://llm-b.internal.example.com:8000/v1"},
                            {"url": "https://llm.eu-west.example.com/v1", "priority": 1},
                        ]
                    },
                }
            ],
        }
    }


def test_backends_and_the_route_are_created_and_a_weight_edit_updates_only_the_route(
    project: PulumiProject, cluster: LocalCluster
) -> None:
    project.add_stack(STACK, document(3))
    apply_all(cluster, prerequisites(read_plan(project.stack_file(STACK))))
    try:
        project.up(STACK)
        backends = {b["metadata"]["name"]: b["spec"] for b in cluster.get(BACKENDS)["items"]}
        assert sorted(backends) == [f"chat-global-external-{i}" for i in range(3)]
        assert backends["chat-global-external-0"]["endpoints"] == [
            {"ip": {"address": "10.0.0.5", "port": 8000}}
        ]
        backup = backends["chat-global-external-2"]
        assert backup["fallback"] is True
        assert backup["tls"]["sni"] == "llm.eu-west.example.com"
        (rule,) = cluster.get(ROUTE)["spec"]["rules"]
        assert [(r["kind"], r["name"], r["weight"]) for r in rule["backendRefs"]] == [
            ("Backend", "chat-global-external-0", 3),
            ("Backend", "chat-global-external-1", 1),
            ("Backend", "chat-global-external-2", 1),
        ]
        assert rule["backendRefs"][0]["group"] == "gateway.envoyproxy.io"

        project.write_stack(STACK, document(5))
        preview = project.preview(STACK)
        assert changed(preview) == {
            "update": ["kubernetes:gateway.networking.k8s.io/v1:HTTPRoute::chat-global"]
        }
        project.up(STACK)
        (rule,) = cluster.get(ROUTE)["spec"]["rules"]
        assert rule["backendRefs"][0]["weight"] == 5
    finally:
        project.destroy(STACK, check=False)
