"""Hardened pods by default: non-root, no privilege escalation, no capabilities, RuntimeDefault
seccomp, a read-only root filesystem with writable emptyDirs where engines write, and no
service-account token.

Every engine image in the catalog runs as an arbitrary non-root user once HOME and /tmp are
writable (their default user is root; ENGINES.md section 4 lists what each writes). The
model cache claim is group-writable through fsGroup, so loaders write it without root.
"""

from __future__ import annotations

from typing import Any

# An unprivileged user and group shared by engines and loaders (files on the cache claim).
# Above 10000: low ids collide with users on the host (checkov CKV_K8S_40, CKV_K8S_41).
RUN_AS = 10001
HOME = "/home/modelstack"
_SCRATCH = "scratch"


def pod_security() -> dict[str, Any]:
    return {
        "runAsNonRoot": True,
        "runAsUser": RUN_AS,
        "runAsGroup": RUN_AS,
        "fsGroup": RUN_AS,
        # Large claims: only relabel the volume root when ownership is wrong.
        "fsGroupChangePolicy": "OnRootMismatch",
        "seccompProfile": {"type": "RuntimeDefault"},
    }


def container_security() -> dict[str, Any]:
    return {
        "allowPrivilegeEscalation": False,
        "privileged": False,
        "readOnlyRootFilesystem": True,
        "capabilities": {"drop": ["ALL"]},
    }


def writable_dirs(extra: tuple[str, ...] = ()) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """emptyDir volumes and mounts for HOME, /tmp and `extra`: (volumes, mounts)."""
    paths = [HOME, "/tmp", *extra]
    volumes = [{"name": f"{_SCRATCH}-{index}", "emptyDir": {}} for index in range(len(paths))]
    mounts = [
        {"name": f"{_SCRATCH}-{index}", "mountPath": path} for index, path in enumerate(paths)
    ]
    return volumes, mounts


def home_env() -> list[dict[str, str]]:
    # Caches (huggingface, vllm, triton, ollama keys) follow HOME onto a writable emptyDir.
    return [{"name": "HOME", "value": HOME}]
