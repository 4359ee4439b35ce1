"""SGLang: high-throughput server for safetensors checkpoints on NVIDIA and AMD GPUs.

Images per platform are listed in each release's notes; v0.5.21 publishes
`lmsysorg/sglang:v0.5.21` (CUDA 13) and `lmsysorg/sglang:v0.5.21-rocm10-mi30x` for
MI300X/MI325X (https://github.com/sgl-project/sglang/releases/tag/v0.5.21; AMD setup:
https://docs.sglang.io/docs/hardware-platforms/amd_gpu). Same launcher and flags on both.
"""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.engines.request_metrics import RequestMetrics
from components.catalog.engines.runtime_adapters import SGLANG as SGLANG_RUNTIME_ADAPTERS
from components.catalog.multi_node import SGLANG

_DTYPES = {"fp32": "float32", "bf16": "bfloat16", "fp16": "float16"}


class Sglang(Engine):
    name = "sglang"
    port = 30000
    owned_flags = frozenset(
        (
            "--lora-paths",
            "--model-path",
            "--model",
            "--served-model-name",
            "--host",
            "--port",
            "--tp-size",
            "--tensor-parallel-size",
            "--dtype",
            "--quantization",
        )
    )
    # The OpenAI API picks an adapter (from --lora-paths or loaded at run time) by
    # `<served model>:<adapter>` in `model` (https://docs.sglang.io/docs/advanced_features/lora,
    # "OpenAI-compatible API usage"; examples/runtime/lora.py in github.com/sgl-project/sglang).
    adapter_model_ids = "{served}:{adapter}"
    # /health runs a one-token generation; /ready is the cheap check.
    health_path = "/health"
    metrics_path = "/metrics"
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"safetensors"})
    images: ClassVar[dict[Hardware, str]] = {
        "nvidia": "lmsysorg/sglang:v0.5.21",
        # Built for gfx942: MI300X and MI325X, the catalog's AMD GPUs.
        "amd": "lmsysorg/sglang:v0.5.21-rocm10-mi30x",
    }
    # The image's entrypoint is undocumented; the project's own examples use this.
    command = ("python3", "-m", "sglang.launch_server")
    precisions = frozenset({"fp32", "bf16", "fp16", "fp8", "int8", "int4"})
    serves_adapters = True
    runtime_adapters = SGLANG_RUNTIME_ADAPTERS
    multi_node = SGLANG
    shm_size = "8Gi"
    # Exported with --enable-metrics, which the argument template always passes.
    request_metrics = RequestMetrics(
        running="sglang:num_running_reqs",
        waiting="sglang:num_queue_reqs",
        completed="sglang:e2e_request_latency_seconds_count",
        latency_bucket="sglang:e2e_request_latency_seconds_bucket",
        generated_tokens="sglang:generation_tokens_total",
        failed=None,
        # https://docs.sglang.io/docs/references/production_metrics: token_usage is the used
        # share of the KV token pool; inter_token_latency replaced time_per_output_token.
        kv_cache_usage="sglang:token_usage",
        ttft_bucket="sglang:time_to_first_token_seconds_bucket",
        itl_bucket="sglang:inter_token_latency_seconds_bucket",
    )

    def flags(self, inputs: EngineInputs) -> dict[str, object]:
        return {
            "dtype": _DTYPES.get(inputs.precision),
            "quantization": "fp8" if inputs.precision == "fp8" else None,
        }
