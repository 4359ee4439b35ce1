"""`modelstack diff` against the real engine: the same creates, updates, replaces and deletes.

The prod stack is applied once; each edit in the table is then previewed by the real CLI and
provider against that state, and predicted by `modelstack diff`'s comparison of the two offline
renders. Every disagreement is a defect in modelstack's prediction. Edits the engine refuses
(a protected resource deleted or replaced, a PVC shrink the API server forbids) must be the
ones `modelstack diff` marks as refused.
"""

from __future__ import annotations

import copy
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from components.offline.render import render_stack
from components.offline.stack_file import read_stack_file
from tests.e2e.cluster import LocalCluster
from tests.e2e.conftest import HF_TOKEN, STACKS
from tests.e2e.diff_agreement import REFUSED, engine_operations, predicted
from tests.e2e.pulumi_cli import PulumiProject, changed, diagnostics, urn_name
from tests.e2e.test_apply import deployment

pytestmark = pytest.mark.e2e

Edit = Callable[[dict[str, Any]], None]


@dataclass(frozen=True)
class Case:
    name: str
    edit: Edit
    # What the engine must do, where the case is about a promise modelstack makes.
    expect: dict[str, list[str]] | None = None
    # Resource types the engine must leave alone in this edit (e.g. the cache's claim).
    untouched: tuple[str, ...] = field(default=())


def _set(name: str, **values: Any) -> Edit:
    return lambda d: deployment(d, name).update(values)


def _slot(name: str, slot: str, **values: Any) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        target = deployment(document, name)["rollout"]["slots"][slot]
        for key, value in values.items():
            if isinstance(value, dict):
                target.setdefault(key, {}).update(value)
            else:
                target[key] = value

    return edit


def _nested(name: str, key: str, **values: Any) -> Edit:
    return lambda d: deployment(d, name)[key].update(values)


def _remove(name: str) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        items = document["config"]["modelstack:deployments"]
        items[:] = [d for d in items if d["name"] != name]

    return edit


def _add_copy(source: str, name: str) -> Edit:
    def edit(document: dict[str, Any]) -> None:
        items = document["config"]["modelstack:deployments"]
        items.append({**copy.deepcopy(deployment(document, source)), "name": name})

    return edit


def _kubernetes(**values: Any) -> Edit:
    return lambda d: d["config"]["modelstack:kubernetes"].update(values)


DEPLOYMENT = "kubernetes:apps/v1:Deployment"
SERVICE = "kubernetes:core/v1:Service"

CASES = [
    Case(
        "blue-green switch",
        _nested("llama-chat", "rollout", active="green"),
        expect={"update": [f"{SERVICE}::llama-chat"]},
    ),
    Case(
        "image bump of the idle slot",
        _slot("llama-chat", "green", image="vllm/vllm-openai:v0.31.1"),
        expect={"update": [f"{DEPLOYMENT}::llama-chat-green"]},
    ),
    Case(
        "model revision bump",
        _slot("llama-chat", "green", model={"revision": "1" * 40}),
        untouched=("kubernetes:core/v1:PersistentVolumeClaim",),
    ),
    Case("replicas 2 -> 3", _set("llama-chat", replicas=3)),
    Case("replicas of a CPU deployment", _set("summarizer-cpu", replicas=3)),
    Case("env value", _set("llama-chat", env={"VLLM_LOGGING_LEVEL": "DEBUG"})),
    Case("autoscaling maximum", _nested("llama-70b", "autoscaling", max=8)),
    Case("startup timeout", _set("llama-70b", startupTimeoutSeconds=3600)),
    Case("GPU count 2 -> 4", _nested("llama-70b", "gpu", count=4)),
    Case("description", _set("summarizer-cpu", description="Nightly batch summaries")),
    Case("tags", _set("llama-70b", tags={"team": "drafting"})),
    Case("cache grows", _nested("llama-70b", "cache", size="400Gi")),
    Case("cache shrinks", _nested("llama-chat", "cache", size="50Gi")),
    Case("cache storage class", _nested("summarizer-cpu", "cache", storageClass="efs-sc-2")),
    Case("a deployment removed", _remove("summarizer-cpu")),
    Case("a deployment added", _add_copy("summarizer-cpu", "summarizer-two")),
    Case("monitoring off", _kubernetes(monitoring={"enabled": False})),
    Case(
        "blue-green to rolling",
        lambda d: deployment(d, "llama-chat").update(
            rollout={"strategy": "rolling"},
            model={**deployment(d, "llama-chat")["model"], "revision": "main"},
        ),
    ),
    Case("namespace moves", _kubernetes(namespace="ml-prod-2")),
]


