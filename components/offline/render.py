"""Offline render: what `pulumi up` would send, as files a reviewer (or CI) can read.

Layout of the output directory (stable: pipelines and `modelstack diff` rely on it):
    kubernetes/<kind>-<name>.yaml   one document per Kubernetes object
    docker/<type>-<name>.yaml       one document per docker resource (docker target)
    checks/<name>.yaml              dynamic resources: gateway config, endpoint checks
    resources.json                  every resource: type, name, parent, dependencies, options
    outputs.json                    the stack outputs
Secret values never appear: Pulumi secrets are redacted, and the placeholders that
stand in for `secure:` values are redacted too wherever they surface.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import yaml

from components.offline.render_marker import remove_previous, write_marker
from components.offline.render_model import (
    CHECKS_DIR,
    DOCKER_DIR,
    KUBERNETES_DIR,
    OUTPUTS_FILE,
    RESOURCES_FILE,
    Render,
    object_file_name,
    project_root,
)
from components.offline.runtime import (
    ProgramRun,
    RecordedResource,
    collector_restored,
    is_secret,
    run_program,
)
from components.offline.stack_file import StackConfig
from components.offline.wire_values import REDACTED, NotPlainWire, WireReader
from components.stack_config import STACK_FILE_ENV

PROJECT = "modelstack"
_DYNAMIC_TYPE = "pulumi-python:dynamic:Resource"
# Inputs of a dynamic resource that carry the pickled provider, not desired state.
_DYNAMIC_INTERNALS = ("__provider",)


def render_stack(config: StackConfig, root: Path | None = None) -> Render:
    """Run the project's real `__main__.py` under mocks with this stack's config."""
    root = root or project_root()
    # The program's garbage collector setting holds until the files are built too.
    with collector_restored():
        run = run_program(
            root / "__main__.py",
            project=PROJECT,
            stack_name=config.stack_name,
            config=config.values,
            secret_keys=list(config.secret_keys),
            environment={STACK_FILE_ENV: str(config.stack_file)},
        )
        return build_render(run, config.placeholders)


def build_render(run: ProgramRun, placeholders: tuple[str, ...]) -> Render:
    ids = {resource.urn: resource_id(resource) for resource in run.resources}
    leaks: list[str] = []
    objects = []
    other_files: dict[str, dict[str, Any]] = {}
    reader = WireReader(placeholders)
    for resource in run.resources:
        directory = _directory_of(resource)
        if directory is None:
            continue
        body, leaked = _rendered_inputs(resource, reader, placeholders)
        if leaked:
            leaks.append(ids[resource.urn])
        if directory == KUBERNETES_DIR:
            objects.append(_head_first(body))
        else:
            kind = resource.type.rsplit(":", 1)[-1].lower()
            stem = resource.name if directory == CHECKS_DIR else f"{kind}-{resource.name}"
            other_files[f"{directory}/{stem}.yaml"] = {
                "type": resource.type,
                "name": resource.name,
                "inputs": body,
            }
    objects.sort(key=object_file_name)
    resources = sorted(
        (_describe(resource, ids) for resource in run.resources), key=lambda r: r["id"]
    )
    outputs, leaked = _scrub(_sorted(_normalize(run.outputs)), placeholders)
    if leaked:
        leaks.append("stack outputs")
    return Render(
        objects=objects,
        resources=resources,
        outputs=outputs,
        leaks=leaks,
        other_files=dict(sorted(other_files.items())),
    )


def _rendered_inputs(
    resource: RecordedResource, reader: WireReader, placeholders: tuple[str, ...]
) -> tuple[dict[str, Any], bool]:
    """The inputs as the render shows them (keys sorted, integral numbers as ints, secrets
    and placeholders redacted), and whether a placeholder showed outside a secret.

    Read straight from the wire where the monitor left them encoded (wire_values.py);
    decoded by the SDK otherwise (unknowns, references, assets).
    """
    if resource.decoded_inputs is None:
        try:
            return reader.read(resource.wire_inputs, skip=_DYNAMIC_INTERNALS), reader.leaked
        except NotPlainWire:
            pass
    inputs = {k: v for k, v in resource.inputs.items() if k not in _DYNAMIC_INTERNALS}
    body, leaked = _scrub(_normalize(inputs), placeholders)
    return _sorted(body), leaked


def _directory_of(resource: RecordedResource) -> str | None:
    """Where a resource's document goes; None for components and providers."""
    if not resource.custom or resource.type.startswith("pulumi:providers:"):
        return None
    if resource.type.startswith("kubernetes:"):
        return KUBERNETES_DIR
    if resource.type.startswith("docker:"):
        return DOCKER_DIR
    if resource.type == _DYNAMIC_TYPE:
        return CHECKS_DIR
    return None


