"""The diff in words: what a reviewer cares about, one short sentence each.

"llama-chat: traffic blue -> green", "llama-chat-green: image vllm/vllm-openai:v0.30.0 ->
v0.31.0". Field phrases are a table (kind, field pattern, words); kinds whose meaning
spans several fields (route weights) have an object phrase. A new kind needs an entry.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from components.diff.debug_access_phrases import describe_debug_access
from components.diff.diff_model import ResourceDiff, Status
from components.diff.docker_phrases import describe_docker, is_engine_container
from components.diff.entries import Entry
from components.diff.phrase_values import shares, show_image, show_weights
from components.diff.shared_endpoint_phrases import describe_shared_endpoint
from components.diff.tree_diff import keys_of
from components.diff.value_text import show_value
from components.identity import (
    ENDPOINT_PICKER,
    EXTERNAL_ENDPOINT,
    EXTERNAL_URL,
    MODEL_REVISION,
    MODEL_SOURCE,
    RUNTIME_ADAPTERS,
    SLOT,
)
from components.rendered.objects import component_of, slot_of

WORKLOADS = ("apps/Deployment", "apps/StatefulSet")
# gpu.nodes > 1: a slot's groups. Its leaders and workers run the same engine, image and
# model; the leader template says them once.
GROUPS = ("leaderworkerset.x-k8s.io/LeaderWorkerSet",)
LEADER = ("spec", "leaderWorkerTemplate", "leaderTemplate")
CLAIM = "core/PersistentVolumeClaim"
HPA = "autoscaling/HorizontalPodAutoscaler"
CONTAINERS = ("spec", "template", "spec", "containers", None)
ANNOTATIONS = ("spec", "template", "metadata", "annotations")
_HEX = re.compile(r"[0-9a-f]{13,}")

Show = Callable[[Any, Any], tuple[str, str]]


def _plain(old: Any, new: Any) -> tuple[str, str]:
    return show_value(old), show_value(new)


def _revision(old: Any, new: Any) -> tuple[str, str]:
    # Commit hashes are unreadable at full length; twelve characters identify them.
    before, after = _plain(old, new)
    return _short_hash(before), _short_hash(after)


def _short_hash(text: str) -> str:
    return text[:12] if _HEX.fullmatch(text) else text


@dataclass(frozen=True)
class FieldPhrase:
    kinds: tuple[str, ...]
    pattern: tuple[str | None, ...]  # None: any list item
    words: str
    show: Show = _plain


# In the order a reviewer reads them: traffic first.
FIELD_PHRASES: tuple[FieldPhrase, ...] = (
    FieldPhrase(("core/Service",), ("spec", "selector", SLOT), "traffic"),
    FieldPhrase(WORKLOADS, (*CONTAINERS, "image"), "image", show_image),
    FieldPhrase(WORKLOADS, (*ANNOTATIONS, MODEL_SOURCE), "model"),
    FieldPhrase(WORKLOADS, (*ANNOTATIONS, MODEL_REVISION), "model revision", _revision),
    FieldPhrase(WORKLOADS, ("spec", "replicas"), "replicas"),
    FieldPhrase(WORKLOADS, (*CONTAINERS, "resources", "limits", "nvidia.com/gpu"), "GPUs"),
    FieldPhrase(WORKLOADS, (*CONTAINERS, "resources", "limits", "amd.com/gpu"), "GPUs"),
    FieldPhrase(GROUPS, (*LEADER, "spec", "containers", None, "image"), "image", show_image),
    FieldPhrase(GROUPS, (*LEADER, "metadata", "annotations", MODEL_SOURCE), "model"),
    FieldPhrase(
        GROUPS, (*LEADER, "metadata", "annotations", MODEL_REVISION), "model revision", _revision
    ),
    FieldPhrase(GROUPS, ("spec", "replicas"), "groups"),
    FieldPhrase(GROUPS, ("spec", "leaderWorkerTemplate", "size"), "nodes per group"),
    FieldPhrase(
        GROUPS,
        (*LEADER, "spec", "containers", None, "resources", "limits", "nvidia.com/gpu"),
        "GPUs per node",
    ),
    FieldPhrase((CLAIM,), ("spec", "resources", "requests", "storage"), "cache size"),
    FieldPhrase((HPA,), ("spec", "minReplicas"), "autoscaling min"),
    FieldPhrase((HPA,), ("spec", "maxReplicas"), "autoscaling max"),
    FieldPhrase(("keda.sh/ScaledObject",), ("spec", "minReplicaCount"), "autoscaling min"),
    FieldPhrase(("keda.sh/ScaledObject",), ("spec", "maxReplicaCount"), "autoscaling max"),
)


def _route_weights(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """Backend weights per rule: 'weights blue 90%, green 10% -> blue 75%, green 25%'."""
    before, after = _weights(old), _weights(new)
    if before == after:
        return None
    return f"weights {show_weights(before)} -> {show_weights(after)}"


def _weights(route: dict[str, Any]) -> list[dict[str, int]]:
    found = []
    for rule in route.get("spec", {}).get("rules") or []:
        refs = rule.get("backendRefs") or []
        weights = {str(ref.get("name")): int(ref.get("weight", 1)) for ref in refs}
        if len(weights) > 1 and sum(weights.values()):
            found.append(shares(weights))
    return found


def _route_pools(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """inference_aware's blue-green switch: 'traffic inference pool chat-blue -> chat-green'."""
    before, after = _pools(old), _pools(new)
    if before == after or not before or not after:
        return None
    return f"traffic inference pool {before} -> {after}"


