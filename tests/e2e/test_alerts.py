"""Alerts on a real API server: `pulumi up` creates each deployment's PrometheusRule (CRD from
../shared/schemas/crds-delivery), which the API server validates against the CRD's schema, and
a threshold edit in the stack file updates that rule alone. No Prometheus Operator runs here:
whether Prometheus evaluates the rule is the operator's part, not this test's."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e.cluster import LocalCluster
from tests.e2e.inventory import apply_all, prerequisites, read_plan
from tests.e2e.pulumi_cli import PulumiProject, changed
from tests.e2e.test_apply import deployment, edited

pytestmark = pytest.mark.e2e

NAMESPACE = "ml-e2e-alerts"
STACK = "alerts"
RULE = f"/apis/monitoring.coreos.com/v1/namespaces/{NAMESPACE}/prometheusrules/llama-chat-alerts"


def alerting(error_rate_percent: int | None) -> Callable[[dict[str, Any]], None]:
    def edit(document: dict[str, Any]) -> None:
        document["config"]["modelstack:kubernetes"]["namespace"] = NAMESPACE
        if error_rate_percent is not None:
            deployment(document, "llama-chat")["alerts"] = {"errorRatePercent": error_rate_percent}

    return edit


def rules_by_alert(rule: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {r["alert"]: r for group in rule["spec"]["groups"] for r in group["rules"]}


def test_each_deployment_gets_its_rule_and_a_threshold_edit_updates_only_that_rule(
    project: PulumiProject, cluster: LocalCluster, staging: dict[str, Any]
) -> None:
    project.add_stack(STACK, edited(staging, alerting(None)))
    project.set_secret(STACK, "modelstack:hfToken", "hf_e2eAlertsNotARealToken000000000")
    apply_all(cluster, prerequisites(read_plan(project.stack_file(STACK))))
    try:
        project.up(STACK)
        rule = cluster.get(RULE)
        # The stack's ServiceMonitor labels: the user's Prometheus selects the rule by them.
        assert rule["metadata"]["labels"]["release"] == "kube-prometheus-stack"
        alerts = rules_by_alert(rule)
        assert sorted(alerts) == [
            "ModelstackEnginePodPending",
            "ModelstackHighErrorRate",
            "ModelstackHighLatency",
            "ModelstackNoReadyReplicas",
        ]
        # Staging's defaults: 5% errors for 10 minutes.
        assert alerts["ModelstackHighErrorRate"]["expr"].endswith("> 5")
        assert alerts["ModelstackHighErrorRate"]["for"] == "10m"

        project.write_stack(STACK, edited(staging, alerting(2)))
        preview = project.preview(STACK)
        assert changed(preview) == {
            "update": ["kubernetes:monitoring.coreos.com/v1:PrometheusRule::llama-chat-alerts"]
        }
        project.up(STACK)
        assert rules_by_alert(cluster.get(RULE))["ModelstackHighErrorRate"]["expr"].endswith("> 2")
    finally:
        project.destroy(STACK, check=False)
