"""The diff of a docker stack in words, as the Kubernetes phrases say it for clusters.

On docker a replica is a container and a version bump is a new container under a new name,
so the field changes of one resource say little: "new Container qwen-tiny-2-8ed6d1" means
"replicas 2 -> 3". These phrases compare what the stack runs instead: engine containers per
workload (slot or pool), what they run, and the gateway's routes read back from its nginx
config (balancing, weights, which slot serves, timeouts).
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any

from components.diff.entries import Entry
from components.diff.phrase_values import count_of, shares, show_image, show_weights
from components.diff.tree_diff import tree_changes
from components.diff.value_text import show_value
from components.identity import ENGINE_COMPONENT, POOL, parse_engine_name
from components.rendered.nginx_routes import NginxRoute, parse_routes
from components.rendered.objects import component_of, labels_of, slot_of

CONTAINER = "docker:index/container:Container"
DYNAMIC = "pulumi-python:dynamic:Resource"
RELOAD = "the gateway config changes, reloaded in place"
# nginx's balancing directive -> the stack file's loadBalancer.algorithm.
_ALGORITHMS = {None: "round_robin", "least_conn": "least_connections", "ip_hash": "ip_hash"}


@dataclass(frozen=True)
class _FieldWords:
    words: str
    show_values: bool = True  # lists (arguments, environment) are named, not printed


# What an engine container's inputs mean to the user; anything else is "engine settings".
_ENGINE_FIELDS: dict[str, _FieldWords] = {
    "image": _FieldWords("image"),
    "command": _FieldWords("engine arguments", show_values=False),
    "entrypoints": _FieldWords("entrypoint", show_values=False),
    "envs": _FieldWords("environment", show_values=False),
    "cpus": _FieldWords("CPUs"),
    "memory": _FieldWords("memory MiB"),
    "memoryReservation": _FieldWords("memory reservation MiB"),
    "shmSize": _FieldWords("shared memory MiB"),
    "deviceRequests": _FieldWords("GPUs", show_values=False),
    "devices": _FieldWords("devices", show_values=False),
    "healthcheck": _FieldWords("health check", show_values=False),
}
# Inputs that follow the container's name: they change whenever it is replaced.
_NAME_FIELDS = {"name", "networksAdvanced"}


def is_engine_container(entry: Entry) -> bool:
    return (
        entry.type == CONTAINER
        and entry.body is not None
        and component_of(entry.body) == ENGINE_COMPONENT
    )


def describe_docker(before: dict[str, Entry], after: dict[str, Entry]) -> list[str]:
    """Summary lines for the docker resources of two renders (none for Kubernetes renders)."""
    staying = _deployments(before) & _deployments(after)
    lines = _merged(_container_sentences(before, after, staying))
    old_config, new_config = _gateway_config(before), _gateway_config(after)
    if old_config is None or new_config is None or old_config == new_config:
        return lines  # a new or removed gateway is a new or removed stack: nothing to compare
    lines += _route_lines(old_config, new_config, before, after)
    same_routes = _routes(old_config).keys() == _routes(new_config).keys()
    if not lines and same_routes:
        # Something else in nginx.conf moved (a health threshold, say): say where to look.
        # (A route that comes or goes is a deployment that does: the deployment lines say so.)
        lines.append("gateway: nginx config changes (diff below), reloaded in place")
    return lines


def _deployments(entries: dict[str, Entry]) -> set[str]:
    return {entry.deployment for entry in entries.values() if entry.deployment}


# -- engine containers -------------------------------------------------------------------------


@dataclass(frozen=True)
class _Sentence:
    deployment: str
    workload: str
    words: str


def _container_sentences(
    before: dict[str, Entry], after: dict[str, Entry], staying: set[str]
) -> list[_Sentence]:
    old, new = _workloads(before), _workloads(after)
    sentences = []
    for key in sorted(old.keys() | new.keys()):
        deployment, workload = key
        if deployment not in staying:
            continue  # a new or removed deployment is said once, by the deployment lines
        replicas_before, replicas_after = old.get(key, {}), new.get(key, {})
        unit = _unit(next(iter((replicas_after or replicas_before).values())))
        words = _replica_words(len(replicas_before), len(replicas_after), unit)
        if words:
            sentences.append(_Sentence(deployment, workload, words))
        if words := _replacement_words(replicas_before, replicas_after):
            sentences.append(_Sentence(deployment, workload, words))
    return sentences


def _workloads(entries: dict[str, Entry]) -> dict[tuple[str, str], dict[int, Entry]]:
    """Engine containers by (deployment, workload), each by its replica number."""
    found: dict[tuple[str, str], dict[int, Entry]] = defaultdict(dict)
    for entry in entries.values():
        name = parse_engine_name(entry.name)
        if is_engine_container(entry) and entry.deployment and name:
            found[(entry.deployment, name.workload)][name.replica] = entry
    return found


def _unit(entry: Entry) -> str:
    """What a workload is to the user: a pool when the stack file declares pools, else a slot."""
    return "pool" if POOL in labels_of(entry.body or {}) else "slot"


def _replica_words(before: int, after: int, unit: str) -> str | None:
    if before == after:
        return None
    if before == 0:
        return f"new {unit}: {count_of(after, 'engine container')}"
    if after == 0:
        return f"{unit} removed: {count_of(before, 'engine container')} stop"
    if after > before:
        return f"replicas {before} -> {after}: {count_of(after - before, 'more engine container')}"
    return f"replicas {before} -> {after}: {count_of(before - after, 'engine container')} removed"


def _replacement_words(before: dict[int, Entry], after: dict[int, Entry]) -> str | None:
    """What changed in the replicas that are on both sides under a new name."""
    pairs = [(before[i], after[i]) for i in sorted(before.keys() & after.keys())]
    replaced = [(old, new) for old, new in pairs if old.name != new.name]
    if not replaced:
        return None
    changes: list[str] = []
    for old, new in replaced:
        for change in _setting_changes(old.body or {}, new.body or {}):
            if change not in changes:
                changes.append(change)
    what = ", ".join(changes) or "engine settings change"
    return (
        f"{what}: {count_of(len(replaced), 'new engine container')} replace the old,"
        " the gateway switches once they are healthy"
    )


def _setting_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    fields = {path[0] for path, _, _ in tree_changes(old, new) if path} - _NAME_FIELDS
    words = []
    for key, field in _ENGINE_FIELDS.items():
        if key not in fields:
            continue
        if not field.show_values:
            words.append(f"{field.words} change")
        elif key == "image":
            words.append("image {} -> {}".format(*show_image(old.get(key), new.get(key))))
        else:
            words.append(f"{field.words} {show_value(old.get(key))} -> {show_value(new.get(key))}")
    if fields - _ENGINE_FIELDS.keys():
        words.append("engine settings change")
    return words


def _merged(sentences: list[_Sentence]) -> list[str]:
    """The same change on every slot or pool of a deployment reads as one line."""
    groups: dict[tuple[str, str], list[str]] = defaultdict(list)
    for sentence in sentences:
        groups[(sentence.deployment, sentence.words)].append(sentence.workload)
    lines = []
    for (deployment, words), workloads in groups.items():
        if len(workloads) == 1:
            lines.append(f"{workloads[0]}: {words}")
        else:
            which = [w.removeprefix(f"{deployment}-") for w in workloads]
            lines.append(f"{deployment}: {words} ({', '.join(which)})")
    return lines


# -- the gateway's routes ----------------------------------------------------------------------


def _gateway_config(entries: dict[str, Entry]) -> str | None:
    """The nginx.conf the gateway runs: the in-place config resource's input."""
    for entry in entries.values():
        body = entry.body or {}
        if entry.type == DYNAMIC and "config_path" in body and isinstance(body.get("config"), str):
            return str(body["config"])
    return None


