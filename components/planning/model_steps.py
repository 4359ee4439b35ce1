"""Planning steps for a deployment's model: per slot, as its engine serves it, its adapters."""

from __future__ import annotations

from dataclasses import replace

from components.catalog.engines import Engine
from components.planning.model_location import ModelLocation, locate
from components.planning.plan_model import ModelPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.precision import gguf_quantization
from components.quantities import parse_parameter_count
from components.spec import ModelSpec, SlotSpec


def plan_model(
    ctx: PlanningContext, issues: IssueCollector, slot: str, override: SlotSpec
) -> ModelPlan | None:
    """The slot's model: the deployment's, with what the slot overrides."""
    base = ctx.spec.model
    changes = override.model.model_dump(exclude_none=True, by_alias=True) if override.model else {}
    model = ModelSpec.model_validate({**base.model_dump(by_alias=True), **changes})
    location = locate(model.source, model.revision)
    if model.revision is not None and location.scheme != "hf":
        issues.report(
            *ctx.model_key_path(slot, "revision"),
            message="revision applies to hf:// sources only",
        )
    fmt = model.format or location.inferred_format
    if fmt is None:
        issues.report(
            *ctx.model_key_path(slot, "format"),
            message="cannot tell the format from the source: set it",
        )
        return None
    if model.format and location.inferred_format and model.format != location.inferred_format:
        issues.report(
            *ctx.model_key_path(slot, "format"),
            message=f"the source is a {location.inferred_format} model, not {model.format}",
        )
        return None
    if fmt == "gguf" and location.file is None:
        issues.report(
            *ctx.model_key_path(slot, "source"),
            message="a gguf model is one file: name the .gguf file",
        )
        return None
    return ModelPlan(
        location=location,
        format=fmt,
        parameters_b=parse_parameter_count(model.parameters) if model.parameters else None,
        served_name=model.served_name or ctx.spec.name,
        precision=ctx.spec.precision,
    )


def as_served_by(
    ctx: PlanningContext, issues: IssueCollector, engine: Engine, slot: str, model: ModelPlan
) -> ModelPlan | None:
    """Ollama serves a Hugging Face GGUF by pulling `hf.co/{user}/{repo}:{quant}` itself."""
    location = model.location
    if engine.name != "ollama" or model.format != "gguf":
        return model
    if location.scheme != "hf":
        issues.report(
            *ctx.model_key_path(slot, "source"),
            message="ollama pulls GGUF files from Hugging Face (hf://user/repo/file.gguf) "
            "or its library (ollama://name:tag); for other sources use engine: llamacpp",
        )
        return None
    quantization = gguf_quantization(location.file or "")
    if quantization is None:
        issues.report(
            *ctx.model_key_path(slot, "source"),
            message="ollama pulls a GGUF by the quantization in its file name (Q4_K_M, "
            "Q8_0...): this name gives none; use engine: llamacpp",
        )
        return None
    if location.revision != "main":
        issues.report(
            *ctx.model_key_path(slot, "revision"),
            message="ollama pulls hf.co models at their newest revision: remove revision "
            "or use engine: llamacpp",
        )
        return None
    pulled = locate(f"ollama://hf.co/{location.reference}:{quantization}", None)
    return replace(model, location=pulled)


def adapter_locations(
    ctx: PlanningContext, issues: IssueCollector, engine: Engine
) -> list[tuple[str, ModelLocation]]:
    """LoRA adapters: only engines that load them, on safetensors base models."""
    adapters = ctx.spec.adapters
    if not adapters:
        return []
    if not engine.serves_adapters:
        issues.report(
            "adapters",
            message=f"{engine.name} does not serve LoRA adapters: use vllm or sglang",
        )
        return []
    locations = []
    for index, adapter in enumerate(adapters):
        location = locate(adapter.source, adapter.revision)
        if location.inferred_format != "safetensors":
            issues.report(
                "adapters",
                index,
                "source",
                message="an adapter is a directory of safetensors (with adapter_config.json)",
            )
            continue
        if adapter.revision is not None and location.scheme != "hf":
            issues.report(
                "adapters", index, "revision", message="revision applies to hf:// sources only"
            )
        locations.append((adapter.name, location))
    return locations
