"""Run the guardrails on an offline render: what `modelstack validate` reports.

Subjects are rebuilt the way the Pulumi engine would hand them to the pack: the type token
from apiVersion and kind, the inputs as rendered, and the options (protect,
retainOnDelete) from resources.json, which the live pack cannot fully see.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from components.guardrails.definitions import OptionNotVisible, ResourceGuardrail
from components.guardrails.enforcement import (
    STRICTEST_ENVIRONMENT,
    Level,
    environments,
    level_for,
)
from components.guardrails.registry import GUARDRAILS
from components.guardrails.subject import ResourceOptions, Subject
from components.offline.render_model import Render
from components.offline.stack_file import StackFileError, read_stack_file

ENVIRONMENT_KEY = "modelstack:environment"
# The program exports its environment as a stack output (components/program.py).
ENVIRONMENT_OUTPUT = "environment"


@dataclass(frozen=True)
class Finding:
    policy: str
    level: Level
    # Kind/name of the object, as schema violations name it.
    where: str
    message: str

    def line(self) -> str:
        text = f"{self.where}: {self.policy} ({self.level.value}): {self.message}"
        return text if self.level is Level.MANDATORY else f"warning: {text}"


@dataclass(frozen=True)
class PolicyReport:
    environment: str
    findings: list[Finding]
    # (policy, object, reason) where a check could not run.
    unchecked: list[tuple[str, str, str]]

    @property
    def mandatory(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.MANDATORY]

    @property
    def advisory(self) -> list[Finding]:
        return [f for f in self.findings if f.level is Level.ADVISORY]

    def lines(self) -> list[str]:
        lines = [finding.line() for finding in self.findings]
        lines += [
            f"note: {where}: {policy} not checked: {why}" for policy, where, why in self.unchecked
        ]
        lines.append(self.summary())
        return lines

    def summary(self) -> str:
        if not self.findings:
            return f"policies ({self.environment}): no violations"
        return (
            f"policies ({self.environment}): {len(self.mandatory)} mandatory violation(s),"
            f" {len(self.advisory)} advisory warning(s)"
        )


def kubernetes_type(obj: dict[str, Any]) -> str:
    """The pulumi-kubernetes type token: v1 -> core/v1, as the provider names core kinds."""
    api_version = str(obj.get("apiVersion", ""))
    group_version = api_version if "/" in api_version else f"core/{api_version}"
    return f"kubernetes:{group_version}:{obj.get('kind', '')}"


def subjects_of(render: Render) -> list[Subject]:
    options = {
        resource["id"]: ResourceOptions(
            protect=bool(resource.get("protect")),
            retain_on_delete=bool(resource.get("retainOnDelete")),
        )
        for resource in render.resources
    }
    subjects = []
    for obj in render.objects:
        type_token = kubernetes_type(obj)
        name = str(obj.get("metadata", {}).get("name", ""))
        # Resources register under their metadata.name (components/kubernetes/objects.py).
        found = options.get(f"{type_token}::{name}", ResourceOptions())
        subjects.append(Subject(type_token, name, obj, found))
    for document in render.other_files.values():
        if "type" in document and "inputs" in document:
            type_token, name = str(document["type"]), str(document["name"])
            found = options.get(f"{type_token}::{name}", ResourceOptions())
            subjects.append(Subject(type_token, name, document["inputs"], found))
    return subjects


def check_subjects(subjects: Sequence[Subject], environment: str) -> PolicyReport:
    findings: list[Finding] = []
    unchecked: list[tuple[str, str, str]] = []
    for guardrail in GUARDRAILS:
        level = level_for(guardrail.name, environment)
        if level is Level.DISABLED:
            continue
        if isinstance(guardrail, ResourceGuardrail):
            for subject in subjects:
                try:
                    messages = guardrail.check(subject)
                except OptionNotVisible as missing:
                    unchecked.append((guardrail.name, subject.display, missing.reason))
                    continue
                findings += [Finding(guardrail.name, level, subject.display, m) for m in messages]
        else:
            findings += [
                Finding(guardrail.name, level, subject.display, message)
                for subject, message in guardrail.check(subjects)
            ]
    return PolicyReport(environment, findings, unchecked)


def check_render(render: Render, environment: str) -> PolicyReport:
    return check_subjects(subjects_of(render), environment)


def stack_environment(stack_file: Path) -> str:
    """The stack file's `modelstack:environment`; the strictest one when it cannot be read
    (render has already refused such a file, so this is belt and braces)."""
    try:
        values = read_stack_file(stack_file).values
    except StackFileError:
        return STRICTEST_ENVIRONMENT
    environment = values.get(ENVIRONMENT_KEY, STRICTEST_ENVIRONMENT)
    return environment if environment in environments() else STRICTEST_ENVIRONMENT


def render_environment(render: Render) -> str | None:
    """The environment a render was made for, from its stack outputs; None when they do not
    name a known one (a render from before the output, or a hand-made directory)."""
    environment = render.outputs.get(ENVIRONMENT_OUTPUT)
    return environment if environment in environments() else None
