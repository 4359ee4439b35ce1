"""The plan of adapters loaded while the engine runs: what to load, how, with what limits."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuntimeAdaptersPlan:
    # The engine's load/unload paths, whether it lists adapters, its health path.
    api: dict[str, Any]
    port: int
    # (adapter name, path in the engine's cache), in stack-file order.
    wanted: tuple[tuple[str, str], ...]
    max_rank: int
    max_per_batch: int
    # Kubernetes: the ConfigMap the sidecar reads, and the sidecar's image.
    config_map: str
    image: str
    # The engine's API key variable (its value from the key's Secret), if it has one.
    api_key_env: str | None = None

    def sync_config(self) -> dict[str, Any]:
        """What the sync program reads (components/adapters/runtime_sync.py `watch`)."""
        return {
            "api": self.api,
            "port": self.port,
            "wanted": dict(self.wanted),
            "api_key_env": self.api_key_env,
        }
