"""Precision: what `auto` resolves to, and how many bytes a parameter takes."""

from __future__ import annotations

import re

from components.catalog.engines.ollama import DEFAULT_QUANTIZATION as OLLAMA_DEFAULT
from components.catalog.gpus import GpuType
from components.planning.model_location import ModelLocation

BYTES_PER_PARAMETER = {
    "fp32": 4.0,
    "bf16": 2.0,
    "fp16": 2.0,
    "fp8": 1.0,
    "int8": 1.0,
    # NVFP4 adds an fp8 scale per 16 weights (4.5 bits); layers kept at 16 bits cover more.
    "fp4": 0.5,
    "int4": 0.5,
}

# Effective bits per weight of common GGUF quantizations (block scales included).
_GGUF_BITS = {
    "F32": 32.0,
    "F16": 16.0,
    "BF16": 16.0,
    "Q8_0": 8.5,
    "Q6_K": 6.6,
    "Q5_K_M": 5.7,
    "Q5_K_S": 5.5,
    "Q5_0": 5.5,
    "Q4_K_M": 4.8,
    "Q4_K_S": 4.6,
    "Q4_0": 4.5,
    "IQ4_XS": 4.3,
    "Q3_K_L": 4.3,
    "Q3_K_M": 3.9,
    "Q3_K_S": 3.5,
    "Q2_K": 3.0,
}
_GGUF_TAG = re.compile(
    r"(?<![A-Za-z0-9])("
    + "|".join(sorted(_GGUF_BITS, key=len, reverse=True))
    + r")(?![A-Za-z0-9])",
    re.IGNORECASE,
)
# A GGUF whose name names no known quantization is sized as if 8-bit: safe side.
_GGUF_UNKNOWN = "Q8_0"
_GGUF_UNKNOWN_BITS = _GGUF_BITS[_GGUF_UNKNOWN]


def resolve_precision(requested: str, gpu: GpuType | None) -> str:
    """`auto` on a GPU: bf16 where the GPU computes in it, else fp16; on CPU: fp32."""
    if requested != "auto":
        return requested
    if gpu is None:
        return "fp32"
    return "bf16" if gpu.bf16 else "fp16"


def gguf_bits_per_parameter(file_name: str) -> float:
    match = _GGUF_TAG.search(file_name)
    return _GGUF_BITS[match.group(1).upper()] if match else _GGUF_UNKNOWN_BITS


def quantization_of(location: ModelLocation) -> str:
    """The GGUF quantization (`Q4_K_M`) a file or Ollama name gives, else the assumed one:
    8-bit for an unnamed GGUF file (safe side), Ollama's 4-bit default for its names."""
    if location.scheme == "ollama":
        match = _GGUF_TAG.search(location.reference.replace("-", "_"))
        return match.group(1).upper() if match else OLLAMA_DEFAULT
    return gguf_quantization(location.file or "") or _GGUF_UNKNOWN


def bytes_per_parameter(precision: str) -> float:
    """A precision's bytes, or a GGUF quantization's (`Q4_K_M`) from its bits."""
    if precision in BYTES_PER_PARAMETER:
        return BYTES_PER_PARAMETER[precision]
    return _GGUF_BITS[precision.upper()] / 8


def gguf_quantization(file_name: str) -> str | None:
    match = _GGUF_TAG.search(file_name)
    return match.group(1).upper() if match else None
