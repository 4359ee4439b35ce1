"""LoRA adapters: fetched into the cache, awaited by the engine, loaded at start (vLLM, SGLang)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.conftest import (
    deployments_of,
    find_object,
    find_resource,
    render_document,
    stack_document,
)

ADAPTERS = [
    {"name": "sql-helper", "source": "hf://acme/llama-3.1-8b-sql-lora", "revision": "v3"},
    {"name": "legal", "source": "s3://adapters/legal-lora"},
]


def _staging(**changes: Any) -> dict[str, Any]:
    document = stack_document("staging")
    deployments_of(document)[0].update(changes)
    return document


def test_vllm_loads_adapters_that_loaders_fetched(tmp_path: Path, schema_validator) -> None:
    render = render_document(tmp_path, _staging(adapters=ADAPTERS))
    pod = find_object(render, "Deployment", "llama-chat")["spec"]["template"]["spec"]
    args = pod["containers"][0]["args"]
    assert "--enable-lora" in args
    start = args.index("--lora-modules")
    assert args[start + 1 : start + 3] == [
        "sql-helper=/model-cache/hf/acme/llama-3.1-8b-sql-lora/v3",
        "legal=/model-cache/s3/adapters/legal-lora",
    ]
    jobs = [o for o in render.objects if o["kind"] == "Job"]
    scripts = " ".join(
        job["spec"]["template"]["spec"]["containers"][0]["command"][2] for job in jobs
    )
    assert len(jobs) == 3
    assert "download acme/llama-3.1-8b-sql-lora --revision v3" in scripts
    assert "aws s3 sync s3://adapters/legal-lora" in scripts
    markers = pod["initContainers"][0]["command"][4:]
    assert "/model-cache/hf/acme/llama-3.1-8b-sql-lora/v3/.modelstack-complete" in markers
    assert "/model-cache/s3/adapters/legal-lora/.modelstack-complete" in markers
    depends_on = find_resource(render, "kubernetes:apps/v1:Deployment", "llama-chat")["dependsOn"]
    assert len([d for d in depends_on if d.startswith("kubernetes:batch/v1:Job::")]) == 3
    assert schema_validator.validate_all(render.objects) == []


def test_sglang_takes_lora_paths(tmp_path: Path) -> None:
    render = render_document(tmp_path, _staging(engine="sglang", adapters=ADAPTERS[:1]))
    args = find_object(render, "Deployment", "llama-chat")["spec"]["template"]["spec"][
        "containers"
    ][0]["args"]
    start = args.index("--lora-paths")
    assert args[start + 1] == "sql-helper=/model-cache/hf/acme/llama-3.1-8b-sql-lora/v3"


@pytest.mark.parametrize(
    ("changes", "fragment"),
    [
        (
            {"engine": "tgi", "adapters": ADAPTERS[:1]},
            "deployments[0].adapters: tgi does not serve",
        ),
        (
            {"adapters": [{"name": "x", "source": "hf://a/b/file.gguf"}]},
            "deployments[0].adapters[0].source: an adapter is a directory",
        ),
        (
            {"adapters": [ADAPTERS[0], {**ADAPTERS[1], "name": "sql-helper"}]},
            "deployments[0].adapters: adapter names must be unique",
        ),
        (
            {"engineArgs": ["--lora-modules", "x=/y"]},
            "deployments[0].engineArgs[0]: --lora-modules",
        ),
    ],
)
def test_adapter_errors(tmp_path: Path, changes: dict[str, Any], fragment: str) -> None:
    with pytest.raises(pulumi.RunError) as failure:
        render_document(tmp_path, _staging(**changes))
    assert fragment in str(failure.value)
