"""llama.cpp's llama-server: GGUF files on CPU or GPU."""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, Hardware, ModelFormat
from components.catalog.engines.request_metrics import RequestMetrics

# Pinned build; the CUDA and ROCm variants carry the same build number.
_BUILD = "b11382"


class LlamaCpp(Engine):
    name = "llamacpp"
    port = 8080
    owned_flags = frozenset(
        (
            "-m",
            "--model",
            "-a",
            "--alias",
            "--host",
            "--port",
            "-ngl",
            "--n-gpu-layers",
            "--gpu-layers",
        )
    )
    health_path = "/health"
    metrics_path = "/metrics"
    # `engine: auto` for GGUF files (before ollama, which serves them too).
    auto_priority: ClassVar[int | None] = 20
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"gguf"})
    images: ClassVar[dict[Hardware, str]] = {
        "cpu": f"ghcr.io/ggml-org/llama.cpp:server-{_BUILD}",
        "nvidia": f"ghcr.io/ggml-org/llama.cpp:server-cuda-{_BUILD}",
        "amd": f"ghcr.io/ggml-org/llama.cpp:server-rocm-{_BUILD}",
    }
    # The GGUF file fixes the weights' precision (Q4_K_M, Q8_0, F16...).
    precisions = frozenset()
    # Layers split across GPUs: any count works.
    shards_across_gpus = False
    # Exported with --metrics (always passed); no request counter and no latency histogram.
    request_metrics = RequestMetrics(
        running="llamacpp:requests_processing",
        waiting="llamacpp:requests_deferred",
        completed=None,
        latency_bucket=None,
        generated_tokens="llamacpp:tokens_predicted_total",
        failed=None,
        # No KV-cache gauge (kv_cache_usage_ratio was removed: https://github.com/ggml-org/
        # llama.cpp/pull/22879 lists what /metrics serves) and no latency histograms.
    )

    def health_command(self) -> tuple[str, ...]:
        # The server image has curl (its own HEALTHCHECK uses it), not Python.
        return ("CMD", "curl", "-fsS", f"http://127.0.0.1:{self.port}{self.health_path}")
