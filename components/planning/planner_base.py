"""What every part of the deployment planner shares: the specs, the environment, the issues."""

from __future__ import annotations

from dataclasses import dataclass

from components.environments import ENVIRONMENTS
from components.errors import ConfigIssue, key_path
from components.planning.plan_model import AdapterPlan
from components.spec import DeploymentSpec, GpuSpec, ResourcesSpec, StackSpec

SERVICE_PORT = 80


@dataclass(frozen=True)
class Pool:
    """A pool as the plan sees it: the deployment's own settings when no pools are declared."""

    name: str | None
    index: int | None
    gpu_spec: GpuSpec | None
    resources: ResourcesSpec
    replicas: int | None
    weight: int
    priority: int

    def path(self, *keys: str) -> tuple[str | int, ...]:
        """Where a pool key lives in the stack file."""
        return ("pools", self.index, *keys) if self.index is not None else keys


class PlannerBase:
    """Plans one deployment of a stack, collecting issues instead of stopping at the first."""

    def __init__(self, stack: StackSpec, spec: DeploymentSpec, index: int) -> None:
        self.stack = stack
        self.spec = spec
        self.index = index
        self.environment = ENVIRONMENTS[stack.environment]
        self.namespace = (
            stack.docker.namespace if stack.target == "docker" else stack.kubernetes.namespace
        )
        self.issues: list[ConfigIssue] = []
        self._adapters: tuple[AdapterPlan, ...] = ()
        # (env variable, Secret) delivering the engine's API key, when the stack sets one.
        self._api_key: tuple[str, str] | None = None

    def issue(self, *path: str | int, message: str) -> None:
        self.issues.append(ConfigIssue(key_path("deployments", self.index, *path), message))
