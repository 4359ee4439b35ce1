"""Planning steps for a deployment's weights: the cache, its loaders and the HF token."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

from components import identity
from components.planning.loaders import LoaderPlan, plan_loader
from components.planning.model_location import ModelLocation
from components.planning.plan_model import AdapterPlan, CachePlan, ModelPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.precision import bytes_per_parameter, quantization_of
from components.quantities import gib
from components.spec import HfTokenRef

DEFAULT_CACHE_SIZE = "100Gi"
# Room for the checkpoint's files beyond the weights (tokenizer, configs, safety margin).
CACHE_HEADROOM = 1.1
# Checkpoints are published in 16-bit; int/fp8 precisions quantize on load.
CHECKPOINT_BYTES_PER_PARAMETER = 2.0


def plan_cache(
    ctx: PlanningContext,
    issues: IssueCollector,
    models: dict[str, ModelPlan],
    adapters: list[ModelLocation],
) -> CachePlan | None:
    """The volume downloads land in; None when every model is read where it is."""
    downloads = {m.location.directory: m for m in models.values() if m.location.needs_download}
    if not downloads and not any(location.needs_download for location in adapters):
        return None
    cache = ctx.spec.cache
    size = cache.size or DEFAULT_CACHE_SIZE
    need = sum(_download_gib(m) for m in downloads.values())
    if need and gib(size) < need:
        issues.report(
            "cache",
            "size",
            message=f"{size} cannot hold the {len(downloads)} model version(s) of this "
            f"deployment (about {math.ceil(need)} GiB): set cache.size",
        )
    return CachePlan(
        claim_name=identity.cache_claim(ctx.spec.name),
        size=size,
        storage_class=cache.storage_class,
        access_mode=cache.access_mode,
        protect=ctx.environment.protect_cache,
    )


@dataclass(frozen=True)
class HfToken:
    """Where loaders read the Hugging Face token: a Secret and, for the cluster's own, its key."""

    secret: str | None
    key: str | None

    @property
    def created_secret(self) -> str | None:
        """The Secret modelstack creates from `hfToken`; None when it references one."""
        return self.secret if self.key is None else None


def hf_token(ctx: PlanningContext, sources: list[ModelLocation]) -> HfToken:
    if not ctx.stack.hf_token or not any(location.scheme == "hf" for location in sources):
        return HfToken(None, None)
    if isinstance(ctx.stack.hf_token, HfTokenRef):
        # The cluster's own Secret: referenced as it is, nothing created.
        ref = ctx.stack.hf_token.secret_key_ref
        return HfToken(ref.name, ref.key)
    return HfToken(identity.hf_token_secret(ctx.spec.name), None)


class Loaders:
    """The deployment's loader Jobs, one per distinct download."""

    def __init__(self, ctx: PlanningContext, cache: CachePlan | None, token: HfToken) -> None:
        self._ctx = ctx
        self._cache = cache
        self._token = token
        self._planned: dict[str, LoaderPlan] = {}

    def for_location(
        self, location: ModelLocation, served_name: str | None = None
    ) -> LoaderPlan | None:
        """The Job that downloads `location` into the cache; None when nothing downloads."""
        if not location.needs_download or self._cache is None:
            return None
        loader = plan_loader(
            self._ctx.spec.name,
            location,
            self._cache.claim_name,
            self._token.secret,
            served_name,
            hf_token_key=self._token.key,
            by_digest=self._ctx.environment.pin_helper_digests,
        )
        return self._planned.setdefault(loader.job_name, loader)

    def adapters(
        self, locations: list[tuple[str, ModelLocation]], model_id: Callable[[str], str]
    ) -> tuple[AdapterPlan, ...]:
        """Each adapter with the loader that fills its cache; `model_id`: its request id."""
        planned = []
        for name, location in locations:
            loader = self.for_location(location)
            job = loader.job_name if loader else None
            planned.append(AdapterPlan(name, location, job, model_id(name)))
        return tuple(planned)

    @property
    def planned(self) -> tuple[LoaderPlan, ...]:
        return tuple(self._planned.values())


def _download_gib(model: ModelPlan) -> float:
    if model.parameters_b is None:
        return 0.0
    if model.format in ("gguf", "ollama"):
        bytes_per = bytes_per_parameter(quantization_of(model.location))
    else:
        bytes_per = CHECKPOINT_BYTES_PER_PARAMETER
    return model.parameters_b * bytes_per * 1e9 / 2**30 * CACHE_HEADROOM
