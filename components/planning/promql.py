"""PromQL text from plan values: every label value quoted as a PromQL string, every name in a
regex checked to need no escaping. Autoscaling, alerts and dashboards build selectors here.
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

# Object names (DNS labels): no character is special to RE2 outside a bracket expression.
_DNS_LABEL = re.compile(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", re.ASCII)
# A Deployment's pods are `<workload>-<replica set hash>-<pod hash>`.
POD_SUFFIX = "-[a-z0-9]+-[a-z0-9]+"


def string(value: str) -> str:
    """A PromQL string literal: JSON's escapes are a subset of the Go ones PromQL reads."""
    return json.dumps(value)


def names_pattern(names: Sequence[str]) -> str:
    """An RE2 alternation matching exactly these object names."""
    for name in names:
        if _DNS_LABEL.fullmatch(name) is None:
            raise ValueError(f"{name!r} is not a DNS label: it would need regex escaping")
    if not names:
        raise ValueError("no names to match")
    return names[0] if len(names) == 1 else f"({'|'.join(names)})"


def pods_matcher(label: str, workloads: Sequence[str]) -> str:
    """`label=~"..."` matching the pods of these Deployments and no others."""
    return f"{label}=~{string(names_pattern(workloads) + POD_SUFFIX)}"


def scoped(series: str, selector: str, separator: str = ",") -> str:
    """`name` or `name{labels}` with `selector` added to its label matchers."""
    if series.endswith("}"):
        return f"{series[:-1]}{separator}{selector}}}"
    return f"{series}{{{selector}}}"


def quantile(q: float, bucket: str, selector: str, window: str) -> str:
    """The q-quantile of a histogram over every series the selector picks."""
    return f"histogram_quantile({q}, sum by (le) (rate({scoped(bucket, selector)}[{window}])))"


def error_ratio(
    failed: str, completed: str, selector: str, window: str, separator: str = ","
) -> str:
    """Failed requests over all requests (0 to 1); 0, not NaN, without requests."""
    failures = f"sum(rate({scoped(failed, selector, separator)}[{window}]))"
    successes = f"sum(rate({scoped(completed, selector, separator)}[{window}]))"
    return f"{failures} / clamp_min({failures} + {successes}, 1e-9)"


def number(value: float) -> str:
    """A threshold as PromQL and KEDA read it: 32 stays "32", 0.5 stays "0.5"."""
    return str(int(value)) if float(value).is_integer() else repr(float(value))
