"""Plans one deployment: every decision, every problem collected with its key path.

The steps live by concern: planner_models (model, adapters, engine), planner_hardware
(GPUs, placement, memory fit, resources), planner_serving (target support, balancing,
route, traffic); this module puts slots, pools, cache, loaders and autoscaling together.
"""

from __future__ import annotations

import math
from dataclasses import replace

from components.catalog.engines import Engine, Hardware
from components.catalog.gpus import GpuType
from components.catalog.image_pinning import FLOATING_TAGS, image_problem
from components.errors import ConfigIssue, key_path
from components.planning import names
from components.planning.autoscaling import AutoscalingContext, plan_autoscaling
from components.planning.autoscaling_plan import AutoscalingPlan
from components.planning.engine_api_keys import API_KEY_ENV, STACK_KEY, api_key_problem
from components.planning.helper_images import WAIT
from components.planning.loaders import LoaderPlan, plan_loader
from components.planning.model_location import ModelLocation
from components.planning.plan_model import (
    AdapterPlan,
    CachePlan,
    DeploymentPlan,
    ModelPlan,
    ProbePlan,
    RoutePlan,
    SlotPlan,
)
from components.planning.planner_base import SERVICE_PORT, Pool
from components.planning.planner_hardware import HardwarePlanning
from components.planning.planner_models import ModelPlanning
from components.planning.planner_serving import ServingPlanning
from components.planning.precision import bytes_per_parameter, quantization_of
from components.quantities import gib
from components.spec import (
    NOT_SUPPORTED_YET,
    HfTokenRef,
    SlotSpec,
)

DEFAULT_CACHE_SIZE = "100Gi"
# Room for the checkpoint's files beyond the weights (tokenizer, configs, safety margin).
CACHE_HEADROOM = 1.1
# Checkpoints are published in 16-bit; int/fp8 precisions quantize on load.
CHECKPOINT_BYTES_PER_PARAMETER = 2.0
PROBE_PERIOD_SECONDS = 10


class DeploymentPlanner(ModelPlanning, HardwarePlanning, ServingPlanning):
    """The whole plan of one deployment; each concern's steps live in its planner_* module."""

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
        self._plan_api_key(engine)
        served = {slot: self._as_served_by(engine, slot, model) for slot, model in models.items()}
        if any(model is None for model in served.values()):
            return None
        models = served
        self._check_engine_args(engine)
        adapter_locations = self._adapter_locations(engine)
        cache = self._cache(models, [location for _, location in adapter_locations])  # type: ignore[arg-type]
        sources = [m.location for m in models.values() if m] + [loc for _, loc in adapter_locations]
        hf_secret = hf_key = None
        if self.stack.hf_token and any(location.scheme == "hf" for location in sources):
            hf_secret = names.hf_token_secret(spec.name)
            if isinstance(self.stack.hf_token, HfTokenRef):
                # The cluster's own Secret: referenced as it is, nothing created.
                hf_secret = self.stack.hf_token.secret_key_ref.name
                hf_key = self.stack.hf_token.secret_key_ref.key

        loaders: dict[str, LoaderPlan] = {}
        adapters = []
        for name, location in adapter_locations:
            job = None
            if location.needs_download and cache is not None:
                loader = plan_loader(
                    spec.name,
                    location,
                    cache.claim_name,
                    hf_secret,
                    hf_token_key=hf_key,
                    by_digest=self.environment.pin_helper_digests,
                )
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
                loader = plan_loader(
                    spec.name,
                    model.location,
                    cache.claim_name,
                    hf_secret,
                    model.served_name,
                    hf_token_key=hf_key,
                    by_digest=self.environment.pin_helper_digests,
                )
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
            hf_token_secret=hf_secret if hf_key is None else None,
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
            wait_image=WAIT.pinned(self.environment.pin_helper_digests),
            api_key_secret=self._api_key[1] if self._api_key else None,
        )

    def _plan_api_key(self, engine: Engine) -> None:
        """The engine's API key from `engineApiKeys`: an env variable read from a Secret."""
        name = self.spec.name
        if name not in self.stack.engine_api_keys:
            return
        where = key_path(STACK_KEY, name)
        problem = api_key_problem(engine.name)
        if self.stack.target == "docker":
            problem = f"engine API keys {NOT_SUPPORTED_YET} on docker"
        if problem:
            self.issues.append(ConfigIssue(where, problem))
            return
        self._api_key = (API_KEY_ENV[engine.name], names.api_key_secret(name))

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

    def _pools(self) -> list[Pool]:
        spec = self.spec
        if not spec.pools:
            return [Pool(None, None, spec.gpu, spec.resources, spec.replicas, weight=1, priority=0)]
        if spec.gpu is not None:
            self.issue("gpu", message="with pools, each pool sets its own gpu")
        return [
            Pool(
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

    def _replicas(self, pool: Pool) -> int:
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
        pool: Pool,
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
            problem = image_problem(image)
            if problem is None:
                continue
            override = self.spec.rollout.slots.get(slot.slot)  # type: ignore[call-overload]
            path = (
                ("rollout", "slots", slot.slot, "image")
                if override and override.image
                else ("image",)
            )
            self.issue(
                *path,
                message=f"the image {problem}: {self.environment.name} needs a version tag "
                f"or a digest (not {', '.join(sorted(FLOATING_TAGS))})",
            )


def _starting_replicas(autoscaling: AutoscalingPlan) -> int:
    """What the plan reports as a slot's count: the floor it serves at, or what it is held at."""
    if autoscaling.held_replicas is not None:
        return autoscaling.held_replicas
    return autoscaling.min_replicas


def _download_gib(model: ModelPlan) -> float:
    if model.parameters_b is None:
        return 0.0
    if model.format in ("gguf", "ollama"):
        bytes_per = bytes_per_parameter(quantization_of(model.location))
    else:
        bytes_per = CHECKPOINT_BYTES_PER_PARAMETER
    return model.parameters_b * bytes_per * 1e9 / 2**30 * CACHE_HEADROOM
