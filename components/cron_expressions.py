"""Five-field cron expressions as KEDA's cron trigger reads them, and guided windows as cron.

KEDA parses `start` and `end` with the standard five fields (minute hour day-of-month month
day-of-week; no seconds, no @descriptors) and days of the week 0-6 with 0 = Sunday, so 7 is
refused here rather than by the cluster after `pulumi up`.

Written here, not taken from croniter or cronsim: both accept what KEDA's parser (robfig/cron
v3) refuses, such as 7 for Sunday, `L` and `5#3`; tests/test_cron_expressions.py holds KEDA's
own examples.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

WEEKDAYS = ("sun", "mon", "tue", "wed", "thu", "fri", "sat")
_MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")
_ITEM = re.compile(r"(?P<base>\*|[a-z0-9]+(?:-[a-z0-9]+)?)(?:/(?P<step>[0-9]+))?")


@dataclass(frozen=True)
class _Field:
    name: str
    low: int
    high: int
    # Names accepted for values, in order from `low` (JAN = 1, SUN = 0).
    names: tuple[str, ...] = ()

    def value(self, text: str) -> int:
        if text in self.names:
            return self.low + self.names.index(text)
        if not text.isdigit():
            raise ValueError(f"{self.name} '{text}' is not a number")
        number = int(text)
        if not self.low <= number <= self.high:
            raise ValueError(f"{self.name} {number} is out of range {self.low}-{self.high}")
        return number


_FIELDS = (
    _Field("minute", 0, 59),
    _Field("hour", 0, 23),
    _Field("day of month", 1, 31),
    _Field("month", 1, 12, _MONTHS),
    _Field("day of week (0 = Sunday)", 0, 6, WEEKDAYS),
)


def check_cron(expression: str) -> str:
    """Return the expression if KEDA can parse it, else raise ValueError saying why."""
    if not expression.isascii() or not expression.isprintable():
        raise ValueError(f"{expression!r}: fields are separated by spaces (no tabs or newlines)")
    parts = expression.split()
    if len(parts) != len(_FIELDS):
        raise ValueError(
            f"'{expression}' has {len(parts)} fields; a cron expression has 5: "
            "minute hour day-of-month month day-of-week (e.g. '0 9 * * 1-5')"
        )
    for part, spec in zip(parts, _FIELDS, strict=True):
        try:
            _check_field(part.lower(), spec)
        except ValueError as error:
            raise ValueError(f"'{expression}': {error}") from None
    return expression


def _check_field(text: str, spec: _Field) -> None:
    for item in text.split(","):
        match = _ITEM.fullmatch(item)
        if match is None:
            raise ValueError(f"{spec.name} '{item}' is not a value, range, list or step")
        base, step = match["base"], match["step"]
        if step is not None and not 1 <= int(step) <= spec.high:
            raise ValueError(f"{spec.name} step '/{step}' must be 1 to {spec.high}")
        if base == "*":
            continue
        first, _, last = base.partition("-")
        low = spec.value(first)
        if last and spec.value(last) < low:
            raise ValueError(f"{spec.name} range '{base}' runs backwards")


def guided_window(days: list[str], wake_up: str, cool_down: str) -> tuple[str, str]:
    """Days plus wake-up and cool-down times ("HH:MM") as start and end cron expressions.

    A window that cools down at or before it wakes up runs past midnight: it ends on the
    following day, so the end expression names the next weekday of each start day.
    """
    start_hour, start_minute = (int(part) for part in wake_up.split(":"))
    end_hour, end_minute = (int(part) for part in cool_down.split(":"))
    start_days = sorted(WEEKDAYS.index(day) for day in days)
    overnight = (end_hour, end_minute) <= (start_hour, start_minute)
    end_days = sorted((day + 1) % 7 for day in start_days) if overnight else start_days
    return (
        f"{start_minute} {start_hour} * * {_day_list(start_days)}",
        f"{end_minute} {end_hour} * * {_day_list(end_days)}",
    )


def _day_list(days: list[int]) -> str:
    return ",".join(str(day) for day in days)
