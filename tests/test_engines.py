"""Engine catalog: selection, compatibility and the command lines each engine really takes."""

from __future__ import annotations

import pytest

from components.catalog.engines import ENGINES, EngineInputs
from components.planning.engine_choice import choose_engine


def _inputs(**changes: object) -> EngineInputs:
    values: dict[str, object] = {
        "model_path": "/model-cache/hf/org/model/main",
        "served_name": "chat",
        "hardware": "nvidia",
        "gpu_count": 1,
        "precision": "bf16",
        "profile": "latency",
    }
    values.update(changes)
    return EngineInputs(**values)  # type: ignore[arg-type]


def _flag(args: list[str], flag: str) -> str:
    return args[args.index(flag) + 1]


@pytest.mark.parametrize(
    ("requested", "fmt", "hardware", "expected"),
    [
        ("auto", "gguf", "cpu", "llamacpp"),
        ("auto", "gguf", "nvidia", "llamacpp"),
        ("auto", "safetensors", "nvidia", "vllm"),
        ("auto", "safetensors", "amd", "vllm"),
        ("auto", "ollama", "cpu", "ollama"),
        ("sglang", "safetensors", "nvidia", "sglang"),
        ("tgi", "safetensors", "amd", "tgi"),
        ("ollama", "ollama", "nvidia", "ollama"),
        # Ollama pulls GGUF files from Hugging Face (hf.co/{user}/{repo}:{quant}).
        ("ollama", "gguf", "cpu", "ollama"),
        ("sglang", "safetensors", "amd", "sglang"),
    ],
)
def test_engine_selection(requested: str, fmt: str, hardware: str, expected: str) -> None:
    engine = choose_engine(requested, fmt, hardware)  # type: ignore[arg-type]
    assert not isinstance(engine, str), engine
    assert engine.name == expected


@pytest.mark.parametrize(
    ("requested", "fmt", "hardware", "fragment"),
    [
        ("auto", "safetensors", "cpu", "no engine in the catalog serves safetensors on CPU"),
        ("vllm", "gguf", "nvidia", "vllm's GGUF support is experimental"),
        ("llamacpp", "safetensors", "nvidia", "llamacpp does not serve safetensors"),
        ("vllm", "safetensors", "cpu", "vllm's CPU build is a separate image"),
        ("sglang", "safetensors", "cpu", "sglang runs on NVIDIA GPUs, AMD GPUs, not on CPU"),
        ("tgi", "gguf", "nvidia", "tgi does not serve gguf models; use llamacpp or ollama"),
    ],
)
def test_incompatible_engine_choices_explain_why(
    requested: str, fmt: str, hardware: str, fragment: str
) -> None:
    reason = choose_engine(requested, fmt, hardware)  # type: ignore[arg-type]
    assert isinstance(reason, str)
    assert fragment in reason


def test_vllm_command_line() -> None:
    args = ENGINES["vllm"].args(_inputs(gpu_count=4, precision="fp8", profile="throughput"))
    assert _flag(args, "--model") == "/model-cache/hf/org/model/main"
    assert _flag(args, "--served-model-name") == "chat"
    assert _flag(args, "--host") == "0.0.0.0"
    assert _flag(args, "--port") == "8000"
    assert _flag(args, "--tensor-parallel-size") == "4"
    assert _flag(args, "--quantization") == "fp8"
    assert "--dtype" not in args
    assert _flag(args, "--max-num-seqs") == "512"
    single = ENGINES["vllm"].args(_inputs())
    assert "--tensor-parallel-size" not in single
    assert _flag(single, "--dtype") == "bfloat16"
    assert ENGINES["vllm"].command == ("vllm", "serve")


def test_pre_quantized_precisions_add_no_flag_on_vllm() -> None:
    args = ENGINES["vllm"].args(_inputs(precision="int4"))
    assert "--dtype" not in args and "--quantization" not in args


def test_sglang_binds_all_interfaces_and_exposes_metrics() -> None:
    args = ENGINES["sglang"].args(_inputs(gpu_count=2, precision="fp16"))
    assert _flag(args, "--model-path") == "/model-cache/hf/org/model/main"
    assert _flag(args, "--host") == "0.0.0.0"
    assert _flag(args, "--tp-size") == "2"
    assert _flag(args, "--dtype") == "float16"
    assert "--enable-metrics" in args


