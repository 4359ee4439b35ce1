"""Ollama: serves models pulled from its library (ollama://name:tag) into the cache."""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat


class Ollama(Engine):
    name = "ollama"
    port = 11434
    # `ollama serve` takes no flags: its settings are env values.
    owned_flags = None
    # `GET /` answers as soon as the server runs; models load on first use.
    health_path = "/"
    # Ollama exposes no Prometheus metrics: no autoscaling on requests.
    metrics_path = None
    request_metrics = None
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"ollama"})
    images: ClassVar[dict[Hardware, str]] = {
        "cpu": "ollama/ollama:0.32.15",
        "nvidia": "ollama/ollama:0.32.15",
        "amd": "ollama/ollama:0.32.15-rocm",
    }
    precisions = frozenset()
    shards_across_gpus = False
    # `ollama serve` may prune and rewrite manifests in its models directory.
    writes_model_dir = True

    def health_command(self) -> tuple[str, ...]:
        # The image has neither curl nor Python; the CLI asks the running server.
        return ("CMD", "ollama", "list")

    def env(self, inputs: EngineInputs) -> dict[str, str]:
        return {
            "OLLAMA_HOST": f"0.0.0.0:{self.port}",
            "OLLAMA_MODELS": inputs.model_path,
            # Keep the model loaded: unloading after 5 idle minutes turns requests into cold starts.
            "OLLAMA_KEEP_ALIVE": "-1",
            "OLLAMA_NUM_PARALLEL": "1" if inputs.profile == "latency" else "4",
        }
