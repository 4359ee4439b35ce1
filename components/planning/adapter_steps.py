"""Planning step for adapters loaded while the engine runs (`adapterLoading.mode: runtime`).

The engine's command line then carries only the limits (rank, adapters per batch), never
the adapter list: adding or removing an adapter changes the adapters ConfigMap and what
the sync loads, not the pod template (Kubernetes) or the container's fingerprint (docker).
"""

from __future__ import annotations

from components import identity
from components.catalog.engines import ENGINES, Engine
from components.planning.helper_images import LOADERS
from components.planning.plan_model import AdapterPlan
from components.planning.planning_context import IssueCollector, PlanningContext
from components.planning.runtime_adapters_plan import RuntimeAdaptersPlan

DEFAULT_MAX_RANK = 64
DEFAULT_MAX_PER_BATCH = 4
# The sidecar runs the sync program with a pinned public Python image (the hf loader's).
SYNC_IMAGE = LOADERS["hf"]


def loads_at_runtime(ctx: PlanningContext, engine: Engine) -> bool:
    return ctx.spec.adapter_loading.mode == "runtime" and engine.runtime_adapters is not None


def check_runtime_loading(ctx: PlanningContext, issues: IssueCollector, engine: Engine) -> None:
    if ctx.spec.adapter_loading.mode == "runtime" and engine.runtime_adapters is None:
        able = " and ".join(e.name for e in ENGINES.values() if e.runtime_adapters)
        issues.report(
            "adapterLoading",
            "mode",
            message=f"{engine.name} loads LoRA adapters only at start: runtime loading "
            f"needs an engine with a load API ({able})",
        )


def runtime_engine_flags(
    ctx: PlanningContext, engine: Engine
) -> tuple[tuple[str, ...], dict[str, str]]:
    """The engine's extra arguments and env for runtime loading (none without it)."""
    api = engine.runtime_adapters
    if api is None or not loads_at_runtime(ctx, engine):
        return (), {}
    return api.args(*_limits(ctx)), dict(api.env)


def _limits(ctx: PlanningContext) -> tuple[int, int]:
    """(max rank, adapters per batch)."""
    settings = ctx.spec.adapter_loading
    return (
        settings.max_rank or DEFAULT_MAX_RANK,
        settings.max_per_batch or DEFAULT_MAX_PER_BATCH,
    )


def plan_runtime_adapters(
    ctx: PlanningContext,
    engine: Engine,
    adapters: tuple[AdapterPlan, ...],
    api_key_env: str | None,
) -> RuntimeAdaptersPlan | None:
    api = engine.runtime_adapters
    if api is None or not loads_at_runtime(ctx, engine):
        return None
    max_rank, max_per_batch = _limits(ctx)
    return RuntimeAdaptersPlan(
        api=api.wire(engine.health_path),
        port=engine.port,
        wanted=tuple((a.name, a.location.model_path) for a in adapters),
        max_rank=max_rank,
        max_per_batch=max_per_batch,
        config_map=identity.adapters_config_map(ctx.spec.name),
        image=SYNC_IMAGE.pinned(ctx.environment.pin_helper_digests),
        api_key_env=api_key_env,
    )
