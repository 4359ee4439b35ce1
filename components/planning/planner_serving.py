"""Planning how a deployment is reached: target support, balancing, route, traffic."""

from __future__ import annotations

from components.catalog.engines import Engine
from components.planning.plan_model import (
    HealthCheckPlan,
    LoadBalancerPlan,
    RoutePlan,
    SlotPlan,
    TrafficPlan,
)
from components.planning.planner_base import PlannerBase, Pool
from components.planning.route_path import resolve_route_path
from components.planning.traffic import plan_gateway_traffic, plan_traffic
from components.spec import (
    EnvSource,
    HealthCheckSpec,
    MonitoringSettings,
    PlacementSpec,
)


class ServingPlanning(PlannerBase):
    """What the target can do, the load balancer, the route, traffic and observability."""

    def _check_target_support(self) -> None:
        spec = self.spec
        target = self.stack.target
        if spec.autoscaling is not None and target == "docker":
            self.issue(
                "autoscaling",
                message="is not available on the docker target: set replicas (and pools) instead",
            )
        if target == "docker":
            slot_envs = [
                (("rollout", "slots", n), slot.env) for n, slot in spec.rollout.slots.items()
            ]
            for path, env in [((), spec.env), *slot_envs]:
                for name, value in env.items():
                    if isinstance(value, EnvSource):
                        self.issue(
                            *path,
                            "env",
                            name,
                            message="Secret and ConfigMap references need Kubernetes: on the "
                            "docker target give a literal value",
                        )
        if target == "docker" and spec.placement != PlacementSpec():
            self.issue("placement", message="placement applies to Kubernetes nodes only")
        if target == "docker":
            self._refuse_kubernetes_only()
        if target == "docker" and spec.load_balancer.stickiness == "cookie":
            self.issue(
                "loadBalancer",
                "stickySessions",
                message="nginx open source cannot pin clients by cookie on the docker target: "
                "use stickySessions: true (by client address)",
            )

    def _refuse_kubernetes_only(self) -> None:
        """Fields the docker target would otherwise drop without a word."""
        spec = self.spec
        if spec.cache is not None and spec.cache.storage_class is not None:
            self.issue(
                "cache",
                "storageClass",
                message="a Docker volume has no storage class on the docker target: remove it",
            )
        for key, value in (
            ("maxSurge", spec.rollout.max_surge),
            ("maxUnavailable", spec.rollout.max_unavailable),
        ):
            if value is not None:
                self.issue(
                    "rollout",
                    key,
                    message="the docker target starts every new container and waits until "
                    "healthy before the gateway switches and old ones go: remove it",
                )
        if spec.image_pull_secrets:
            self.issue(
                "imagePullSecrets",
                message="pull Secrets are Kubernetes objects: on the docker target use "
                "modelstack:registries (or `docker login`)",
            )

    def _load_balancer(self, engine: Engine, pools: list[Pool]) -> LoadBalancerPlan:
        spec = self.spec.load_balancer
        if spec.algorithm == "weighted" and len(pools) < 2:
            self.issue(
                "loadBalancer",
                "algorithm",
                message="weighted splits requests across pools: declare pools with weights",
            )
        if spec.algorithm == "failover" and len({pool.priority for pool in pools}) < 2:
            self.issue(
                "loadBalancer",
                "algorithm",
                message="failover needs pools with at least two priorities (0 serves, 1 backs up)",
            )
        if spec.stickiness and spec.algorithm == "failover":
            self.issue(
                "loadBalancer",
                "stickySessions",
                message="sticky sessions hash clients to servers and cannot keep backups idle: "
                "use them with round_robin, ip_hash or weighted",
            )
        health = spec.health_check
        return LoadBalancerPlan(
            algorithm=spec.algorithm,
            stickiness=spec.stickiness,
            health_check_customized=health != HealthCheckSpec(),
            health_check=HealthCheckPlan(
                path=health.path or engine.health_path,
                interval_seconds=health.interval_seconds,
                timeout_seconds=health.timeout_seconds,
                unhealthy_threshold=health.unhealthy_threshold,
                healthy_threshold=health.healthy_threshold,
            ),
        )

    def _route(self) -> RoutePlan | None:
        route = self.spec.route
        if route is None and self.stack.target == "kubernetes":
            return None
        template = route.path if route else "/{name}"
        try:
            path = resolve_route_path(template, self.spec.name, self.namespace, self.spec.tags)
        except ValueError as error:
            self.issue("route", "path", message=str(error))
            return None
        return RoutePlan(
            path=path,
            hosts=tuple(route.hosts) if route else (),
            timeout_seconds=route.timeout_seconds if route else 300,
            check=route.check if route else True,
        )

    def _traffic_plan(
        self, slots: list[SlotPlan], balancer: LoadBalancerPlan, route: RoutePlan | None
    ) -> TrafficPlan | None:
        rollout = self.spec.rollout
        if self.stack.target == "docker":
            planned = plan_gateway_traffic(slots, balancer, self.spec.load_balancer.health_check)
        else:
            planned = plan_traffic(
                self.spec.name,
                rollout.strategy,
                rollout.active or "main",
                slots,
                balancer,
                route,
                self.stack.kubernetes,
            )
        if isinstance(planned, list):
            for path, message in planned:
                self.issue(*path, message=message)
            return None
        return planned

    def _monitoring(self, engine: Engine) -> MonitoringSettings | None:
        settings = self.stack.kubernetes.monitoring
        if self.stack.target != "kubernetes" or not settings.enabled:
            return None
        # Ollama exports no metrics: nothing to scrape or chart.
        return settings if engine.metrics_path else None

    def _network_peers(self) -> tuple[str, ...] | None:
        settings = self.stack.kubernetes
        if self.stack.target != "kubernetes" or not settings.network_policies:
            return None
        peers = [settings.monitoring_namespace, *settings.allowed_namespaces]
        if settings.gateway is not None:
            peers.insert(0, settings.gateway.namespace)
        autoscaling = self.spec.autoscaling
        if autoscaling is not None and autoscaling.scale_to_zero.enabled:
            # Held requests reach the engines from the KEDA HTTP add-on's interceptor.
            peers.append(settings.keda_http_add_on.namespace)
        return tuple(dict.fromkeys(peers))

    def _endpoint(self, route: RoutePlan | None) -> str:
        if self.stack.target == "docker":
            docker = self.stack.docker
            prefix = route.path.rstrip("/") if route else ""
            return f"http://{docker.bind_address}:{docker.port}{prefix}/v1"
        return f"http://{self.spec.name}.{self.namespace}.svc.cluster.local/v1"
