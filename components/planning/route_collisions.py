"""Routes of one stack that would claim the same requests.

Route paths are lowercased when planned, so `/Qwen` and `/qwen` are one path. Two routes
with one path on one host make nginx refuse its whole config (`duplicate location`), so
the docker gateway would serve nothing; a Gateway API implementation keeps the oldest
route and drops the other silently. `/-/` is the docker gateway's own (health, metrics).
"""

from __future__ import annotations

from components.errors import ConfigIssue, key_path
from components.planning.plan_model import DeploymentPlan, ExternalPlan

RESERVED_PREFIX = "/-"


def route_collisions(
    planned: list[tuple[int, DeploymentPlan | ExternalPlan]],
) -> list[ConfigIssue]:
    """planned: (stack-file index, plan) of every deployment that planned."""
    issues = []
    claimed: dict[tuple[str, str], tuple[int, str]] = {}
    for index, deployment in planned:
        route = deployment.route
        if route is None:
            continue
        path = route.path.lower()
        where = key_path("deployments", index, "route", "path")
        if path == RESERVED_PREFIX or path.startswith(RESERVED_PREFIX + "/"):
            issues.append(ConfigIssue(where, f"'{path}': paths under /-/ are the gateway's own"))
            continue
        for host in route.hosts or ("*",):
            owner = claimed.setdefault((host, path), (index, deployment.name))
            if owner[0] != index:
                on_host = "" if host == "*" else f" on {host}"
                issues.append(
                    ConfigIssue(
                        where,
                        f"'{path}'{on_host} is already the route of deployments[{owner[0]}] "
                        f"({owner[1]}); paths are compared lowercased: give each its own",
                    )
                )
                break
    return issues
