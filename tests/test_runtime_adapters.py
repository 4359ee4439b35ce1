"""LoRA adapters loaded while the engine runs (`adapterLoading.mode: runtime`): no restarts."""

from __future__ import annotations

import json
import stat
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.adapters import runtime_sync
from components.adapters.runtime_sync import SyncFailed, reconcile
from components.catalog.engines import ENGINES
from components.catalog.engines.runtime_adapters import SGLANG, VLLM
from components.checks.adapter_loader import AdapterLoadFailed, sync_containers
from components.diff.compare import compare
from components.diff.format_text import format_text
from components.guardrails.offline import check_render
from components.offline.render import Render
from tests.conftest import (
    deployments_of,
    find_object,
    find_resource,
    render_document,
    stack_document,
)
from tests.support.lora_engine import LoraEngine, running

SQL = {"name": "sql-helper", "source": "hf://acme/llama-3.1-8b-sql-lora", "revision": "v3"}
LEGAL = {"name": "legal", "source": "s3://adapters/legal-lora"}
RUNTIME = {"mode": "runtime"}
SQL_PATH = "/model-cache/hf/acme/llama-3.1-8b-sql-lora/v3"
LEGAL_PATH = "/model-cache/s3/adapters/legal-lora"


def _staging(**changes: Any) -> dict[str, Any]:
    document = stack_document("staging")
    deployments_of(document)[0].update(changes)
    return document


def _render(directory: Path, **changes: Any) -> Render:
    directory.mkdir(exist_ok=True)
    return render_document(directory, _staging(**changes))


def _engine_args(render: Render) -> list[str]:
    pod = find_object(render, "Deployment", "llama-chat")["spec"]["template"]["spec"]
    return pod["containers"][0]["args"]


# --- the plan: adding an adapter changes no pod ---------------------------------------


def test_adding_an_adapter_leaves_the_engine_deployment_unchanged(tmp_path: Path) -> None:
    one = _render(tmp_path / "one", adapters=[SQL], adapterLoading=RUNTIME)
    two = _render(tmp_path / "two", adapters=[SQL, LEGAL], adapterLoading=RUNTIME)
    assert find_object(one, "Deployment", "llama-chat") == find_object(
        two, "Deployment", "llama-chat"
    )
    # The engine waits for its model's loader only, not for any adapter's.
    waits = [
        find_resource(r, "kubernetes:apps/v1:Deployment", "llama-chat")["dependsOn"]
        for r in (one, two)
    ]
    assert waits[0] == waits[1] and len([d for d in waits[1] if "fetch" in d]) == 1
    wanted = [
        json.loads(find_object(r, "ConfigMap", "llama-chat-adapters")["data"]["adapters.json"])[
            "wanted"
        ]
        for r in (one, two)
    ]
    assert wanted == [{"sql-helper": SQL_PATH}, {"sql-helper": SQL_PATH, "legal": LEGAL_PATH}]
    config_map = find_resource(two, "kubernetes:core/v1:ConfigMap", "llama-chat-adapters")
    assert len([d for d in config_map["dependsOn"] if "fetch" in d]) == 2
    # Only the new adapter's loader and the ConfigMap differ.
    changed = compare(one, two)
    lines = format_text(changed, "t")
    assert "adapters: + legal (loaded at run time, no restart)" in lines
    assert {r.id.split("::")[-1] for r in changed.resources if r.status.name != "UNCHANGED"} <= {
        "llama-chat-adapters",
        *(o["metadata"]["name"] for o in two.objects if o["kind"] == "Job"),
    }


def test_start_mode_still_restarts_pods(tmp_path: Path) -> None:
    one = _render(tmp_path / "one", adapters=[SQL])
    two = _render(tmp_path / "two", adapters=[SQL, LEGAL])
    assert _engine_args(one) != _engine_args(two)


