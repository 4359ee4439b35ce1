"""Planning steps for a deployment's engine: which one, its API key, its command line and env."""

from __future__ import annotations

from dataclasses import dataclass

from components import identity
from components.catalog.engines import ENGINES, Engine, EngineInputs, Hardware, ModelFormat
from components.catalog.gpus import GPUS, GpuType
from components.planning.adapter_steps import runtime_engine_flags
from components.planning.engine_api_keys import API_KEY_ENV, STACK_KEY, api_key_problem
from components.planning.engine_api_keys import SECRET_KEY as API_KEY_SECRET_KEY
from components.planning.engine_choice import choose_engine
from components.planning.engine_flags import credential_flag, overridden_env, overridden_flag
from components.planning.plan_model import AdapterPlan, EnginePlan, ModelPlan
from components.planning.planning_context import IssueCollector, PlanningContext, Pool
from components.planning.precision import resolve_precision
from components.spec import EnvSource, SlotSpec


@dataclass(frozen=True)
class ApiKeyDelivery:
    """The engine's API key from `engineApiKeys`: an env variable read from a Secret."""

    env: str
    secret: str


def choose_deployment_engine(
    ctx: PlanningContext,
    issues: IssueCollector,
    fmt: ModelFormat,
    pools: list[Pool],
    gpus: dict[str | None, GpuType | None],
) -> Engine | None:
    """One engine serves every pool: the format decides it, each pool's hardware checks it."""
    engine: Engine | None = None
    for pool in pools:
        gpu = gpus[pool.name]
        choice = choose_engine(ctx.spec.engine, fmt, gpu.vendor if gpu else "cpu")
        if isinstance(choice, str):
            where = f" (pool {pool.name})" if pool.name else ""
            issues.report("engine", message=choice + where)
            return None
        engine = choice
    return engine


def api_key_delivery(
    ctx: PlanningContext, issues: IssueCollector, engine: Engine
) -> ApiKeyDelivery | None:
    """How the engine gets its API key, when the stack sets one for this deployment."""
    name = ctx.spec.name
    if name not in ctx.stack.engine_api_keys:
        return None
    problem = ctx.profile.engine_api_keys.refusal or api_key_problem(engine.name)
    if problem:
        issues.report_stack_key(STACK_KEY, name, message=problem)
        return None
    return ApiKeyDelivery(API_KEY_ENV[engine.name], identity.api_key_secret(name))


def check_precision(
    ctx: PlanningContext, issues: IssueCollector, engine: Engine, gpu: GpuType | None
) -> None:
    requested = ctx.spec.precision
    if requested == "auto":
        return
    if not engine.precisions:
        issues.report(
            "precision",
            message="the model file fixes the precision (e.g. Q4_K_M in a GGUF name): "
            "leave precision: auto",
        )
        return
    note = engine.precision_note(requested)
    if note:
        able = ", ".join(e.name for e in ENGINES.values() if requested in e.precisions)
        also = f"; engines that run {requested}: {able}" if able else ""
        issues.report("precision", message=note + also)
    elif gpu and requested == "bf16" and not gpu.bf16:
        issues.report("precision", message=f"{gpu.name} has no bf16 support; use fp16")
    elif gpu and requested == "fp8" and not gpu.fp8:
        fp8_gpus = ", ".join(g.name for g in GPUS.values() if g.fp8)
        issues.report("precision", message=f"{gpu.name} has no fp8 support ({fp8_gpus} do)")
    elif gpu and requested == "fp4" and not gpu.fp4:
        # vLLM would fall back to weight-only fp4 kernels, slower than fp8 or int4 here.
        fp4_gpus = ", ".join(g.name for g in GPUS.values() if g.fp4)
        issues.report("precision", message=f"{gpu.name} has no fp4 support ({fp4_gpus} does)")


@dataclass(frozen=True)
class EngineHardware:
    """What one pool gives the engine."""

    hardware: Hardware
    gpu_count: int
    gpu: GpuType | None


