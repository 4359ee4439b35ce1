"""Ollama: serves models from its library (ollama://name:tag) and GGUF files from Hugging Face.

Facts, with sources:
- `ollama pull hf.co/{user}/{repo}:{quant}` pulls a GGUF straight from the Hub, `Q4_K_M` by
  default (https://huggingface.co/docs/hub/ollama): an hf:// .gguf source is pulled that way.
- `/v1/models` lists each model by its full name with tag (`ToListCompletion` in
  https://github.com/ollama/ollama/blob/main/openai/openai.go), so a pulled
  `llama3.2:1b` is listed as that, not as the deployment's served name. The loader copies
  the pulled model to the served name (`ollama cp`, the documented way to answer to another
  model name: https://github.com/ollama/ollama/blob/main/docs/openai.md); a name without a
  tag gets `:latest`, which `/v1/models` then lists, while clients may send the bare name
  (Ollama completes a missing tag with `latest`).
- Library and Hub defaults are 4-bit (Q4_K_M) quantizations: sized as such unless the tag
  names another quantization (https://ollama.com/library, e.g. llama3.2's default tag is
  the Q4_K_M build; Hub docs above).
"""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat

# https://github.com/ollama/ollama/releases/tag/v0.35.1; the ROCm build carries `-rocm`.
_VERSION = "0.35.1"
# What a library or Hub name without a quantization in its tag pulls.
DEFAULT_QUANTIZATION = "Q4_K_M"


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
    # `engine: auto` for ollama:// models, which only Ollama serves.
    auto_priority: ClassVar[int | None] = 10
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"ollama", "gguf"})
    images: ClassVar[dict[Hardware, str]] = {
        "cpu": f"ollama/ollama:{_VERSION}",
        "nvidia": f"ollama/ollama:{_VERSION}",
        "amd": f"ollama/ollama:{_VERSION}-rocm",
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

    def model_id(self, served_name: str) -> str:
        return served_name if ":" in served_name.rsplit("/", 1)[-1] else f"{served_name}:latest"
