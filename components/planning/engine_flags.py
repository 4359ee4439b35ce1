"""Which `engineArgs` and `env` entries would override what the plan sets, in any spelling.

The catalog lists each engine's plan-owned flags in their canonical spelling. Engines
read other spellings too, and each one would defeat the plan's checks (GPU count and
memory fit, the model the cache holds, the port the probes use):
- vLLM and SGLang parse with Python's argparse: any unambiguous prefix of a long flag
  selects it (`--por 9000`, `--model-pat`; allow_abbrev is on by default,
  https://docs.python.org/3/library/argparse.html#allow-abbrev), a one-letter short flag
  takes its value attached (`-qawq`), and vLLM reads `_` as `-` (`--served_model_name`).
- Each engine has aliases and neighbours that change the same things (below).
- Some read environment variables that stand for flags (llama.cpp's LLAMA_ARG_*).
"""

from __future__ import annotations

from components.catalog.engines import Engine
from components.spec_credentials import FLAG_SECRET_WORDS, looks_secret

# Spellings and flags with the same effect as a plan-owned flag, per engine.
# vLLM `vllm serve --help`: -tp, -pp/--pipeline-parallel-size, -dp/--data-parallel-size.
# SGLang server args: --tp, --dp/--dp-size, --pp-size, --nnodes (parallelism over GPUs).
# llama.cpp tools/server/README.md: -hf/-hfr/--hf-repo, -hff/--hf-file, -mu/--model-url,
#   -dr/--docker-repo (each loads another model).
# TGI launcher: --sharded (shards across every visible GPU).
EXTRA_OWNED_FLAGS: dict[str, frozenset[str]] = {
    "vllm": frozenset(
        {
            "-tp",
            "-pp",
            "--pipeline-parallel-size",
            "-dp",
            "--data-parallel-size",
        }
    ),
    "sglang": frozenset(
        {"--tp", "--dp", "--dp-size", "--data-parallel-size", "--pp-size", "--nnodes"}
    ),
    "llamacpp": frozenset(
        {
            "-hf",
            "-hfr",
            "--hf-repo",
            "-hff",
            "--hf-file",
            "-mu",
            "--model-url",
            "-dr",
            "--docker-repo",
        }
    ),
    "tgi": frozenset({"--sharded"}),
}
# Engines whose argument parser is Python's argparse (prefixes, attached short values).
ARGPARSE_ENGINES = frozenset({"vllm", "sglang"})
# Engines that read `_` in a long flag as `-`.
UNDERSCORE_ENGINES = frozenset({"vllm"})
# Environment variables that stand for plan-owned flags: llama.cpp reads LLAMA_ARG_<FLAG>,
# TGI's launcher every flag's upper-case name (shared/ENGINES.md section 2); the plan passes
# --num-shard, --quantize and --dtype only when it needs them, so their env would win.
OWNED_ENV: dict[str, frozenset[str]] = {
    "tgi": frozenset({"MODEL_ID", "HOSTNAME", "PORT", "NUM_SHARD", "SHARDED", "QUANTIZE", "DTYPE"}),
    "llamacpp": frozenset(
        {
            "LLAMA_ARG_MODEL",
            "LLAMA_ARG_MODEL_URL",
            "LLAMA_ARG_HF_REPO",
            "LLAMA_ARG_HF_FILE",
            "LLAMA_ARG_ALIAS",
            "LLAMA_ARG_HOST",
            "LLAMA_ARG_PORT",
            "LLAMA_ARG_N_GPU_LAYERS",
        }
    ),
}
# Set on every engine container by the target (a writable HOME under a read-only root).
PLAN_ENV = frozenset({"HOME"})


def owned_flags(engine: Engine) -> frozenset[str]:
    return (engine.owned_flags or frozenset()) | EXTRA_OWNED_FLAGS.get(engine.name, frozenset())


def overridden_flag(engine: Engine, argument: str) -> str | None:
    """The plan-owned flag `argument` would set, in whatever spelling it uses, or None."""
    if not argument.startswith("-") or argument in ("-", "--"):
        return None
    flag = argument.split("=", 1)[0]
    if flag.startswith("--") and engine.name in UNDERSCORE_ENGINES:
        flag = "--" + flag[2:].replace("_", "-")
    owned = owned_flags(engine)
    if flag in owned:
        return flag
    if engine.name not in ARGPARSE_ENGINES:
        return None
    if flag.startswith("--") and len(flag) > 2:
        # argparse completes an unambiguous prefix: refuse any prefix of an owned flag.
        return next((o for o in sorted(owned) if o.startswith("--") and o.startswith(flag)), None)
    # `-qawq` is `-q awq`, `-tp8` is `-tp 8`: a short flag with its value attached.
    return next(
        (o for o in sorted(owned, key=len, reverse=True) if _short(o) and flag.startswith(o)),
        None,
    )


def credential_flag(argument: str) -> str | None:
    """A flag whose value is a credential (`--api-key`, `--hf-token`): never argv."""
    if not argument.startswith("-"):
        return None
    flag = argument.split("=", 1)[0]
    return flag if looks_secret(flag.lstrip("-").replace("-", "_"), FLAG_SECRET_WORDS) else None


def overridden_env(engine: Engine, engine_env: dict[str, str], name: str) -> bool:
    """Whether env `name` would replace a value the plan sets (engine env, HOME, flags)."""
    return name in engine_env or name in PLAN_ENV or name in OWNED_ENV.get(engine.name, ())


def _short(flag: str) -> bool:
    return flag.startswith("-") and not flag.startswith("--")
