"""The connectivity check of a deployment routed to external endpoints (both targets)."""

from __future__ import annotations

import pulumi

from components.checks.endpoint_check import EndpointCheck
from components.planning.plan_model import ExternalPlan


def external_check(plan: ExternalPlan, trigger: str, opts: pulumi.ResourceOptions) -> EndpointCheck:
    """Through the gateway: any model list, or a 401 (a service that wants a key was reached)."""
    return EndpointCheck(
        f"{plan.name}-endpoint-check",
        url=f"{plan.endpoint}/models",
        expect_model=None,
        guarded=True,
        trigger=trigger,
        timeout_seconds=plan.check_timeout_seconds,
        opts=opts,
    )
