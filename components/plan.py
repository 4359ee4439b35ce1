"""spec -> plan: everything decidable without Pulumi, decided once, for every target.

The plan is pure and deterministic. It resolves the engine, image, command line, port,
probes, GPU placement, memory fit, slots and names; targets only translate it into
resources. Problems found here are stack-file errors with key paths, like the spec's.
"""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, field

from components.catalog.engines import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.gpus import GPUS, GpuType, find_gpu
from components.environments import ENVIRONMENTS, EnvironmentDefaults
from components.errors import ConfigIssue, StackConfigError, key_path
from components.planning import names
from components.planning.engine_choice import choose_engine
from components.planning.loaders import LoaderPlan, plan_loader
from components.planning.memory_fit import check_gpu_fit, cpu_need
from components.planning.model_location import ModelLocation, locate
from components.planning.placement import Placement, clouds_offering, gpu_placement
from components.planning.precision import (
    BYTES_PER_PARAMETER,
    gguf_bits_per_parameter,
    resolve_precision,
)
from components.planning.resources import ResourceProfile, resolve_resources
from components.quantities import gib, parse_parameter_count
from components.spec import DeploymentSpec, ModelSpec, SlotSpec, StackSpec

# Tensor-parallel engines shard attention heads: counts must divide them evenly.
TENSOR_PARALLEL_COUNTS = (1, 2, 4, 8, 16)
SERVICE_PORT = 80
DEFAULT_CACHE_SIZE = "100Gi"
# Room for the checkpoint's files beyond the weights (tokenizer, configs, safety margin).
CACHE_HEADROOM = 1.1
# Checkpoints are published in 16-bit; int/fp8 precisions quantize on load.
CHECKPOINT_BYTES_PER_PARAMETER = 2.0
PROBE_PERIOD_SECONDS = 10


@dataclass(frozen=True)
class ModelPlan:
    location: ModelLocation
    format: ModelFormat
    parameters_b: float | None
    served_name: str
    precision: str


@dataclass(frozen=True)
class EnginePlan:
    name: str
    image: str
    command: tuple[str, ...] | None
    args: tuple[str, ...]
    env: dict[str, str]
    port: int
    health_path: str
    metrics_path: str | None
    shm_size: str | None
    model_read_only: bool


@dataclass(frozen=True)
class SlotPlan:
    """One version of the deployment: `main` (rolling) or `blue` / `green`."""

    slot: str
    workload_name: str
    replicas: int
    serving: bool
    model: ModelPlan
    engine: EnginePlan
    # The loader Job that must complete before this slot's pods start (None: no download).
    loader_job: str | None


@dataclass(frozen=True)
class ProbePlan:
    path: str
    startup_failure_threshold: int
    period_seconds: int = PROBE_PERIOD_SECONDS
    readiness_failure_threshold: int = 3
    liveness_period_seconds: int = 30
    liveness_failure_threshold: int = 3


@dataclass(frozen=True)
class CachePlan:
    claim_name: str
    size: str
    storage_class: str | None
    access_mode: str
    protect: bool


@dataclass(frozen=True)
class DeploymentPlan:
    name: str
    description: str | None
    environment: EnvironmentDefaults
    namespace: str
    strategy: str
    serving_slot: str
    slots: tuple[SlotPlan, ...]
    hardware: Hardware
    gpu: GpuType | None
    gpu_count: int
    placement: Placement | None
    resources: ResourceProfile
    probes: ProbePlan
    cache: CachePlan | None
    loaders: tuple[LoaderPlan, ...]
    # pvc:// sources: claims the user owns, mounted read-only.
    external_claims: tuple[str, ...]
    hf_token_secret: str | None
    stable_service: str
    service_port: int
    max_surge: int | str
    max_unavailable: int | str
    startup_timeout_seconds: int
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def serving(self) -> SlotPlan:
        return next(slot for slot in self.slots if slot.serving)

    @property
    def endpoint(self) -> str:
        return f"http://{self.stable_service}.{self.namespace}.svc.cluster.local/v1"

    @property
    def gpu_summary(self) -> str:
        return f"{self.gpu_count} x {self.gpu.name}" if self.gpu else "cpu"


@dataclass(frozen=True)
class StackPlan:
    environment: EnvironmentDefaults
    target: str
    namespace: str
    create_namespace: bool
    cloud: str
    # kubeconfig context to deploy to; None: the current context.
    kube_context: str | None
    deployments: tuple[DeploymentPlan, ...]