def plan_engine(
    ctx: PlanningContext,
    issues: IssueCollector,
    engine: Engine,
    model: ModelPlan,
    override: SlotSpec,
    on: EngineHardware,
    adapters: tuple[AdapterPlan, ...],
    api_key: ApiKeyDelivery | None,
) -> EnginePlan:
    """The engine's container for one slot on one pool: image, command line, env, port."""
    precision = (
        "native"
        if model.format in ("gguf", "ollama")
        else resolve_precision(model.precision, on.gpu)
    )
    runtime_args, runtime_env = runtime_engine_flags(ctx, engine)
    inputs = EngineInputs(
        model_path=model.location.model_path,
        served_name=model.served_name,
        hardware=on.hardware,
        gpu_count=on.gpu_count,
        precision=precision,
        profile=ctx.spec.profile,
        # Loaded at run time: the command line names no adapter (a new one restarts nothing).
        adapters=() if runtime_args else tuple((a.name, a.location.model_path) for a in adapters),
    )
    check_env(ctx, issues, engine, inputs, api_key)
    env = {**engine.env(inputs), **runtime_env, **ctx.spec.env, **override.env}
    api_key_ref = (
        {api_key.env: ("secretKeyRef", api_key.secret, API_KEY_SECRET_KEY)} if api_key else {}
    )
    return EnginePlan(
        name=engine.name,
        model_id=engine.model_id(model.served_name),
        image=override.image or ctx.spec.image or engine.image(on.hardware),
        precision=inputs.precision,
        profile=inputs.profile,
        command=engine.command,
        # Extra arguments last: where a flag repeats, engines take the last value.
        args=(*engine.args(inputs), *runtime_args, *ctx.spec.engine_args),
        env={name: value for name, value in env.items() if isinstance(value, str)},
        env_refs={
            **{
                name: _key_ref(value) for name, value in env.items() if isinstance(value, EnvSource)
            },
            **api_key_ref,
        },
        port=engine.port,
        health_path=engine.health_path,
        metrics_path=engine.metrics_path,
        shm_size=engine.shm_size if on.hardware != "cpu" else None,
        model_read_only=not engine.writes_model_dir,
        health_command=engine.health_command(),
        writable_dirs=engine.writable_dirs,
        request_metrics=engine.request_metrics,
    )


def check_engine_args(ctx: PlanningContext, issues: IssueCollector, engine: Engine) -> None:
    if ctx.spec.engine_args and engine.owned_flags is None:
        issues.report(
            "engineArgs", message=f"{engine.name} takes no arguments: configure it with env"
        )
        return
    for index, argument in enumerate(ctx.spec.engine_args):
        flag = overridden_flag(engine, argument)
        if flag:
            spelled = "" if argument.split("=", 1)[0] == flag else f" (as {argument!r})"
            issues.report(
                "engineArgs",
                index,
                message=f"{flag}{spelled} is set by modelstack from the stack file (model, "
                "port, GPU count, precision): change those fields instead",
            )
        elif credential_flag(argument):
            issues.report(
                "engineArgs",
                index,
                message=f"{credential_flag(argument)} takes a credential, and arguments are "
                "visible to anyone who can read the pod: pass it as env from a Secret "
                "(env: {NAME: {secretKeyRef: {name, key}}}, e.g. VLLM_API_KEY)",
            )


def check_env(
    ctx: PlanningContext,
    issues: IssueCollector,
    engine: Engine,
    inputs: EngineInputs,
    api_key: ApiKeyDelivery | None,
) -> None:
    """User env may not replace what the engine or the plan sets (OLLAMA_HOST, HOME...)."""
    engine_env = engine.env(inputs)
    for where, env in _env_sources(ctx):
        for name in env:
            if api_key and name == api_key.env:
                issues.report(
                    *where,
                    name,
                    message=f"engineApiKeys.{ctx.spec.name} sets {name}: remove one of them",
                )
            elif overridden_env(engine, engine_env, name):
                issues.report(
                    *where,
                    name,
                    message=f"{name} is set by modelstack for {engine.name} (the port, "
                    "the model's path in the cache, HOME): it cannot be overridden",
                )


def _env_sources(ctx: PlanningContext) -> list[tuple[tuple[str, ...], dict[str, object]]]:
    sources: list[tuple[tuple[str, ...], dict[str, object]]] = [(("env",), ctx.spec.env)]
    for slot, override in ctx.spec.rollout.slots.items():
        sources.append((("rollout", "slots", slot, "env"), override.env))
    return sources


def _key_ref(source: EnvSource) -> tuple[str, str, str]:
    """("secretKeyRef" | "configMapKeyRef", object name, key)."""
    if source.secret_key_ref is not None:
        return ("secretKeyRef", source.secret_key_ref.name, source.secret_key_ref.key)
    assert source.config_map_key_ref is not None
    return ("configMapKeyRef", source.config_map_key_ref.name, source.config_map_key_ref.key)
