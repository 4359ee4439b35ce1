"""What every engine definition provides; one subclass per engine, each in its own file.

An engine turns a resolved model configuration (EngineInputs) into the container it
runs: image, command, arguments from templates/engines/<name>.j2, and env.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import ClassVar, Literal

from components.catalog.engines.request_metrics import RequestMetrics
from components.catalog.engines.runtime_adapters import RuntimeAdapterApi
from components.catalog.multi_node import MultiNodeArgs
from components.templating import render_argv

Hardware = Literal["cpu", "nvidia", "amd"]
ModelFormat = Literal["safetensors", "gguf", "ollama"]


@dataclass(frozen=True)
class EngineInputs:
    """The resolved model configuration an engine builds its command line from."""

    model_path: str
    served_name: str
    hardware: Hardware
    gpu_count: int
    # Resolved precision ("bf16", "fp8", ...), or "native" where the file fixes it (GGUF).
    precision: str
    profile: Literal["latency", "throughput"]
    # LoRA adapters: (served name, path in the cache).
    adapters: tuple[tuple[str, str], ...] = ()


class Engine:
    name: ClassVar[str]
    port: ClassVar[int]
    health_path: ClassVar[str]
    metrics_path: ClassVar[str | None]
    formats: ClassVar[frozenset[ModelFormat]]
    images: ClassVar[dict[Hardware, str]]
    # None keeps the image's entrypoint.
    command: ClassVar[tuple[str, ...] | None] = None
    # Precisions the engine can be told to run at; "auto" is always allowed.
    precisions: ClassVar[frozenset[str]]
    # Tensor parallelism shards attention heads (components/catalog/tensor_parallel.py).
    shards_across_gpus: ClassVar[bool] = True
    # Shared memory for NCCL between tensor-parallel workers (None: not needed).
    shm_size: ClassVar[str | None] = None
    # TGI converts .bin weights inside the model directory; the others only read.
    writes_model_dir: ClassVar[bool] = False
    # Serves LoRA adapters next to the base model.
    serves_adapters: ClassVar[bool] = False
    # Loads adapters while it runs (`adapterLoading.mode: runtime`); None: only at start.
    runtime_adapters: ClassVar[RuntimeAdapterApi | None] = None
    # What clients send as `model` for a LoRA adapter, however it was loaded: {served} (the
    # base model's served name) and {adapter} (its name in the stack file).
    adapter_model_ids: ClassVar[str] = "{adapter}"
    # Runs one model over a group of nodes (gpu.nodes > 1): its flags; None: one node only.
    multi_node: ClassVar[MultiNodeArgs | None] = None
    # Flags the plan sets from the stack file (model, port, parallelism, precision):
    # `engineArgs` may not repeat them. None: the engine takes no arguments at all.
    owned_flags: ClassVar[frozenset[str] | None] = frozenset()
    # Directories the image writes to besides HOME and /tmp (both always writable): with a
    # read-only root filesystem each gets an emptyDir.
    writable_dirs: ClassVar[tuple[str, ...]] = ()
    # Series for autoscaling on requests; None: the engine exports no Prometheus metrics.
    request_metrics: ClassVar[RequestMetrics | None] = None
    # Formats and hardware the engine could serve upstream but the catalog does not offer,
    # with the reason (said instead of a flat "does not serve").
    not_offered: ClassVar[dict[str, str]] = {}
    # `engine: auto` picks, among the engines serving the model's format on its hardware, the
    # one with the highest priority; None: picked only when the stack file names it.
    auto_priority: ClassVar[int | None] = None

    def supports(self, hardware: Hardware) -> bool:
        return hardware in self.images

    def image(self, hardware: Hardware) -> str:
        return self.images[hardware]

    def args(self, inputs: EngineInputs) -> list[str]:
        return render_argv(
            f"engines/{self.name}.j2", port=self.port, **vars(inputs), **self.flags(inputs)
        )

    def flags(self, inputs: EngineInputs) -> dict[str, object]:
        """Engine-specific template variables (dtype spelling, quantization names)."""
        return {}

    def env(self, inputs: EngineInputs) -> dict[str, str]:
        return {}

    def model_id(self, served_name: str) -> str:
        """The id `/v1/models` lists for the served name (what the endpoint check expects)."""
        return served_name

    def adapter_model_id(self, served_name: str, adapter: str) -> str:
        """The `model` a request names to be served by LoRA adapter `adapter`."""
        return self.adapter_model_ids.format(served=served_name, adapter=adapter)

    def health_command(self) -> tuple[str, ...]:
        """A Docker health check run inside the engine's image (which tools it has varies)."""
        url = f"http://127.0.0.1:{self.port}{self.health_path}"
        return (
            "CMD",
            "python3",
            "-c",
            f"import urllib.request; urllib.request.urlopen({url!r}, timeout=4)",
        )

    def owned_flag_in(self, argument: str) -> str | None:
        """The plan-owned flag an extra argument would set (`--port=9` counts too)."""
        flag = argument.split("=", 1)[0]
        return flag if self.owned_flags and flag in self.owned_flags else None

    def precision_note(self, precision: str) -> str | None:
        """Why a precision cannot be asked of this engine, or None if it can."""
        if precision == "auto" or precision in self.precisions:
            return None
        allowed = ", ".join(sorted(self.precisions)) or "none (the model file fixes it)"
        return f"{self.name} cannot run at {precision}; it supports auto, {allowed}"
