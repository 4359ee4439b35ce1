"""The docker stack's gateway: one network, nginx in front of every deployment.

nginx's config is a resource of its own (nginx_reload.NginxConfig): a blue-green switch,
a canary move or a new engine container rewrites and reloads it; the nginx container
itself never changes for routine edits, so no connection is dropped.
"""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from components import identity
from components.checks.endpoint_check import EndpointCheck
from components.checks.external_check import external_check
from components.docker.gateway_config import (
    CONTAINER_CONFIG_DIR,
    CONTAINER_PORT,
    GATEWAY_HEALTH_PATH,
    gateway_config,
)
from components.docker.gateway_files import SCRIPT_PATH, script_text
from components.docker.nginx_reload import NginxConfig
from components.identity import content_hash
from components.plan import StackPlan

TYPE = "modelstack:docker:Gateway"
# The nginx release the e2e suite runs (Debian bookworm's 1.22): what ships is what is tested.
# It carries njs (nginx-module-njs 0.7.7, docker-nginx stable/alpine/Dockerfile at 456bf33),
# which the shared endpoint loads; the tests run Debian's libnginx-mod-http-js 0.7.9.
NGINX_IMAGE = "nginx:1.22.1-alpine"
CONFIG_PATH = f"{CONTAINER_CONFIG_DIR}/nginx.conf"
# The gateway's health check; nginx starts when its config is written, so the first check
# that can pass comes at most one interval later.
HEALTH_INTERVAL_SECONDS = 10
HEALTH_TIMEOUT_SECONDS = 3
HEALTH_RETRIES = 3
HEALTH_WAIT_SECONDS = HEALTH_RETRIES * (HEALTH_INTERVAL_SECONDS + HEALTH_TIMEOUT_SECONDS)
PID_PATH = "/tmp/nginx.pid"


class DockerGateway(pulumi.ComponentResource):
    network: docker.Network

    def __init__(
        self, name: str, plan: StackPlan, opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__(TYPE, name, None, opts)
        self._plan = plan
        self._name = name
        self.network = docker.Network(
            f"{name}-network",
            name=identity.docker_network(plan.namespace),
            labels=[docker.NetworkLabelArgs(label=identity.PART_OF_KEY, value=identity.PART_OF)],
            opts=pulumi.ResourceOptions(parent=self),
        )

    def serve(
        self,
        addresses: dict[str, list[str]],
        engine_ids: list[pulumi.Output[str]],
        engines: list[pulumi.Resource],
    ) -> None:
        """Start nginx with the routes of every deployment, then check each endpoint."""
        plan = self._plan
        image = docker.RemoteImage(
            f"{self._name}-image", name=NGINX_IMAGE, keep_locally=True, opts=self._child()
        )
        container = docker.Container(
            self._name,
            name=identity.gateway_container(plan.namespace),
            image=image.image_id,
            # nginx starts once its config has been written into the container.
            entrypoints=["/bin/sh", "-c"],
            command=[
                f"mkdir -p {CONTAINER_CONFIG_DIR}; "
                f"until [ -f {CONFIG_PATH} ]; do sleep 0.2; done; "
                f'exec nginx -c {CONFIG_PATH} -g "daemon off;"'
            ],
            ports=[
                docker.ContainerPortArgs(
                    internal=CONTAINER_PORT,
                    external=plan.on_docker.gateway_port,
                    ip=plan.on_docker.gateway_address,
                )
            ],
            networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=self.network.name)],
            healthcheck=docker.ContainerHealthcheckArgs(
                tests=[
                    "CMD",
                    "wget",
                    "-q",
                    "-O",
                    "/dev/null",
                    f"http://127.0.0.1:{CONTAINER_PORT}{GATEWAY_HEALTH_PATH}",
                ],
                interval=f"{HEALTH_INTERVAL_SECONDS}s",
                timeout=f"{HEALTH_TIMEOUT_SECONDS}s",
                retries=HEALTH_RETRIES,
                # nginx starts once its config is written, after loaders and engines.
                start_period=f"{plan.on_docker.gateway_start_seconds}s",
            ),
            labels=[
                docker.ContainerLabelArgs(label=identity.PART_OF_KEY, value=identity.PART_OF),
                docker.ContainerLabelArgs(
                    label=identity.COMPONENT, value=identity.GATEWAY_COMPONENT
                ),
            ],
            restart="unless-stopped",
            # The shared endpoint's script: constant, so it never replaces the container.
            uploads=[docker.ContainerUploadArgs(file=SCRIPT_PATH, content=script_text())]
            if plan.on_docker.shared_endpoint
            else None,
            opts=self._child(),
        )
        gateway = gateway_config(plan, addresses)
        text = gateway.render()
        config = NginxConfig(
            f"{self._name}-config",
            config=text,
            config_path=CONFIG_PATH,
            pid_path=PID_PATH,
            exec_prefix=container.name.apply(lambda name: ["docker", "exec", "-i", name]),
            triggers=pulumi.Output.all(container.id, *engine_ids),
            engines=sorted(address for group in addresses.values() for address in group),
            drain_seconds=gateway.drain_seconds,
            # `pulumi up` ends with a gateway Docker calls healthy, as engines end (`wait`).
            health_status=container.name.apply(
                lambda name: ["docker", "inspect", "--format", "{{.State.Health.Status}}", name]
            ),
            health_wait_seconds=HEALTH_WAIT_SECONDS,
            opts=self._child(depends_on=[container, *engines]),
        )
        for deployment in plan.deployments:
            if deployment.state == "stopped":
                continue  # nothing serves: the route answers 503 by design
            if deployment.route is not None and not deployment.route.check:
                continue
            EndpointCheck(
                f"{deployment.name}-endpoint-check",
                url=f"{deployment.endpoint}/models",
                expect_model=deployment.serving.engine.model_id,
                # Any change to what serves this route checks the endpoint again.
                trigger=content_hash(text),
                timeout_seconds=deployment.timeouts.startup_seconds,
                opts=self._child(depends_on=[config]),
            )
        for routed in plan.external:
            if routed.route.check:
                external_check(routed, content_hash(text), self._child(depends_on=[config]))
        self.register_outputs({"config": pulumi.Output.secret(text).apply(lambda _: "written")})

    def _child(self, **options: object) -> pulumi.ResourceOptions:
        return pulumi.ResourceOptions(parent=self, **options)  # type: ignore[arg-type]
