"""Hugging Face Text Generation Inference (maintenance mode upstream, still widely run).

3.3.7 is the last 3.3.x release (https://github.com/huggingface/text-generation-inference/
releases/tag/v3.3.7); image tags carry no `v` and ROCm builds a `-rocm` suffix.
"""

from __future__ import annotations

from typing import ClassVar

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.engines.request_metrics import RequestMetrics

_DTYPES = {"bf16": "bfloat16", "fp16": "float16"}
# TGI quantizes on load; --dtype cannot be combined with --quantize.
_QUANTIZE = {"fp8": "fp8", "int8": "bitsandbytes", "int4": "bitsandbytes-nf4"}


class Tgi(Engine):
    name = "tgi"
    # The image listens on $PORT=80; 8080 keeps the port unprivileged for non-root pods.
    port = 8080
    owned_flags = frozenset(
        ("--model-id", "--hostname", "--port", "--num-shard", "--dtype", "--quantize")
    )
    health_path = "/health"
    metrics_path = "/metrics"
    formats: ClassVar[frozenset[ModelFormat]] = frozenset({"safetensors"})
    images: ClassVar[dict[Hardware, str]] = {
        "nvidia": "ghcr.io/huggingface/text-generation-inference:3.3.7",
        "amd": "ghcr.io/huggingface/text-generation-inference:3.3.7-rocm",
    }
    precisions = frozenset({"bf16", "fp16", "fp8", "int8", "int4"})
    shm_size = "1Gi"
    writes_model_dir = True
    # The image sets HF_HOME=/data.
    writable_dirs = ("/data",)
    # tgi_batch_current_size counts the requests in the running batch.
    request_metrics = RequestMetrics(
        running="tgi_batch_current_size",
        waiting="tgi_queue_size",
        completed="tgi_request_duration_count",
        latency_bucket="tgi_request_duration_bucket",
        generated_tokens="tgi_request_generated_tokens_sum",
        failed="tgi_request_failure",
        # https://huggingface.co/docs/text-generation-inference/reference/metrics: no KV-cache
        # gauge and no time-to-first-token histogram; the per-request mean time per token is
        # the nearest to inter-token latency.
        itl_bucket="tgi_request_mean_time_per_token_duration_bucket",
    )

    def flags(self, inputs: EngineInputs) -> dict[str, object]:
        return {"dtype": _DTYPES.get(inputs.precision), "quantize": _QUANTIZE.get(inputs.precision)}
