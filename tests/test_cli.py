"""`modelstack render` and `modelstack validate`: layout, exit codes, redaction."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.cli import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK, main
from components.offline.stack_file import PLACEHOLDER_PREFIX
from tests.conftest import ROOT, deployments_of, render_document, stack_document, write_stack


def test_render_writes_one_document_per_object_and_the_indexes(tmp_path: Path) -> None:
    out = tmp_path / "render"
    assert main(["render", "--stack", "prod", "--out", str(out)]) == EXIT_OK
    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert "resources.json" in files and "outputs.json" in files
    manifests = [f for f in files if f.startswith("kubernetes/")]
    assert "kubernetes/service-llama-chat.yaml" in manifests
    assert "kubernetes/deployment-llama-chat-blue.yaml" in manifests
    for name in manifests:
        documents = list(yaml.safe_load_all((out / name).read_text()))
        assert len(documents) == 1
        kind, object_name = documents[0]["kind"], documents[0]["metadata"]["name"]
        assert name == f"kubernetes/{kind.lower()}-{object_name}.yaml"
    resources = json.loads((out / "resources.json").read_text())
    keys = {"id", "type", "name", "parent", "dependsOn", "protect", "retainOnDelete"}
    assert all(keys <= set(resource) for resource in resources)
    assert "deleteBeforeReplace" in resources[0]
    outputs = json.loads((out / "outputs.json").read_text())
    assert outputs["deployments"]["llama-chat"]["servingSlot"] == "blue"


def test_render_replaces_a_previous_render(tmp_path: Path) -> None:
    out = tmp_path / "render"
    assert main(["render", "--stack", "dev", "--out", str(out)]) == EXIT_OK
    # A file the previous render wrote (its marker lists it) is gone after the next one.
    stale = out / "kubernetes" / "deployment-gone.yaml"
    stale.parent.mkdir(parents=True)
    stale.write_text("kind: Deployment\n")
    marker = out / ".modelstack-render.json"
    listed = json.loads(marker.read_text())
    marker.write_text(json.dumps({"files": [*listed["files"], "kubernetes/deployment-gone.yaml"]}))
    assert main(["render", "--stack", "dev", "--out", str(out)]) == EXIT_OK
    assert not stale.exists()
    assert not (out / "kubernetes").exists()  # emptied by the removal, so removed too


def test_bad_input_exits_2_with_every_error_and_writes_nothing(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = stack_document("staging")
    deployment = deployments_of(document)[0]
    deployment["gpu"] = {"type": "L4", "cuont": 1}
    deployment["name"] = "Llama_Chat"
    path = write_stack(tmp_path, document, "staging")
    out = tmp_path / "render"
    code = main(["render", "--stack-file", str(path), "--out", str(out)])
    assert code == EXIT_BAD_INPUT
    assert not out.exists()
    errors = capsys.readouterr().err
    where = f"{path}: modelstack:deployments[0]"
    assert f"{where}.gpu.cuont: unknown key 'cuont'" in errors
    assert "did you mean 'count'?" in errors
    assert f"{where}.name: 'Llama_Chat' is not a DNS label" in errors
    assert "digit [deployment Llama_Chat]\n" in errors
    assert "Nothing was applied." in errors


def test_missing_stack_file_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["render", "--stack-file", str(tmp_path / "Pulumi.none.yaml")])
    assert code == EXIT_BAD_INPUT
    assert "no such stack file" in capsys.readouterr().err


def test_no_secret_value_in_any_rendered_file(tmp_path: Path) -> None:
    document = stack_document("prod")
    document["config"]["modelstack:hfToken"] = {"secure": "v1:AAAAciphertextAAAA"}
    path = write_stack(tmp_path, document, "prod")
    out = tmp_path / "render"
    assert main(["render", "--stack-file", str(path), "--out", str(out)]) == EXIT_OK
    secret_file = out / "kubernetes" / "secret-llama-chat-hf-token.yaml"
    assert yaml.safe_load(secret_file.read_text())["stringData"] == {"token": "[secret]"}
    for file in out.rglob("*"):
        if file.is_file():
            text = file.read_text()
            assert PLACEHOLDER_PREFIX not in text, file
            assert "AAAAciphertextAAAA" not in text, file


def test_validate_passes_the_committed_stacks(
    crd_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for stack in ("dev", "staging", "prod"):
        assert main(["validate", "--stack", stack, "--crd-schemas", str(crd_dir)]) == EXIT_OK
    assert "objects valid (Kubernetes 1.33" in capsys.readouterr().out


def test_validate_reports_schema_violations_with_object_and_field(
    tmp_path: Path,
    crd_dir: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # The committed stacks render valid objects: corrupt one rendered Deployment to see
    # how `validate` reports what the API server would refuse.
    render = render_document(tmp_path, stack_document("staging"))
    deployment = next(o for o in render.objects if o["kind"] == "Deployment")
    deployment["spec"]["replicas"] = "two"
    deployment["spec"]["template"]["spec"]["containers"][0]["imagePullPolice"] = "Always"
    monkeypatch.setattr("components.commands.render_loading.render_stack", lambda config: render)

    code = main(["validate", "--stack", "staging", "--crd-schemas", str(crd_dir)])
    assert code == EXIT_INVALID
    out = capsys.readouterr().out
    assert "Deployment/llama-chat: spec.replicas" in out
    assert "Deployment/llama-chat: spec.template.spec.containers[0].imagePullPolice" in out
    assert "2 schema violation(s)" in out


def test_validate_with_a_missing_crd_directory_is_bad_input(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["validate", "--stack", "dev", "--crd-schemas", str(tmp_path / "nowhere")])
    assert code == EXIT_BAD_INPUT
    assert "nowhere" in capsys.readouterr().err


def test_console_script_runs_as_installed(tmp_path: Path) -> None:
    executable = Path(sys.executable).parent / "modelstack"
    result = subprocess.run(
        [str(executable), "render", "--stack", "staging", "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert result.returncode == EXIT_OK, result.stderr
    assert (tmp_path / "out" / "kubernetes" / "deployment-llama-chat.yaml").exists()
    module = subprocess.run(
        [sys.executable, "-m", "components.cli", "render", "--stack", "nope"],
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=False,
    )
    assert module.returncode == EXIT_BAD_INPUT
    assert "no stack 'nope' (stacks: dev, prod, staging)" in module.stderr
