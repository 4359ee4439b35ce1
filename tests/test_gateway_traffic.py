"""The docker gateway's traffic plan: the plan decides weights, backups and balancing."""

from __future__ import annotations

from typing import Any

import pytest

from components.errors import StackConfigError
from components.plan import DeploymentPlan, build_plan
from components.stack_config import parse_stack_spec
from tests.conftest import deployments_of, stack_document

POOLS = [
    {"name": "big", "replicas": 2, "weight": 3},
    {"name": "small", "replicas": 1, "weight": 1, "priority": 1},
]


def _plan(**changes: Any) -> DeploymentPlan:
    document = stack_document("dev")
    deployment = deployments_of(document)[0]
    deployment.update(changes)
    for key, value in list(deployment.items()):
        if value is None:
            del deployment[key]
    raw = {k.removeprefix("modelstack:"): v for k, v in document["config"].items()}
    return build_plan(parse_stack_spec(raw, set(), "dev"), "dev").deployments[0]


def _backends(plan: DeploymentPlan) -> dict[str, tuple[int, bool]]:
    assert plan.traffic is not None
    return {ref.service: (ref.weight, ref.fallback) for ref in plan.traffic.backends}


def test_round_robin_replicas_share_equally() -> None:
    plan = _plan()
    assert plan.traffic is not None and plan.traffic.balancing == "round_robin"
    assert _backends(plan) == {"qwen-tiny": (1, False)}


def test_least_connections_keeps_pool_weights_and_backups() -> None:
    # The README's docker example: weights and priorities are not dropped.
    plan = _plan(replicas=None, pools=POOLS, loadBalancer={"algorithm": "least_connections"})
    assert plan.traffic is not None and plan.traffic.balancing == "least_connections"
    assert _backends(plan) == {"qwen-tiny-big": (3, False), "qwen-tiny-small": (1, True)}


def test_sticky_sessions_hash_the_client_address() -> None:
    plan = _plan(loadBalancer={"algorithm": "least_connections", "stickySessions": True})
    assert plan.traffic is not None and plan.traffic.balancing == "ip_hash"


def test_canary_spreads_each_slot_share_over_its_servers() -> None:
    plan = _plan(rollout={"strategy": "canary", "active": "blue", "canaryWeight": 10})
    backends = _backends(plan)
    assert backends == {"qwen-tiny-blue": (4500, False), "qwen-tiny-green": (500, False)}


@pytest.mark.parametrize(
    ("health_check", "key"),
    [
        ({"path": "/ready"}, "path"),
        ({"timeoutSeconds": 2}, "timeoutSeconds"),
        ({"healthyThreshold": 2}, "healthyThreshold"),
    ],
)
def test_active_health_check_settings_are_refused(health_check: dict, key: str) -> None:
    with pytest.raises(StackConfigError) as raised:
        _plan(loadBalancer={"algorithm": "round_robin", "healthCheck": health_check})
    assert f"loadBalancer.healthCheck.{key}" in str(raised.value)
    assert "passively" in str(raised.value)


def test_passive_health_check_settings_become_max_fails_and_fail_timeout() -> None:
    plan = _plan(loadBalancer={"healthCheck": {"intervalSeconds": 7, "unhealthyThreshold": 2}})
    assert plan.load_balancer.health_check.interval_seconds == 7
    assert plan.load_balancer.health_check.unhealthy_threshold == 2


def test_backup_pools_with_ip_hash_are_refused() -> None:
    with pytest.raises(StackConfigError) as raised:
        _plan(replicas=None, pools=POOLS, loadBalancer={"algorithm": "ip_hash"})
    assert "ip_hash" in str(raised.value) and "pools" in str(raised.value)
