"""Which engine serves a model: `auto` picks by format and hardware; explicit picks are checked."""

from __future__ import annotations

from components.catalog.engines import ENGINES, Engine, Hardware, ModelFormat

_HARDWARE_WORDS = {"cpu": "CPU", "nvidia": "NVIDIA GPUs", "amd": "AMD GPUs"}


def choose_engine(requested: str, fmt: ModelFormat, hardware: Hardware) -> Engine | str:
    """The engine, or the reason none fits (a message for the stack file's `engine` key)."""
    if requested == "auto":
        return _auto(fmt, hardware)
    engine = ENGINES[requested]
    if fmt not in engine.formats:
        if fmt in engine.not_offered:
            return engine.not_offered[fmt]
        servers = [e.name for e in ENGINES.values() if fmt in e.formats]
        return f"{engine.name} does not serve {fmt} models; use {' or '.join(servers)}"
    if not engine.supports(hardware):
        if hardware in engine.not_offered:
            return engine.not_offered[hardware]
        where = ", ".join(_HARDWARE_WORDS[h] for h in engine.images)
        return f"{engine.name} runs on {where}, not on {_HARDWARE_WORDS[hardware]}"
    return engine


def _auto(fmt: ModelFormat, hardware: Hardware) -> Engine | str:
    """The catalog's highest `auto_priority` among engines serving `fmt` on `hardware`."""
    candidates = [
        engine
        for engine in ENGINES.values()
        if engine.auto_priority is not None and fmt in engine.formats and engine.supports(hardware)
    ]
    if candidates:
        return max(candidates, key=lambda engine: engine.auto_priority or 0)
    if fmt == "safetensors" and hardware == "cpu":
        return (
            "no engine in the catalog serves safetensors on CPU: ask for a GPU "
            "(gpu: {type: L4, count: 1}) or use a GGUF file (served by llamacpp)"
        )
    return f"no engine in the catalog serves {fmt} on {_HARDWARE_WORDS[hardware]}: set engine"
