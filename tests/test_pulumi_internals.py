"""The Pulumi SDK internals modelstack uses still exist with the shape it relies on.

A failure here after a `pulumi` upgrade names the SDK name that moved: re-read it in the new
release and update components/pulumi_internals.py (and its CHECKED_AGAINST).
"""

from __future__ import annotations

import ast
import importlib
import inspect
from contextvars import ContextVar
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from components import pulumi_internals as sdk
from components.pulumi_internals import SDK_USES, SdkUse

COMPONENTS = Path(__file__).resolve().parent.parent / "components"


def _resolve(use: SdkUse) -> Any:
    owner: Any = importlib.import_module(use.module)
    for part in use.name.split("."):
        if use.shape == "instance_attribute" and part == use.name.split(".")[-1]:
            break
        assert hasattr(owner, part), f"{use.module}.{use.name}: {part} is gone"
        owner = getattr(owner, part)
    return owner


@pytest.mark.parametrize("use", SDK_USES, ids=lambda use: f"{use.module}.{use.name}")
def test_each_sdk_name_has_the_shape_it_is_used_with(use: SdkUse) -> None:
    found = _resolve(use)
    if use.shape == "str":
        assert isinstance(found, str) and found
    elif use.shape == "class":
        assert inspect.isclass(found)
    elif use.shape == "context_var":
        assert isinstance(found, ContextVar)
    elif use.shape == "callable":
        assert callable(found)
        names = [name for name in inspect.signature(found).parameters if name != "self"]
        assert names[: len(use.parameters)] == list(use.parameters), names
    else:
        # An attribute MockMonitor sets in __init__: it exists on a fresh instance.
        attribute = use.name.split(".")[-1]
        instance = found(_NoMocks())
        assert isinstance(getattr(instance, attribute), dict)


class _NoMocks(sdk.Mocks):
    def new_resource(self, args: Any) -> tuple[str, dict[str, Any]]:
        return "", {}

    def call(self, args: Any) -> dict[str, Any]:
        return {}


def test_the_registration_mock_monitor_keeps_is_urn_id_state() -> None:
    registration = sdk.MockMonitor.ResourceRegistration("urn", "id", {"a": 1})
    assert registration._replace(state={}) == ("urn", "id", {})


def test_the_uses_were_checked_against_the_installed_sdk() -> None:
    assert version("pulumi") == sdk.CHECKED_AGAINST
    assert {use.checked_against for use in SDK_USES} == {sdk.CHECKED_AGAINST}


def test_the_uses_were_checked_against_the_locked_sdk() -> None:
    lock = (COMPONENTS.parent / "uv.lock").read_text()
    assert f'name = "pulumi"\nversion = "{sdk.CHECKED_AGAINST}"' in lock


def _runtime_importers() -> list[str]:
    importers = []
    for path in sorted(COMPONENTS.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.ImportFrom) and node.module:
                names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
            elif isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            if any(name.startswith("pulumi.runtime") for name in names) or any(
                node.module == "pulumi" and alias.name == "runtime"
                for alias in getattr(node, "names", [])
                if isinstance(node, ast.ImportFrom)
            ):
                importers.append(str(path.relative_to(COMPONENTS.parent)))
    return sorted(set(importers))


def test_pulumi_internals_is_the_only_importer_of_the_sdk_runtime() -> None:
    assert _runtime_importers() == ["components/pulumi_internals.py"]
