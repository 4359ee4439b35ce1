"""vLLM: OpenAI-compatible server for safetensors checkpoints on NVIDIA and AMD GPUs.

The ROCm image is released with the CUDA one, same version
(https://hub.docker.com/r/vllm/vllm-openai-rocm/tags; v0.31.0 of 2026-10-04).
"""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.engines.request_metrics import RequestMetrics
from components.catalog.engines.runtime_adapters import VLLM as VLLM_RUNTIME_ADAPTERS
from components.catalog.multi_node import VLLM

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
    # `engine: auto` for safetensors on GPUs: the widest model and hardware coverage.
    auto_priority: ClassVar[int | None] = 30
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"safetensors"})
    images: ClassVar[dict[Hardware, str]] = {
        "nvidia": "vllm/vllm-openai:v0.31.0",
        # The ROCm image's entrypoint is not documented: the command below is explicit.
        "amd": "vllm/vllm-openai-rocm:v0.31.0",
    }
    not_offered: ClassVar[dict[str, str]] = {
        # https://docs.vllm.ai/en/latest/features/quantization/gguf/: "highly experimental and
        # under-optimized", single files only, the base model's tokenizer recommended, and
        # now an out-of-tree plugin (vllm-gguf-plugin) the release image does not carry.
        "gguf": "vllm's GGUF support is experimental, needs the base model's tokenizer and a "
        "plugin its image does not ship; llamacpp or ollama serve GGUF files",
        # https://docs.vllm.ai/en/latest/getting_started/installation/cpu/: CPU images live
        # in a separate repository (public.ecr.aws/q9t5s3a7/vllm-cpu-release-repo) with fp32
        # and bf16 only, and run far slower than a quantized GGUF under llama.cpp.
        "cpu": "vllm's CPU build is a separate image (fp32/bf16 only) that serves far slower "
        "than a quantized GGUF: on CPU use a .gguf file with llamacpp (or ollama)",
    }
    command = ("vllm", "serve")
    # int8/int4 mean a pre-quantized checkpoint (AWQ, GPTQ): vLLM detects it, no flag.
    # fp4 means an NVFP4 checkpoint, never quantized on load. vLLM reads the method from the
    # checkpoint (ModelOpt's hf_quant_config.json: `modelopt_fp4`; llm-compressor's config:
    # compressed-tensors): https://docs.vllm.ai/en/v0.29.0/features/quantization/modelopt/
    # (the nearest release page). A forced `--quantization modelopt_fp4` would refuse an
    # llm-compressor checkpoint, so none is passed.
    precisions = frozenset({"fp32", "bf16", "fp16", "fp8", "fp4", "int8", "int4"})
    serves_adapters = True
    runtime_adapters = VLLM_RUNTIME_ADAPTERS
    multi_node = VLLM
    shm_size = "2Gi"
    request_metrics = RequestMetrics(
        running="vllm:num_requests_running",
        waiting="vllm:num_requests_waiting",
        completed="vllm:request_success_total",
        latency_bucket="vllm:e2e_request_latency_seconds_bucket",
        generated_tokens="vllm:generation_tokens_total",
        # vLLM serves HTTP metrics too (status label 2xx/4xx/5xx).
        failed='http_requests_total{status="5xx"}',
        # V1 names (https://docs.vllm.ai/en/v0.32.0/usage/metrics/, the nearest release page;
        # https://github.com/vllm-project/vllm/blob/main/docs/design/metrics.md): they
        # replaced vllm:gpu_cache_usage_perc and vllm:time_per_output_token_seconds.
        kv_cache_usage="vllm:kv_cache_usage_perc",
        ttft_bucket="vllm:time_to_first_token_seconds_bucket",
        itl_bucket="vllm:inter_token_latency_seconds_bucket",
    )

    def flags(self, inputs: EngineInputs) -> dict[str, object]:
        return {
            "dtype": _DTYPES.get(inputs.precision),
            "quantization": "fp8" if inputs.precision == "fp8" else None,
        }

    def env(self, inputs: EngineInputs) -> dict[str, str]:
        return {"VLLM_NO_USAGE_STATS": "1"}