def test_vllm_runtime_flags_and_env_name_no_adapter(tmp_path: Path, schema_validator) -> None:
    render = _render(
        tmp_path, adapters=[SQL], adapterLoading={**RUNTIME, "maxRank": 128, "maxPerBatch": 2}
    )
    args = _engine_args(render)
    assert "--lora-modules" not in args and SQL_PATH not in " ".join(args)
    start = args.index("--enable-lora")
    assert args[start : start + 5] == [
        "--enable-lora",
        "--max-lora-rank",
        "128",
        "--max-loras",
        "2",
    ]
    pod = find_object(render, "Deployment", "llama-chat")["spec"]["template"]["spec"]
    engine, sidecar = pod["containers"]
    assert {"name": "VLLM_ALLOW_RUNTIME_LORA_UPDATING", "value": "True"} in engine["env"]
    assert sidecar["command"][-2:] == ["watch", "/etc/modelstack/adapters/adapters.json"]
    # The engine waits for its model only; the sidecar loads adapters once they are complete.
    markers = pod["initContainers"][0]["command"][4:]
    assert not [m for m in markers if "lora" in m]
    config_map = find_object(render, "ConfigMap", "llama-chat-adapters")
    assert config_map["data"]["sync.py"] == Path(runtime_sync.__file__).read_text()
    assert schema_validator.validate_all(render.objects) == []
    assert check_render(render, "staging").mandatory == []


def test_sglang_runtime_flags(tmp_path: Path) -> None:
    render = _render(tmp_path, engine="sglang", adapters=[SQL], adapterLoading=RUNTIME)
    args = _engine_args(render)
    assert "--lora-paths" not in args
    start = args.index("--enable-lora")
    assert args[start:][:7] == [
        "--enable-lora",
        "--max-lora-rank",
        "64",
        "--max-loras-per-batch",
        "4",
        "--lora-target-modules",
        "all",
    ]
    wire = json.loads(
        find_object(render, "ConfigMap", "llama-chat-adapters")["data"]["adapters.json"]
    )
    assert wire["api"]["load_path"] == "/load_lora_adapter" and wire["port"] == 30000


