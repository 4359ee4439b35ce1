"""A stack file as it was at a git revision (for `modelstack diff --against REV`)."""

from __future__ import annotations

import subprocess
from pathlib import Path


class RevisionError(Exception):
    """Not a git work tree, not a revision, or git is missing."""


def file_at_revision(path: Path, revision: str) -> str | None:
    """The file's content at `revision`; None when the file did not exist there."""
    directory = path.resolve().parent
    _git(directory, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}", what=revision)
    # "REV:./name" resolves the path relative to the directory git runs in.
    spec = f"{revision}:./{path.name}"
    exists = _run(directory, "cat-file", "-e", spec)
    if exists.returncode != 0:
        return None
    return _git(directory, "show", spec, what=spec)


def _git(directory: Path, *arguments: str, what: str) -> str:
    result = _run(directory, *arguments)
    if result.returncode != 0:
        detail = result.stderr.strip() or "unknown revision"
        raise RevisionError(f"{what}: {detail} (in {directory})")
    return result.stdout


def _run(directory: Path, *arguments: str) -> subprocess.CompletedProcess[str]:
    try:
        return subprocess.run(
            ["git", "-C", str(directory), *arguments],
            capture_output=True,
            text=True,
            check=False,
        )
    except FileNotFoundError as error:
        raise RevisionError("git is not installed") from error
