"""What every planning step reads (a frozen context) and where it reports (one collector).

The one error convention of planning: a step returns what it planned and reports each
problem to the `IssueCollector` with its key path under the deployment; a step that cannot
plan returns None. Helpers outside the steps (autoscaling, traffic, placement) return their
plan or a list of `Problem`s, which `IssueCollector.accept` turns into the same reports.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from components.environments import ENVIRONMENTS, EnvironmentDefaults
from components.errors import ConfigIssue, key_path
from components.planning.target_profiles import TargetProfile, target_profile
from components.spec import DeploymentSpec, GpuSpec, ResourcesSpec, StackSpec

SERVICE_PORT = 80

# A problem at a key path under the deployment: (("gpu", "count"), "message").
Problem = tuple[tuple[str | int, ...], str]

T = TypeVar("T")


@dataclass(frozen=True)
class PlanningContext:
    """One deployment of a stack, as every step sees it: read-only."""

    stack: StackSpec
    spec: DeploymentSpec
    index: int
    environment: EnvironmentDefaults
    namespace: str

    @classmethod
    def of(cls, stack: StackSpec, spec: DeploymentSpec, index: int) -> PlanningContext:
        return cls(
            stack=stack,
            spec=spec,
            index=index,
            environment=ENVIRONMENTS[stack.environment],
            namespace=target_profile(stack.target).namespace_of(stack),
        )

    @property
    def profile(self) -> TargetProfile:
        """What the stack's target can do: steps ask this, never the target's name."""
        return target_profile(self.stack.target)

    def model_key_path(self, slot: str, key: str) -> tuple[str, ...]:
        """Where the user wrote a model key: in the slot's override if it sets it, else `model`."""
        override = self.spec.rollout.slots.get(slot)  # type: ignore[call-overload]
        if override and override.model and getattr(override.model, key) is not None:
            return ("rollout", "slots", slot, "model", key)
        return ("model", key)


class IssueCollector:
    """Every problem of one deployment, each at its full key path (`deployments[i]...`)."""

    def __init__(self, index: int) -> None:
        self._index = index
        self.issues: list[ConfigIssue] = []

    def report(self, *path: str | int, message: str) -> None:
        self.issues.append(ConfigIssue(key_path("deployments", self._index, *path), message))

    def report_stack_key(self, *path: str | int, message: str) -> None:
        """A problem at a stack-level key about this deployment (`engineApiKeys.<name>`)."""
        self.issues.append(ConfigIssue(key_path(*path), message))

    def report_all(self, problems: Iterable[Problem], *prefix: str | int) -> None:
        for path, message in problems:
            self.report(*prefix, *path, message=message)

    def accept(self, result: T | list[Problem], *prefix: str | int) -> T | None:
        """A helper's plan, or None after reporting the problems it returned instead."""
        if isinstance(result, list):
            self.report_all(result, *prefix)
            return None
        return result

    @property
    def found(self) -> bool:
        return bool(self.issues)


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
