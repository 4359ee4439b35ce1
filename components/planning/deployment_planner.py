"""Plans one deployment: every decision, every problem collected with its key path."""

from __future__ import annotations

import difflib
import math
from dataclasses import dataclass, replace

from components.catalog.engines import Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.gpus import GPUS, GpuType, find_gpu
from components.environments import ENVIRONMENTS
from components.errors import ConfigIssue, key_path
from components.planning import names
from components.planning.autoscaling import AutoscalingContext, plan_autoscaling
from components.planning.autoscaling_plan import AutoscalingPlan
from components.planning.engine_choice import choose_engine
from components.planning.loaders import LoaderPlan, plan_loader
from components.planning.memory_fit import check_gpu_fit, cpu_need
from components.planning.model_location import ModelLocation, locate
from components.planning.placement import (
    Placement,
    clouds_offering,
    gpu_placement,
    merge_placement,
)
from components.planning.plan_model import (
    AdapterPlan,
    CachePlan,
    DeploymentPlan,
    EnginePlan,
    HealthCheckPlan,
    LoadBalancerPlan,
    ModelPlan,
    ProbePlan,
    RoutePlan,
    SlotPlan,
    TrafficPlan,
)
from components.planning.precision import (
    BYTES_PER_PARAMETER,
    gguf_bits_per_parameter,
    resolve_precision,
)
from components.planning.resources import ResourceProfile, resolve_resources
from components.planning.route_path import resolve_route_path
from components.planning.traffic import plan_traffic
from components.quantities import gib, parse_parameter_count
from components.spec import (
    DeploymentSpec,
    EnvSource,
    GpuSpec,
    HealthCheckSpec,
    ModelSpec,
    MonitoringSettings,
    PlacementSpec,
    ResourcesSpec,
    SlotSpec,
    StackSpec,
)

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
class _Pool:
    """A pool as the plan sees it: the deployment's own settings when no pools are declared."""

    name: str | None
    index: int | None
    gpu_spec: GpuSpec | None
    resources: ResourcesSpec
    replicas: int | None
    weight: int
    priority: int

    def path(self, *keys: str) -> tuple[str | int, ...]:
        """Where a pool key lives in the stack file."""
        return ("pools", self.index, *keys) if self.index is not None else keys


