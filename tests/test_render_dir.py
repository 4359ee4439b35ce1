"""`modelstack validate --render-dir`: a render directory reads back as the render that wrote
it, and validating it reports what validating the stack does."""

from __future__ import annotations

import gc
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.cli import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK, main
from components.offline.render import Render, write_render
from components.offline.render_dir import RenderDirError, load_render_dir
from tests.conftest import (
    ROOT,
    STACK_NAMES,
    deployments_of,
    stack_document,
    with_changes,
    write_stack,
)


@pytest.mark.parametrize("stack", STACK_NAMES)  # dev: docker and checks documents
def test_a_render_directory_reads_back_as_the_render(
    tmp_path: Path, stack: str, stack_renders: dict[str, Render]
) -> None:
    render = stack_renders[stack]
    write_render(render, tmp_path)
    loaded = load_render_dir(tmp_path)
    # Lists compare in order: objects as render_stack orders them, resources with options.
    assert loaded.objects == render.objects
    assert loaded.resources == render.resources
    assert loaded.outputs == render.outputs
    assert list(loaded.other_files.items()) == list(render.other_files.items())
    assert loaded.leaks == []


def test_documents_read_as_the_safe_loader_reads_them(tmp_path: Path) -> None:
    # Not what `modelstack render` writes, but what a hand-edited render may hold.
    text = """\
apiVersion: v1
kind: ConfigMap
metadata: &meta {name: odd, labels: {a: "1", b: 2, c: true, d: null, e: 1.5}}
data:
  copy: *meta
  merged: {<<: *meta, name: other}
  when: 2024-01-02
  list: [1, "two", ~, yes, 0x10]
  7: seven
"""
    (tmp_path / "kubernetes").mkdir()
    (tmp_path / "kubernetes" / "configmap-odd.yaml").write_text(text)
    for name in ("resources.json", "outputs.json"):
        (tmp_path / name).write_text("[]" if name == "resources.json" else "{}")
    assert load_render_dir(tmp_path).objects == [yaml.safe_load(text)]


def _short_route_timeout(document: dict[str, Any]) -> None:
    """A mandatory violation in prod: streams cut off after 30 s."""
    gateway = {"name": "inference-gateway", "namespace": "gateways"}
    document["config"]["modelstack:kubernetes"]["gateway"] = gateway
    deployments_of(document)[0]["route"] = {"path": "/chat/{name}", "timeoutSeconds": 30}


def _validate(capsys: pytest.CaptureFixture[str], crd_dir: Path, *args: str) -> tuple[int, str]:
    code = main(["validate", *args, "--crd-schemas", str(crd_dir)])
    return code, capsys.readouterr().out


@pytest.mark.parametrize(
    ("change", "expected"), [(None, EXIT_OK), (_short_route_timeout, EXIT_INVALID)]
)
def test_validating_the_render_directory_reports_what_validating_the_stack_does(
    tmp_path: Path,
    crd_dir: Path,
    capsys: pytest.CaptureFixture[str],
    change: Any,
    expected: int,
) -> None:
    document = stack_document("prod")
    if change is not None:
        document = with_changes(document, change)
    stack = write_stack(tmp_path, document, "prod")
    out = tmp_path / "render"
    assert main(["render", "--stack-file", str(stack), "--out", str(out)]) == EXIT_OK
    capsys.readouterr()

    from_stack = _validate(capsys, crd_dir, "--stack-file", str(stack))
    assert from_stack[0] == expected
    assert _validate(capsys, crd_dir, "--render-dir", str(out)) == from_stack
    assert _validate(capsys, crd_dir, "--render-dir", str(out), "--stack-file", str(stack)) == (
        from_stack
    )
    if change is not None:
        assert "HTTPRoute/llama-chat: streaming-route-timeouts (mandatory)" in from_stack[1]


def test_the_environment_comes_from_the_stack_file_then_the_render_then_the_strictest(
    tmp_path: Path, crd_dir: Path, capsys: pytest.CaptureFixture[str], stack_renders: dict
) -> None:
    out = tmp_path / "staging"
    write_render(stack_renders["staging"], out)

    def validate(*extra: str) -> tuple[int, str, str]:
        code = main(["validate", "--render-dir", str(out), "--crd-schemas", str(crd_dir), *extra])
        captured = capsys.readouterr()
        return code, captured.out, captured.err

    # Only the directory: it records its environment (the program's stack output).
    code, stdout, stderr = validate()
    assert code == EXIT_OK and "policies (staging): no violations" in stdout and stderr == ""
    # A stack file names the environment; a different one from the render's is pointed out.
    code, stdout, stderr = validate("--stack", "prod")
    assert code == EXIT_INVALID and "policies (prod)" in stdout
    assert stderr.splitlines() == [
        f"warning: {out} was rendered for staging; applying the levels of prod from"
        f" {ROOT / 'stacks' / 'Pulumi.prod.yaml'}"
    ]
    # Neither: the strictest, said in one line.
    outputs = json.loads((out / "outputs.json").read_text())
    del outputs["environment"]
    (out / "outputs.json").write_text(json.dumps(outputs))
    code, stdout, stderr = validate()
    assert code == EXIT_INVALID and "policies (prod)" in stdout
    assert stderr.splitlines() == [
        f"note: {out}/outputs.json names no environment: applying the strictest (prod);"
        " --stack or --stack-file names it"
    ]


def test_a_missing_or_broken_render_directory_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], stack_renders: dict
) -> None:
    def refused(path: Path, *extra: str) -> str:
        assert main(["validate", "--render-dir", str(path), *extra]) == EXIT_BAD_INPUT
        return capsys.readouterr().err

    assert f"{tmp_path / 'nowhere'}: no such directory" in refused(tmp_path / "nowhere")
    assert f"{tmp_path} is not a render directory" in refused(tmp_path)
    out = tmp_path / "render"
    write_render(stack_renders["prod"], out)
    assert "no stack 'gone' (stacks: dev, prod, staging)" in refused(out, "--stack", "gone")
    broken = out / "kubernetes" / "service-llama-chat.yaml"
    broken.write_text("kind: [Service\n")
    assert f"{broken}: not readable as YAML" in refused(out)
    broken.write_text("- a list\n")
    with pytest.raises(RenderDirError, match="not a YAML mapping"):
        load_render_dir(out)


def test_the_cli_restores_the_collector_for_its_caller(tmp_path: Path) -> None:
    before = gc.get_threshold()
    assert main(["validate", "--render-dir", str(tmp_path / "nowhere")]) == EXIT_BAD_INPUT
    assert gc.get_threshold() == before


def test_validating_a_render_directory_imports_neither_pulumi_nor_the_program(
    tmp_path: Path, stack_renders: dict
) -> None:
    # Their imports were 0.65 s of the 3 s `validate --render-dir` may take at 500 deployments.
    write_render(stack_renders["prod"], tmp_path)
    check = (
        "import sys; from components.cli import main; code = main(sys.argv[1:]);"
        " heavy = sorted(m for m in sys.modules if m.split('.')[0] in ('pulumi', 'pydantic')"
        " or m in ('components.program', 'components.spec')); print(heavy); sys.exit(code)"
    )
    done = subprocess.run(
        [sys.executable, "-c", check, "validate", "--render-dir", str(tmp_path)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert done.returncode in (EXIT_OK, EXIT_INVALID), done.stderr
    assert done.stdout.splitlines()[-1] == "[]"