def build_plan(spec: StackSpec, stack_file: str) -> StackPlan:
    """Plan every deployment; raise StackConfigError with every problem found."""
    issues: list[ConfigIssue] = []
    deployments = []
    for index, deployment in enumerate(spec.deployments):
        planner = _DeploymentPlanner(spec, deployment, index)
        planned = planner.plan()
        issues += planner.issues
        if planned is not None:
            deployments.append(planned)
    if issues:
        raise StackConfigError(stack_file, issues)
    return StackPlan(
        environment=ENVIRONMENTS[spec.environment],
        target=spec.target,
        namespace=spec.kubernetes.namespace,
        create_namespace=spec.kubernetes.create_namespace,
        cloud=spec.kubernetes.cloud,
        kube_context=spec.kubernetes.context,
        deployments=tuple(deployments),
    )


class _DeploymentPlanner:
    """Plans one deployment, collecting issues instead of stopping at the first."""

    def __init__(self, stack: StackSpec, spec: DeploymentSpec, index: int) -> None:
        self.stack = stack
        self.spec = spec
        self.index = index
        self.environment = ENVIRONMENTS[stack.environment]
        self.issues: list[ConfigIssue] = []

    def issue(self, *path: str | int, message: str) -> None:
        self.issues.append(ConfigIssue(key_path("deployments", self.index, *path), message))

    def plan(self) -> DeploymentPlan | None:
        spec = self.spec
        gpu = self._gpu()
        if self.issues:
            # Without a known GPU the hardware is unknown: engine checks would only mislead.
            return None
        hardware: Hardware = gpu.vendor if gpu else "cpu"
        gpu_count = spec.gpu_count if gpu else 0
        placement = self._placement(gpu)
        slot_specs = self._slot_specs()
        models = {slot: self._model(slot, override, gpu) for slot, override in slot_specs.items()}
        if any(model is None for model in models.values()):
            return None
        first_model = next(iter(models.values()))
        assert first_model is not None
        engine = self._engine(first_model.format, hardware)
        if engine is None:
            return None
        self._check_gpu_count(engine, gpu_count)
        self._check_precision(engine, gpu, models)  # type: ignore[arg-type]
        resources = self._resources(gpu, models)  # type: ignore[arg-type]
        replicas = self._replicas()

        loaders: dict[str, LoaderPlan] = {}
        cache = self._cache(models)  # type: ignore[arg-type]
        hf_secret = None
        if self.stack.hf_token and any(m.location.scheme == "hf" for m in models.values() if m):
            hf_secret = names.hf_token_secret(spec.name)
        slots = []
        for slot, override in slot_specs.items():
            model = models[slot]
            assert model is not None
            loader = None
            if model.location.needs_download and cache is not None:
                loader = plan_loader(spec.name, model.location, cache.claim_name, hf_secret)
                loaders.setdefault(loader.job_name, loader)
            slots.append(
                SlotPlan(
                    slot=slot,
                    workload_name=names.slot_workload(spec.name, slot, spec.rollout.strategy),
                    replicas=self._slot_replicas(slot, replicas),
                    serving=slot == self._serving_slot(),
                    model=model,
                    engine=self._engine_plan(engine, model, override, hardware, gpu_count),
                    loader_job=loader.job_name if loader else None,
                )
            )
        self._check_images(slots)
        if self.issues:
            return None
        is_gpu = gpu_count > 0
        return DeploymentPlan(
            name=spec.name,
            description=spec.description,
            environment=self.environment,
            namespace=self.stack.kubernetes.namespace,
            strategy=spec.rollout.strategy,
            serving_slot=self._serving_slot(),
            slots=tuple(slots),
            hardware=hardware,
            gpu=gpu,
            gpu_count=gpu_count,
            placement=placement,
            resources=resources,
            probes=ProbePlan(
                path=engine.health_path,
                startup_failure_threshold=math.ceil(
                    spec.startup_timeout_seconds / PROBE_PERIOD_SECONDS
                ),
            ),
            cache=cache,
            loaders=tuple(loaders.values()),
            external_claims=tuple(
                sorted(
                    {m.location.pvc_claim for m in models.values() if m and m.location.pvc_claim}
                )
            ),
            hf_token_secret=hf_secret,
            stable_service=names.stable_service(spec.name),
            service_port=SERVICE_PORT,
            # A surge pod on a full GPU node stays Pending forever: replace in place instead.
            max_surge=spec.rollout.max_surge
            if spec.rollout.max_surge is not None
            else int(not is_gpu),
            max_unavailable=spec.rollout.max_unavailable
            if spec.rollout.max_unavailable is not None
            else int(is_gpu),
            startup_timeout_seconds=spec.startup_timeout_seconds,
            tags=dict(spec.tags),
        )

    # -- slots and replicas -------------------------------------------------------------

    def _slot_specs(self) -> dict[str, SlotSpec]:
        rollout = self.spec.rollout
        if rollout.strategy == "rolling":
            return {"main": SlotSpec()}
        return {slot: rollout.slots.get(slot, SlotSpec()) for slot in ("blue", "green")}

    def _serving_slot(self) -> str:
        return self.spec.rollout.active or "main"

    def _replicas(self) -> int:
        replicas = self.spec.replicas
        if replicas is None:
            return self.environment.default_replicas
        if replicas < self.environment.min_replicas:
            self.issue(
                "replicas",
                message=f"{self.environment.name} runs at least "
                f"{self.environment.min_replicas} replicas (got {replicas})",
            )
        return replicas

    def _slot_replicas(self, slot: str, replicas: int) -> int:
        if slot == self._serving_slot() or self.spec.rollout.idle == "keep":
            return replicas
        return 0

    # -- model, engine, precision ---------------------------------------------------------

    def _model(self, slot: str, override: SlotSpec, gpu: GpuType | None) -> ModelPlan | None:
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
        parameters = parse_parameter_count(model.parameters) if model.parameters else None
        precision = (
            "native" if fmt in ("gguf", "ollama") else resolve_precision(self.spec.precision, gpu)
        )
        return ModelPlan(
            location=location,
            format=fmt,
            parameters_b=parameters,
            served_name=model.served_name or self.spec.name,
            precision=precision,
        )

    def _model_key_path(self, slot: str, key: str) -> tuple[str, ...]:
        """Where the user wrote a model key: in the slot's override if it sets it, else `model`."""
        override = self.spec.rollout.slots.get(slot)  # type: ignore[call-overload]
        if override and override.model and getattr(override.model, key) is not None:
            return ("rollout", "slots", slot, "model", key)
        return ("model", key)

    def _engine(self, fmt: ModelFormat, hardware: Hardware) -> Engine | None:
        choice = choose_engine(self.spec.engine, fmt, hardware)
        if isinstance(choice, str):
            self.issue("engine", message=choice)
            return None
        return choice

    def _check_precision(
        self, engine: Engine, gpu: GpuType | None, models: dict[str, ModelPlan]
    ) -> None:
        requested = self.spec.precision
        if requested == "auto":
            return
        formats = {m.format for m in models.values()}
        if formats & {"gguf", "ollama"}:
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
    ) -> EnginePlan:
        inputs = EngineInputs(
            model_path=model.location.model_path,
            served_name=model.served_name,
            hardware=hardware,
            gpu_count=gpu_count,
            precision=model.precision,
            profile=self.spec.profile,
        )
        return EnginePlan(
            name=engine.name,
            image=override.image or self.spec.image or engine.image(hardware),
            command=engine.command,
            args=tuple(engine.args(inputs)),
            env={**engine.env(inputs), **self.spec.env, **override.env},
            port=engine.port,
            health_path=engine.health_path,
            metrics_path=engine.metrics_path,
            shm_size=engine.shm_size if hardware != "cpu" else None,
            model_read_only=not engine.writes_model_dir,
        )

    # -- hardware -----------------------------------------------------------------------

    def _gpu(self) -> GpuType | None:
        gpu_spec = self.spec.gpu
        if gpu_spec is None or gpu_spec.count == 0 or gpu_spec.type is None:
            return None
        gpu = find_gpu(gpu_spec.type)
        if gpu is None:
            close = difflib.get_close_matches(gpu_spec.type.upper(), list(GPUS), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.issue(
                "gpu",
                "type",
                message=f"unknown GPU type '{gpu_spec.type}'{hint} (known: {', '.join(GPUS)})",
            )
        return gpu

    def _placement(self, gpu: GpuType | None) -> Placement | None:
        if gpu is None:
            return None
        cloud = self.stack.kubernetes.cloud
        placement = gpu_placement(gpu, cloud)
        if placement is None:
            self.issue(
                "gpu",
                "type",
                message=f"{gpu.name} is not offered on {cloud} "
                f"(clouds with a node label for it: {', '.join(clouds_offering(gpu))}; "
                "kubernetes.cloud: generic selects by GPU Feature Discovery labels)",
            )
        return placement

    def _check_gpu_count(self, engine: Engine, count: int) -> None:
        if engine.shards_across_gpus and count > 1 and count not in TENSOR_PARALLEL_COUNTS:
            self.issue(
                "gpu",
                "count",
                message=f"{engine.name} shards the model across GPUs by tensor parallelism: "
                f"use {', '.join(map(str, TENSOR_PARALLEL_COUNTS))} GPUs (got {count})",
            )

    def _resources(self, gpu: GpuType | None, models: dict[str, ModelPlan]) -> ResourceProfile:
        spec = self.spec
        need_gib = None
        for slot, model in models.items():
            if model.parameters_b is None:
                continue
            path = self._model_key_path(slot, "parameters")
            if gpu is not None:
                precision = model.precision
                if precision == "native":
                    bytes_per = gguf_bits_per_parameter(model.location.file or "") / 8
                    precision = "int8" if bytes_per <= 1 else "fp16"
                problem = check_gpu_fit(
                    model.parameters_b, precision, gpu, spec.gpu_count, TENSOR_PARALLEL_COUNTS
                )
                if problem:
                    self.issue(*path, message=problem)
            else:
                bytes_per = self._cpu_bytes_per_parameter(model)
                need = cpu_need(model.parameters_b, bytes_per).total_gib
                need_gib = max(need_gib or 0.0, need)
        memory = spec.resources.memory
        if need_gib is not None and memory is not None and gib(memory) < need_gib:
            self.issue(
                "resources",
                "memory",
                message=f"{memory} is less than the ~{math.ceil(need_gib)} GiB this model "
                "needs in memory on CPU (weights + KV cache + server)",
            )
        return resolve_resources(
            spec.resources.cpu,
            memory,
            gpu.resource_name if gpu else None,
            spec.gpu_count if gpu else 0,
            need_gib,
        )

    @staticmethod
    def _cpu_bytes_per_parameter(model: ModelPlan) -> float:
        if model.format == "gguf":
            return gguf_bits_per_parameter(model.location.file or "") / 8
        return BYTES_PER_PARAMETER.get(model.precision, CHECKPOINT_BYTES_PER_PARAMETER)

    # -- cache and images ---------------------------------------------------------------

    def _cache(self, models: dict[str, ModelPlan]) -> CachePlan | None:
        downloads = {m.location.directory: m for m in models.values() if m.location.needs_download}
        if not downloads:
            return None
        cache = self.spec.cache
        size = cache.size or DEFAULT_CACHE_SIZE
        need = sum(_download_gib(m) for m in downloads.values())
        if need and gib(size) < need:
            self.issue(
                "cache",
                "size",
                message=f"{size} cannot hold the {len(downloads)} model version(s) of this "
                f"deployment (about {math.ceil(need)} GiB): set cache.size",
            )
        return CachePlan(
            claim_name=names.cache_claim(self.spec.name),
            size=size,
            storage_class=cache.storage_class,
            access_mode=cache.access_mode,
            protect=self.environment.protect_cache,
        )

    def _check_images(self, slots: list[SlotPlan]) -> None:
        if not self.environment.require_pinned_images:
            return
        for slot in slots:
            image = slot.engine.image
            if not _is_pinned(image):
                in_slot = (
                    slot.slot in self.spec.rollout.slots
                    and self.spec.rollout.slots[slot.slot].image
                )
                path = ("rollout", "slots", slot.slot, "image") if in_slot else ("image",)
                self.issue(
                    *path,
                    message=f"'{image}' is not pinned: {self.environment.name} needs a "
                    "version tag or a digest (not latest)",
                )


def _download_gib(model: ModelPlan) -> float:
    if model.parameters_b is None:
        return 0.0
    if model.format == "gguf":
        bytes_per = gguf_bits_per_parameter(model.location.file or "") / 8
    else:
        bytes_per = CHECKPOINT_BYTES_PER_PARAMETER
    return model.parameters_b * bytes_per * 1e9 / 2**30 * CACHE_HEADROOM


def _is_pinned(image: str) -> bool:
    if "@sha256:" in image:
        return True
    name = image.rsplit("/", 1)[-1]
    return ":" in name and name.rsplit(":", 1)[1] != "latest"
