"""Objects with a label selector (PodDisruptionBudgets), indexed to find the few that may
select a given label set without testing every one of them."""

from __future__ import annotations

from collections import Counter
from collections.abc import Hashable, Mapping, Sequence
from typing import Any

from components.guardrails.subject import Subject
from components.guardrails.wire import mapping

_Pair = tuple[str, Hashable]


class SelectorIndex:
    """Subjects by one label pair their `spec.selector` requires.

    A selector with matchLabels selects only label sets that hold every one of its pairs,
    so it is filed under its rarest pair (one Deployment's, not every pod's team label) and
    only label sets holding that pair see it. Selectors without a usable pair (none,
    expressions only, unhashable values) are candidates for every label set. `selects`
    still decides: the index only skips subjects that cannot match.
    """

    def __init__(self, subjects: Sequence[Subject]) -> None:
        required = [(subject, _required_pairs(subject)) for subject in subjects]
        counts = Counter(pair for _, pairs in required for pair in pairs)
        self._everywhere: list[Subject] = []
        self._by_pair: dict[_Pair, list[Subject]] = {}
        for subject, pairs in required:
            if not pairs:
                self._everywhere.append(subject)
                continue
            rarest = min(pairs, key=counts.__getitem__)
            self._by_pair.setdefault(rarest, []).append(subject)

    def candidates(self, labels: Mapping[str, Any]) -> list[Subject]:
        """Every subject whose selector may select `labels` (a superset of those that do)."""
        found = list(self._everywhere)
        for key, value in labels.items():
            if isinstance(value, Hashable):
                found += self._by_pair.get((key, value), [])
        return found


def _required_pairs(subject: Subject) -> list[_Pair]:
    selector = subject.spec("selector")
    if not isinstance(selector, Mapping):
        return []
    pairs = list(mapping(selector.get("matchLabels")).items())
    if not all(isinstance(value, Hashable) for _, value in pairs):
        return []
    return pairs
