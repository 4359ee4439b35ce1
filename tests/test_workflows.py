"""The GitHub Actions pipelines users copy: structure, approvals, and where secrets may go."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.guardrails.env_secrets import looks_secret
from tests.conftest import ROOT, STACK_NAMES

WORKFLOWS = ROOT / ".github" / "workflows"
REVIEW = WORKFLOWS / "review.yml"
DEPLOY = WORKFLOWS / "deploy.yml"
ACTIONLINT_CONFIG = ROOT / ".github" / "actionlint.yaml"
ACTIONLINT = ROOT / ".venv" / "bin" / "actionlint"
# Actions the pipelines may use, at these major versions: each one's first major on the Node 24
# runtime or later (GitHub removed Node 20 from its runners on 2026-09-23).
ALLOWED_ACTIONS = {
    "actions/checkout@v7",
    "actions/setup-python@v7",
    "actions/github-script@v9",
    "actions/upload-artifact@v7",
    "pulumi/actions@v7",
}
# pulumi/actions v7 inputs as its README documents them (only those used here need be listed).
PULUMI_ACTION_INPUTS = {
    "command",
    "stack-name",
    "work-dir",
    "cloud-url",
    "comment-on-pr",
    "comment-on-summary",
    "github-token",
    "policyPacks",
    "policyPackConfigs",
    "diff",
    "always-include-summary",
    "refresh",
    "upsert",
    "secrets-provider",
    "pulumi-version",
}
SECRET_EXPRESSION = re.compile(r"^\$\{\{\s*secrets(\.[A-Z0-9_]+|\[[^\]]+\])\s*\}\}$")
# Shapes of real credentials: none may appear in a workflow file.
CREDENTIAL_LITERALS = re.compile(
    r"pul-[0-9a-f]{20,}|hf_[A-Za-z0-9]{20,}|gh[pousr]_[A-Za-z0-9]{20,}|BEGIN [A-Z ]*PRIVATE KEY"
    r"|client-key-data:|token: [A-Za-z0-9._-]{20,}"
)


def load(path: Path) -> dict[str, Any]:
    document = yaml.safe_load(path.read_text())
    # YAML 1.1 reads the bare key `on` as True.
    document["on"] = document.pop(True, document.get("on"))
    return document


def steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return job.get("steps", [])


def pulumi_steps(job: dict[str, Any]) -> list[dict[str, Any]]:
    return [s for s in steps(job) if str(s.get("uses", "")).startswith("pulumi/actions@")]


def run_text(job: dict[str, Any]) -> str:
    return "\n".join(str(s.get("run", "")) for s in steps(job))


def env_blocks(document: dict[str, Any]) -> list[dict[str, Any]]:
    blocks = [document.get("env") or {}]
    for job in document["jobs"].values():
        blocks.append(job.get("env") or {})
        blocks += [s.get("env") or {} for s in steps(job)]
        blocks += [s.get("with") or {} for s in steps(job)]
    return blocks


@pytest.fixture(scope="module")
def review() -> dict[str, Any]:
    return load(REVIEW)


@pytest.fixture(scope="module")
def deploy() -> dict[str, Any]:
    return load(DEPLOY)


def test_review_runs_on_pull_requests_to_main(review: dict[str, Any]) -> None:
    assert review["on"] == {"pull_request": {"branches": ["main"]}}


def test_review_validates_offline_before_any_preview(review: dict[str, Any]) -> None:
    jobs = review["jobs"]
    assert list(jobs) == ["validate", "preview"]
    assert "needs" not in jobs["validate"]
    assert jobs["preview"]["needs"] == "validate"


def test_the_validate_job_needs_no_secret(review: dict[str, Any], deploy: dict[str, Any]) -> None:
    for document in (review, deploy):
        validate = document["jobs"]["validate"]
        assert "secrets" not in yaml.safe_dump(validate)
        assert "secrets" not in yaml.safe_dump(document.get("env") or {})
        assert "environment" not in validate
        assert not pulumi_steps(validate)


def test_the_validate_job_runs_the_offline_checks_on_every_stack(review: dict[str, Any]) -> None:
    validate = review["jobs"]["validate"]
    uses = [s.get("uses") for s in steps(validate)]
    assert uses[:2] == ["actions/checkout@v7", "actions/setup-python@v7"]
    assert steps(validate)[0]["with"]["fetch-depth"] == 0  # diff reads origin/<base>
    script = run_text(validate)
    for command in ("make setup", "make crd-schemas"):
        assert command in script
    # Rendered once; the same files are validated and kept for reviewers.
    assert '.venv/bin/modelstack render --stack "$stack" --out "build/render/$stack"' in script
    assert (
        '.venv/bin/modelstack validate --stack "$stack" --render-dir "build/render/$stack"'
        in script
    )
    assert "--crd-schemas build/crd-schemas" in script
    assert "actions/upload-artifact@v7" in uses
    assert '--against "origin/$BASE_REF"' in script and "--format markdown" in script
    assert review["env"]["STACKS"].split() == list(STACK_NAMES)
    assert "actions/github-script@v9" in uses  # the diff as a pull request comment


def test_preview_runs_per_stack_with_the_policy_pack_and_comments(review: dict[str, Any]) -> None:
    preview = review["jobs"]["preview"]
    matrix = preview["strategy"]["matrix"]["include"]
    assert [entry["stack"] for entry in matrix] == list(STACK_NAMES)
    [step] = pulumi_steps(preview)
    inputs = step["with"]
    assert inputs["command"] == "preview"
    assert inputs["stack-name"] == "${{ matrix.stack }}"
    assert inputs["policyPacks"] == "policies"
    assert inputs["policyPackConfigs"] == "policies/config/${{ matrix.environment }}.json"
    assert inputs["comment-on-pr"] is True
    for entry in matrix:
        assert (ROOT / "policies" / "config" / f"{entry['environment']}.json").is_file()
    assert preview["env"]["PULUMI_ACCESS_TOKEN"] == "${{ secrets.PULUMI_ACCESS_TOKEN }}"


def test_deploy_runs_on_push_to_main(deploy: dict[str, Any]) -> None:
    assert deploy["on"] == {"push": {"branches": ["main"]}}


def test_deploy_applies_staging_dev_and_prod_behind_approval(deploy: dict[str, Any]) -> None:
    jobs = deploy["jobs"]
    assert jobs["up-staging"]["needs"] == "validate"
    assert jobs["up-dev"]["needs"] == "validate"
    prod = jobs["up-prod"]
    assert prod["environment"] == "production"
    assert "up-staging" in prod["needs"] and "preview-prod" in prod["needs"]
    # Only a machine that keeps its containers can host dev: a self-hosted Docker runner.
    assert "self-hosted" in jobs["up-dev"]["runs-on"]
    assert jobs["up-dev"]["if"] == "vars.DEPLOY_DEV == 'true'"
    for name, stack in (("up-staging", "staging"), ("up-dev", "dev"), ("up-prod", "prod")):
        [step] = pulumi_steps(jobs[name])
        assert step["with"]["command"] == "up"
        assert step["with"]["stack-name"] == stack
        assert step["with"]["policyPacks"] == "policies"
        assert step["with"]["policyPackConfigs"] == f"policies/config/{stack}.json"
        assert jobs[name]["concurrency"] == {
            "group": f"pulumi-{stack}",
            "cancel-in-progress": False,
        }


def test_only_the_approved_job_uses_the_production_environment(deploy: dict[str, Any]) -> None:
    environments = {name: job.get("environment") for name, job in deploy["jobs"].items()}
    assert [name for name, env in environments.items() if env == "production"] == ["up-prod"]


@pytest.mark.parametrize("path", [REVIEW, DEPLOY], ids=lambda p: p.name)
def test_secrets_come_only_from_the_secret_store(path: Path) -> None:
    text = path.read_text()
    assert not CREDENTIAL_LITERALS.search(text)
    for block in env_blocks(load(path)):
        for key, value in block.items():
            if looks_secret(key) or "KUBECONFIG" in key or "PASSPHRASE" in key:
                assert SECRET_EXPRESSION.match(str(value)), f"{path.name}: {key}={value!r}"


@pytest.mark.parametrize("path", [REVIEW, DEPLOY], ids=lambda p: p.name)
def test_only_known_actions_with_documented_inputs(path: Path) -> None:
    for job in load(path)["jobs"].values():
        for step in steps(job):
            if "uses" not in step:
                continue
            assert step["uses"] in ALLOWED_ACTIONS
            if step["uses"].startswith("pulumi/actions@"):
                assert set(step["with"]) <= PULUMI_ACTION_INPUTS


def test_the_comment_script_avoids_what_github_script_v9_removed(review: dict[str, Any]) -> None:
    # v9 ships @actions/github as ESM (require fails) and injects getOctokit (redeclaring fails).
    [step] = [s for s in steps(review["jobs"]["validate"]) if "github-script" in s.get("uses", "")]
    script = step["with"]["script"]
    assert "@actions/github" not in script
    assert not re.search(r"\b(const|let|var)\s+getOctokit\b", script)


def test_actionlint_declares_the_self_hosted_label_the_dev_job_runs_on(
    deploy: dict[str, Any],
) -> None:
    config = yaml.safe_load(ACTIONLINT_CONFIG.read_text())
    labels = set(deploy["jobs"]["up-dev"]["runs-on"]) - {"self-hosted", "linux"}
    assert labels == {"modelstack-dev"}
    assert set(config["self-hosted-runner"]["labels"]) == labels


def test_actionlint_knows_every_secret_and_variable_the_workflows_read() -> None:
    config = yaml.safe_load(ACTIONLINT_CONFIG.read_text())
    text = REVIEW.read_text() + DEPLOY.read_text()
    assert set(re.findall(r"secrets\.([A-Z0-9_]+)", text)) == set(config["config-secrets"])
    assert set(re.findall(r"vars\.([A-Z0-9_]+)", text)) == set(config["config-variables"])


def _actionlint(*args: str, stdin: str | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(ACTIONLINT), "-oneline", "-no-color", *args],
        cwd=ROOT,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


needs_shellcheck = pytest.mark.skipif(
    shutil.which("shellcheck") is None and not os.environ.get("CI"),
    reason="shellcheck is not installed (apt-get install -y shellcheck); CI must have it",
)


@needs_shellcheck
def test_actionlint_with_shellcheck_passes_the_workflows() -> None:
    assert shutil.which("shellcheck"), "shellcheck missing: apt-get install -y shellcheck"
    result = _actionlint()
    assert result.returncode == 0, result.stdout + result.stderr


@needs_shellcheck
def test_actionlint_runs_shellcheck_on_run_scripts_and_flags_node20_actions() -> None:
    # What `make lint` would report for a workflow a user edited: a node20 action, an
    # unknown runner label, and an unquoted variable in a run: script (shellcheck SC2086).
    workflow = """name: edited
on: push
jobs:
  build:
    runs-on: [self-hosted, modelstack-dve]
    steps:
      - uses: actions/checkout@v4
      - run: ls $RUNNER_TEMP/*.json
"""
    result = _actionlint("-config-file", str(ACTIONLINT_CONFIG), "-", stdin=workflow)
    assert result.returncode == 1
    assert 'runtime "node20"' in result.stdout and "actions/checkout@v4" in result.stdout
    assert 'label "modelstack-dve" is unknown' in result.stdout
    assert "SC2086" in result.stdout


def test_make_lint_stops_with_a_clear_message_without_shellcheck(tmp_path: Path) -> None:
    make = shutil.which("make")
    assert make, "make is needed to run the project's targets"
    # An empty PATH: no shellcheck. `-o .venv/.synced` keeps make from re-running setup.
    result = subprocess.run(
        [make, "-s", "-o", ".venv/.synced", "lint"],
        cwd=ROOT,
        env={"PATH": str(tmp_path)},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode != 0
    assert "shellcheck is missing" in result.stderr
    assert "apt-get install -y shellcheck" in result.stderr
