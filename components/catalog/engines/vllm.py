"""vLLM: OpenAI-compatible server for safetensors checkpoints on NVIDIA and AMD GPUs."""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.engines.request_metrics import RequestMetrics

_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


class Vllm(Engine):
    name = "vllm"
    port = 8000
    owned_flags = frozenset(
        (
            "--enable-lora",
            "--lora-modules",
            "--model",
            "--served-model-name",
            "--host",
            "--port",
            "--tensor-parallel-size",
            "-tp",
            "--dtype",
            "--quantization",
            "-q",
        )
    )
    health_path = "/health"
    metrics_path = "/metrics"
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"safetensors"})
    images: ClassVar[dict[Hardware, str]] = {
        "nvidia": "vllm/vllm-openai:v0.31.0",
        # The ROCm image's entrypoint is not documented: the command below is explicit.
        "amd": "vllm/vllm-openai-rocm:v0.23.0",
    }
    command = ("vllm", "serve")
    # int8/int4 mean a pre-quantized checkpoint (AWQ, GPTQ): vLLM detects it, no flag.
    precisions = frozenset({"fp32", "bf16", "fp16", "fp8", "int8", "int4"})
    serves_adapters = True
    shm_size = "2Gi"
    request_metrics = RequestMetrics(
        running="vllm:num_requests_running",
        waiting="vllm:num_requests_waiting",
        completed="vllm:request_success_total",
        latency_bucket="vllm:e2e_request_latency_seconds_bucket",
        generated_tokens="vllm:generation_tokens_total",
        # vLLM serves HTTP metrics too (status label 2xx/4xx/5xx).
        failed='http_requests_total{status="5xx"}',
    )

    def flags(self, inputs: EngineInputs) -> dict[str, object]:
        return {
            "dtype": _DTYPES.get(inputs.precision),
            "quantization": "fp8" if inputs.precision == "fp8" else None,
        }

    def env(self, inputs: EngineInputs) -> dict[str, str]:
        return {"VLLM_NO_USAGE_STATS": "1"}
