"""A deployment's `autoscaling` block: what users may write, checked structurally.

Rules that need the engine, the hardware, the environment or the cluster settings (which
metrics an engine exports, Prometheus, prod's floor of replicas) live in the plan.
"""

from __future__ import annotations

import zoneinfo
from typing import Annotated, Literal

from pydantic import AfterValidator, BeforeValidator, Field, model_validator

from components.cron_expressions import check_cron
from components.spec_base import FieldError, SpecModel
from components.spec_identifiers import CLOCK_TIME

MetricType = Literal[
    "cpu",
    "memory",
    "gpu",
    "concurrency",
    "queue",
    "throughput",
    "latency",
    "kv-cache",
    "ttft",
    "itl",
]
# Targets in percent of what a replica has (requests for cpu and memory, the GPU's time, the
# engine's KV cache).
UTILIZATION_METRICS = frozenset({"cpu", "memory", "gpu", "kv-cache"})
# Targets in p95 seconds over the workload: end to end, to the first token, between tokens.
P95_METRICS = frozenset({"latency", "ttft", "itl"})
Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
MAX_WINDOW_REPLICAS = 8
# p95 latency targets above an hour mean a unit mistake (milliseconds), not a goal.
MAX_LATENCY_SECONDS = 3600


def _timezone(value: str) -> str:
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError(
            f"'{value}' is not an IANA time zone (e.g. Europe/Berlin, America/New_York, UTC)"
        ) from None
    return value


def _clock_text(value: object) -> object:
    # YAML 1.1 reads an unquoted 18:00 as the number 64800 (base 60).
    if isinstance(value, int) and not isinstance(value, bool):
        raise ValueError('write times quoted, e.g. "18:00" (unquoted, YAML reads a number)')
    return value


Timezone = Annotated[str, AfterValidator(_timezone)]
CronExpression = Annotated[str, AfterValidator(check_cron)]
ClockTime = Annotated[str, BeforeValidator(_clock_text), AfterValidator(CLOCK_TIME.check)]
# One number type (strict floats take YAML integers): a union would report errors twice.
Target = Annotated[float, Field(gt=0)]


def target_problem(metric: str, target: float) -> str | None:
    """Why `target` makes no sense for `metric`, or None."""
    if metric in UTILIZATION_METRICS:
        if target != int(target) or not 1 <= target <= 100:
            return f"a {metric} utilization target is a whole percent, 1 to 100 (got {target:g})"
    elif metric in P95_METRICS and target > MAX_LATENCY_SECONDS:
        return f"a p95 {metric} target in seconds, at most {MAX_LATENCY_SECONDS} (got {target:g})"
    return None


class MetricSpec(SpecModel):
    """One metric and the value per replica to hold it at (latency, ttft, itl: p95 seconds
    overall; kv-cache: percent averaged over the workload's pods)."""

    type: MetricType
    target: Target

    @model_validator(mode="after")
    def _target_fits(self) -> MetricSpec:
        problem = target_problem(self.type, self.target)
        if problem:
            raise FieldError("target", problem)
        return self


class ScaleToZeroSpec(SpecModel):
    enabled: bool = False
    # Idle this long before the last replica goes; a cold start costs a model load.
    cooldown_seconds: Annotated[int, Field(ge=30, le=86400)] = 300


class ScheduleWindowSpec(SpecModel):
    """A time window with a guaranteed minimum: cron start and end, or days and times."""

    timezone: Timezone
    start: CronExpression | None = None
    end: CronExpression | None = None
    days: Annotated[list[Weekday], Field(min_length=1)] | None = None
    wake_up: ClockTime | None = None
    cool_down: ClockTime | None = None
    min_replicas: Annotated[int, Field(ge=1, le=MAX_WINDOW_REPLICAS)]

    @model_validator(mode="after")
    def _one_form(self) -> ScheduleWindowSpec:
        cron = {"start": self.start, "end": self.end}
        guided = {"days": self.days, "wakeUp": self.wake_up, "coolDown": self.cool_down}
        cron_keys = [key for key, value in cron.items() if value is not None]
        guided_keys = [key for key, value in guided.items() if value is not None]
        if cron_keys and guided_keys:
            raise FieldError(
                guided_keys[0],
                "a window is start/end cron expressions or days + wakeUp + coolDown, not both",
            )
        if not cron_keys and not guided_keys:
            raise FieldError(
                "start", "required: start and end cron expressions, or days + wakeUp + coolDown"
            )
        form = cron if cron_keys else guided
        for key, value in form.items():
            if value is None:
                raise FieldError(key, f"required with {', '.join(cron_keys or guided_keys)}")
        if self.start is not None and self.start.split() == (self.end or "").split():
            raise FieldError("end", "is the same as start: the window would never open")
        if self.wake_up is not None and self.wake_up == self.cool_down:
            raise FieldError("coolDown", "is the same as wakeUp: the window would never open")
        if self.days is not None and len(set(self.days)) != len(self.days):
            raise FieldError("days", "lists a day twice")
        return self


