"""The load balancer's configuration: plan -> upstreams and routes -> nginx.conf (pure).

nginx open source has passive health checks only: a server that fails `max_fails` times
within `fail_timeout` rests for `fail_timeout`, then gets traffic again. Docker's own
health checks (active) gate a container before it ever enters the config.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property

from components.docker.gateway_files import NJS_MODULE, SCRIPT_PATH
from components.docker.shared_endpoint import SharedGateway, shared_gateway
from components.identity import content_hash
from components.plan import DeploymentPlan, StackPlan
from components.planning.plan_model import ExternalPlan
from components.templating import render_text

# The load balancer's own liveness endpoint (not routed to any engine).
GATEWAY_HEALTH_PATH = "/-/health"
# Per-engine metrics on the gateway's port (dev has no Prometheus Operator).
METRICS_PREFIX = "/-/metrics"
CONTAINER_PORT = 8080
CONTAINER_CONFIG_DIR = "/etc/nginx/modelstack"
CONFIG_FILE = "nginx.conf"
# Docker's DNS server inside every container on a user-defined network.
DOCKER_DNS = "127.0.0.11"
# Loopback addresses 127.1.0.0 - 127.254.255.255 stand for engines inside the gateway.
LOCAL_ADDRESSES = 254 * 65536
# Idle connections kept open to each upstream: saves a TCP handshake per request.
UPSTREAM_KEEPALIVE = 32
# Beyond the longest route timeout: time for the last bytes of a finished stream.
DRAIN_MARGIN_SECONDS = 5
# Where Debian and Alpine keep the system CAs that check an https endpoint's certificate.
SYSTEM_CAS = "/etc/ssl/certs/ca-certificates.crt"
# The traffic plan's balancing -> nginx's directive (round robin is nginx's default).
_DIRECTIVES = {"round_robin": None, "least_connections": "least_conn", "ip_hash": "ip_hash"}


@dataclass(frozen=True)
class UpstreamServer:
    address: str
    weight: int = 1
    backup: bool = False


@dataclass(frozen=True)
class RemoteEngine:
    """A server modelstack does not run (external.endpoints): how its engine block reaches it."""

    scheme: str
    # The Host header (and TLS name) the service expects: host, or host:port.
    host: str
    tls_name: str


@dataclass(frozen=True)
class GatewayRoute:
    upstream: str
    path: str
    timeout_seconds: int
    balancing: str | None
    servers: tuple[UpstreamServer, ...]
    max_fails: int
    fail_timeout_seconds: int
    hosts: tuple[str, ...] = ()
    # Why the route has no servers, for the 503 body ("stopped" or "no running replicas").
    unavailable_reason: str = "has no running replicas"
    # Each engine's metrics, one location per server: /-/metrics/<upstream>/<index>.
    metrics_path: str | None = None
    # Engines of the deployment that get no traffic now (an idle slot): still reachable for
    # requests old workers hold after a switch.
    idle: tuple[str, ...] = ()
    # What the route's prefix becomes for the servers: "/" or an external service's "/x/".
    rewrite: str = "/"
    # External endpoints by address; other addresses are the stack's engine containers.
    remote: dict[str, RemoteEngine] = field(default_factory=dict)

    @property
    def engines(self) -> tuple[str, ...]:
        """Every engine address of the route, serving first."""
        return tuple(dict.fromkeys([*(server.address for server in self.servers), *self.idle]))

    @property
    def location(self) -> str:
        """The prefix nginx matches; `/` for a root route."""
        return self.path.rstrip("/") + "/"


@dataclass(frozen=True)
class GatewayConfig:
    listen_address: str
    listen_port: int
    routes: tuple[GatewayRoute, ...]
    # Where nginx keeps its pid, temp files and logs (a writable directory).
    runtime_dir: str = "/tmp"
    error_log: str = "/dev/stderr"
    access_log: str = "/dev/stdout"
    health_path: str = GATEWAY_HEALTH_PATH
    # Resolves engine names per request (Docker's embedded DNS); None: addresses are IPs.
    resolver: str | None = DOCKER_DNS
    # How long old workers may finish their requests after a reload (0: no limit).
    drain_seconds: int = 0
    # One OpenAI base URL for every model (njs routes by the body's `model`).
    shared: SharedGateway | None = None

    def local(self, route: GatewayRoute, address: str) -> str:
        """The loopback address that stands for one engine (`address`) of the route."""
        return self._locals[(route.upstream, address)]

    @cached_property
    def _locals(self) -> dict[tuple[str, str], str]:
        # 127.0.0.0/8 is all local: one address per engine, from a hash of what it stands
        # for (stable across edits), probing on past a collision.
        taken: dict[tuple[str, str], str] = {}
        used: set[int] = set()
        for route in self.routes:
            for address in route.engines:
                key = (route.upstream, address)
                if key in taken:
                    continue
                slot = int(content_hash(list(key)), 16) % LOCAL_ADDRESSES
                while slot in used:
                    slot = (slot + 1) % LOCAL_ADDRESSES
                used.add(slot)
                host = f"127.{1 + slot // 65536}.{slot // 256 % 256}.{slot % 256}"
                taken[key] = f"{host}:{self.listen_port}"
        return taken

    def render(self) -> str:
        return render_text(
            "nginx/nginx.conf.j2",
            config=self,
            servers=_by_hosts(self.routes, default_server=self.shared is not None),
            keepalive=UPSTREAM_KEEPALIVE,
            metrics_prefix=METRICS_PREFIX,
            njs_module=NJS_MODULE,
            system_cas=SYSTEM_CAS,
        )


def _by_hosts(
    routes: tuple[GatewayRoute, ...], default_server: bool = False
) -> list[tuple[tuple[str, ...], list[GatewayRoute]]]:
    """Routes grouped into server blocks by host names; routes without hosts go to the default
    (which `default_server` asks for even without such routes: the shared endpoint's)."""
    groups: dict[tuple[str, ...], list[GatewayRoute]] = {(): []} if default_server else {}
    for route in routes:
        groups.setdefault(route.hosts, []).append(route)
    return sorted(groups.items(), key=lambda item: (item[0] != (), item[0]))


def route_for(deployment: DeploymentPlan, addresses: dict[str, list[str]]) -> GatewayRoute:
    """The deployment's route: `addresses` maps each workload name to its servers' host:port.

    The traffic plan decided the backends, their weights and backups: this only translates.
    """
    traffic, route = deployment.traffic, deployment.route
    assert traffic is not None and route is not None, "the docker target always routes"
    balancer = deployment.load_balancer
    servers = tuple(
        UpstreamServer(address, backend.weight, backend.fallback)
        for backend in traffic.backends
        for address in addresses[backend.service]
    )
    serving = {server.address for server in servers}
    idle = tuple(
        address
        for slot in deployment.slots
        for address in addresses.get(slot.workload_name, [])
        if address not in serving
    )
    return GatewayRoute(
        upstream=_upstream_name(deployment.name),
        path=route.path,
        timeout_seconds=route.timeout_seconds,
        balancing=_DIRECTIVES[traffic.balancing or "round_robin"],
        servers=servers,
        max_fails=balancer.health_check.unhealthy_threshold,
        fail_timeout_seconds=balancer.health_check.interval_seconds,
        hosts=route.hosts,
        metrics_path=deployment.serving.engine.metrics_path,
        idle=idle,
        unavailable_reason=(
            "is stopped (state: stopped in the stack file)"
            if deployment.state == "stopped"
            else "has no running replicas"
        ),
    )


def external_route(deployment: ExternalPlan) -> GatewayRoute:
    """An external deployment's route: one server per endpoint, reached by its own scheme."""
    traffic, health = deployment.traffic, deployment.load_balancer.health_check
    servers, remote = [], {}
    for e in deployment.endpoints:
        address = f"{e.host}:{e.port}"
        default_port = {"http": 80, "https": 443}[e.scheme] == e.port
        remote[address] = RemoteEngine(e.scheme, e.host if default_port else address, e.host)
        servers.append(UpstreamServer(address, e.weight, e.fallback))
    return GatewayRoute(
        upstream=_upstream_name(deployment.name),
        path=deployment.route.path,
        timeout_seconds=deployment.route.timeout_seconds,
        balancing=_DIRECTIVES[traffic.balancing or "round_robin"],
        servers=tuple(servers),
        max_fails=health.unhealthy_threshold,
        fail_timeout_seconds=health.interval_seconds,
        hosts=deployment.route.hosts,
        rewrite=traffic.path_rewrite.rstrip("/") + "/",
        remote=remote,
    )


def _upstream_name(deployment: str) -> str:
    return re.sub(r"[^a-z0-9_]", "_", deployment)


def gateway_config(stack: StackPlan, addresses: dict[str, list[str]]) -> GatewayConfig:
    """The whole gateway of a docker stack: one route per deployment."""
    served = tuple(route_for(deployment, addresses) for deployment in stack.deployments)
    routes = served + tuple(external_route(deployment) for deployment in stack.external)
    plan = stack.on_docker.shared_endpoint
    upstreams = {d.name: route.upstream for d, route in zip(stack.deployments, served, strict=True)}
    return GatewayConfig(
        listen_address="0.0.0.0",
        listen_port=CONTAINER_PORT,
        routes=routes,
        drain_seconds=drain_seconds(routes),
        shared=shared_gateway(plan, upstreams, SCRIPT_PATH) if plan else None,
    )


def drain_seconds(routes: tuple[GatewayRoute, ...]) -> int:
    """The longest a request may take: old workers get that long after a reload."""
    return max((route.timeout_seconds for route in routes), default=0) + DRAIN_MARGIN_SECONDS
