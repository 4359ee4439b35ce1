"""How a rendered object is named and classified: ids, kind keys, modelstack labels.

A Kubernetes object's Pulumi resource id is `kubernetes:<group>/<version>:<Kind>::<name>`:
the program registers every object under its own metadata.name, so the two agree.
"""

from __future__ import annotations

from typing import Any, Protocol

from components import identity


class RenderLike(Protocol):
    """What the review needs from a render (components.offline.render.Render fits)."""

    @property
    def objects(self) -> list[dict[str, Any]]: ...

    @property
    def resources(self) -> list[dict[str, Any]]: ...

    @property
    def outputs(self) -> dict[str, Any]: ...


def other_documents(render: RenderLike) -> list[dict[str, Any]]:
    """Documents of resources that are not Kubernetes objects ({type, name, inputs}).

    Renders of other targets (docker) carry them in `other_files`; older renders do not.
    """
    files = getattr(render, "other_files", None) or {}
    return [doc for doc in files.values() if isinstance(doc, dict) and "type" in doc]


def api_group(api_version: str) -> str:
    """'apps/v1' -> 'apps'; the core group ('v1') is called 'core', as Pulumi does."""
    return api_version.rsplit("/", 1)[0] if "/" in api_version else "core"


def kind_key(obj: dict[str, Any]) -> str:
    """Group and kind without the version: rules hold across API versions."""
    return f"{api_group(obj['apiVersion'])}/{obj['kind']}"


def type_token(obj: dict[str, Any]) -> str:
    api_version = obj["apiVersion"]
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{obj['kind']}"


def object_id(obj: dict[str, Any]) -> str:
    return f"{type_token(obj)}::{name_of(obj)}"


def name_of(obj: dict[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("name", ""))


def namespace_of(obj: dict[str, Any]) -> str:
    return str(obj.get("metadata", {}).get("namespace", ""))


def labels_of(obj: dict[str, Any]) -> dict[str, str]:
    """Kubernetes metadata.labels, or the docker provider's [{label, value}] list."""
    if "metadata" in obj:
        return obj["metadata"].get("labels") or {}
    labels = obj.get("labels")
    if isinstance(labels, list):
        return {str(item.get("label")): str(item.get("value")) for item in labels}
    return {}


def deployment_of(obj: dict[str, Any]) -> str | None:
    return identity.deployment_of(labels_of(obj))


def slot_of(obj: dict[str, Any]) -> str | None:
    return identity.slot_of(labels_of(obj))


def component_of(obj: dict[str, Any]) -> str | None:
    return identity.component_of(labels_of(obj))
