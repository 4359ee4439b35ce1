"""pulumi-docker's resources as rendered -> Docker Engine API bodies (only images substituted).

The offline render writes each Network, Volume and Container with the inputs pulumi-docker
would get; this maps them field by field to the Engine API as the provider does. An input
this does not know fails the test instead of being dropped, so the containers run exactly as
rendered.
"""

from __future__ import annotations

import io
import re
import tarfile
from typing import Any

_DURATION = re.compile(r"^(\d+(?:\.\d+)?)(ms|s|m|h)$")
_UNITS = {"ms": 10**6, "s": 10**9, "m": 60 * 10**9, "h": 3600 * 10**9}
# What the tests do themselves at the provider's place: wait for health, stop with grace,
# copy files in before the start (`uploads_archive`).
PROVIDER_ONLY = {"wait", "waitTimeout", "destroyGraceSeconds", "name", "uploads"}
MIB = 2**20


class UnknownInput(KeyError):
    pass


def nanoseconds(duration: str) -> int:
    match = _DURATION.match(duration)
    if match is None:
        raise ValueError(f"not a duration: {duration}")
    return int(float(match.group(1)) * _UNITS[match.group(2)])


def network_body(inputs: dict[str, Any]) -> dict[str, Any]:
    known = {"name", "labels"}
    _refuse_unknown("network", inputs, known)
    return {
        "Name": inputs["name"],
        "CheckDuplicate": True,
        "Labels": _labels(inputs.get("labels")),
    }


def volume_body(inputs: dict[str, Any]) -> dict[str, Any]:
    _refuse_unknown("volume", inputs, {"name", "labels"})
    return {"Name": inputs["name"], "Labels": _labels(inputs.get("labels"))}


def container_body(inputs: dict[str, Any], image: str) -> dict[str, Any]:
    """The create body of a rendered docker.Container, with `image` in place of its image."""
    known = {
        "image",
        "entrypoints",
        "command",
        "envs",
        "labels",
        "mounts",
        "networksAdvanced",
        "ports",
        "restart",
        "healthcheck",
        "memory",
        "memoryReservation",
        "cpus",
        "stopTimeout",
        "shmSize",
        *PROVIDER_ONLY,
    }
    _refuse_unknown("container", inputs, known)
    host: dict[str, Any] = {
        "Mounts": [
            {
                "Type": mount.get("type", "volume"),
                "Source": mount["source"],
                "Target": mount["target"],
                "ReadOnly": bool(mount.get("readOnly")),
            }
            for mount in inputs.get("mounts") or []
        ],
        "RestartPolicy": {"Name": inputs.get("restart", "no")},
    }
    body: dict[str, Any] = {
        "Image": image,
        "Env": list(inputs.get("envs") or []),
        "Labels": _labels(inputs.get("labels")),
        "HostConfig": host,
    }
    if "entrypoints" in inputs:
        body["Entrypoint"] = list(inputs["entrypoints"])
    if "command" in inputs:
        body["Cmd"] = list(inputs["command"])
    if "stopTimeout" in inputs:
        body["StopTimeout"] = int(inputs["stopTimeout"])
    if "memory" in inputs:
        host["Memory"] = int(inputs["memory"]) * MIB
    if "memoryReservation" in inputs:
        host["MemoryReservation"] = int(inputs["memoryReservation"]) * MIB
    if "cpus" in inputs:
        host["NanoCpus"] = int(float(inputs["cpus"]) * 10**9)
    if "shmSize" in inputs:
        host["ShmSize"] = int(inputs["shmSize"]) * MIB
    ports = inputs.get("ports") or []
    if ports:
        body["ExposedPorts"] = {f"{p['internal']}/tcp": {} for p in ports}
        host["PortBindings"] = {
            f"{p['internal']}/tcp": [{"HostIp": p.get("ip", ""), "HostPort": str(p["external"])}]
            for p in ports
        }
    networks = inputs.get("networksAdvanced") or []
    if networks:
        # One network at create; pulumi-docker connects further ones afterwards.
        first = networks[0]
        host["NetworkMode"] = first["name"]
        body["NetworkingConfig"] = {
            "EndpointsConfig": {first["name"]: {"Aliases": list(first.get("aliases") or [])}}
        }
        if len(networks) > 1:
            raise UnknownInput("more than one network: connect them after create")
    check = inputs.get("healthcheck")
    if check:
        body["Healthcheck"] = {
            "Test": list(check["tests"]),
            "Interval": nanoseconds(check.get("interval", "30s")),
            "Timeout": nanoseconds(check.get("timeout", "30s")),
            "Retries": int(check.get("retries", 3)),
            "StartPeriod": nanoseconds(check.get("startPeriod", "0s")),
        }
    return body


def uploads_archive(inputs: dict[str, Any]) -> bytes | None:
    """A rendered container's `uploads` as the tar pulumi-docker puts into the container
    between create and start (paths below /, 0644 or 0744 with `executable`)."""
    uploads = inputs.get("uploads") or []
    if not uploads:
        return None
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as archive:
        for upload in uploads:
            unknown = set(upload) - {"file", "content", "executable"}
            if unknown:
                raise UnknownInput(f"upload fields this harness does not map: {sorted(unknown)}")
            data = str(upload["content"]).encode()
            info = tarfile.TarInfo(str(upload["file"]).lstrip("/"))
            info.size = len(data)
            info.mode = 0o744 if upload.get("executable") else 0o644
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def _labels(labels: list[dict[str, str]] | None) -> dict[str, str]:
    return {item["label"]: item["value"] for item in labels or []}


def _refuse_unknown(kind: str, inputs: dict[str, Any], known: set[str]) -> None:
    unknown = set(inputs) - known
    if unknown:
        raise UnknownInput(f"{kind} inputs this harness does not map yet: {sorted(unknown)}")
