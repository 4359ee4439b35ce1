"""What the docker target cannot honour is a stack-file error with its key path, never dropped."""

from __future__ import annotations

from typing import Any

import pytest

from components.errors import StackConfigError
from components.plan import build_plan
from components.stack_config import parse_stack_spec
from tests.conftest import deployments_of, stack_document


def _plan_dev(**changes: Any) -> None:
    document = stack_document("dev")
    deployments_of(document)[0].update(changes)
    raw = {k.removeprefix("modelstack:"): v for k, v in document["config"].items()}
    build_plan(parse_stack_spec(raw, set(), "dev"), "dev")


@pytest.mark.parametrize(
    ("changes", "key", "words"),
    [
        ({"cache": {"size": "5Gi", "storageClass": "fast"}}, "cache.storageClass", "storage class"),
        ({"rollout": {"strategy": "rolling", "maxSurge": 2}}, "rollout.maxSurge", "healthy"),
        (
            {"rollout": {"strategy": "rolling", "maxUnavailable": 1}},
            "rollout.maxUnavailable",
            "healthy",
        ),
        ({"imagePullSecrets": ["team-regcred"]}, "imagePullSecrets", "modelstack:registries"),
    ],
)
def test_kubernetes_only_fields_are_refused_on_docker(
    changes: dict[str, Any], key: str, words: str
) -> None:
    with pytest.raises(StackConfigError) as raised:
        _plan_dev(**changes)
    assert f"deployments[0].{key}" in str(raised.value)
    assert words in str(raised.value)


def test_the_committed_dev_stack_has_none_of_them() -> None:
    _plan_dev()