def test_tgi_never_combines_dtype_with_quantize() -> None:
    quantized = ENGINES["tgi"].args(_inputs(precision="int4"))
    assert _flag(quantized, "--quantize") == "bitsandbytes-nf4"
    assert "--dtype" not in quantized
    plain = ENGINES["tgi"].args(_inputs(gpu_count=2, precision="bf16"))
    assert _flag(plain, "--dtype") == "bfloat16"
    assert _flag(plain, "--num-shard") == "2"
    assert _flag(plain, "--model-id") == "/model-cache/hf/org/model/main"
    assert ENGINES["tgi"].precision_note("fp32") is not None


def test_llamacpp_offloads_layers_only_on_gpus() -> None:
    path = "/model-cache/hf/org/repo/main/model-Q4_K_M.gguf"
    cpu = ENGINES["llamacpp"].args(_inputs(hardware="cpu", gpu_count=0, model_path=path))
    assert _flag(cpu, "-m") == path
    assert _flag(cpu, "-ngl") == "0"
    assert _flag(cpu, "--alias") == "chat"
    assert "--metrics" in cpu
    gpu = ENGINES["llamacpp"].args(_inputs(model_path=path, profile="throughput"))
    assert _flag(gpu, "-ngl") == "999"
    assert _flag(gpu, "-np") == "8"


def test_ollama_is_configured_through_env() -> None:
    engine = ENGINES["ollama"]
    inputs = _inputs(hardware="cpu", gpu_count=0, model_path="/model-cache/ollama")
    assert engine.args(inputs) == ["serve"]
    env = engine.env(inputs)
    assert env["OLLAMA_MODELS"] == "/model-cache/ollama"
    assert env["OLLAMA_HOST"] == "0.0.0.0:11434"
    assert engine.metrics_path is None


def test_paths_with_spaces_stay_one_argument() -> None:
    args = ENGINES["vllm"].args(_inputs(model_path="/model-cache/pvc/x/my model"))
    assert _flag(args, "--model") == "/model-cache/pvc/x/my model"


@pytest.mark.parametrize("name", sorted(ENGINES))
def test_every_engine_image_is_pinned(name: str) -> None:
    for image in ENGINES[name].images.values():
        tag = image.rsplit(":", 1)[1]
        assert tag and tag != "latest", image


@pytest.mark.parametrize(
    ("engine", "served", "listed"),
    [
        ("vllm", "chat", "chat"),
        # /v1/models lists Ollama models by full name: a bare name gets `:latest`.
        ("ollama", "chat", "chat:latest"),
        ("ollama", "chat:v2", "chat:v2"),
    ],
)
def test_model_id_is_what_the_model_list_shows(engine: str, served: str, listed: str) -> None:
    assert ENGINES[engine].model_id(served) == listed


def test_engine_images_are_pinned_to_current_releases() -> None:
    assert ENGINES["vllm"].image("amd") == "vllm/vllm-openai-rocm:v0.31.0"
    assert ENGINES["vllm"].image("nvidia").endswith(":v0.31.0")
    assert ENGINES["sglang"].image("amd") == "lmsysorg/sglang:v0.5.21-rocm10-mi30x"
    assert ENGINES["tgi"].image("nvidia").endswith(":3.3.7")
    assert ENGINES["ollama"].image("amd") == "ollama/ollama:0.35.1-rocm"


# What `engine: auto` picks for every format and hardware: the catalog's declared priorities.
AUTO_CHOICES = {
    ("gguf", "cpu"): "llamacpp",
    ("gguf", "nvidia"): "llamacpp",
    ("gguf", "amd"): "llamacpp",
    ("safetensors", "cpu"): None,
    ("safetensors", "nvidia"): "vllm",
    ("safetensors", "amd"): "vllm",
    ("ollama", "cpu"): "ollama",
    ("ollama", "nvidia"): "ollama",
    ("ollama", "amd"): "ollama",
}


@pytest.mark.parametrize(("fmt", "hardware"), sorted(AUTO_CHOICES))
def test_auto_picks_the_highest_declared_priority(fmt: str, hardware: str) -> None:
    choice = choose_engine("auto", fmt, hardware)  # type: ignore[arg-type]
    expected = AUTO_CHOICES[(fmt, hardware)]
    assert (None if isinstance(choice, str) else choice.name) == expected


def test_engines_sharing_a_format_never_tie_for_auto() -> None:
    for fmt in {fmt for engine in ENGINES.values() for fmt in engine.formats}:
        priorities = [
            engine.auto_priority
            for engine in ENGINES.values()
            if fmt in engine.formats and engine.auto_priority is not None
        ]
        assert len(priorities) == len(set(priorities)), fmt
