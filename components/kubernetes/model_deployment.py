"""ModelDeployment: one model-serving deployment on Kubernetes, as a Pulumi component.

Children, all named after the deployment: the HF token Secret, the cache claim and
its loader Jobs, a Deployment (and PodDisruptionBudget) per slot, a Service per
blue-green slot, and the stable Service that selects the serving slot. With autoscaling:
an HPA or KEDA ScaledObject per slot, and an HTTPScaledObject when it scales to zero.
"""

from __future__ import annotations

from typing import Any

import pulumi

from components.checks.endpoint_check import EndpointCheck
from components.checks.external_check import external_check
from components.kubernetes import objects
from components.kubernetes.manifests import (
    adapters,
    alerts,
    autoscaler,
    cache,
    endpoint_picker,
    external_backends,
    flagger_canary,
    monitoring,
    network_policy,
    secrets,
    services,
    workloads,
)
from components.kubernetes.manifests import traffic as routes
from components.kubernetes.patch_validation import patched
from components.outputs import deployment_summary, external_summary
from components.plan import DeploymentPlan
from components.planning.engine_api_keys import SECRET_KEY as API_KEY_SECRET_KEY
from components.planning.plan_model import ExternalPlan
from components.planning.timeouts import in_minutes

TYPE = "modelstack:kubernetes:ModelDeployment"
EXTERNAL_TYPE = "modelstack:kubernetes:ExternalDeployment"