def _pools(route: dict[str, Any]) -> str:
    """The InferencePools a route sends to (weight above zero), in order."""
    names = [
        str(ref.get("name"))
        for rule in route.get("spec", {}).get("rules") or []
        for ref in rule.get("backendRefs") or []
        if ref.get("kind") == "InferencePool" and int(ref.get("weight", 1)) > 0
    ]
    return ", ".join(names)


_THRESHOLD = re.compile(r"(?:>|<|==) ([-+.0-9e]+)")


def _alert_settings(rule: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Each alert of a PrometheusRule: (its threshold, its `for`)."""
    settings = {}
    for group in rule.get("spec", {}).get("groups") or []:
        for alert in group.get("rules") or []:
            found = _THRESHOLD.findall(str(alert.get("expr", "")))
            settings[str(alert.get("alert"))] = (found[-1] if found else "", str(alert.get("for")))
    return settings


def _alert_changes(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """In words: 'alerts: ModelstackHighErrorRate above 1 -> 0.5, for 5m -> 2m; ...'."""
    before, after = _alert_settings(old), _alert_settings(new)
    changes = [f"{name} removed" for name in before if name not in after]
    for name, (threshold, wait) in after.items():
        if name not in before:
            changes.append(f"{name} added")
            continue
        parts = [
            f"{words} {was} -> {now}"
            for words, was, now in (
                ("above", before[name][0], threshold),
                ("for", before[name][1], wait),
            )
            if was != now
        ]
        if parts:
            changes.append(f"{name} {', '.join(parts)}")
    return f"alerts: {'; '.join(changes)}" if changes else None


def _canary_steps(canary: dict[str, Any]) -> str:
    analysis = canary.get("spec", {}).get("analysis", {})
    steps = ", ".join(str(step) for step in analysis.get("stepWeights") or [])
    return f"steps {steps} every {analysis.get('interval')}"


def _canary_scaler(canary: dict[str, Any]) -> str:
    """What scales Flagger's primary: its copy of the target's autoscaler, or the count."""
    reference = canary.get("spec", {}).get("autoscalerRef")
    if not reference:
        return "primary at the target's replicas"
    return (
        f"primary autoscaled by Flagger's copy of {reference.get('kind')} {reference.get('name')}"
    )


def _canary_changes(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """A Flagger Canary in words: 'progressive canary: steps 10, 25 every 5m -> ...'."""
    changes = [
        f"{before} -> {after}"
        for before, after in (
            (_canary_steps(old), _canary_steps(new)),
            (_canary_scaler(old), _canary_scaler(new)),
        )
        if before != after
    ]
    return f"progressive canary: {'; '.join(changes)}" if changes else None


def _runtime_adapters(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """The adapters ConfigMap (Kubernetes) or loader (docker), in words:
    'adapters: + legal (loaded at run time, no restart)'."""
    before, after = _wanted(old), _wanted(new)
    if before is None or after is None:
        return None
    changes = [f"+ {name}" for name in after if name not in before]
    changes += [f"- {name}" for name in before if name not in after]
    changes += [f"~ {name}" for name in after if name in before and before[name] != after[name]]
    return f"adapters: {', '.join(changes)} (loaded at run time, no restart)" if changes else None


def _external_endpoint(old: dict[str, Any], new: dict[str, Any]) -> str | None:
    """An external endpoint's address or level: 'external endpoint http://a/v1 -> ...'."""
    if component_of(new) != EXTERNAL_ENDPOINT:
        return None
    urls = [
        body.get("metadata", {}).get("annotations", {}).get(EXTERNAL_URL) for body in (old, new)
    ]
    levels = [
        "backup" if body.get("spec", {}).get("fallback") else "serving" for body in (old, new)
    ]
    changes = []
    if urls[0] != urls[1]:
        changes.append(f"external endpoint {urls[0]} -> {urls[1]}")
    if levels[0] != levels[1]:
        changes.append(f"{levels[0]} -> {levels[1]}")
    return ", ".join(changes) or None


def _wanted(body: dict[str, Any]) -> dict[str, str] | None:
    """Adapter name -> path, or None for any other object."""
    if "wanted" in body and "api" in body:  # the docker loader's inputs
        return dict(body["wanted"])
    if component_of(body) != RUNTIME_ADAPTERS:
        return None
    try:
        return dict(json.loads(body["data"]["adapters.json"])["wanted"])
    except (KeyError, TypeError, ValueError):
        return {}


@dataclass(frozen=True)
class ObjectPhrase:
    kinds: tuple[str, ...]
    describe: Callable[[dict[str, Any], dict[str, Any]], str | None]


OBJECT_PHRASES: tuple[ObjectPhrase, ...] = (
    ObjectPhrase(
        ("gateway.networking.k8s.io/HTTPRoute", "gateway.networking.k8s.io/GRPCRoute"),
        _route_weights,
    ),
    ObjectPhrase(("gateway.networking.k8s.io/HTTPRoute",), _route_pools),
    ObjectPhrase(("monitoring.coreos.com/PrometheusRule",), _alert_changes),
    ObjectPhrase(("flagger.app/Canary",), _canary_changes),
    ObjectPhrase(("gateway.envoyproxy.io/Backend",), _external_endpoint),
    ObjectPhrase(("core/ConfigMap", "pulumi-python:dynamic:Resource"), _runtime_adapters),
)
# Kinds whose name says little to a reviewer, in words ("llama-chat: new inference pool ...").
_KIND_WORDS = {
    "InferencePool": "inference pool",
    "PrometheusRule": "alert rules",
    "Canary": "progressive canary (Flagger)",
    "MetricTemplate": "canary check",
    "LeaderWorkerSet": "multi-node group set",
}


@dataclass(frozen=True)
class Sentence:
    order: int
    subject: str  # the object's name
    deployment: str | None
    slot: str | None
    words: str


def describe(
    resources: Sequence[ResourceDiff],
    before: dict[str, Entry],
    after: dict[str, Entry],
    renamed_deployments: dict[str, str],
) -> tuple[str, ...]:
    lines = _deployment_lines(before, after, renamed_deployments)
    sentences: list[Sentence] = []
    for resource in resources:
        if resource.status is Status.CHANGED:
            sentences += _changed(resource, before[resource.id], after[resource.id])
    lines += _merged(sentences)
    lines += describe_docker(before, after)
    lines += describe_shared_endpoint(before, after)
    lines += describe_debug_access(before, after)
    lines += _arrivals(resources, before, after)
    return tuple(lines)


def _deployment_lines(
    before: dict[str, Entry], after: dict[str, Entry], renamed: dict[str, str]
) -> list[str]:
    old, new = _deployments(before), _deployments(after)
    lines = [f"{a}: renamed to {b} (every object is replaced)" for a, b in renamed.items()]
    lines += [f"{name}: new deployment" for name in sorted(new - old - set(renamed.values()))]
    lines += [f"{name}: deployment removed" for name in sorted(old - new - set(renamed))]
    return lines


def _deployments(entries: dict[str, Entry]) -> set[str]:
    return {entry.deployment for entry in entries.values() if entry.deployment}


def _changed(resource: ResourceDiff, old: Entry, new: Entry) -> list[Sentence]:
    if old.body is None or new.body is None:
        return []
    kind = new.kind_key
    found = []
    for change in resource.fields:
        keys = keys_of(change.path)
        for order, phrase in enumerate(FIELD_PHRASES):
            if kind in phrase.kinds and keys == phrase.pattern:
                before, after = phrase.show(change.old, change.new)
                found.append(_sentence(order, new, f"{phrase.words} {before} -> {after}"))
    for offset, phrase in enumerate(OBJECT_PHRASES):
        if kind in phrase.kinds and (words := phrase.describe(old.body, new.body)):
            found.append(_sentence(len(FIELD_PHRASES) + offset, new, words))
    return found


def _sentence(order: int, entry: Entry, words: str) -> Sentence:
    assert entry.body is not None
    return Sentence(order, entry.name, entry.deployment, slot_of(entry.body), words)


def _merged(sentences: list[Sentence]) -> list[str]:
    """The same change on every slot of a deployment reads as one line."""
    groups: dict[tuple[Any, ...], list[Sentence]] = defaultdict(list)
    for sentence in sentences:
        groups[(sentence.order, sentence.deployment or sentence.subject, sentence.words)].append(
            sentence
        )
    lines = []
    for (_, owner, words), group in sorted(groups.items(), key=lambda item: item[0][:2]):
        subjects = sorted({s.subject for s in group})
        if len(subjects) == 1:
            lines.append(f"{subjects[0]}: {words}")
        else:
            which = sorted({s.slot or s.subject for s in group})
            lines.append(f"{owner}: {words} ({', '.join(which)})")
    return lines


def _arrivals(
    resources: Sequence[ResourceDiff], before: dict[str, Entry], after: dict[str, Entry]
) -> list[str]:
    """Objects added or removed inside deployments that stay (a new loader Job, say)."""
    staying = _deployments(before) & _deployments(after)
    moves: dict[tuple[str, str, str | None], dict[Status, list[str]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for resource in resources:
        if resource.status not in (Status.ADDED, Status.REMOVED):
            continue
        entry = (after if resource.status is Status.ADDED else before)[resource.id]
        if entry.body is None or entry.deployment not in staying:
            continue
        if is_engine_container(entry):
            continue  # the docker phrases say it in words (replicas, a new image)
        key = (entry.deployment, _kind_words(entry), component_of(entry.body))
        moves[key][resource.status].append(entry.name)
    lines = []
    for (deployment, kind, _), by_status in sorted(moves.items(), key=lambda i: str(i[0])):
        gone, new = sorted(by_status[Status.REMOVED]), sorted(by_status[Status.ADDED])
        if len(gone) == len(new):
            # Content-hashed names: each old one gives way to its new counterpart.
            lines += [f"{deployment}: {kind} {a} -> {b}" for a, b in zip(gone, new, strict=True)]
            continue
        lines += [f"{deployment}: new {kind} {name}" for name in new]
        lines += [f"{deployment}: {kind} {name} removed" for name in gone]
    return lines


def _kind_words(entry: Entry) -> str:
    kind = entry.kind or entry.type
    assert entry.body is not None
    if component_of(entry.body) == ENDPOINT_PICKER:
        return f"endpoint picker {kind}"
    if component_of(entry.body) == EXTERNAL_ENDPOINT:
        return "external endpoint"
    return _KIND_WORDS.get(kind, kind)
