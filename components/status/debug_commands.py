"""How to open a shell next to a running engine: the commands `modelstack status` prints for a
stack with `modelstack:debugAccess`, built from the stack's own names.

People paste these, so every value from the stack or the cluster is shell-quoted. Kubernetes:
`kubectl exec` into the workload's engine container, and `kubectl debug` with an ephemeral
container (the pinned debug image) sharing the engine's processes, for engines without a shell;
its `restricted` profile matches the engine pods' own hardening (non-root, no capabilities),
so Pod Security admission at `restricted` admits it and it runs as the pod's user.
Docker: `docker exec`, and `docker run` in the engine's process and network namespaces.
"""

from __future__ import annotations

import shlex
from collections.abc import Sequence
from dataclasses import dataclass

from components.kubernetes.manifests.pod import CONTAINER as ENGINE_CONTAINER


@dataclass(frozen=True)
class DebugAccess:
    """What the commands need besides a workload's names: the same for every deployment."""

    target: str
    namespace: str
    # kubeconfig context the stack pins (None: kubectl's current one).
    context: str | None
    image: str


def _line(*words: str) -> str:
    return " ".join(shlex.quote(word) for word in words)


def commands(
    access: DebugAccess, workload: str, engines: Sequence[str], grouped: bool = False
) -> list[str]:
    """For one workload: `engines` are its engine pods or containers found running (the first
    is the one a command names; none: only what needs no instance name). `grouped`: a
    LeaderWorkerSet, which `kubectl exec TYPE/NAME` cannot resolve; its leaders are named
    `<workload>-<group>`, so exec names the first group's leader, which serves."""
    if access.target == "docker":
        return [
            line
            for container in engines[:1]
            for line in (
                _line("docker", "exec", "-it", container, "sh"),
                _line(
                    "docker", "run", "--rm", "-it", f"--pid=container:{container}",
                    f"--network=container:{container}", access.image, "sh",
                ),
            )
        ]  # fmt: skip
    kubectl = ["kubectl", *(["--context", access.context] if access.context else [])]
    found = [
        _line(
            *kubectl, "-n", access.namespace, "exec", "-it",
            f"{workload}-0" if grouped else f"deploy/{workload}",
            "-c", ENGINE_CONTAINER, "--", "sh",
        )
    ]  # fmt: skip
    found += [
        _line(
            *kubectl, "-n", access.namespace, "debug", "-it", pod, f"--image={access.image}",
            f"--target={ENGINE_CONTAINER}", "--profile=restricted", "--", "sh",
        )
        for pod in engines[:1]
    ]  # fmt: skip
    return found
