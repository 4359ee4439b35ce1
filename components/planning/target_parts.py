"""The parts of a deployment's plan that only one target reads.

`DeploymentPlan` holds what both targets translate; a Kubernetes plan also carries a
`KubernetesPart`, a docker plan a `DockerPart` (planning/target_part_steps.py decides both).
"""

from __future__ import annotations

from dataclasses import dataclass

from components.planning.alerts_plan import AlertsPlan
from components.planning.progressive_plan import ProgressivePlan
from components.spec import MonitoringSettings
from components.spec_patches import PatchSpec


@dataclass(frozen=True)
class SpreadPlan:
    """How a workload's pods spread over the cluster (a topology spread constraint)."""

    topology_key: str
    max_skew: int
    # False: best effort, a pod schedules anyway rather than stay Pending for it.
    required: bool


@dataclass(frozen=True)
class KubernetesPart:
    max_surge: int | str
    max_unavailable: int | str
    # A Service per blue-green or canary slot (slot -> name): reaches a slot before a switch.
    slot_services: dict[str, str]
    # Each workload's PodDisruptionBudget: its pods that may be down at once (None: no budget).
    disruption_budget: int | None
    spread: SpreadPlan | None
    # `pulumi destroy` refuses the credential Secrets (HF token, engine API key).
    protect_secrets: bool
    # In-flight generations finish before an engine pod stops (its preStop pause included).
    termination_grace_seconds: int
    # The image that holds engine pods until the cache is complete.
    wait_image: str
    # Pull Secrets for engine and loader pods.
    image_pull_secrets: tuple[str, ...] = ()
    # ServiceMonitor and dashboard settings (None: no monitoring objects).
    monitoring: MonitoringSettings | None = None
    # The deployment's PrometheusRule (None: no alerts).
    alerts: AlertsPlan | None = None
    # Namespaces whose pods may call the engines (None: no NetworkPolicies).
    network_peers: tuple[str, ...] | None = None
    # The Secret the engine's API key is read from (engineApiKeys).
    api_key_secret: str | None = None
    # The stack file's RFC 6902 patches, applied to the rendered objects.
    patches: tuple[PatchSpec, ...] = ()
    # rollout.progressive: the Flagger Canary and what it owns (None: modelstack owns all).
    progressive: ProgressivePlan | None = None


@dataclass(frozen=True)
class DockerPart:
    # Pulumi's wait for a loader container, which enforces its own deadline (the plan's
    # timeouts.loader_seconds): past it, so the loader's error and log tail are what shows.
    loader_wait_seconds: int
    # In-flight generations finish before an engine container stops.
    stop_grace_seconds: int