def write_render(render: Render, out: Path) -> list[Path]:
    """Replace a previous render in `out` with this one: only the files its marker lists are
    removed, so a user's own files there survive (render_marker.py)."""
    remove_previous(out)
    out.mkdir(parents=True, exist_ok=True)
    written = []
    for relative, obj in render.object_files().items():
        path = out / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(to_yaml(obj), encoding="utf-8")
        written.append(path)
    for name, data in ((RESOURCES_FILE, render.resources), (OUTPUTS_FILE, render.outputs)):
        path = out / name
        path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
        written.append(path)
    write_marker(out, written)
    return written


def render_stream(render: Render) -> str:
    """Every resource document as one multi-document YAML stream (`render --out -`)."""
    files = render.object_files()
    return "".join(f"---\n# {name}\n{to_yaml(files[name])}" for name in files)


class _Dumper(yaml.SafeDumper):
    """Multi-line strings (scripts, nginx configs) as literal blocks, readable in review."""


def _represent_text(dumper: yaml.SafeDumper, text: str) -> yaml.ScalarNode:
    style = "|" if "\n" in text else None
    return dumper.represent_scalar("tag:yaml.org,2002:str", text, style=style)


_Dumper.add_representer(str, _represent_text)


def to_yaml(obj: dict[str, Any]) -> str:
    return yaml.dump(obj, Dumper=_Dumper, sort_keys=False, default_flow_style=False, width=100)


def resource_id(resource: RecordedResource) -> str:
    return f"{resource.type}::{resource.name}"


def _describe(resource: RecordedResource, ids: dict[str, str]) -> dict[str, Any]:
    return {
        "id": resource_id(resource),
        "type": resource.type,
        "name": resource.name,
        "parent": ids.get(resource.parent),
        "provider": _provider_id(resource.provider),
        "dependsOn": sorted(ids[urn] for urn in resource.dependencies if urn in ids),
        "protect": resource.protect,
        "retainOnDelete": resource.retain_on_delete,
        "deleteBeforeReplace": resource.delete_before_replace,
        "customTimeouts": resource.custom_timeouts or None,
    }


def _provider_id(reference: str) -> str | None:
    # "urn:pulumi:stack::project::pulumi:providers:kubernetes::name::id"
    if not reference:
        return None
    parts = reference.split("::")
    if len(parts) < 4:
        return reference
    # Mock URNs carry the parent type chain ("pulumi:pulumi:Stack$pulumi:providers:...").
    return f"{parts[2].split('$')[-1]}::{parts[3]}"


def _normalize(value: Any) -> Any:
    """Wire-format numbers are floats (2 -> 2.0): give integral ones back their int type."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _normalize(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_normalize(item) for item in value]
    return value


def _scrub(value: Any, placeholders: tuple[str, ...]) -> tuple[Any, bool]:
    """Redact every Pulumi secret; report a placeholder found outside one (a leak)."""
    if is_secret(value):
        return _redact_leaves(value["value"]), False
    if isinstance(value, dict):
        leaked = False
        result = {}
        for key, item in value.items():
            result[key], inner = _scrub(item, placeholders)
            leaked = leaked or inner
        return result, leaked
    if isinstance(value, list):
        items = [_scrub(item, placeholders) for item in value]
        return [item for item, _ in items], any(inner for _, inner in items)
    if isinstance(value, str) and any(p in value for p in placeholders):
        return REDACTED, True
    return value, False


def _redact_leaves(value: Any) -> Any:
    # Keep the shape (a Secret's stringData stays a map) so the render still validates.
    if is_secret(value):
        return _redact_leaves(value["value"])
    if isinstance(value, dict):
        return {key: _redact_leaves(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_redact_leaves(item) for item in value]
    return REDACTED


def _head_first(body: dict[str, Any]) -> dict[str, Any]:
    """apiVersion, kind, metadata first, the way people read manifests; the rest sorted."""
    head = [key for key in ("apiVersion", "kind", "metadata") if key in body]
    rest = sorted(key for key in body if key not in head)
    return {key: body[key] for key in [*head, *rest]}


def _sorted(value: Any) -> Any:
    if isinstance(value, dict):
        return {key: _sorted(value[key]) for key in sorted(value)}
    if isinstance(value, list):
        return [_sorted(item) for item in value]
    return value


def warn_leaks(render: Render) -> None:
    for where in render.leaks:
        print(
            f"warning: a secret value reached {where} outside a Pulumi secret (redacted here)",
            file=sys.stderr,
        )
