"""Errors in a stack file: every problem at once, each with its file and key path."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass


@dataclass(frozen=True, order=True)
class ConfigIssue:
    """One problem at one key path, e.g. `deployments[1].gpu.type`."""

    path: str
    message: str

    def __str__(self) -> str:
        return f"{self.path}: {self.message}" if self.path else self.message


def key_path(*parts: str | int) -> str:
    """('deployments', 1, 'gpu', 'type') -> 'deployments[1].gpu.type'."""
    text = ""
    for part in parts:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text


class StackConfigError(Exception):
    """Raised before any resource exists; the program registers nothing."""

    def __init__(
        self,
        stack_file: str,
        issues: list[ConfigIssue],
        deployment_names: Mapping[int, str] | None = None,
    ) -> None:
        self.stack_file = stack_file
        self.issues = sorted(set(issues), key=lambda issue: (_path_key(issue.path), issue.message))
        # deployments[i] -> its name, so a long stack's errors say which deployment.
        self.deployment_names = dict(deployment_names or {})
        super().__init__(self.report())

    def report(self) -> str:
        count = len(self.issues)
        lines = [f"{self.stack_file}: {count} error{'s' if count != 1 else ''} in the stack file"]
        lines += [f"  {self.stack_file}: modelstack:{self._named(issue)}" for issue in self.issues]
        lines.append("Nothing was applied.")
        return "\n".join(lines)

    def _named(self, issue: ConfigIssue) -> str:
        match = _DEPLOYMENT_INDEX.match(issue.path)
        name = self.deployment_names.get(int(match.group(1))) if match else None
        if name is None:
            return str(issue)
        # At the end: `path: message` stays one searchable piece.
        return f"{issue} [deployment {name}]"


_DEPLOYMENT_INDEX = re.compile(r"deployments\[([0-9]+)\]")


def _path_key(path: str) -> tuple[object, ...]:
    # Order deployments[2] before deployments[10].
    parts: list[object] = []
    for piece in path.replace("[", ".[").split("."):
        if piece.startswith("[") and piece.endswith("]") and piece[1:-1].isdigit():
            parts.append((0, int(piece[1:-1]), ""))
        else:
            parts.append((1, 0, piece))
    return tuple(parts)
