"""The docker gateway's shared endpoint: nginx with njs routes by the body's `model`.

A constant script (templates/nginx/shared_endpoint.js) reads the JSON body, looks the model
up in a table the config hands it, and redirects to the deployment's named location, which
proxies to the deployment's own upstream: streams stream, as on the deployment's route.
The table and the /models document are JSON (json.dumps) in nginx single-quoted strings;
nothing of the stack file reaches the script's text.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass

from components.planning.shared_endpoint_plan import SharedEndpointPlan

# The path every engine serves the OpenAI API under.
ENGINE_BASE = "/v1"


@dataclass(frozen=True)
class SharedGateway:
    path: str
    # Where the gateway finds the script (the container's config directory, or a test's).
    script_path: str
    # nginx strings (quoted): the model -> named location table, and GET <path>/models.
    routes: str
    models: str
    # upstream -> its named location, for every deployment the endpoint routes to.
    locations: dict[str, str]
    # Rewrites <path>/x to /v1/x when the shared path is not the engines' own.
    rewrite: str | None

    @property
    def models_prefix(self) -> str:
        return nginx_string(f"{self.path}/models/")


def shared_gateway(
    plan: SharedEndpointPlan, upstreams: dict[str, str], script_path: str
) -> SharedGateway:
    """`upstreams`: deployment name -> its upstream (route) name."""
    locations = {upstreams[name]: f"@shared_{upstreams[name]}" for name in plan.deployments}
    table = {model: locations[upstreams[name]] for model, name in plan.routes.items()}
    rewrite = None
    if plan.path != ENGINE_BASE:
        pattern = "^" + re.sub(r"([^A-Za-z0-9/_-])", r"\\\1", plan.path) + "/(.*)$"
        rewrite = f"{nginx_string(pattern)} {nginx_string(ENGINE_BASE + '/$1')}"
    return SharedGateway(
        path=plan.path,
        script_path=script_path,
        routes=nginx_json(table),
        models=nginx_json(plan.models_document()),
        locations=locations,
        rewrite=rewrite,
    )


def nginx_string(text: str) -> str:
    """`text` as an nginx single-quoted string: nginx reads `\\\\` as `\\` and `\\'` as `'`."""
    return "'" + text.replace("\\", "\\\\").replace("'", "\\'") + "'"


def nginx_json(value: object) -> str:
    """JSON in an nginx string. nginx expands `$name` in it, so `$` is written `\\u0024`."""
    text = json.dumps(value, ensure_ascii=True, separators=(",", ":"))
    return nginx_string(text.replace("$", "\\u0024"))
