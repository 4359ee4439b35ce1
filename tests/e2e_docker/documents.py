"""Stack files for the docker e2e tests: the committed dev stack, on its own namespace and port."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parents[2]


def dev_document(namespace: str, port: int, **changes: object) -> dict[str, Any]:
    """The committed dev stack on its own namespace and loopback port."""
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.dev.yaml").read_text())
    document["config"]["modelstack:docker"] = {"namespace": namespace, "port": port}
    document["config"]["modelstack:deployments"][0].update(changes)
    return document
