"""How an engine loads LoRA adapters while it runs: its API, flags and env (catalog data).

With runtime loading the command line names no adapter, only the limits every adapter
must fit (rank, adapters per batch): adding one changes no pod and no container.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RuntimeAdapterApi:
    load_path: str
    unload_path: str
    # /v1/models lists loaded adapters (vLLM); else the sync remembers what it loaded.
    lists_adapters: bool
    # Flags with the limits as {max_rank} and {per_batch}.
    flags: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()

    def args(self, max_rank: int, per_batch: int) -> tuple[str, ...]:
        return tuple(f.format(max_rank=max_rank, per_batch=per_batch) for f in self.flags)

    def wire(self, health_path: str) -> dict[str, Any]:
        """What the sync program reads (components/adapters/runtime_sync.py)."""
        return {
            "load_path": self.load_path,
            "unload_path": self.unload_path,
            "lists_adapters": self.lists_adapters,
            "health_path": health_path,
        }


# https://docs.vllm.ai/en/latest/features/lora/ ("Dynamically serving LoRA Adapters"; no
# page of v0.31.0 itself was found): the env var turns the endpoints on. --max-lora-rank
# (default 16) and --max-loras (adapters in one batch, default 1) bound what can load
# (LoRAConfig: https://docs.vllm.ai/en/v0.11.0/api/vllm/config/lora.html).
VLLM = RuntimeAdapterApi(
    load_path="/v1/load_lora_adapter",
    unload_path="/v1/unload_lora_adapter",
    lists_adapters=True,
    flags=("--enable-lora", "--max-lora-rank", "{max_rank}", "--max-loras", "{per_batch}"),
    env=(("VLLM_ALLOW_RUNTIME_LORA_UPDATING", "True"),),
)
# https://docs.sglang.io/docs/advanced_features/lora ("Dynamic LoRA loading"): without
# --lora-paths the rank and target modules cannot be inferred, so both are given.
SGLANG = RuntimeAdapterApi(
    load_path="/load_lora_adapter",
    unload_path="/unload_lora_adapter",
    lists_adapters=False,
    flags=(
        "--enable-lora",
        "--max-lora-rank",
        "{max_rank}",
        "--max-loras-per-batch",
        "{per_batch}",
        "--lora-target-modules",
        "all",
    ),
)
