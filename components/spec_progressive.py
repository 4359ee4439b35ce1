"""`rollout.progressive`: a canary that moves by itself, handed to Flagger (Kubernetes).

The stack file says the steps, how long each lasts and what the canary must keep under;
the plan (planning/progressive_delivery.py) decides the Canary and its metric checks.
"""

from __future__ import annotations

import itertools
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from components.spec_alerts import DURATION, MAX_LATENCY_SECONDS, duration_seconds
from components.spec_base import FieldError, SpecModel

# Each check is a rate over the interval: two scrapes at the common 30 s interval at least.
MIN_INTERVAL_SECONDS = 60
MAX_INTERVAL_SECONDS = 3600
MAX_STEPS = 20


def _interval(value: str) -> str:
    seconds = duration_seconds(DURATION.check(value))
    if not MIN_INTERVAL_SECONDS <= seconds <= MAX_INTERVAL_SECONDS:
        raise ValueError(
            f"'{value}' is outside 1m to 1h: shorter measures less than two scrapes, "
            "longer leaves a bad canary serving for hours"
        )
    return value


def _steps(value: list[int]) -> list[int]:
    for earlier, later in itertools.pairwise(value):
        if later <= earlier:
            raise ValueError(f"steps must grow strictly: {earlier} then {later}")
    return value


Step = Annotated[int, Field(ge=1, le=99)]


class ProgressiveSpec(SpecModel):
    """The canary's share per step (percent), each held `interval` while the checks pass."""

    steps: Annotated[list[Step], Field(min_length=1, max_length=MAX_STEPS), AfterValidator(_steps)]
    interval: Annotated[str, AfterValidator(_interval)] = "1m"
    # Failed requests in percent of all, measured on the canary's pods each interval.
    max_error_rate: Annotated[float, Field(gt=0, le=100)] | None = None
    # The canary's end-to-end p95 in seconds.
    max_latency_p95: Annotated[float, Field(gt=0, le=MAX_LATENCY_SECONDS)] | None = None

    @model_validator(mode="after")
    def _some_check(self) -> ProgressiveSpec:
        if self.max_error_rate is None and self.max_latency_p95 is None:
            raise FieldError(
                "maxErrorRate",
                "a canary promoted without a check is a rollout: set maxErrorRate, "
                "maxLatencyP95 or both",
            )
        return self


def progressive_conflict(
    strategy: str, active: str | None, slots: dict, canary_weight: int | None
) -> tuple[str, str] | None:
    """(key, message) for a rollout key that a progressive canary leaves to Flagger."""
    if strategy != "canary":
        return "progressive", "applies to strategy canary only"
    if canary_weight is not None:
        return "canaryWeight", "Flagger sets the canary's weight step by step: remove canaryWeight"
    if active is not None or slots:
        key = "active" if active is not None else "slots"
        return key, (
            "a progressive canary runs one Deployment and Flagger keeps its primary copy: "
            "remove active and slots (the stack file's version is the candidate)"
        )
    return None


def workload_strategy(strategy: str, progressive: ProgressiveSpec | None) -> str:
    """How slots are planned: a progressive canary is one workload, as rolling is."""
    return "rolling" if progressive is not None else strategy