@pytest.fixture(scope="module")
def prod(project: PulumiProject, cluster: LocalCluster) -> Iterator[dict[str, Any]]:
    # The namespace the "namespace moves" case moves to exists, as ml-prod does.
    cluster.apply({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "ml-prod-2"}})
    project.add_stack("prod", STACKS / "Pulumi.prod.yaml")
    project.set_secret("prod", "modelstack:hfToken", HF_TOKEN)
    project.up("prod")
    yield project.read_stack("prod")


def _render(path: Path) -> Any:
    return render_stack(read_stack_file(path, "prod"))


@pytest.mark.parametrize("case", CASES, ids=[case.name for case in CASES])
def test_modelstack_diff_agrees_with_the_engine(
    project: PulumiProject, prod: dict[str, Any], case: Case, tmp_path: Path
) -> None:
    base_file = project.stack_file("prod")
    before = _render(base_file)
    document = copy.deepcopy(prod)
    case.edit(document)
    project.write_stack("prod", document)
    try:
        after = _render(base_file)
        preview = project.preview("prod", check=False)
    finally:
        project.write_stack("prod", prod)
    ours = predicted(before, after)

    failed = "_result" in preview or any(
        d.get("severity") == "error" for d in preview.get("diagnostics") or []
    )
    if failed:
        refused = sorted(
            {urn_name(d["urn"]) for d in preview.get("diagnostics") or [] if d.get("urn")}
        )
        assert ours.get(REFUSED), (
            f"the engine refused {refused or 'the edit'} but modelstack diff predicts {ours}:\n"
            f"{diagnostics(preview) or preview['_result'].stderr}"
        )
        # The engine stops at the first refusal it meets: what it names must be predicted.
        assert refused, f"the engine failed without naming a resource:\n{diagnostics(preview)}"
        assert set(refused) <= set(ours[REFUSED]), (refused, ours)
        return
    engine = engine_operations(changed(preview))
    assert REFUSED not in ours, (
        f"modelstack diff refuses {ours[REFUSED]}; the engine plans {engine}"
    )
    assert ours == engine, f"modelstack diff: {ours}\nengine:          {engine}"
    if case.expect is not None:
        assert engine == case.expect
    for kind in case.untouched:
        assert not [n for names in engine.values() for n in names if n.startswith(f"{kind}::")]


def test_destroy_stops_at_the_protected_caches_and_secrets(
    project: PulumiProject, cluster: LocalCluster, prod: dict[str, Any]
) -> None:
    protected = sorted(urn_name(r["urn"]) for r in project.state("prod") if r.get("protect"))
    assert {n.split("::")[0] for n in protected} == {
        "kubernetes:core/v1:PersistentVolumeClaim",
        "kubernetes:core/v1:Secret",
    }, protected
    result = project.destroy("prod", check=False)
    assert result.returncode != 0
    assert "protected" in result.stdout + result.stderr
    # Nothing protected was deleted: every claim is still there.
    for name in protected:
        kind, resource = name.split("::")
        if kind.endswith("PersistentVolumeClaim"):
            assert cluster.exists(f"/api/v1/namespaces/ml-prod/persistentvolumeclaims/{resource}")
