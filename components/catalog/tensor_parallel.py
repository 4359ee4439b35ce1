"""How many GPUs one tensor-parallel engine can use.

Tensor parallelism gives each GPU an equal share of the attention heads, so the head count
must divide by the GPU count: vLLM refuses to start otherwise ("Total number of attention
heads (28) must be divisible by tensor parallel size (3)", `verify_with_parallel_config` in
https://github.com/vllm-project/vllm/blob/main/vllm/config/model.py; SGLang and TGI shard the
same way). Nothing requires a power of two: 48 heads run on 3 or 6 GPUs.

A pod runs on one node, and the GPU nodes clouds offer hold at most 8 GPUs (AWS p5.48xlarge
and p4d.24xlarge, GCP a3-highgpu-8g, Azure ND96isr_H100_v5 and ND96isr_MI300X_v5:
https://aws.amazon.com/ec2/instance-types/p5/, https://cloud.google.com/compute/docs/gpus,
https://learn.microsoft.com/azure/virtual-machines/sizes/gpu-accelerated/nd-family).
"""

from __future__ import annotations

MAX_GPUS_PER_NODE = 8
# What the memory fit check suggests: counts that divide the head counts of common models
# (32, 40, 64, 128 heads); others are fine when the model's heads divide by them.
SUGGESTED_GPU_COUNTS = (1, 2, 4, 8)


def tensor_parallel_problem(
    engine: str, count: int, attention_heads: int | None, shards: int | None = None
) -> str | None:
    """Why `count` GPUs per pod cannot shard this model over `shards` GPUs (default: count:
    one node; an engine that counts its tensor parallelism over a group of nodes shards
    over all of theirs), or None."""
    if count > MAX_GPUS_PER_NODE:
        return (
            f"{engine} runs one pod on one node, and GPU nodes hold at most "
            f"{MAX_GPUS_PER_NODE} GPUs (got {count}): use up to {MAX_GPUS_PER_NODE}, "
            "gpu.nodes to spread a larger model over several nodes, or replicas for more "
            "throughput"
        )
    count = count if shards is None else shards
    if count <= 1:
        return None
    if attention_heads is not None:
        if attention_heads % count:
            return (
                f"{engine} gives each GPU an equal share of the attention heads: "
                f"{attention_heads} heads do not divide by {count} GPUs"
            )
        return None
    if count & (count - 1):
        return (
            f"{engine} gives each GPU an equal share of the attention heads, and most models' "
            f"head counts (32, 64) do not divide by {count}: set model.attentionHeads "
            "(num_attention_heads in the model's config.json) to confirm this count, or use "
            f"{', '.join(map(str, SUGGESTED_GPU_COUNTS[1:]))} GPUs"
        )
    return None