class ScalingPolicySpec(SpecModel):
    """At most `value` pods (or percent of the current count) per `periodSeconds`."""

    type: Literal["Pods", "Percent"]
    value: Annotated[int, Field(ge=1, le=1000)]
    period_seconds: Annotated[int, Field(ge=1, le=1800)]

    @model_validator(mode="after")
    def _percent(self) -> ScalingPolicySpec:
        if self.type == "Percent" and self.value > 100:
            raise FieldError("value", f"a Percent policy is at most 100 (got {self.value})")
        return self


class ScaleUpSpec(SpecModel):
    # How far back the autoscaler looks before acting: damps flapping on noisy metrics.
    stabilization_seconds: Annotated[int, Field(ge=0, le=3600)] = 60
    select_policy: Literal["Max", "Min", "Disabled"] = "Max"
    policies: list[ScalingPolicySpec] = Field(default_factory=list)


class ScaleDownSpec(ScaleUpSpec):
    # Slower down than up: a replica removed too early costs a model load to get back.
    stabilization_seconds: Annotated[int, Field(ge=0, le=3600)] = 180
    select_policy: Literal["Max", "Min", "Disabled"] = "Min"


class BehaviorSpec(SpecModel):
    """HPA v2 behavior with the same meanings, one to one."""

    scale_up: ScaleUpSpec = Field(default_factory=ScaleUpSpec)
    scale_down: ScaleDownSpec = Field(default_factory=ScaleDownSpec)


class AutoscalingSpec(SpecModel):
    # The floor while serving (default: the environment's replica count).
    min: Annotated[int, Field(ge=0, le=1000)] | None = None
    max: Annotated[int, Field(ge=1, le=1000)]
    # One metric in short form, or several in `metrics`.
    metric: MetricType | None = None
    target: Target | None = None
    metrics: list[MetricSpec] = Field(default_factory=list)
    scale_to_zero: ScaleToZeroSpec = Field(default_factory=ScaleToZeroSpec)
    schedule: list[ScheduleWindowSpec] = Field(default_factory=list)
    # Outside every window: the normal min..max range, or no replicas at all.
    outside_windows: Literal["range", "zero"] = "range"
    behavior: BehaviorSpec = Field(default_factory=BehaviorSpec)

    @model_validator(mode="after")
    def _consistent(self) -> AutoscalingSpec:
        self._check_range()
        self._check_metrics()
        self._check_windows()
        return self

    def _check_range(self) -> None:
        if self.min == 0:
            raise FieldError(
                "min",
                "is the floor while serving, at least 1: for no replicas while idle set "
                "scaleToZero.enabled: true",
            )
        if self.min is not None and self.min > self.max:
            raise FieldError("min", f"{self.min} is above max ({self.max})")

    def _check_metrics(self) -> None:
        if self.metric is not None and self.metrics:
            raise FieldError("metrics", "use metric + target or metrics: [...], not both")
        if self.metric is not None and self.target is None:
            raise FieldError("target", f"required with metric: the {self.metric} to hold")
        if self.target is not None and self.metric is None:
            raise FieldError("metric", "required with target: what the target measures")
        if self.metric is not None and self.target is not None:
            problem = target_problem(self.metric, self.target)
            if problem:
                raise FieldError("target", problem)
        seen: set[str] = set()
        for index, metric in enumerate(self.metrics):
            if metric.type in seen:
                raise FieldError(f"metrics[{index}].type", f"{metric.type} is listed twice")
            seen.add(metric.type)

    def _check_windows(self) -> None:
        for index, window in enumerate(self.schedule):
            if window.min_replicas > self.max:
                raise FieldError(
                    f"schedule[{index}].minReplicas",
                    f"{window.min_replicas} is above max ({self.max})",
                )
        if self.outside_windows == "zero" and not self.schedule:
            raise FieldError("outsideWindows", "zero applies to schedule windows: add a schedule")
        if self.outside_windows == "zero" and self.scale_to_zero.enabled:
            raise FieldError(
                "scaleToZero.enabled",
                "scaleToZero and outsideWindows: zero are mutually exclusive: scale to zero "
                "when idle, or run only inside the schedule windows (zero outside them)",
            )

    @property
    def metric_list(self) -> list[tuple[tuple[str | int, ...], MetricSpec]]:
        """Every metric with the key path (under `autoscaling`) where the user wrote it."""
        if self.metric is not None and self.target is not None:
            return [
                (
                    ("metric",),
                    MetricSpec.model_validate({"type": self.metric, "target": self.target}),
                )
            ]
        return [(("metrics", index, "type"), metric) for index, metric in enumerate(self.metrics)]