def test_the_engines_api_key_reaches_the_sidecar_from_its_secret(tmp_path: Path) -> None:
    document = _staging(adapters=[SQL], adapterLoading=RUNTIME)
    document["config"]["modelstack:engineApiKeys"] = {"llama-chat": {"secure": "v1:ciphertext"}}
    (tmp_path / "k").mkdir()
    render = render_document(tmp_path / "k", document)
    sidecar = find_object(render, "Deployment", "llama-chat")["spec"]["template"]["spec"][
        "containers"
    ][1]
    assert sidecar["env"] == [
        {
            "name": "VLLM_API_KEY",
            "valueFrom": {"secretKeyRef": {"name": "llama-chat-api-key", "key": "api-key"}},
        }
    ]


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (
            {"engine": "tgi", "adapterLoading": RUNTIME},
            "deployments[0].adapterLoading.mode: tgi loads LoRA adapters only at start: runtime "
            "loading needs an engine with a load API (vllm and sglang)",
        ),
        (
            {"adapterLoading": {"maxRank": 64}},
            "deployments[0].adapterLoading.maxRank: applies to mode: runtime only",
        ),
        ({"adapterLoading": {**RUNTIME, "maxRank": 12}}, "deployments[0].adapterLoading.maxRank"),
        ({"adapterLoading": {"mode": "later"}}, "deployments[0].adapterLoading.mode"),
    ],
)
def test_runtime_loading_refusals(tmp_path: Path, changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(pulumi.RunError) as failure:
        render_document(tmp_path, _staging(**changes))
    assert fragment in str(failure.value)


def test_llamacpp_refuses_runtime_loading(tmp_path: Path) -> None:
    document = stack_document("dev")
    deployments_of(document)[0]["adapterLoading"] = RUNTIME
    with pytest.raises(pulumi.RunError) as failure:
        render_document(tmp_path, document)
    assert "adapterLoading.mode: llamacpp loads LoRA adapters only at start" in str(failure.value)


def test_sglang_adapters_are_selected_as_served_model_colon_adapter() -> None:
    # https://docs.sglang.io: the OpenAI API takes `<model>:<adapter>`; vLLM takes the name.
    assert ENGINES["sglang"].adapter_model_id("llama-chat", "sql") == "llama-chat:sql"
    assert ENGINES["vllm"].adapter_model_id("llama-chat", "sql") == "sql"


# --- the sync against a stand-in engine on 127.0.0.1 -----------------------------------


def _api(kind: str) -> dict[str, Any]:
    return (VLLM if kind == "vllm" else SGLANG).wire("/health")


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_sync_loads_new_adapters_unloads_removed_and_is_idempotent(kind: str) -> None:
    with running(LoraEngine(kind)) as engine:
        api = _api(kind)
        known = reconcile(api, engine.base, {"a": "/c/a", "b": "/c/b"}, {})
        assert engine.loaded == {"a": "/c/a", "b": "/c/b"} == known
        known = reconcile(api, engine.base, {"a": "/c/a", "b": "/c/b"}, known)
        assert engine.loads() == ["a", "b"] and engine.unloads() == []
        known = reconcile(api, engine.base, {"b": "/c/b2", "c": "/c/c"}, known)
        assert engine.loaded == {"b": "/c/b2", "c": "/c/c"} == known
        assert engine.unloads() == ["a", "b"] and engine.loads() == ["a", "b", "b", "c"]


def test_vllm_sync_reads_what_is_loaded_from_the_engine() -> None:
    with running(LoraEngine("vllm")) as engine:
        engine.loaded.update({"stale": "/c/stale", "a": "/c/a"})
        assert reconcile(_api("vllm"), engine.base, {"a": "/c/a"}, {}) == {"a": "/c/a"}
        assert engine.unloads() == ["stale"] and engine.loads() == []


def test_sglang_sync_recovers_an_adapter_it_did_not_know_it_had_loaded() -> None:
    with running(LoraEngine("sglang")) as engine:
        engine.loaded["a"] = "/c/a"
        assert reconcile(_api("sglang"), engine.base, {"a": "/c/a"}, {}) == {"a": "/c/a"}
        assert engine.loaded == {"a": "/c/a"}


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_sync_fails_with_the_engines_answer(kind: str) -> None:
    with running(LoraEngine(kind)) as engine:
        with pytest.raises(SyncFailed) as failure:
            reconcile(_api(kind), engine.base, {"big": "/c/broken"}, {})
        assert "load of adapter 'big' answered 400" in str(failure.value)
        assert "greater than max_lora_rank 64" in str(failure.value)


def test_sync_sends_the_api_key_as_a_header() -> None:
    with running(LoraEngine("vllm", api_key="sk-secret")) as engine:
        with pytest.raises(SyncFailed, match="401"):
            reconcile(_api("vllm"), engine.base, {"a": "/c/a"}, {})
        reconcile(_api("vllm"), engine.base, {"a": "/c/a"}, {}, api_key="sk-secret")
        assert engine.loaded == {"a": "/c/a"}


def _wait_for(condition: Any, seconds: float = 15.0) -> None:
    deadline = time.monotonic() + seconds
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.05)


@pytest.mark.parametrize("kind", ["vllm", "sglang"])
def test_the_sidecar_follows_its_file_and_reloads_a_restarted_engine(
    tmp_path: Path, kind: str
) -> None:
    config = tmp_path / "adapters.json"
    marker = tmp_path / "synced"
    with running(LoraEngine(kind)) as engine:
        wire = {"api": _api(kind), "port": engine.port, "wanted": {"a": "/c/a"}}
        config.write_text(json.dumps(wire))
        program = Path(runtime_sync.__file__)
        sidecar = subprocess.Popen(
            [sys.executable, str(program), "watch", str(config), "0.05", str(marker)]
        )
        try:
            _wait_for(lambda: engine.loaded == {"a": "/c/a"} and marker.exists())
            config.write_text(json.dumps({**wire, "wanted": {"b": "/c/b"}}))
            _wait_for(lambda: engine.loaded == {"b": "/c/b"})
            # A restart: the engine is unhealthy for a while and comes back empty.
            engine.healthy = False
            engine.restart()
            time.sleep(0.3)
            engine.healthy = True
            _wait_for(lambda: engine.loaded == {"b": "/c/b"})
        finally:
            sidecar.terminate()
            sidecar.wait(timeout=10)


# --- docker: the dynamic resource runs the sync in every engine container ---------------