class ModelDeployment(pulumi.ComponentResource):
    endpoint: pulumi.Output[str]
    serving_slot: pulumi.Output[str]

    def __init__(
        self,
        plan: DeploymentPlan,
        hf_token: pulumi.Input[str] | None,
        opts: pulumi.ResourceOptions | None = None,
        depends_on: list[pulumi.Resource] | None = None,
        api_key: pulumi.Input[str] | None = None,
    ) -> None:
        super().__init__(TYPE, plan.name, None, opts)
        self._plan = plan
        self._part = plan.on_kubernetes
        self._depends_on = list(depends_on or [])

        secret = self._hf_token_secret(hf_token)
        api_key_secret = self._api_key_secret(api_key)
        self._add_cache()
        # Pulumi waits for the Job as long as a download may take; the Job has no deadline.
        loader_timeout = in_minutes(plan.timeouts.loader_seconds)
        jobs = {
            loader.job_name: self._create(
                cache.loader_job(plan, loader),
                self._options(
                    depends_on=[secret] if secret else [],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=loader_timeout, update=loader_timeout
                    ),
                ),
            )
            for loader in plan.loaders
        }
        adapter_jobs = [jobs[a.loader_job] for a in plan.adapters if a.loader_job]
        if plan.runtime_adapters is not None:
            # Named to the sidecars only once their files are complete; engines wait for none.
            self._create(adapters.config_map(plan), self._options(depends_on=adapter_jobs))
            adapter_jobs = []
        rollout_timeout = in_minutes(plan.timeouts.rollout_seconds)
        # Flagger scales a progressive canary's target: later applies leave the count alone.
        flagger_scaled = ["spec.replicas"] if self._part.progressive is not None else None
        self._engines: list[pulumi.Resource] = []
        for slot in plan.slots:
            # Engines start only after the Job that fills their cache has completed.
            engine = self._create(
                workloads.engine_workload(plan, slot),
                self._options(
                    depends_on=[
                        *([jobs[slot.loader_job]] if slot.loader_job else []),
                        *adapter_jobs,
                        *([api_key_secret] if api_key_secret else []),
                    ],
                    custom_timeouts=pulumi.CustomTimeouts(
                        create=rollout_timeout, update=rollout_timeout
                    ),
                    ignore_changes=flagger_scaled,
                ),
            )
            self._engines.append(engine)
            if self._part.disruption_budget is not None:
                self._create(workloads.disruption_budget(plan, slot), self._options())
        for slot_name in self._part.slot_services:
            self._create(services.slot_service(plan, slot_name), self._options())
        if self._part.progressive is None:
            # Otherwise Flagger creates `<name>` (and would rewrite one of ours).
            self._create(services.stable_service(plan), self._options())
        autoscalers = self._add_autoscalers()
        self._add_traffic()
        if self._part.monitoring is not None:
            self._create(monitoring.metrics_service(plan), self._options())
            self._create(monitoring.service_monitor(plan), self._options())
            self._create(monitoring.dashboard_config_map(plan), self._options())
        if self._part.alerts is not None:
            self._create(alerts.prometheus_rule(plan, self._part.alerts), self._options())
        if self._part.progressive is not None:
            # Flagger reads the autoscaler its Canary names when it first picks the Canary up.
            flagger_reads = [*self._engines, *autoscalers]
            for body in flagger_canary.flagger_objects(plan, self._part.progressive):
                self._create(body, self._options(depends_on=flagger_reads))
        if self._part.network_peers is not None:
            self._create(network_policy.engine_policy(plan), self._options())
            if plan.loaders:
                self._create(network_policy.loader_policy(plan), self._options())

        self.endpoint = pulumi.Output.from_input(plan.endpoint)
        self.serving_slot = pulumi.Output.from_input(plan.serving_slot)
        self.summary = deployment_summary(plan)
        self.register_outputs(self.summary)

    def _add_traffic(self) -> None:
        """Pool Services, then the route (HTTPRoute or Ingress) and its Envoy policies."""
        plan = self._plan
        traffic = plan.traffic
        if traffic is None:
            return
        for name, pool in traffic.pool_services.items():
            self._create(services.pool_service(plan, name, pool), self._options())
        if traffic.via == "ingress":
            self._create(routes.ingress(plan), self._options())
        elif traffic.via == "gateway":
            for body in [*endpoint_picker.inference_objects(plan), *routes.fallback_backends(plan)]:
                self._create(body, self._options())
            flagger = self._part.progressive is not None
            # Flagger creates a progressive canary's route, named as ours: the policy finds it.
            route = [] if flagger else [self._create(routes.http_route(plan), self._options())]
            if traffic.envoy_policy:
                self._create(routes.backend_traffic_policy(plan), self._options(depends_on=route))
        if traffic.public_url and plan.state == "running" and self._part.progressive is None:
            # Reachable from where Pulumi runs: check it answers once everything is up.
            EndpointCheck(
                f"{plan.name}-endpoint-check",
                url=f"{traffic.public_url}/models",
                expect_model=plan.serving.engine.model_id,
                # A guarded engine answers 401 without the key: that too shows it serves.
                guarded=self._part.api_key_secret is not None,
                trigger=plan.serving.engine.image + plan.serving_slot,
                timeout_seconds=plan.timeouts.startup_seconds,
                opts=self._options(depends_on=list(self._engines)),
            )

    def _create(self, body: dict[str, Any], opts: pulumi.ResourceOptions) -> pulumi.Resource:
        # The stack file's patches, checked before planning ended, apply to every child.
        return objects.create(patched(body, self._part.patches), opts)

    def _options(self, **options: object) -> pulumi.ResourceOptions:
        depends_on = [*self._depends_on, *options.pop("depends_on", [])]  # type: ignore[misc]
        return pulumi.ResourceOptions(parent=self, depends_on=depends_on, **options)  # type: ignore[arg-type]

    def _hf_token_secret(self, hf_token: pulumi.Input[str] | None) -> pulumi.Resource | None:
        name = self._plan.hf_token_secret
        if name is None or hf_token is None:
            return None
        return self._create(
            secrets.hf_token_secret(self._plan, name, pulumi.Output.secret(hf_token)),
            self._options(protect=self._part.protect_secrets),
        )

    def _api_key_secret(self, api_key: pulumi.Input[str] | None) -> pulumi.Resource | None:
        name = self._part.api_key_secret
        if name is None or api_key is None:
            return None
        return self._create(
            secrets.credential_secret(
                self._plan, name, API_KEY_SECRET_KEY, pulumi.Output.secret(api_key)
            ),
            self._options(protect=self._part.protect_secrets),
        )

    def _add_cache(self) -> None:
        plan_cache = self._plan.cache
        if plan_cache is None:
            return
        # Weights take hours to fetch again: keep the claim when the deployment goes away.
        self._create(
            cache.cache_claim(self._plan, plan_cache),
            self._options(protect=plan_cache.protect, retain_on_delete=True),
        )

    def _add_autoscalers(self) -> list[pulumi.Resource]:
        """An HPA or ScaledObject per autoscaled slot, and the add-on's route for scale to zero."""
        plan = self._plan
        created = []
        for slot in plan.slots:
            if slot.autoscaling is None:
                continue
            created.append(self._create(autoscaler.autoscaler(plan, slot), self._options()))
            holding = slot.autoscaling.request_holding
            if holding is not None:
                self._create(autoscaler.request_interceptor_route(plan, holding), self._options())
        return created


class ExternalDeployment(pulumi.ComponentResource):
    """A deployment routed to existing services: their Backends, the route and its policy."""

    def __init__(
        self,
        plan: ExternalPlan,
        opts: pulumi.ResourceOptions | None = None,
        depends_on: list[pulumi.Resource] | None = None,
    ) -> None:
        super().__init__(EXTERNAL_TYPE, plan.name, None, opts)
        options = pulumi.ResourceOptions(parent=self, depends_on=list(depends_on or []))
        backends = [
            objects.create(body, options) for body in external_backends.external_backends(plan)
        ]
        after = pulumi.ResourceOptions.merge(options, pulumi.ResourceOptions(depends_on=backends))
        route = objects.create(routes.http_route(plan), after)
        policy_options = pulumi.ResourceOptions.merge(
            options, pulumi.ResourceOptions(depends_on=[route])
        )
        objects.create(routes.backend_traffic_policy(plan), policy_options)
        if plan.traffic.public_url:
            # The connectivity check: the route answers the model list through the gateway.
            trigger = ",".join(e.url for e in plan.endpoints)
            external_check(plan, trigger, pulumi.ResourceOptions(parent=self, depends_on=[route]))
        self.summary = external_summary(plan)
        self.register_outputs(self.summary)