class DeploymentPlanner:
    def __init__(self, stack: StackSpec, spec: DeploymentSpec, index: int) -> None:
        self.stack = stack
        self.spec = spec
        self.index = index
        self.environment = ENVIRONMENTS[stack.environment]
        self.namespace = (
            stack.docker.namespace if stack.target == "docker" else stack.kubernetes.namespace
        )
        self.issues: list[ConfigIssue] = []
        self._adapters: tuple[AdapterPlan, ...] = ()

    def issue(self, *path: str | int, message: str) -> None:
        self.issues.append(ConfigIssue(key_path("deployments", self.index, *path), message))

    def plan(self) -> DeploymentPlan | None:
        spec = self.spec
        self._check_target_support()
        pools = self._pools()
        gpus = {pool.name: self._gpu(pool) for pool in pools}
        if self.issues:
            # Unknown GPUs leave the hardware unknown: engine checks would only mislead.
            return None
        slot_specs = self._slot_specs()
        models = {slot: self._model(slot, override) for slot, override in slot_specs.items()}
        if any(model is None for model in models.values()):
            return None
        formats = {model.format for model in models.values() if model}
        if len(formats) > 1:
            self.issue("rollout", "slots", message="both slots must serve the same model format")
            return None
        engine = self._engine(formats.pop(), pools, gpus)
        if engine is None:
            return None
        self._check_engine_args(engine)
        adapter_locations = self._adapter_locations(engine)
        cache = self._cache(models, [location for _, location in adapter_locations])  # type: ignore[arg-type]
        sources = [m.location for m in models.values() if m] + [loc for _, loc in adapter_locations]
        hf_secret = None
        if self.stack.hf_token and any(location.scheme == "hf" for location in sources):
            hf_secret = names.hf_token_secret(spec.name)

        loaders: dict[str, LoaderPlan] = {}
        adapters = []
        for name, location in adapter_locations:
            job = None
            if location.needs_download and cache is not None:
                loader = plan_loader(spec.name, location, cache.claim_name, hf_secret)
                loaders.setdefault(loader.job_name, loader)
                job = loader.job_name
            adapters.append(AdapterPlan(name, location, job))
        self._adapters = tuple(adapters)
        slots: list[SlotPlan] = []
        traffic = self._traffic()
        for slot_name, override in slot_specs.items():
            model = models[slot_name]
            assert model is not None
            loader = None
            if model.location.needs_download and cache is not None:
                loader = plan_loader(spec.name, model.location, cache.claim_name, hf_secret)
                loaders.setdefault(loader.job_name, loader)
            for pool in pools:
                slots.append(
                    self._workload(
                        slot_name, override, pool, gpus[pool.name], engine, model, loader, traffic
                    )
                )
        self._check_images(slots)
        load_balancer = self._load_balancer(engine, pools)
        route = self._route()
        if spec.state == "running":
            # Stopped: no autoscaler; on start Pulumi drops spec.replicas again, the
            # Deployment defaults to one replica and the autoscaler takes over from there.
            slots = self._autoscaled(engine, slots, route)
        traffic = self._traffic_plan(slots, load_balancer, route)
        if self.issues:
            return None
        any_gpu = any(slot.gpu_count for slot in slots)
        rollout = spec.rollout
        return DeploymentPlan(
            name=spec.name,
            description=spec.description,
            environment=self.environment,
            namespace=self.namespace,
            strategy=rollout.strategy,
            serving_slot=rollout.active or "main",
            slots=tuple(slots),
            probes=ProbePlan(
                path=engine.health_path,
                startup_failure_threshold=math.ceil(
                    spec.startup_timeout_seconds / PROBE_PERIOD_SECONDS
                ),
                period_seconds=PROBE_PERIOD_SECONDS,
            ),
            cache=cache,
            loaders=tuple(loaders.values()),
            external_claims=tuple(
                sorted({location.pvc_claim for location in sources if location.pvc_claim})
            ),
            adapters=tuple(adapters),
            hf_token_secret=hf_secret,
            stable_service=names.stable_service(spec.name),
            service_port=SERVICE_PORT,
            # A surge pod on a full GPU node stays Pending forever: replace in place instead.
            max_surge=rollout.max_surge if rollout.max_surge is not None else int(not any_gpu),
            max_unavailable=(
                rollout.max_unavailable if rollout.max_unavailable is not None else int(any_gpu)
            ),
            startup_timeout_seconds=spec.startup_timeout_seconds,
            load_balancer=load_balancer,
            route=route,
            endpoint=self._endpoint(route),
            state=spec.state,
            tags=dict(spec.tags),
            traffic=traffic,
            network_peers=self._network_peers(),
            monitoring=self._monitoring(engine),
        )

    # -- what each target can do --------------------------------------------------------

    def _check_target_support(self) -> None:
        spec = self.spec
        target = self.stack.target
        if spec.autoscaling is not None and target == "docker":
            self.issue(
                "autoscaling",
                message="is not available on the docker target: set replicas (and pools) instead",
            )
        if target == "docker":
            slot_envs = [
                (("rollout", "slots", n), slot.env) for n, slot in spec.rollout.slots.items()
            ]
            for path, env in [((), spec.env), *slot_envs]:
                for name, value in env.items():
                    if isinstance(value, EnvSource):
                        self.issue(
                            *path,
                            "env",
                            name,
                            message="Secret and ConfigMap references need Kubernetes: on the "
                            "docker target give a literal value",
                        )
        if target == "docker" and spec.placement != PlacementSpec():
            self.issue("placement", message="placement applies to Kubernetes nodes only")
        if target == "docker" and spec.load_balancer.stickiness == "cookie":
            self.issue(
                "loadBalancer",
                "stickySessions",
                message="nginx open source cannot pin clients by cookie on the docker target: "
                "use stickySessions: true (by client address)",
            )

    # -- pools, slots, replicas ---------------------------------------------------------

    def _autoscaled(
        self, engine: Engine, slots: list[SlotPlan], route: RoutePlan | None
    ) -> list[SlotPlan]:
        """The slots with their autoscalers (components/planning/autoscaling.py decides)."""
        spec = self.spec
        if spec.autoscaling is None or self.stack.target != "kubernetes":
            return slots
        planned = plan_autoscaling(
            spec.autoscaling,
            AutoscalingContext(
                deployment=spec.name,
                namespace=self.namespace,
                environment=self.environment,
                engine=engine,
                idle=spec.rollout.idle,
                slots=tuple(slots),
                kubernetes=self.stack.kubernetes,
                replicas_set=spec.replicas is not None,
                has_pools=bool(spec.pools),
                stable_service=names.stable_service(spec.name),
                service_port=SERVICE_PORT,
                startup_timeout_seconds=spec.startup_timeout_seconds,
                response_timeout_seconds=route.timeout_seconds if route else None,
            ),
        )
        if isinstance(planned, list):
            for path, message in planned:
                self.issue(*path, message=message)
            return slots
        return [
            replace(
                slot,
                autoscaling=planned[slot.workload_name],
                replicas=_starting_replicas(planned[slot.workload_name]),
            )
            for slot in slots
        ]

    def _pools(self) -> list[_Pool]:
        spec = self.spec
        if not spec.pools:
            return [
                _Pool(None, None, spec.gpu, spec.resources, spec.replicas, weight=1, priority=0)
            ]
        if spec.gpu is not None:
            self.issue("gpu", message="with pools, each pool sets its own gpu")
        return [
            _Pool(
                pool.name,
                index,
                pool.gpu,
                pool.resources or spec.resources,
                pool.replicas if pool.replicas is not None else spec.replicas,
                pool.weight,
                pool.priority,
            )
            for index, pool in enumerate(spec.pools)
        ]

    def _slot_specs(self) -> dict[str, SlotSpec]:
        rollout = self.spec.rollout
        if rollout.strategy == "rolling":
            return {"main": SlotSpec()}
        return {slot: rollout.slots.get(slot, SlotSpec()) for slot in ("blue", "green")}

    def _traffic(self) -> dict[str, int]:
        rollout = self.spec.rollout
        if rollout.strategy == "rolling":
            return {"main": 100}
        active = rollout.active or "blue"
        candidate = "green" if active == "blue" else "blue"
        weight = rollout.canary_weight if rollout.strategy == "canary" else 0
        return {active: 100 - (weight or 0), candidate: weight or 0}

    def _replicas(self, pool: _Pool) -> int:
        if pool.replicas is None:
            return self.environment.default_replicas
        if not self.spec.pools and pool.replicas < self.environment.min_replicas:
            self.issue(
                "replicas",
                message=f"{self.environment.name} runs at least "
                f"{self.environment.min_replicas} replicas (got {pool.replicas})",
            )
        return pool.replicas

    def _workload(
        self,
        slot: str,
        override: SlotSpec,
        pool: _Pool,
        gpu: GpuType | None,
        engine: Engine,
        model: ModelPlan,
        loader: LoaderPlan | None,
        traffic: dict[str, int],
    ) -> SlotPlan:
        hardware: Hardware = gpu.vendor if gpu else "cpu"
        gpu_count = pool.gpu_spec.count if gpu and pool.gpu_spec else 0
        replicas = self._replicas(pool)
        if slot != (self.spec.rollout.active or "main") and self.spec.rollout.idle != "keep":
            replicas = 0
        if self.spec.state == "stopped":
            # Starting again restores these: the stack file still holds them.
            replicas = 0
        self._check_gpu_count(engine, pool, gpu_count)
        self._check_precision(engine, gpu)
        return SlotPlan(
            slot=slot,
            pool=pool.name,
            workload_name=names.workload(
                self.spec.name, slot, self.spec.rollout.strategy, pool.name
            ),
            replicas=replicas,
            traffic_percent=traffic[slot],
            model=model,
            engine=self._engine_plan(engine, model, override, hardware, gpu_count, gpu),
            loader_job=loader.job_name if loader else None,
            hardware=hardware,
            gpu=gpu,
            gpu_count=gpu_count,
            placement=self._placement(gpu, pool),
            resources=self._resources(gpu, gpu_count, pool, slot, model),
            weight=pool.weight,
            priority=pool.priority,
        )

    # -- model, engine, precision -------------------------------------------------------

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
        self, fmt: ModelFormat, pools: list[_Pool], gpus: dict[str | None, GpuType | None]
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
        env = {**engine.env(inputs), **self.spec.env, **override.env}
        return EnginePlan(
            name=engine.name,
            image=override.image or self.spec.image or engine.image(hardware),
            command=engine.command,
            # Extra arguments last: where a flag repeats, engines take the last value.
            args=(*engine.args(inputs), *self.spec.engine_args),
            env={name: value for name, value in env.items() if isinstance(value, str)},
            env_refs={
                name: _key_ref(value) for name, value in env.items() if isinstance(value, EnvSource)
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
            flag = engine.owned_flag_in(argument)
            if flag:
                self.issue(
                    "engineArgs",
                    index,
                    message=f"{flag} is set by modelstack from the stack file (model, port, "
                    "GPU count, precision): change those fields instead",
                )

    # -- hardware -------------------------------------------------------------------------

    def _gpu(self, pool: _Pool) -> GpuType | None:
        gpu_spec = pool.gpu_spec
        if gpu_spec is None or gpu_spec.count == 0 or gpu_spec.type is None:
            return None
        gpu = find_gpu(gpu_spec.type)
        if gpu is None:
            close = difflib.get_close_matches(gpu_spec.type.upper(), list(GPUS), n=1, cutoff=0.5)
            hint = f"; did you mean '{close[0]}'?" if close else ""
            self.issue(
                *pool.path("gpu", "type"),
                message=f"unknown GPU type '{gpu_spec.type}'{hint} (known: {', '.join(GPUS)})",
            )
        return gpu

    def _placement(self, gpu: GpuType | None, pool: _Pool) -> Placement | None:
        if self.stack.target != "kubernetes":
            return None
        cloud = self.stack.kubernetes.cloud
        gpu_nodes = None
        if gpu is not None:
            gpu_nodes = gpu_placement(gpu, cloud)
            if gpu_nodes is None:
                self.issue(
                    *pool.path("gpu", "type"),
                    message=f"{gpu.name} is not offered on {cloud} "
                    f"(clouds with a node label for it: {', '.join(clouds_offering(gpu))}; "
                    "kubernetes.cloud: generic selects by GPU Feature Discovery labels)",
                )
                return None
        merged = merge_placement(gpu_nodes, self.spec.placement, cloud)
        if isinstance(merged, list):
            for path, message in merged:
                self.issue("placement", *path, message=message)
            return None
        empty = not (merged.node_selector or merged.node_affinity or merged.tolerations)
        return None if empty and not merged.affinity and not merged.runtime_class else merged

    def _check_gpu_count(self, engine: Engine, pool: _Pool, count: int) -> None:
        if engine.shards_across_gpus and count > 1 and count not in TENSOR_PARALLEL_COUNTS:
            self.issue(
                *pool.path("gpu", "count"),
                message=f"{engine.name} shards the model across GPUs by tensor parallelism: "
                f"use {', '.join(map(str, TENSOR_PARALLEL_COUNTS))} GPUs (got {count})",
            )

    def _resources(
        self, gpu: GpuType | None, gpu_count: int, pool: _Pool, slot: str, model: ModelPlan
    ) -> ResourceProfile:
        need_gib = None
        if model.parameters_b is not None:
            path = self._model_key_path(slot, "parameters")
            if gpu is not None:
                precision = resolve_precision(model.precision, gpu)
                if model.format in ("gguf", "ollama"):
                    bits = gguf_bits_per_parameter(model.location.file or "")
                    precision = "int8" if bits <= 8.5 else "fp16"
                problem = check_gpu_fit(
                    model.parameters_b, precision, gpu, gpu_count, TENSOR_PARALLEL_COUNTS
                )
                if problem:
                    where = f" (pool {pool.name})" if pool.name else ""
                    self.issue(*path, message=problem + where)
            else:
                need_gib = cpu_need(model.parameters_b, _cpu_bytes_per_parameter(model)).total_gib
        memory = pool.resources.amount("limits", "memory")
        if need_gib is not None and memory is not None and gib(memory) < need_gib:
            key = "memory" if pool.resources.memory else "limits"
            path = (
                pool.path("resources", key)
                if key == "memory"
                else pool.path("resources", "limits", "memory")
            )
            self.issue(
                *path,
                message=f"{memory} is less than the ~{math.ceil(need_gib)} GiB this model "
                "needs in memory on CPU (weights + KV cache + server)",
            )
        return resolve_resources(
            pool.resources, gpu.resource_name if gpu else None, gpu_count, need_gib
        )

    # -- cache, images, traffic -----------------------------------------------------------

    def _cache(
        self, models: dict[str, ModelPlan], adapters: list[ModelLocation]
    ) -> CachePlan | None:
        downloads = {m.location.directory: m for m in models.values() if m.location.needs_download}
        if not downloads and not any(location.needs_download for location in adapters):
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
            if _is_pinned(image):
                continue
            override = self.spec.rollout.slots.get(slot.slot)  # type: ignore[call-overload]
            path = (
                ("rollout", "slots", slot.slot, "image")
                if override and override.image
                else ("image",)
            )
            self.issue(
                *path,
                message=f"'{image}' is not pinned: {self.environment.name} needs a "
                "version tag or a digest (not latest)",
            )

    def _load_balancer(self, engine: Engine, pools: list[_Pool]) -> LoadBalancerPlan:
        spec = self.spec.load_balancer
        if spec.algorithm == "weighted" and len(pools) < 2:
            self.issue(
                "loadBalancer",
                "algorithm",
                message="weighted splits requests across pools: declare pools with weights",
            )
        if spec.algorithm == "failover" and len({pool.priority for pool in pools}) < 2:
            self.issue(
                "loadBalancer",
                "algorithm",
                message="failover needs pools with at least two priorities (0 serves, 1 backs up)",
            )
        if spec.stickiness and spec.algorithm == "failover":
            self.issue(
                "loadBalancer",
                "stickySessions",
                message="sticky sessions hash clients to servers and cannot keep backups idle: "
                "use them with round_robin, ip_hash or weighted",
            )
        health = spec.health_check
        return LoadBalancerPlan(
            algorithm=spec.algorithm,
            stickiness=spec.stickiness,
            health_check_customized=health != HealthCheckSpec(),
            health_check=HealthCheckPlan(
                path=health.path or engine.health_path,
                interval_seconds=health.interval_seconds,
                timeout_seconds=health.timeout_seconds,
                unhealthy_threshold=health.unhealthy_threshold,
                healthy_threshold=health.healthy_threshold,
            ),
        )

    def _route(self) -> RoutePlan | None:
        route = self.spec.route
        if route is None and self.stack.target == "kubernetes":
            return None
        template = route.path if route else "/{name}"
        try:
            path = resolve_route_path(template, self.spec.name, self.namespace, self.spec.tags)
        except ValueError as error:
            self.issue("route", "path", message=str(error))
            return None
        return RoutePlan(
            path=path,
            hosts=tuple(route.hosts) if route else (),
            timeout_seconds=route.timeout_seconds if route else 300,
            check=route.check if route else True,
        )

    def _traffic_plan(
        self, slots: list[SlotPlan], balancer: LoadBalancerPlan, route: RoutePlan | None
    ) -> TrafficPlan | None:
        if self.stack.target != "kubernetes":
            return None
        rollout = self.spec.rollout
        planned = plan_traffic(
            self.spec.name,
            rollout.strategy,
            rollout.active or "main",
            slots,
            balancer,
            route,
            self.stack.kubernetes,
        )
        if isinstance(planned, list):
            for path, message in planned:
                self.issue(*path, message=message)
            return None
        return planned

    def _monitoring(self, engine: Engine) -> MonitoringSettings | None:
        settings = self.stack.kubernetes.monitoring
        if self.stack.target != "kubernetes" or not settings.enabled:
            return None
        # Ollama exports no metrics: nothing to scrape or chart.
        return settings if engine.metrics_path else None

    def _network_peers(self) -> tuple[str, ...] | None:
        settings = self.stack.kubernetes
        if self.stack.target != "kubernetes" or not settings.network_policies:
            return None
        peers = [settings.monitoring_namespace, *settings.allowed_namespaces]
        if settings.gateway is not None:
            peers.insert(0, settings.gateway.namespace)
        autoscaling = self.spec.autoscaling
        if autoscaling is not None and autoscaling.scale_to_zero.enabled:
            # Held requests reach the engines from the KEDA HTTP add-on's interceptor.
            peers.append(settings.keda_http_add_on.namespace)
        return tuple(dict.fromkeys(peers))

    def _endpoint(self, route: RoutePlan | None) -> str:
        if self.stack.target == "docker":
            docker = self.stack.docker
            prefix = route.path.rstrip("/") if route else ""
            return f"http://{docker.bind_address}:{docker.port}{prefix}/v1"
        return f"http://{self.spec.name}.{self.namespace}.svc.cluster.local/v1"


def _starting_replicas(autoscaling: AutoscalingPlan) -> int:
    """What the plan reports as a slot's count: the floor it serves at, or what it is held at."""
    if autoscaling.held_replicas is not None:
        return autoscaling.held_replicas
    return autoscaling.min_replicas


def _key_ref(source: EnvSource) -> tuple[str, str, str]:
    """("secretKeyRef" | "configMapKeyRef", object name, key)."""
    if source.secret_key_ref is not None:
        return ("secretKeyRef", source.secret_key_ref.name, source.secret_key_ref.key)
    assert source.config_map_key_ref is not None
    return ("configMapKeyRef", source.config_map_key_ref.name, source.config_map_key_ref.key)


def _cpu_bytes_per_parameter(model: ModelPlan) -> float:
    if model.format == "gguf":
        return gguf_bits_per_parameter(model.location.file or "") / 8
    precision = model.precision if model.precision in BYTES_PER_PARAMETER else "fp32"
    return BYTES_PER_PARAMETER[precision]


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