def _fake_docker(tmp_path: Path) -> list[str]:
    """`docker exec -i <container> python3 ...` run here: the container is only a name."""
    script = tmp_path / "docker"
    script.write_text(f'#!/bin/sh\nshift 4\nexec "{sys.executable}" "$@"\n')
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return [str(script)]


def _props(tmp_path: Path, engine: LoraEngine, wanted: dict[str, str]) -> dict[str, Any]:
    return {
        "deployment": "chat",
        "containers": ["chat-0", "chat-1"],
        "api": _api(engine.kind),
        "port": engine.port,
        "wanted": wanted,
        "api_key_env": None,
        "docker": _fake_docker(tmp_path),
    }


def test_docker_loader_syncs_every_container_and_records_what_each_has(tmp_path: Path) -> None:
    # The stand-in answers for both containers: what one loaded, the other finds listed.
    with running(LoraEngine("vllm")) as engine:
        outs = sync_containers(_props(tmp_path, engine, {"a": "/c/a"}), {})
        assert outs["loaded"] == {"chat-0": {"a": "/c/a"}, "chat-1": {"a": "/c/a"}}
        assert engine.loads() == ["a"]
        outs = sync_containers(_props(tmp_path, engine, {}), outs["loaded"])
        assert engine.loaded == {} and outs["loaded"] == {"chat-0": {}, "chat-1": {}}
        assert engine.unloads() == ["a"]


def test_docker_loader_fails_with_the_engines_answer(tmp_path: Path) -> None:
    with running(LoraEngine("vllm")) as engine, pytest.raises(AdapterLoadFailed) as failure:
        sync_containers(_props(tmp_path, engine, {"big": "/c/broken"}), {})
    assert "adapters of chat-0" in str(failure.value)
    assert "greater than max_lora_rank 64" in str(failure.value)


def test_the_sync_program_runs_without_modelstack() -> None:
    # It runs in public images (the sidecar's Python, the engine's): standard library only.
    source = Path(runtime_sync.__file__).read_text()
    assert "import components" not in source and "from components" not in source


def _docker(directory: Path, adapters: list[dict[str, Any]]) -> Render:
    document = stack_document("dev")
    deployments_of(document)[0].update(
        model={"source": "hf://Qwen/Qwen2.5-0.5B-Instruct", "parameters": "0.5B"},
        engine="vllm",
        gpu={"type": "L4", "count": 1},
        resources={"cpu": "4", "memory": "16Gi"},
        adapters=adapters,
        adapterLoading=RUNTIME,
    )
    directory.mkdir()
    return render_document(directory, document)


def test_docker_adding_an_adapter_keeps_every_engine_container(tmp_path: Path) -> None:
    one = _docker(tmp_path / "one", [SQL])
    two = _docker(tmp_path / "two", [SQL, LEGAL])
    containers = [
        {p: b for p, b in r.object_files().items() if p.startswith("docker/container-qwen")}
        for r in (one, two)
    ]
    assert containers[0] == containers[1] and len(containers[0]) == 2
    env = next(iter(containers[1].values()))["inputs"]["envs"]
    assert "VLLM_ALLOW_RUNTIME_LORA_UPDATING=True" in env
    loader = two.object_files()["checks/qwen-tiny-adapters.yaml"]["inputs"]
    assert loader["wanted"] == {"sql-helper": SQL_PATH, "legal": LEGAL_PATH}
    lines = format_text(compare(one, two), "t")
    assert "qwen-tiny-adapters: adapters: + legal (loaded at run time, no restart)" in lines
    assert loader["containers"] == sorted(b["inputs"]["name"] for b in containers[1].values())


def test_vllm_sync_trusts_the_path_it_asked_for_over_the_listed_root() -> None:
    with running(LoraEngine("vllm")) as engine:
        known = reconcile(_api("vllm"), engine.base, {"a": "/c/a/"}, {})
        engine.loaded["a"] = "/c/a"  # the engine lists the path normalised
        assert reconcile(_api("vllm"), engine.base, {"a": "/c/a/"}, known) == {"a": "/c/a/"}
        assert engine.loads() == ["a"] and engine.unloads() == []
