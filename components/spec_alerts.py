"""Alert thresholds: `modelstack:kubernetes.monitoring.alerts` for the whole stack and a
deployment's `alerts` for itself.

Every field is optional: a deployment's value wins over the stack's, the stack's over the
environment's default (environments.py). The plan merges them; the spec only checks shapes.
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field

from components.spec_base import SpecModel
from components.spec_identifiers import IdentifierRule

# Prometheus' duration units that make sense for an alert's wait: whole seconds to hours.
DURATION = IdentifierRule(
    re.compile(r"[1-9][0-9]{0,4}(s|m|h)", re.ASCII), 6, 'a duration such as "5m", "90s" or "1h"'
)
_UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600}
MIN_WAIT_SECONDS = 60
MAX_WAIT_SECONDS = 24 * 3600
# A p95 above an hour means a unit mistake (milliseconds), not a goal (as autoscaling's).
MAX_LATENCY_SECONDS = 3600


def duration_seconds(value: str) -> int:
    """Seconds in a duration that DURATION accepts."""
    return int(value[:-1]) * _UNIT_SECONDS[value[-1]]


def _wait(value: str) -> str:
    seconds = duration_seconds(DURATION.check(value))
    if not MIN_WAIT_SECONDS <= seconds <= MAX_WAIT_SECONDS:
        raise ValueError(
            f"'{value}' is outside 1m to 24h: shorter fires on one slow scrape, longer is no alert"
        )
    return value


Wait = Annotated[str, AfterValidator(_wait)]


class AlertsSpec(SpecModel):
    """A PrometheusRule per deployment (with monitoring enabled): errors, p95 latency, no
    ready replicas, engine pods pending."""

    enabled: bool | None = None
    # Failed requests in percent of all, over 5 minutes.
    error_rate_percent: Annotated[float, Field(gt=0, le=100)] | None = None
    # End-to-end p95 over 5 minutes, in seconds.
    latency_p95_seconds: Annotated[float, Field(gt=0, le=MAX_LATENCY_SECONDS)] | None = None
    # How long a condition holds before the alert fires (Prometheus' `for`).
    for_: Wait | None = Field(default=None, alias="for")
    # How long an engine pod may stay Pending (GPU capacity, image pulls) before it alerts.
    pending_for: Wait | None = None
