"""A new user's first hour: render directories, CRD schemas, CLI basics, start-up imports."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from components.cli import EXIT_BAD_INPUT, EXIT_OK, main
from components.offline import crd_schemas
from components.offline.schema_validation import SchemaValidator
from tests.conftest import ROOT

# -- render --out only removes what it wrote -------------------------------------------------


def test_render_keeps_a_users_own_files_in_the_output_directory(tmp_path: Path) -> None:
    out = tmp_path / "site"
    dockerfile = out / "docker" / "Dockerfile"
    notes = out / "kubernetes" / "README.md"
    for path in (dockerfile, notes):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("mine\n")
    assert main(["render", "--stack", "dev", "--out", str(out)]) == EXIT_OK
    assert main(["render", "--stack", "dev", "--out", str(out)]) == EXIT_OK
    assert dockerfile.read_text() == "mine\n" and notes.read_text() == "mine\n"
    marker = json.loads((out / ".modelstack-render.json").read_text())
    assert "docker/Dockerfile" not in marker["files"]
    assert "resources.json" in marker["files"]


def test_a_marker_pointing_outside_the_directory_removes_nothing_there(tmp_path: Path) -> None:
    out, victim = tmp_path / "out", tmp_path / "precious.txt"
    out.mkdir()
    victim.write_text("keep\n")
    (out / ".modelstack-render.json").write_text(json.dumps({"files": ["../precious.txt"]}))
    assert main(["render", "--stack", "dev", "--out", str(out)]) == EXIT_OK
    assert victim.read_text() == "keep\n"


def test_render_to_stdout_is_a_multi_document_yaml_stream(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    assert main(["render", "--stack", "prod", "--out", "-"]) == EXIT_OK
    documents = list(yaml.safe_load_all(capsys.readouterr().out))
    kinds = {document.get("kind") for document in documents if document}
    assert {"Deployment", "Service", "PersistentVolumeClaim"} <= kinds
    assert not (tmp_path / "-").exists() and not Path("-").exists()


# -- CRD schemas: found where `make crd-schemas` writes them, skipped where none ------------


def test_schemas_in_build_are_found_before_the_shared_ones(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(crd_schemas.ENV_VAR, raising=False)
    (tmp_path / "pyproject.toml").write_text("")
    built = tmp_path / "build" / "crd-schemas" / "keda.sh"
    built.mkdir(parents=True)
    (built / "scaledobject_v1alpha1.json").write_text("{}")
    monkeypatch.setattr(crd_schemas, "_repo_root", lambda: tmp_path)
    assert crd_schemas.find_crd_schema_dir() == tmp_path / "build" / "crd-schemas"


def test_an_empty_build_directory_is_not_a_schema_source(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv(crd_schemas.ENV_VAR, raising=False)
    (tmp_path / "build" / "crd-schemas").mkdir(parents=True)
    monkeypatch.setattr(crd_schemas, "_repo_root", lambda: tmp_path)
    assert crd_schemas.find_crd_schema_dir() is None


def test_custom_resources_without_a_schema_are_skipped_not_violations() -> None:
    validator = SchemaValidator("1.33", None)
    scaled = {"apiVersion": "keda.sh/v1alpha1", "kind": "ScaledObject", "metadata": {"name": "x"}}
    assert validator.validate(scaled) == []
    assert validator.skipped == {("keda.sh/v1alpha1", "ScaledObject"): 1}
    # A built-in group with an unknown kind is still a violation (a typo, not a CRD).
    typo = {"apiVersion": "apps/v1", "kind": "Deployent", "metadata": {"name": "x"}}
    assert validator.validate(typo)


def test_validate_without_crd_schemas_exits_0_and_says_what_it_skipped(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    # A clone without build/crd-schemas and without ../shared: no schema directory at all.
    monkeypatch.delenv(crd_schemas.ENV_VAR, raising=False)
    monkeypatch.setattr(crd_schemas, "_repo_root", lambda: tmp_path)
    assert main(["validate", "--stack", "prod"]) == EXIT_OK
    captured = capsys.readouterr()
    assert "skipped (no CRD schema): " in captured.out
    assert "keda.sh/v1alpha1 ScaledObject" in captured.out
    assert "make crd-schemas" in captured.err


def test_crd_download_offline_is_a_message_not_a_traceback(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import urllib.error
    import urllib.request

    def offline(*_args: object, **_kwargs: object) -> None:
        raise urllib.error.URLError("[Errno -3] Temporary failure in name resolution")

    monkeypatch.setattr(urllib.request, "urlopen", offline)
    with pytest.raises(SystemExit) as exited:
        crd_schemas.main(["--out", str(tmp_path)])
    message = str(exited.value.code)
    assert message.startswith("error: cannot download KEDA")
    assert "Temporary failure in name resolution" in message
    assert "skips custom resources" in message


# -- CLI basics ------------------------------------------------------------------------------


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "components.cli", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )


def test_version() -> None:
    done = _cli("--version")
    assert done.returncode == 0
    assert done.stdout.startswith("modelstack ")


@pytest.mark.parametrize("command", ["render", "validate", "diff", "graph", "status"])
def test_every_subcommand_help_has_a_description_examples_and_exit_codes(command: str) -> None:
    done = _cli(command, "--help")
    assert done.returncode == 0, done.stderr
    assert "examples:" in done.stdout and f"modelstack {command} " in done.stdout
    assert "exit codes:" in done.stdout and "  2  bad input" in done.stdout


def test_help_and_version_import_nothing_of_pulumi() -> None:
    for args in (["--help"], ["--version"], ["render", "--help"], ["diff", "--help"]):
        code = (
            "import sys, contextlib, io\n"
            "from components.cli import main\n"
            "with contextlib.suppress(SystemExit), contextlib.redirect_stdout(io.StringIO()):\n"
            f"    main({args!r})\n"
            "print(sorted(m for m in sys.modules if m.split('.')[0].startswith('pulumi')))\n"
        )
        done = subprocess.run(
            [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=True
        )
        assert done.stdout.strip() == "[]", (args, done.stdout)


def test_a_stack_imports_only_its_own_targets_provider() -> None:
    code = (
        "import sys\n"
        "from components.cli import main\n"
        "main(['render', '--stack', 'prod', '--out', sys.argv[1]])\n"
        "print('pulumi_docker' in sys.modules, 'pulumi_kubernetes' in sys.modules)\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code, "/tmp/modelstack-test-render-prod"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    )
    assert done.stdout.strip().splitlines()[-1] == "False True"


def test_stack_given_a_path_says_so_and_lists_the_stacks(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert main(["render", "--stack", "stacks/Pulumi.dev.yaml"]) == EXIT_BAD_INPUT
    error = capsys.readouterr().err
    assert "--stack takes a stack name, not a path" in error
    assert "use --stack-file stacks/Pulumi.dev.yaml" in error
    assert "(stacks: dev, prod, staging)" in error


def test_unknown_stack_lists_the_stacks(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", "produciton"]) == EXIT_BAD_INPUT
    assert "no stack 'produciton' (stacks: dev, prod, staging)" in capsys.readouterr().err


def test_stack_and_stack_file_together_are_refused() -> None:
    done = _cli("render", "--stack", "dev", "--stack-file", "stacks/Pulumi.dev.yaml")
    assert done.returncode == 2
    assert "not allowed with argument --stack" in done.stderr


def test_validate_json_output(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["validate", "--stack", "dev", "--output", "json"]) == EXIT_OK
    document = json.loads(capsys.readouterr().out)
    assert document["valid"] is True and document["objects"] == 0
    assert document["violations"] == []


def test_diff_json_output(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = (ROOT / "stacks" / "Pulumi.prod.yaml").read_text()
    changed = tmp_path / "Pulumi.prod.yaml"
    changed.write_text(old.replace("active: blue", "active: green"))
    code = main(
        [
            "diff",
            "--stack-file",
            str(changed),
            "--against-file",
            str(ROOT / "stacks" / "Pulumi.prod.yaml"),
            "--output",
            "json",
        ]
    )
    assert code != EXIT_BAD_INPUT
    document = json.loads(capsys.readouterr().out)
    assert document["changed"] is True
    assert any("blue -> green" in line for line in document["summary"])


# -- GPU type suggestions --------------------------------------------------------------------


def test_a100_suggests_the_a100_sizes(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    document = yaml.safe_load((ROOT / "stacks" / "Pulumi.prod.yaml").read_text())
    document["config"]["modelstack:deployments"][0]["gpu"] = {"type": "A100", "count": 1}
    path = tmp_path / "Pulumi.prod.yaml"
    path.write_text(yaml.safe_dump(document))
    assert main(["render", "--stack-file", str(path), "--out", str(tmp_path / "o")]) == 2
    error = capsys.readouterr().err
    assert "unknown GPU type 'A100'; did you mean 'A100-40GB' or 'A100-80GB'?" in error
