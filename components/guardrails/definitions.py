"""The two shapes a guardrail takes: one resource at a time, or the whole stack at once."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from components.guardrails.subject import Subject

# Messages about one resource; each says what to change in the stack file.
ResourceCheck = Callable[[Subject], list[str]]
# (resource, message) pairs: checks that need other resources (autoscalers, budgets).
StackCheck = Callable[[Sequence[Subject]], list[tuple[Subject, str]]]


class OptionNotVisible(Exception):
    """A check needs a resource option its caller cannot see (live policy packs)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class ResourceGuardrail:
    name: str
    description: str
    # The general fix, shown by Pulumi Cloud next to each violation.
    remediation: str
    check: ResourceCheck


@dataclass(frozen=True)
class StackGuardrail:
    name: str
    description: str
    remediation: str
    check: StackCheck


Guardrail = ResourceGuardrail | StackGuardrail