def _route_lines(
    old_config: str, new_config: str, before: dict[str, Entry], after: dict[str, Entry]
) -> list[str]:
    old_routes, new_routes = _routes(old_config), _routes(new_config)
    old_engines, new_engines = _engines(before), _engines(after)
    lines = []
    for path in sorted(old_routes.keys() & new_routes.keys()):
        old, new = old_routes[path], new_routes[path]
        owner = _owner(new, new_engines) or _owner(old, old_engines) or path
        algorithms = _algorithm(old), _algorithm(new)
        if algorithms[0] != algorithms[1]:
            lines.append(f"{owner}: load balancing {algorithms[0]} -> {algorithms[1]}: {RELOAD}")
        if words := _traffic_words(_shares(old, old_engines), _shares(new, new_engines)):
            lines.append(f"{owner}: {words}: {RELOAD}")
        if old.read_timeout != new.read_timeout:
            lines.append(
                f"{owner}: route timeout {old.read_timeout} -> {new.read_timeout}: {RELOAD}"
            )
    return lines


def _routes(config: str) -> dict[str, NginxRoute]:
    try:
        return {route.path: route for route in parse_routes(config)}
    except ValueError:
        return {}  # not nginx syntax: the config diff still shows what changed


def _engines(entries: dict[str, Entry]) -> dict[str, Entry]:
    """Engine containers by the name nginx reaches them under."""
    return {
        str((entry.body or {}).get("name", entry.name)): entry
        for entry in entries.values()
        if is_engine_container(entry)
    }


def _engine_of(address: str, engines: dict[str, Entry]) -> Entry | None:
    return engines.get(address.rsplit(":", 1)[0])


def _owner(route: NginxRoute, engines: dict[str, Entry]) -> str | None:
    for server in route.servers:
        entry = _engine_of(server.address, engines)
        if entry is not None and entry.deployment:
            return entry.deployment
    return None


def _algorithm(route: NginxRoute) -> str:
    if any(server.backup for server in route.servers):
        return "failover"  # backups are how the docker target fails over
    return _ALGORITHMS.get(route.balancing, route.balancing or "round_robin")


@dataclass(frozen=True)
class _Share:
    workload: str
    slot: str | None
    percent: int


def _shares(route: NginxRoute, engines: dict[str, Entry]) -> list[_Share]:
    """Each serving workload's share of the route's requests (backups get none until failover)."""
    weights: dict[str, int] = defaultdict(int)
    slots: dict[str, str | None] = {}
    for server in route.servers:
        if server.backup:
            continue
        entry = _engine_of(server.address, engines)
        name = parse_engine_name(entry.name) if entry else None
        workload = name.workload if name else server.address
        weights[workload] += server.weight
        slots[workload] = slot_of(entry.body or {}) if entry else None
    return [_Share(w, slots[w], percent) for w, percent in shares(dict(weights)).items()]


def _traffic_words(old: list[_Share], new: list[_Share]) -> str | None:
    if [(s.workload, s.percent) for s in old] == [(s.workload, s.percent) for s in new]:
        return None
    if len(old) == 1 and len(new) == 1:
        # One workload serves on each side: a blue-green switch, named by slot as on Kubernetes.
        return f"traffic {old[0].slot or old[0].workload} -> {new[0].slot or new[0].workload}"
    if not old or not new:
        return None  # started or stopped: the container lines say it
    before = {share.workload: share.percent for share in old}
    after = {share.workload: share.percent for share in new}
    return f"weights {show_weights([before])} -> {show_weights([after])}"
