"""Helpers for hostile-input tests: run the CLI on a stack, check what it rendered stays inert."""

from __future__ import annotations

import contextlib
import copy
import io
import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import promql_parser
import yaml

from components.cli import main
from tests.conftest import stack_document
from tests.support.nginx_process import NGINX, nginx_available

SH = shutil.which("sh") or "/bin/sh"


@dataclass(frozen=True)
class Outcome:
    code: int
    stderr: str
    out: Path


def run_render(directory: Path, text: str | bytes, name: str = "hostile") -> Outcome:
    """`modelstack render --stack-file` on this text, in-process; stderr captured."""
    path = directory / f"Pulumi.{name}.yaml"
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    out = directory / "render"
    errors = io.StringIO()
    with contextlib.redirect_stderr(errors), contextlib.redirect_stdout(io.StringIO()):
        code = main(["render", "--stack-file", str(path), "--out", str(out)])
    return Outcome(code, errors.getvalue(), out)


def document_with(base: str, changes: dict[str, Any]) -> dict[str, Any]:
    """A committed stack with values set at key paths such as `deployments[0].model.source`
    (the `modelstack:` namespace implied) or `config.<raw key>`."""
    document = copy.deepcopy(stack_document(base))
    for path, value in changes.items():
        set_at(document, path, value)
    return document


def set_at(document: dict[str, Any], path: str, value: Any) -> None:
    parts: list[str | int] = []
    for piece in re.findall(r"[^.\[\]]+|\[\d+\]", path):
        parts.append(int(piece[1:-1]) if piece.startswith("[") else piece)
    if parts[0] == "config":
        node: Any = document["config"]
        parts = parts[1:]
    else:
        node = document["config"]
        parts[0] = f"modelstack:{parts[0]}"
    for part in parts[:-1]:
        if isinstance(part, str) and part not in node:
            node[part] = {}
        node = node[part]
    node[parts[-1]] = value


def dump(document: dict[str, Any]) -> str:
    return yaml.safe_dump(document, sort_keys=False, allow_unicode=True)


def rendered_documents(out: Path) -> list[dict[str, Any]]:
    return [yaml.safe_load(p.read_text()) for p in sorted(out.rglob("*.yaml"))]


def shell_scripts(documents: list[dict[str, Any]]) -> list[list[str]]:
    """Every `sh -c SCRIPT ARG...` command of every container (loaders, wait-for-model)."""
    found = []
    for document in documents:
        for container in _containers(document):
            command = [*(container.get("command") or []), *(container.get("args") or [])]
            if len(command) >= 3 and command[0].endswith("sh") and command[1] == "-c":
                found.append(command)
    return found


def _containers(document: dict[str, Any]) -> list[dict[str, Any]]:
    spec = document.get("spec") or {}
    template = (spec.get("template") or {}).get("spec") or spec.get("jobTemplate") or {}
    pod = template if "containers" in template else {}
    return [*(pod.get("containers") or []), *(pod.get("initContainers") or [])]


def check_shell(command: list[str]) -> None:
    """The script parses (`sh -n`); it is a template of ours, never stack text."""
    checked = subprocess.run([SH, "-n", "-c", command[2]], capture_output=True, text=True)
    assert checked.returncode == 0, (command[2], checked.stderr)


def promql_queries(documents: list[dict[str, Any]]) -> list[str]:
    """Autoscaling queries and alert expressions."""
    queries = []
    for document in documents:
        if document.get("kind") == "PrometheusRule":
            for group in document["spec"]["groups"]:
                queries += [rule["expr"] for rule in group["rules"]]
        if document.get("kind") != "ScaledObject":
            continue
        for trigger in document["spec"].get("triggers", []):
            query = (trigger.get("metadata") or {}).get("query")
            if query:
                queries.append(query)
    return queries


def check_promql(query: str) -> None:
    promql_parser.parse(query)  # raises ValueError on a syntax error


def gateway_configs(out: Path) -> list[str]:
    configs = []
    for path in sorted((out / "checks").glob("*.yaml")) if (out / "checks").exists() else []:
        inputs = (yaml.safe_load(path.read_text()) or {}).get("inputs") or {}
        if isinstance(inputs.get("config"), str) and "http {" in inputs["config"]:
            configs.append(inputs["config"])
    return configs


def check_nginx(config: str, directory: Path) -> None:
    """`nginx -t` on the config, its runtime paths moved under `directory`."""
    assert nginx_available(), f"{NGINX} missing: apt-get install -y nginx-light"
    config = config.replace("/tmp/", f"{directory}/")  # pid and temp files
    path = directory / "nginx.conf"
    path.write_text(config)
    tested = subprocess.run(
        [NGINX, "-t", "-q", "-p", str(directory), "-c", str(path)],
        capture_output=True,
        text=True,
    )
    assert tested.returncode == 0, tested.stderr
