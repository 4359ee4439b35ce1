"""Log tails -> error codes, with the telling line as evidence (both targets).

Engine logs name a cause (GPU out of memory, GPU errors, model loading, runtime errors);
a loader log says whether downloading again can help or the stack file must change.
"""

from __future__ import annotations

import re

from components.status.model import (
    ErrorCode,
)

MESSAGE_LIMIT = 300
# One piece of evidence among several in a message (an event, a log line, a probe's output).
EVIDENCE_LIMIT = 120

# The GPU runtime or the node's GPU setup failed (also in container-creation messages).
GPU_FAILURE = re.compile(
    r"CUDA error|no CUDA-capable device|CUDA driver version is insufficient"
    r"|No CUDA GPUs are available|Failed to initialize NVML|NCCL error|HIP error"
    r"|nvidia-container-cli",
    re.IGNORECASE,
)
# Log lines that name a cause, most specific first: the first kind found wins, and the
# newest matching line is the evidence. GPU out-of-memory before CUDA errors: the CUDA
# runtime reports it as "CUDA error: out of memory".
ENGINE_LOG_SIGNATURES: tuple[tuple[ErrorCode, str, re.Pattern[str]], ...] = (
    (
        ErrorCode.OOM,
        "out of GPU memory",
        re.compile(
            r"out of memory|OutOfMemoryError|No available memory for the cache blocks"
            r"|stored in KV cache|cudaMalloc failed|failed to allocate .*buffer",
            re.IGNORECASE,
        ),
    ),
    (ErrorCode.CUDA_ERROR, "GPU error", GPU_FAILURE),
    (
        ErrorCode.MODEL_LOADING_FAILURE,
        "could not load the model",
        re.compile(
            r"error loading model|failed to load model|SafetensorError|HeaderTooLarge"
            r"|does not appear to have a file named|Can't load (the )?(config|tokenizer)"
            r"|No such file or directory: .*(config\.json|\.safetensors|tokenizer|\.gguf)"
            r"|Unrecognized model|not a valid gguf|gguf_init_from_file|invalid magic",
            re.IGNORECASE,
        ),
    ),
    (
        ErrorCode.RUNTIME_ERROR,
        "",
        # Case-sensitive: exception names and ERROR log levels, not every mention of "error".
        re.compile(
            r"^\s*(?:[\w.]+\.)?\w*(?:Error|Exception)\b|^ERROR\b|panic: |Segmentation fault"
            r"|terminate called after throwing|core dumped"
        ),
    ),
)
# Engine log decoration before the message: vLLM's process tag, level, time and call site.
LOG_LINE_PREFIX = re.compile(
    r"^(\(\w+ pid=\d+\)\s*)?"
    r"((DEBUG|INFO|WARNING|ERROR|CRITICAL) \d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \[[^\]]*\]\s*)?"
)
# A loader that failed for these reasons fails again: the stack file must change.
LOADER_CONFIG_SIGNATURE = re.compile(
    # Not huggingface_hub's LocalEntryNotFound: what it raises when the Hub cannot be reached.
    r"40[134] Client Error|GatedRepo|(Repository|Revision|(?<!Local)Entry) ?Not ?Found"
    r"|is restricted"
    r"|Access ?Denied|NoSuchKey|NoSuchBucket|Unauthorized|No space left on device"
    r"|manifest unknown|pull access denied",
    re.IGNORECASE,
)


def shorten(text: str, limit: int = MESSAGE_LIMIT) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 3] + "..."


# -- logs ----------------------------------------------------------------------------------


def _log_lines(log: str) -> list[str]:
    lines = (LOG_LINE_PREFIX.sub("", line.strip()) for line in log.splitlines())
    return [line for line in lines if line]


def classify_engine_log(log: str) -> tuple[ErrorCode, str] | None:
    """The error code a log tail points at, with its newest telling line as evidence."""
    lines = _log_lines(log)
    for code, prefix, pattern in ENGINE_LOG_SIGNATURES:
        for line in reversed(lines):
            if pattern.search(line):
                return code, shorten(f"{prefix}: {line}" if prefix else line)
    return None


def classify_loader_log(log: str) -> tuple[ErrorCode, str]:
    """A failed download: wrong source, token or size (reconfigure), else fetch again."""
    lines = _log_lines(log)
    for line in reversed(lines):
        if LOADER_CONFIG_SIGNATURE.search(line):
            return ErrorCode.MODEL_LOADING_FAILURE, shorten(line)
    return ErrorCode.MUST_REDOWNLOAD, shorten(lines[-1]) if lines else "no log left"


# -- pods: scheduling ----------------------------------------------------------------------
