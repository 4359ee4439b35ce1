"""One OpenAI base URL for the whole stack, routed by the request body's `model` field."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field

from components.spec_base import SpecModel
from components.spec_identifiers import HEALTH_PATH, HOSTNAME

# The docker gateway's own paths (health, metrics) live under /-.
RESERVED_PREFIX = "/-"


def _shared_path(value: str) -> str:
    path = HEALTH_PATH.check(value).rstrip("/")
    if not path:
        raise ValueError("'/' would take every path: use a prefix such as /v1")
    if path == RESERVED_PREFIX or path.startswith(RESERVED_PREFIX + "/"):
        raise ValueError(f"'{value}': paths under /-/ are the gateway's own")
    if "//" in path or "/./" in path + "/" or "/../" in path + "/":
        raise ValueError(f"'{value}' is not a plain path: no '//', '.' or '..' segments")
    return path


SharedPath = Annotated[str, AfterValidator(_shared_path)]


class DockerSharedEndpointSpec(SpecModel):
    """`docker.sharedEndpoint`: the gateway answers `<path>/...` for every served model."""

    # The OpenAI base URL's path: clients call <path>/chat/completions, <path>/models.
    path: SharedPath = "/v1"


class SharedEndpointSpec(DockerSharedEndpointSpec):
    """`kubernetes.gateway.sharedEndpoint`: one HTTPRoute on the Gateway for every model."""

    hosts: list[Annotated[str, AfterValidator(HOSTNAME.check)]] = Field(default_factory=list)
