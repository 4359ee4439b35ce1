"""How an engine runs one model over a group of nodes: its command line, as data.

Kubernetes runs a group as a LeaderWorkerSet (https://github.com/kubernetes-sigs/lws, v0.10.0).
Its pod webhook sets the label `leaderworkerset.sigs.k8s.io/worker-index` on every pod ("0"
on the leader) and gives every container the env `LWS_LEADER_ADDRESS` (the leader pod's DNS
name), `LWS_GROUP_SIZE` and `LWS_WORKER_INDEX`, before the containers' own env so that
`$(VAR)` in args can read them (api/leaderworkerset/v1/leaderworkerset_types.go,
pkg/webhooks/pod_webhook.go, pkg/utils/pod/pod_utils.go `AddLWSVariables` at v0.10.0).

Each engine's flags below are `str.format` templates over `{gpus}` (per node), `{nodes}`,
`{leader}` and `{rank}`; the last two become Kubernetes `$(VAR)` references, the only ones
the plan lets Kubernetes expand (stack values keep `$` escaped: kubernetes/manifests/pod.py).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

# Set by LWS on its pods (see above).
WORKER_INDEX_LABEL = "leaderworkerset.sigs.k8s.io/worker-index"
LEADER_INDEX = "0"
LEADER_ADDRESS_ENV = "LWS_LEADER_ADDRESS"
WORKER_INDEX_ENV = "LWS_WORKER_INDEX"
GROUP_SIZE_ENV = "LWS_GROUP_SIZE"
# The references a plan may hand to Kubernetes for expansion, and nothing else.
EXPANDED_ENV = frozenset({LEADER_ADDRESS_ENV, WORKER_INDEX_ENV, GROUP_SIZE_ENV})


@dataclass(frozen=True)
class MultiNodeArgs:
    """An engine's flags for one node of a group, appended to its single-node command line."""

    # What the engine's tensor-parallel flag counts: the GPUs of one node (vLLM, which adds
    # pipeline parallelism across nodes) or of the whole group (SGLang).
    tensor_parallel: Literal["per-node", "group"]
    leader: tuple[str, ...]
    worker: tuple[str, ...]
    # Flags these set: engineArgs may not repeat them.
    owned_flags: frozenset[str]

    def tensor_parallel_size(self, gpus_per_node: int, nodes: int) -> int:
        return gpus_per_node * nodes if self.tensor_parallel == "group" else gpus_per_node

    def leader_args(self, gpus_per_node: int, nodes: int) -> tuple[str, ...]:
        return _fill(self.leader, gpus_per_node, nodes)

    def worker_args(self, gpus_per_node: int, nodes: int) -> tuple[str, ...]:
        return _fill(self.worker, gpus_per_node, nodes)


def _fill(templates: tuple[str, ...], gpus_per_node: int, nodes: int) -> tuple[str, ...]:
    return tuple(
        template.format(
            gpus=gpus_per_node,
            nodes=nodes,
            leader=f"$({LEADER_ADDRESS_ENV})",
            rank=f"$({WORKER_INDEX_ENV})",
        )
        for template in templates
    )


# vLLM: tensor parallel within a node, pipeline parallel across nodes, and its multiprocessing
# backend across nodes (no Ray cluster): the leader is node rank 0 and serves the API, the
# others join headless. https://docs.vllm.ai/en/stable/serving/parallelism_scaling.html,
# "Running vLLM with MultiProcessing" (docs/serving/parallelism_scaling.md in
# github.com/vllm-project/vllm, read at 096bd6a4a109; the page names no release, so a bump of
# the pinned image re-reads it): `--tensor-parallel-size 8 --pipeline-parallel-size 2
# --nnodes 2 --node-rank 0 --master-addr $HEAD_NODE_IP` and, on the other node, the same with
# `--node-rank 1 ... --headless`.
VLLM = MultiNodeArgs(
    tensor_parallel="per-node",
    leader=(
        "--pipeline-parallel-size", "{nodes}",
        "--nnodes", "{nodes}",
        "--node-rank", "0",
        "--master-addr", "{leader}",
    ),
    worker=(
        "--pipeline-parallel-size", "{nodes}",
        "--nnodes", "{nodes}",
        "--node-rank", "{rank}",
        "--master-addr", "{leader}",
        "--headless",
    ),
    owned_flags=frozenset(
        ("--pipeline-parallel-size", "-pp", "--nnodes", "--node-rank", "--master-addr",
         "--headless")
    ),
)  # fmt: skip

# The port SGLang's ranks meet on at the leader (LWS's SGLang example and SGLang's docs use it).
SGLANG_DIST_PORT = 20000

# SGLang: `--tp` (`--tp-size`) is the total over the group: two nodes of 8 GPUs are `--tp 16
# --nnodes 2 --node-rank 0|1 --dist-init-addr <leader>:20000`
# (https://docs.sglang.io/references/multi_node_deployment/multi_node.html); LWS's
# docs/examples/sglang/lws.yaml at v0.10.0 runs the same with `$(LWS_LEADER_ADDRESS)` and
# `$(LWS_WORKER_INDEX)`. Only the rank 0 node serves HTTP.
SGLANG = MultiNodeArgs(
    tensor_parallel="group",
    leader=(
        "--nnodes", "{nodes}",
        "--node-rank", "0",
        "--dist-init-addr", f"{{leader}}:{SGLANG_DIST_PORT}",
    ),
    worker=(
        "--nnodes", "{nodes}",
        "--node-rank", "{rank}",
        "--dist-init-addr", f"{{leader}}:{SGLANG_DIST_PORT}",
    ),
    owned_flags=frozenset(("--nnodes", "--node-rank", "--dist-init-addr")),
)  # fmt: skip
