"""How strictly each environment applies each guardrail, in one table.

The table follows components/environments.py: a rule an environment does not promise
(two replicas in staging, protected caches outside prod) is disabled there rather than
reported, so warnings stay worth reading. dev is advisory throughout.

The Pulumi CLI learns these levels from `--policy-pack-config policies/config/<env>.json`,
files generated from this table (`make policies`); `modelstack validate` reads the
environment from the stack file's `modelstack:environment`. Without a config file the
pack applies the prod column, so forgetting it fails closed.

    python -m components.guardrails.enforcement --out policies/config
"""

from __future__ import annotations

import argparse
import json
from enum import StrEnum
from pathlib import Path

from components.environments import ENVIRONMENTS


class Level(StrEnum):
    # The values Pulumi's policy config files use.
    MANDATORY = "mandatory"
    ADVISORY = "advisory"
    DISABLED = "disabled"


_M, _A, _D = Level.MANDATORY, Level.ADVISORY, Level.DISABLED
STRICTEST_ENVIRONMENT = "prod"

LEVELS: dict[str, dict[str, Level]] = {
    "at-least-two-replicas": {"dev": _D, "staging": _D, "prod": _M},
    "pod-disruption-budget": {"dev": _D, "staging": _M, "prod": _M},
    "pinned-image-tags": {"dev": _A, "staging": _M, "prod": _M},
    "container-resources": {"dev": _A, "staging": _M, "prod": _M},
    "engine-probes": {"dev": _A, "staging": _M, "prod": _M},
    "gpu-placement": {"dev": _A, "staging": _M, "prod": _M},
    "no-literal-secret-env": {"dev": _A, "staging": _M, "prod": _M},
    "model-cache-retained": {"dev": _A, "staging": _M, "prod": _M},
    "model-cache-protected": {"dev": _D, "staging": _D, "prod": _M},
    "streaming-route-timeouts": {"dev": _A, "staging": _M, "prod": _M},
    # Debug access is what dev and staging allow (environments.py); prod only on purpose.
    "debug-access-in-prod": {"dev": _D, "staging": _D, "prod": _M},
}


def environments() -> tuple[str, ...]:
    return tuple(ENVIRONMENTS)


def level_for(policy: str, environment: str) -> Level:
    if environment not in ENVIRONMENTS:
        raise ValueError(f"unknown environment {environment!r}: one of {', '.join(ENVIRONMENTS)}")
    return LEVELS[policy][environment]


def default_level(policy: str) -> Level:
    """The level a pack run without a config file applies."""
    return level_for(policy, STRICTEST_ENVIRONMENT)


def pack_config(environment: str) -> dict[str, str]:
    """The `--policy-pack-config` document for one environment (Pulumi's JSON format)."""
    return {policy: level_for(policy, environment).value for policy in LEVELS}


def config_file_text(environment: str) -> str:
    return json.dumps(pack_config(environment), indent=2) + "\n"


def write_pack_configs(directory: Path) -> list[Path]:
    directory.mkdir(parents=True, exist_ok=True)
    written = []
    for environment in environments():
        path = directory / f"{environment}.json"
        path.write_text(config_file_text(environment), encoding="utf-8")
        written.append(path)
    return written


def main() -> None:
    parser = argparse.ArgumentParser(description="write policies/config/<environment>.json")
    parser.add_argument("--out", type=Path, required=True)
    for path in write_pack_configs(parser.parse_args().out):
        print(f"wrote {path}")


if __name__ == "__main__":
    main()
