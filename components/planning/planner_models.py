"""Planning a deployment's model: where it comes from, which engine runs it and how."""

from __future__ import annotations

from dataclasses import replace

from components.catalog.engines import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.gpus import GPUS, GpuType
from components.planning.engine_api_keys import SECRET_KEY as API_KEY_SECRET_KEY
from components.planning.engine_choice import choose_engine
from components.planning.engine_flags import credential_flag, overridden_env, overridden_flag
from components.planning.model_location import ModelLocation, locate
from components.planning.plan_model import (
    EnginePlan,
    ModelPlan,
)
from components.planning.planner_base import PlannerBase, Pool
from components.planning.precision import gguf_quantization, resolve_precision
from components.quantities import parse_parameter_count
from components.spec import (
    EnvSource,
    ModelSpec,
    SlotSpec,
)


class ModelPlanning(PlannerBase):
    """Model resolution per slot, adapters, engine choice, precision and command line."""

    def _model(self, slot: str, override: SlotSpec) -> ModelPlan | None:
        base = self.spec.model
        changes = (
            override.model.model_dump(exclude_none=True, by_alias=True) if override.model else {}
        )
        model = ModelSpec.model_validate({**base.model_dump(by_alias=True), **changes})
        location = locate(model.source, model.revision)
        if model.revision is not None and location.scheme != "hf":
            self.issue(
                *self._model_key_path(slot, "revision"),
                message="revision applies to hf:// sources only",
            )
        fmt = model.format or location.inferred_format
        if fmt is None:
            self.issue(
                *self._model_key_path(slot, "format"),
                message="cannot tell the format from the source: set it",
            )
            return None
        if model.format and location.inferred_format and model.format != location.inferred_format:
            self.issue(
                *self._model_key_path(slot, "format"),
                message=f"the source is a {location.inferred_format} model, not {model.format}",
            )
            return None
        if fmt == "gguf" and location.file is None:
            self.issue(
                *self._model_key_path(slot, "source"),
                message="a gguf model is one file: name the .gguf file",
            )
            return None
        return ModelPlan(
            location=location,
            format=fmt,
            parameters_b=parse_parameter_count(model.parameters) if model.parameters else None,
            served_name=model.served_name or self.spec.name,
            precision=self.spec.precision,
        )

    def _as_served_by(self, engine: Engine, slot: str, model: ModelPlan) -> ModelPlan | None:
        """Ollama serves a Hugging Face GGUF by pulling `hf.co/{user}/{repo}:{quant}` itself."""
        location = model.location
        if engine.name != "ollama" or model.format != "gguf":
            return model
        if location.scheme != "hf":
            self.issue(
                *self._model_key_path(slot, "source"),
                message="ollama pulls GGUF files from Hugging Face (hf://user/repo/file.gguf) "
                "or its library (ollama://name:tag); for other sources use engine: llamacpp",
            )
            return None
        quantization = gguf_quantization(location.file or "")
        if quantization is None:
            self.issue(
                *self._model_key_path(slot, "source"),
                message="ollama pulls a GGUF by the quantization in its file name (Q4_K_M, "
                "Q8_0...): this name gives none; use engine: llamacpp",
            )
            return None
        if location.revision != "main":
            self.issue(
                *self._model_key_path(slot, "revision"),
                message="ollama pulls hf.co models at their newest revision: remove revision "
                "or use engine: llamacpp",
            )
            return None
        pulled = locate(f"ollama://hf.co/{location.reference}:{quantization}", None)
        return replace(model, location=pulled)

    def _adapter_locations(self, engine: Engine) -> list[tuple[str, ModelLocation]]:
        """LoRA adapters: only engines that load them, on safetensors base models."""
        adapters = self.spec.adapters
        if not adapters:
            return []
        if not engine.serves_adapters:
            self.issue(
                "adapters",
                message=f"{engine.name} does not serve LoRA adapters: use vllm or sglang",
            )
            return []
        locations = []
        for index, adapter in enumerate(adapters):
            location = locate(adapter.source, adapter.revision)
            if location.inferred_format != "safetensors":
                self.issue(
                    "adapters",
                    index,
                    "source",
                    message="an adapter is a directory of safetensors (with adapter_config.json)",
                )
                continue
            if adapter.revision is not None and location.scheme != "hf":
                self.issue(
                    "adapters", index, "revision", message="revision applies to hf:// sources only"
                )
            locations.append((adapter.name, location))
        return locations

    def _model_key_path(self, slot: str, key: str) -> tuple[str, ...]:
        """Where the user wrote a model key: in the slot's override if it sets it, else `model`."""
        override = self.spec.rollout.slots.get(slot)  # type: ignore[call-overload]
        if override and override.model and getattr(override.model, key) is not None:
            return ("rollout", "slots", slot, "model", key)
        return ("model", key)

    def _engine(
        self, fmt: ModelFormat, pools: list[Pool], gpus: dict[str | None, GpuType | None]
    ) -> Engine | None:
        """One engine serves every pool: the format decides it, each pool's hardware checks it."""
        engine: Engine | None = None
        for pool in pools:
            gpu = gpus[pool.name]
            choice = choose_engine(self.spec.engine, fmt, gpu.vendor if gpu else "cpu")
            if isinstance(choice, str):
                where = f" (pool {pool.name})" if pool.name else ""
                self.issue("engine", message=choice + where)
                return None
            engine = choice
        return engine

    def _check_precision(self, engine: Engine, gpu: GpuType | None) -> None:
        requested = self.spec.precision
        if requested == "auto":
            return
        if not engine.precisions:
            self.issue(
                "precision",
                message="the model file fixes the precision (e.g. Q4_K_M in a GGUF name): "
                "leave precision: auto",
            )
            return
        note = engine.precision_note(requested)
        if note:
            self.issue("precision", message=note)
        elif gpu and requested == "bf16" and not gpu.bf16:
            self.issue("precision", message=f"{gpu.name} has no bf16 support; use fp16")
        elif gpu and requested == "fp8" and not gpu.fp8:
            fp8_gpus = ", ".join(g.name for g in GPUS.values() if g.fp8)
            self.issue("precision", message=f"{gpu.name} has no fp8 support ({fp8_gpus} do)")

    def _engine_plan(
        self,
        engine: Engine,
        model: ModelPlan,
        override: SlotSpec,
        hardware: Hardware,
        gpu_count: int,
        gpu: GpuType | None,
    ) -> EnginePlan:
        precision = (
            "native"
            if model.format in ("gguf", "ollama")
            else resolve_precision(model.precision, gpu)
        )
        inputs = EngineInputs(
            model_path=model.location.model_path,
            served_name=model.served_name,
            hardware=hardware,
            gpu_count=gpu_count,
            precision=precision,
            profile=self.spec.profile,
            adapters=tuple((a.name, a.location.model_path) for a in self._adapters),
        )
        self._check_env(engine, inputs)
        env = {**engine.env(inputs), **self.spec.env, **override.env}
        return EnginePlan(
            name=engine.name,
            model_id=engine.model_id(model.served_name),
            image=override.image or self.spec.image or engine.image(hardware),
            command=engine.command,
            # Extra arguments last: where a flag repeats, engines take the last value.
            args=(*engine.args(inputs), *self.spec.engine_args),
            env={name: value for name, value in env.items() if isinstance(value, str)},
            env_refs={
                **{
                    name: _key_ref(value)
                    for name, value in env.items()
                    if isinstance(value, EnvSource)
                },
                **self._api_key_ref(),
            },
            port=engine.port,
            health_path=engine.health_path,
            metrics_path=engine.metrics_path,
            shm_size=engine.shm_size if hardware != "cpu" else None,
            model_read_only=not engine.writes_model_dir,
            health_command=engine.health_command(),
            writable_dirs=engine.writable_dirs,
            request_metrics=engine.request_metrics,
        )

    def _check_engine_args(self, engine: Engine) -> None:
        if self.spec.engine_args and engine.owned_flags is None:
            self.issue(
                "engineArgs", message=f"{engine.name} takes no arguments: configure it with env"
            )
            return
        for index, argument in enumerate(self.spec.engine_args):
            flag = overridden_flag(engine, argument)
            if flag:
                spelled = "" if argument.split("=", 1)[0] == flag else f" (as {argument!r})"
                self.issue(
                    "engineArgs",
                    index,
                    message=f"{flag}{spelled} is set by modelstack from the stack file (model, "
                    "port, GPU count, precision): change those fields instead",
                )
            elif credential_flag(argument):
                self.issue(
                    "engineArgs",
                    index,
                    message=f"{credential_flag(argument)} takes a credential, and arguments are "
                    "visible to anyone who can read the pod: pass it as env from a Secret "
                    "(env: {NAME: {secretKeyRef: {name, key}}}, e.g. VLLM_API_KEY)",
                )

    def _check_env(self, engine: Engine, inputs: EngineInputs) -> None:
        """User env may not replace what the engine or the plan sets (OLLAMA_HOST, HOME...)."""
        engine_env = engine.env(inputs)
        for where, env in self._env_sources():
            for name in env:
                if self._api_key and name == self._api_key[0]:
                    self.issue(
                        *where,
                        name,
                        message=f"engineApiKeys.{self.spec.name} sets {name}: remove one of them",
                    )
                elif overridden_env(engine, engine_env, name):
                    self.issue(
                        *where,
                        name,
                        message=f"{name} is set by modelstack for {engine.name} (the port, "
                        "the model's path in the cache, HOME): it cannot be overridden",
                    )

    def _api_key_ref(self) -> dict[str, tuple[str, str, str]]:
        if self._api_key is None:
            return {}
        variable, secret = self._api_key
        return {variable: ("secretKeyRef", secret, API_KEY_SECRET_KEY)}

    def _env_sources(self) -> list[tuple[tuple[str, ...], dict[str, object]]]:
        sources: list[tuple[tuple[str, ...], dict[str, object]]] = [(("env",), self.spec.env)]
        for slot, override in self.spec.rollout.slots.items():
            sources.append((("rollout", "slots", slot, "env"), override.env))
        return sources


def _key_ref(source: EnvSource) -> tuple[str, str, str]:
    """("secretKeyRef" | "configMapKeyRef", object name, key)."""
    if source.secret_key_ref is not None:
        return ("secretKeyRef", source.secret_key_ref.name, source.secret_key_ref.key)
    assert source.config_map_key_ref is not None
    return ("configMapKeyRef", source.config_map_key_ref.name, source.config_map_key_ref.key)
