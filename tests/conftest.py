"""Shared helpers: stack files as dicts, renders through the real program under mocks."""

from __future__ import annotations

import copy
import os
from pathlib import Path
from typing import Any

import pytest
import yaml

from components.offline.crd_schemas import HOW_TO_GET_SCHEMAS, find_crd_schema_dir
from components.offline.render import Render, render_stack
from components.offline.schema_validation import SchemaValidator
from components.offline.stack_file import read_stack_file

ROOT = Path(__file__).resolve().parents[1]
STACKS = ROOT / "stacks"
STACK_NAMES = ("dev", "staging", "prod")
KUBERNETES_STACKS = ("staging", "prod")


def stack_document(name: str) -> dict[str, Any]:
    return yaml.safe_load((STACKS / f"Pulumi.{name}.yaml").read_text())


def deployments_of(document: dict[str, Any]) -> list[dict[str, Any]]:
    return document["config"]["modelstack:deployments"]


def write_stack(directory: Path, document: dict[str, Any], name: str = "test") -> Path:
    path = directory / f"Pulumi.{name}.yaml"
    path.write_text(yaml.safe_dump(document, sort_keys=False))
    return path


def render_document(directory: Path, document: dict[str, Any], name: str = "test") -> Render:
    return render_stack(read_stack_file(write_stack(directory, document, name)))


def objects_by_file(render: Render) -> dict[str, dict[str, Any]]:
    return render.object_files()


def find_object(render: Render, kind: str, name: str) -> dict[str, Any]:
    matches = [o for o in render.objects if o["kind"] == kind and o["metadata"]["name"] == name]
    assert len(matches) == 1, f"expected one {kind}/{name}, found {len(matches)}"
    return matches[0]


def find_resource(render: Render, type_: str, name: str) -> dict[str, Any]:
    matches = [r for r in render.resources if r["type"] == type_ and r["name"] == name]
    assert len(matches) == 1, f"expected one {type_}::{name}, found {len(matches)}"
    return matches[0]


def with_changes(document: dict[str, Any], change: Any) -> dict[str, Any]:
    """A deep copy of `document` after `change(copy)` edits it."""
    edited = copy.deepcopy(document)
    change(edited)
    return edited


@pytest.fixture(scope="session")
def crd_dir() -> Path:
    found = find_crd_schema_dir()
    if found is None:
        # CI has ../shared; there these tests must run, never skip.
        if os.environ.get("CI"):
            pytest.fail("CRD schemas not found in CI: " + HOW_TO_GET_SCHEMAS)
        pytest.skip(HOW_TO_GET_SCHEMAS)
    return found


@pytest.fixture(scope="session")
def schema_validator(crd_dir: Path) -> SchemaValidator:
    return SchemaValidator("1.33", crd_dir)


@pytest.fixture(scope="session")
def stack_renders() -> dict[str, Render]:
    """Each committed stack rendered once for the session."""
    return {
        name: render_stack(read_stack_file(STACKS / f"Pulumi.{name}.yaml")) for name in STACK_NAMES
    }
