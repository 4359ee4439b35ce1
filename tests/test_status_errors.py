"""`modelstack status` before any status: a missing kubeconfig file, an unknown context, and
`--json` errors as one JSON document on stdout (issue 19, first hour item 11)."""

from __future__ import annotations

import json
import socket
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.cli import main
from components.status.kubernetes_reader import KubeconfigError, KubernetesStatusReader
from tests.conftest import STACKS

PROD = STACKS / "Pulumi.prod.yaml"  # kubernetes.context: prod-eks
STAGING = STACKS / "Pulumi.staging.yaml"  # no context: the kubeconfig's current one
EXIT_BAD_INPUT = 2
EXIT_UNREACHABLE = 4


def write_kubeconfig(path: Path, contexts: dict[str, str], current: str | None = None) -> Path:
    """A kubeconfig with one cluster per context, each at the given server URL."""
    document: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": name, "cluster": {"server": url}} for name, url in contexts.items()],
        "users": [{"name": "ci", "user": {"token": "not-a-real-token"}}],
        "contexts": [
            {"name": name, "context": {"cluster": name, "user": "ci"}} for name in contexts
        ],
    }
    if current is not None:
        document["current-context"] = current
    path.write_text(yaml.safe_dump(document))
    return path


def status(*args: str) -> int:
    return main(["status", "--stack-file", *args])


def json_document(out: str) -> dict[str, Any]:
    """stdout must be exactly one JSON document (json.loads refuses trailing text)."""
    document = json.loads(out)
    assert isinstance(document, dict)
    return document


def unused_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_a_missing_kubeconfig_file_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "kubeconfig"
    assert status(str(PROD), "--kubeconfig", str(missing)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"kubeconfig file {missing} (--kubeconfig) does not exist" in err
    assert "Invalid kube-config" not in err


def test_every_missing_file_of_kubeconfig_env_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    first, second = tmp_path / "a", tmp_path / "b"
    monkeypatch.setenv("KUBECONFIG", f"{first}:{second}")
    assert status(str(PROD)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"kubeconfig files {first}, {second} ($KUBECONFIG): none of them exists" in err


def test_the_default_kubeconfig_is_named_when_missing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.delenv("KUBECONFIG", raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    assert status(str(PROD)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert f"kubeconfig file {tmp_path}/.kube/config (the default) does not exist" in err


def test_a_directory_as_kubeconfig_says_so(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert status(str(PROD), "--kubeconfig", str(tmp_path)) == EXIT_BAD_INPUT
    assert "is a directory, not a file" in capsys.readouterr().err


def test_an_unknown_context_lists_the_contexts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = write_kubeconfig(
        tmp_path / "kubeconfig",
        {"dev-kind": "http://127.0.0.1:1", "staging-gke": "http://127.0.0.1:1"},
        "dev-kind",
    )
    assert status(str(PROD), "--kubeconfig", str(kubeconfig)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert (
        "context 'prod-eks' (the stack file's kubernetes.context) is not in the kubeconfig" in err
    )
    assert "its contexts: dev-kind, staging-gke" in err
    assert "Invalid kube-config" not in err


def test_contexts_of_every_kubeconfig_env_file_are_merged(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    first = write_kubeconfig(tmp_path / "a", {"dev-kind": "http://127.0.0.1:1"}, "dev-kind")
    second = write_kubeconfig(tmp_path / "b", {"other": "http://127.0.0.1:1"})
    monkeypatch.setenv("KUBECONFIG", f"{first}:{tmp_path / 'gone'}:{second}")
    with pytest.raises(KubeconfigError) as raised:
        KubernetesStatusReader("ml-prod", "prod-eks")
    assert raised.value.reason == "UnknownContext"
    assert raised.value.details["contexts"] == ["dev-kind", "other"]
    # A listed file that exists is enough (kubectl skips the missing ones).
    reader = KubernetesStatusReader("ml-prod", "other")
    reader.close()


def test_no_context_anywhere_says_so_and_lists_the_contexts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"a": "http://127.0.0.1:1"})
    assert status(str(STAGING), "--kubeconfig", str(kubeconfig)) == EXIT_BAD_INPUT
    err = capsys.readouterr().err
    assert "sets no current context and the stack file names none" in err
    assert "its contexts: a" in err


def test_a_kubeconfig_that_is_not_yaml_is_named(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("clusters: [\n")
    assert status(str(PROD), "--kubeconfig", str(kubeconfig)) == EXIT_BAD_INPUT
    assert f"kubeconfig file {kubeconfig} is not readable as YAML" in capsys.readouterr().err


# -- --json: errors on stdout as one document, exit codes unchanged --------------------------


def test_json_unknown_context_is_one_document_with_the_contexts(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"dev-kind": "http://x"}, "dev-kind")
    assert status(str(PROD), "--kubeconfig", str(kubeconfig), "--json") == EXIT_BAD_INPUT
    captured = capsys.readouterr()
    document = json_document(captured.out)
    assert document["error"].startswith("context 'prod-eks'")
    assert document["reason"] == "UnknownContext"
    assert document["exitCode"] == EXIT_BAD_INPUT
    assert document["context"] == "prod-eks"
    assert document["contexts"] == ["dev-kind"]
    assert document["kubeconfig"] == [str(kubeconfig)]
    assert "context 'prod-eks'" in captured.err  # people still read it


def test_json_missing_kubeconfig_is_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nope"
    assert status(str(PROD), "--kubeconfig", str(missing), "--json") == EXIT_BAD_INPUT
    document = json_document(capsys.readouterr().out)
    assert document["reason"] == "KubeconfigNotFound"
    assert document["kubeconfig"] == [str(missing)]
    assert document["source"] == "--kubeconfig"


def test_json_bad_stack_file_is_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "Pulumi.gone.yaml"
    assert status(str(missing), "--json") == EXIT_BAD_INPUT
    document = json_document(capsys.readouterr().out)
    assert document["reason"] == "StackFileInvalid"
    assert str(missing) in document["error"]


def test_json_bad_stack_config_is_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    document = yaml.safe_load(STAGING.read_text())
    document["config"]["modelstack:deployments"][0]["replicsa"] = 2
    stack_file = tmp_path / "Pulumi.staging.yaml"
    stack_file.write_text(yaml.safe_dump(document))
    assert status(str(stack_file), "--json") == EXIT_BAD_INPUT
    report = json_document(capsys.readouterr().out)
    assert report["reason"] == "StackConfigInvalid"
    assert "replicsa" in report["error"]


def test_json_unreachable_cluster_keeps_exit_4(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"http://127.0.0.1:{unused_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"prod-eks": nowhere}, "prod-eks")
    assert status(str(PROD), "--kubeconfig", str(kubeconfig), "--json") == EXIT_UNREACHABLE
    document = json_document(capsys.readouterr().out)
    assert document["reason"] == "Unreachable"
    assert document["exitCode"] == EXIT_UNREACHABLE
    assert "cannot reach the cluster" in document["error"]


def test_json_watch_that_never_reaches_the_cluster_ends_in_one_document(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    nowhere = f"http://127.0.0.1:{unused_port()}"
    kubeconfig = write_kubeconfig(tmp_path / "kubeconfig", {"prod-eks": nowhere}, "prod-eks")
    args = ["--kubeconfig", str(kubeconfig), "--json", "--watch", "--timeout", "0.1"]
    assert status(str(PROD), *args) == EXIT_UNREACHABLE
    captured = capsys.readouterr()
    document = json_document(captured.out)
    assert document["reason"] == "Unreachable"
    assert "cannot read the cluster" in document["error"]
