"""How long each wait may take: decided once in the plan, translated by both targets.

Targets only change the unit (Pulumi's custom timeouts take minutes, probes and Docker take
seconds); the numbers and their margins live here.
"""

from __future__ import annotations

from dataclasses import dataclass

# How long a model may take to download (a loader Job or a loader container).
LOADER_SECONDS = 7200
# What waits on something with a deadline of its own waits this much longer, so the
# deadline's own error (a failed rollout, the loader's log tail) is what the user reads.
WAIT_MARGIN_SECONDS = 600


@dataclass(frozen=True)
class TimeoutPlan:
    # Model loading inside the engine (startupTimeoutSeconds): startup probes, Docker's
    # health start period and wait, the endpoint check.
    startup_seconds: int
    # A rollout: loading plus the margin (progressDeadlineSeconds, Pulumi's wait for engines).
    rollout_seconds: int
    # A loader's download: Pulumi's wait for the Kubernetes Job, `docker wait` on docker.
    loader_seconds: int


def plan_timeouts(startup_seconds: int) -> TimeoutPlan:
    return TimeoutPlan(
        startup_seconds=startup_seconds,
        rollout_seconds=startup_seconds + WAIT_MARGIN_SECONDS,
        loader_seconds=LOADER_SECONDS,
    )


def gateway_start_seconds(timeouts: list[TimeoutPlan]) -> int:
    """How long the docker gateway may wait for its config: loaders, then engines starting."""
    loading = max((t.startup_seconds for t in timeouts), default=0)
    return loading + LOADER_SECONDS


def in_minutes(seconds: int) -> str:
    """A Pulumi custom timeout (whole minutes, rounded down)."""
    return f"{seconds // 60}m"
