"""Where a model comes from and where it lives in the cache."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from typing import Literal

from components.catalog.engines import ModelFormat

# The cache volume's mount point in loaders and engines alike. Not /models: model
# images (oci://) keep their files there and a mount would hide them.
CACHE_MOUNT = "/model-cache"
# Written last by a loader: a directory without it holds a partial download.
COMPLETE_MARKER = ".modelstack-complete"

Scheme = Literal["hf", "s3", "gs", "pvc", "oci", "ollama"]


@dataclass(frozen=True)
class ModelLocation:
    scheme: Scheme
    source: str
    # hf: org/repo; s3/gs: bucket/prefix; pvc: claim; oci: image; ollama: name:tag
    reference: str
    # A single file inside the reference (GGUF), or None for a directory of files.
    file: str | None
    revision: str | None
    # Directory the loader fills, or where the files already are (pvc://).
    directory: str
    # What the engine is pointed at: the file, or the directory.
    model_path: str
    inferred_format: ModelFormat | None

    @property
    def needs_download(self) -> bool:
        return self.scheme != "pvc"

    @property
    def pvc_claim(self) -> str | None:
        return self.reference if self.scheme == "pvc" else None

    @property
    def marker(self) -> str:
        # Ollama keeps every model in one store: each pulled model gets its own marker.
        suffix = f"-{_safe(self.reference)}" if self.scheme == "ollama" else ""
        return f"{self.directory}/{COMPLETE_MARKER}{suffix}"


def locate(source: str, revision: str | None) -> ModelLocation:
    """Parse a source URL (already checked by the spec) into a cache location."""
    scheme, _, rest = source.partition("://")
    rest = rest.strip("/")
    if scheme == "hf":
        parts = rest.split("/")
        reference = "/".join(parts[:2])
        file = "/".join(parts[2:]) or None
        revision = revision or "main"
        directory = f"{CACHE_MOUNT}/hf/{reference}/{_safe(revision)}"
    elif scheme in ("s3", "gs"):
        reference, file = _split_file(rest)
        directory = f"{CACHE_MOUNT}/{scheme}/{reference}"
    elif scheme == "pvc":
        claim, _, path = rest.partition("/")
        reference, file = claim, None
        directory = f"{CACHE_MOUNT}/pvc/{claim}" + (f"/{path}" if path else "")
        if path.endswith(".gguf"):
            directory, _, file = directory.rpartition("/")
    elif scheme == "oci":
        reference, file = rest, None
        directory = f"{CACHE_MOUNT}/oci/{_sanitized(rest)}-{_digest(rest)}"
    else:  # ollama: its own blobs/manifests layout, shared by every model of the cache
        reference, file = rest, None
        directory = f"{CACHE_MOUNT}/ollama"
    model_path = f"{directory}/{file}" if file else directory
    return ModelLocation(
        scheme=scheme,  # type: ignore[arg-type]
        source=source,
        reference=reference,
        file=file,
        revision=revision if scheme == "hf" else None,
        directory=directory,
        model_path=model_path,
        inferred_format=_format(scheme, file),
    )


def _split_file(path: str) -> tuple[str, str | None]:
    if path.endswith(".gguf"):
        head, _, file = path.rpartition("/")
        return head, file
    return path, None


def _format(scheme: str, file: str | None) -> ModelFormat | None:
    if scheme == "ollama":
        return "ollama"
    if file is None:
        return "safetensors"
    return "gguf" if file.endswith(".gguf") else None


def _safe(text: str) -> str:
    """A file-name part for `text`, one per text: `a/b` and `a_b` never share a directory."""
    safe = _sanitized(text)
    return safe if safe == text else f"{safe}-{_digest(text)}"


def _sanitized(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:8]
