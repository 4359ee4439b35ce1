"""Kubernetes label selectors (matchLabels and matchExpressions), evaluated on a label set."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from components.guardrails.wire import items, mapping


def selects(selector: Any, labels: Mapping[str, Any]) -> bool:
    """Whether `selector` selects an object with `labels`.

    An empty selector selects everything (a policy/v1 PodDisruptionBudget's meaning);
    a missing one selects nothing.
    """
    if not isinstance(selector, Mapping):
        return False
    for key, value in mapping(selector.get("matchLabels")).items():
        if labels.get(key) != value:
            return False
    return all(
        _expression_holds(mapping(e), labels) for e in items(selector.get("matchExpressions"))
    )


def _expression_holds(expression: Mapping[str, Any], labels: Mapping[str, Any]) -> bool:
    key = expression.get("key")
    operator = expression.get("operator")
    values = [str(v) for v in items(expression.get("values"))]
    if operator == "In":
        return key in labels and str(labels[key]) in values
    if operator == "NotIn":
        return key not in labels or str(labels[key]) not in values
    if operator == "Exists":
        return key in labels
    if operator == "DoesNotExist":
        return key not in labels
    # An operator the API server would refuse: it selects nothing.
    return False
