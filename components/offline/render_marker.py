"""The marker file a render directory carries: the files `modelstack render` wrote there.

A render directory may hold a user's own files (a `docker/Dockerfile`, notes in
`kubernetes/`): a new render removes only what the marker lists, never whole directories.
"""

from __future__ import annotations

import json
from pathlib import Path

MARKER_FILE = ".modelstack-render.json"


def previously_written(out: Path) -> list[Path]:
    """The files the last render wrote into `out` (none without a readable marker)."""
    try:
        listed = json.loads((out / MARKER_FILE).read_text(encoding="utf-8"))["files"]
    except (OSError, ValueError, KeyError, TypeError):
        return []
    root = out.resolve()
    files = []
    for relative in listed:
        path = (out / str(relative)).resolve()
        # A marker edited to point outside the directory removes nothing there.
        if path.is_relative_to(root) and path != root:
            files.append(path)
    return files


def remove_previous(out: Path) -> None:
    """Remove the last render's files, and the directories that leaves empty."""
    parents = set()
    for path in previously_written(out):
        if path.is_file():
            path.unlink()
            parents.add(path.parent)
    for directory in sorted(parents, key=lambda p: len(p.parts), reverse=True):
        if directory != out.resolve() and not any(directory.iterdir()):
            directory.rmdir()


def write_marker(out: Path, written: list[Path]) -> Path:
    marker = out / MARKER_FILE
    files = sorted(str(path.relative_to(out)) for path in written)
    marker.write_text(json.dumps({"files": files}, indent=2) + "\n", encoding="utf-8")
    return marker
