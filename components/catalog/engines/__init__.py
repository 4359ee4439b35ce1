"""The engine catalog: one file per engine, looked up by the name users write."""

from __future__ import annotations

from components.catalog.engines.base import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.engines.llamacpp import LlamaCpp
from components.catalog.engines.ollama import Ollama
from components.catalog.engines.sglang import Sglang
from components.catalog.engines.tgi import Tgi
from components.catalog.engines.vllm import Vllm

ENGINES: dict[str, Engine] = {
    engine.name: engine for engine in (Vllm(), Sglang(), Tgi(), LlamaCpp(), Ollama())
}

__all__ = ["ENGINES", "Engine", "EngineInputs", "Hardware", "ModelFormat"]
