"""The render as data: what `render_stack` returns and the directory layout it is written in
(components/offline/render.py describes the layout).

Free of Pulumi and the program, so reading a render back (render_dir.py, `modelstack
validate --render-dir`) does not pay their imports (0.65 s of a 3 s budget at 500
deployments).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

KUBERNETES_DIR = "kubernetes"
DOCKER_DIR = "docker"
CHECKS_DIR = "checks"
RESOURCES_FILE = "resources.json"
OUTPUTS_FILE = "outputs.json"


@dataclass(frozen=True)
class Render:
    # Kubernetes objects, as the API server would receive them.
    objects: list[dict[str, Any]]
    resources: list[dict[str, Any]]
    outputs: dict[str, Any]
    # Objects where a placeholder showed up outside a Pulumi secret (a leak in the program).
    leaks: list[str]
    # Other resources' inputs, by file: docker/<type>-<name>.yaml, checks/<name>.yaml.
    other_files: dict[str, dict[str, Any]] = field(default_factory=dict)

    def object_files(self) -> dict[str, dict[str, Any]]:
        files = {f"{KUBERNETES_DIR}/{object_file_name(obj)}": obj for obj in self.objects}
        return {**files, **self.other_files}


def object_file_name(obj: dict[str, Any]) -> str:
    return f"{obj['kind'].lower()}-{obj['metadata']['name']}.yaml"


def project_root() -> Path:
    return Path(__file__).resolve().parents[2]
