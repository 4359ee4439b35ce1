"""Cron expressions against KEDA's own examples: what its cron scaler accepts passes here too.

KEDA parses `start` and `end` with robfig/cron v3's
`NewParser(Minute | Hour | Dom | Month | Dow)` (pkg/scalers/cron_scaler.go). Examples from
https://keda.sh/docs/2.18/scalers/cron/ (and https://keda.sh/docs/2.2/scalers/cron/ before
it) and from KEDA's parser tests,
https://github.com/kedacore/keda/blob/main/pkg/scalers/cron_scaler_test.go.
"""

from __future__ import annotations

import re

import pytest

from components.cron_expressions import check_cron

KEDA_DOCS = ["0 6 * * *", "0 20 * * *", "30 * * * *", "45 * * * *"]
KEDA_TESTS_ACCEPTED = [
    "0 0 * * Thu",
    "59 23 * * Thu",
    "0 */2 * * *",
    "0 1-23/2 * * *",
    "30-33 * * * *",
    "45-50 * * * *",
]
KEDA_TESTS_REFUSED = ["-30 * * * *", "-50 * * * *", "50 * * -3 *"]
# robfig/cron v3 refuses these too (its bounds, options and grammar). croniter accepts the
# first five and cronsim four of them: why the check is written here, not taken from either.
ROBFIG_REFUSED = [
    "0 9 * * 7",
    "0 9 * * 5-7",
    "0 0 L * *",
    "0 0 15W * *",
    "0 0 * * 5#3",
    "@hourly",
    "0 0 0 * * *",
    "*/0 * * * *",
    "0 9 * * 5-1",
]


@pytest.mark.parametrize("expression", KEDA_DOCS + KEDA_TESTS_ACCEPTED)
def test_what_keda_accepts_is_accepted(expression: str) -> None:
    assert check_cron(expression) == expression


@pytest.mark.parametrize("expression", KEDA_TESTS_REFUSED + ROBFIG_REFUSED)
def test_what_keda_refuses_is_refused(expression: str) -> None:
    with pytest.raises(ValueError, match=re.escape(expression)):
        check_cron(expression)
