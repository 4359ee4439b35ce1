"""A Pulumi program with the render's dynamic resources, as rendered, for the real Pulumi CLI.

The docker target's own program cannot run here (no pulumi-docker provider binary): the tests
create its network, volume and containers through the Engine API, and this program registers
the rest (the host check, loaders, the gateway config, endpoint checks) with modelstack's own
providers and the rendered inputs, so the real engine decides create, update, same or delete
from its state.
The resources come from the JSON file named by MODELSTACK_E2E_RESOURCES, in order.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pulumi
from pulumi.dynamic import ResourceProvider

from components.checks.docker_capacity import DockerCapacityProvider
from components.checks.endpoint_check import EndpointCheckProvider
from components.docker.loader import ModelLoaderProvider
from components.docker.nginx_reload import NginxConfigProvider

PROVIDERS: dict[str, type[ResourceProvider]] = {
    "capacity": DockerCapacityProvider,
    "gateway-config": NginxConfigProvider,
    "endpoint-check": EndpointCheckProvider,
    "loader": ModelLoaderProvider,
}


class Rendered(pulumi.dynamic.Resource):
    """A dynamic resource of type pulumi-python:dynamic:Resource, as modelstack's are."""


spec = json.loads(Path(os.environ["MODELSTACK_E2E_RESOURCES"]).read_text())
registered: dict[str, pulumi.Resource] = {}
for entry in spec["resources"]:
    registered[entry["name"]] = Rendered(
        PROVIDERS[entry["kind"]](),
        entry["name"],
        entry["inputs"],
        pulumi.ResourceOptions(depends_on=[registered[name] for name in entry["depends_on"]]),
    )
