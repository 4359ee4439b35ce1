"""Every Kubernetes object of one deployment, as plain bodies, without Pulumi.

What patches are checked against before anything is registered. ModelDeployment creates
the same bodies (tests/test_patches.py compares the two over a render).
"""

from __future__ import annotations

from typing import Any

from components.kubernetes.manifests import (
    adapters,
    alerts,
    autoscaler,
    cache,
    endpoint_picker,
    flagger_canary,
    monitoring,
    network_policy,
    secrets,
    services,
    workloads,
)
from components.kubernetes.manifests import traffic as routes
from components.plan import DeploymentPlan
from components.planning.engine_api_keys import SECRET_KEY as API_KEY_SECRET_KEY

# Stands in for secret values, which only exist at deployment time.
_SECRET_PLACEHOLDER = "<secret>"


def deployment_objects(plan: DeploymentPlan) -> list[dict[str, Any]]:
    part = plan.on_kubernetes
    bodies: list[dict[str, Any]] = []
    if plan.hf_token_secret is not None:
        bodies.append(secrets.hf_token_secret(plan, plan.hf_token_secret, _SECRET_PLACEHOLDER))
    if part.api_key_secret is not None:
        bodies.append(
            secrets.credential_secret(
                plan, part.api_key_secret, API_KEY_SECRET_KEY, _SECRET_PLACEHOLDER
            )
        )
    if plan.cache is not None:
        bodies.append(cache.cache_claim(plan, plan.cache))
    bodies += [cache.loader_job(plan, loader) for loader in plan.loaders]
    if plan.runtime_adapters is not None:
        bodies.append(adapters.config_map(plan))
    for slot in plan.slots:
        bodies.append(workloads.engine_workload(plan, slot))
        if part.disruption_budget is not None:
            bodies.append(workloads.disruption_budget(plan, slot))
    for slot_name in part.slot_services:
        bodies.append(services.slot_service(plan, slot_name))
    if part.progressive is None:
        bodies.append(services.stable_service(plan))
    for slot in plan.slots:
        if slot.autoscaling is not None:
            bodies.append(autoscaler.autoscaler(plan, slot))
            holding = slot.autoscaling.request_holding
            if holding is not None:
                bodies.append(autoscaler.request_interceptor_route(plan, holding))
    bodies += _traffic_objects(plan)
    if part.monitoring is not None:
        bodies += [
            monitoring.metrics_service(plan),
            monitoring.service_monitor(plan),
            monitoring.dashboard_config_map(plan),
        ]
    if part.alerts is not None:
        bodies.append(alerts.prometheus_rule(plan, part.alerts))
    if part.progressive is not None:
        bodies += flagger_canary.flagger_objects(plan, part.progressive)
    if part.network_peers is not None:
        bodies.append(network_policy.engine_policy(plan))
        if plan.loaders:
            bodies.append(network_policy.loader_policy(plan))
    return bodies


def _traffic_objects(plan: DeploymentPlan) -> list[dict[str, Any]]:
    traffic = plan.traffic
    if traffic is None:
        return []
    bodies = [
        services.pool_service(plan, name, pool) for name, pool in traffic.pool_services.items()
    ]
    if traffic.via == "ingress":
        bodies.append(routes.ingress(plan))
    elif traffic.via == "gateway":
        bodies += endpoint_picker.inference_objects(plan)
        bodies += routes.fallback_backends(plan)
        if plan.on_kubernetes.progressive is None:
            bodies.append(routes.http_route(plan))
        if traffic.envoy_policy:
            bodies.append(routes.backend_traffic_policy(plan))
    return bodies
