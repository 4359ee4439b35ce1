"""`external`: a deployment that routes to OpenAI-compatible services modelstack does not run.

A deployment either runs a model (`model`, engine, GPUs...) or registers existing addresses
(`external.endpoints`); the route, load balancing and health checks are the same for both.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.spec_base import FieldError, SpecModel
from components.spec_identifiers import OPENAI_BASE_URL, shown

# The keys an external deployment reads; every other key configures engines it does not run.
EXTERNAL_KEYS = frozenset({"name", "description", "external", "route", "load_balancer", "tags"})
MAX_ENDPOINTS = 16


def _base_url(value: str) -> str:
    authority = value.partition("://")[2].split("/", 1)[0]
    if "@" in authority:
        raise ValueError(
            "credentials do not belong in the URL: it sits in plain text in the stack file, "
            "the state and the gateway's objects; an API key must be a Pulumi secret"
        )
    match = OPENAI_BASE_URL.pattern.fullmatch(value)
    if match is None or len(value) > OPENAI_BASE_URL.max_length:
        raise ValueError(OPENAI_BASE_URL.problem(value) or f"{shown(value)} is not a URL")
    port = match.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        raise ValueError(f"{shown(value)}: port {port} is outside 1-65535")
    if any(part in (".", "..") for part in match.group("prefix").split("/")):
        raise ValueError(f"{shown(value)}: no '.' or '..' path segments")
    return value


class ExternalEndpointSpec(SpecModel):
    # The service's OpenAI base URL: clients' `<route>/v1/...` goes to `<url>/...`.
    url: Annotated[str, AfterValidator(_base_url)]
    # Share of requests among endpoints of the same priority.
    weight: Annotated[int, Field(ge=1, le=1000)] = 1
    # 0 serves; higher numbers are backups used only when every lower one is unhealthy.
    priority: Annotated[int, Field(ge=0, le=9)] = 0


class ExternalSpec(SpecModel):
    endpoints: Annotated[list[ExternalEndpointSpec], Field(min_length=1, max_length=MAX_ENDPOINTS)]

    @model_validator(mode="after")
    def _endpoints(self) -> ExternalSpec:
        urls = [endpoint.url.rstrip("/") for endpoint in self.endpoints]
        repeated = sorted({url for url in urls if urls.count(url) > 1})
        if repeated:
            raise FieldError("endpoints", f"each URL once: {', '.join(repeated)}")
        if min(endpoint.priority for endpoint in self.endpoints) != 0:
            raise FieldError("endpoints", "at least one endpoint must serve (priority 0)")
        return self


class ExternalFields(SpecModel):
    """The deployment's `external` key and the rule that it replaces `model`."""

    external: ExternalSpec | None = None

    @model_validator(mode="after")
    def _model_or_external(self) -> ExternalFields:
        has_model = getattr(self, "model", None) is not None
        if self.external is None and not has_model:
            raise FieldError(
                "model",
                "required: the model this deployment runs, or `external: {endpoints: [...]}` "
                "for OpenAI-compatible services it routes to",
            )
        if self.external is not None and has_model:
            raise FieldError(
                "external",
                "a deployment runs a model or routes to external endpoints, not both: for "
                "failover to another region, give a second deployment `external` endpoints "
                "(this one's in-cluster URL at priority 0, the other region's at priority 1)",
            )
        if self.external is not None:
            fields = type(self).model_fields
            for name in sorted(self.model_fields_set - EXTERNAL_KEYS):
                alias = fields[name].alias or name
                raise FieldError(
                    alias,
                    "does not apply to an external deployment (it runs no engine): "
                    "keep name, description, external, route, loadBalancer and tags",
                )
        return self
