"""Model sources and revisions: what may name a model, checked once for spec and planner.

A source becomes cache paths, loader arguments and (oci://) an image reference, so every
part is plain ASCII from a small set: no path traversal (`.`/`..` parts, empty parts), no
shell or URL syntax, no credentials, no look-alike unicode, nothing that reads as a flag.
"""

from __future__ import annotations

import re

from components.spec_identifiers import DNS_1123_LABEL, REVISION, shown
from components.spec_images import IMAGE

MODEL_SCHEMES = ("hf", "s3", "gs", "pvc", "oci", "ollama")
# One path part of an object key, a repository file or a claim's directory.
_PART = re.compile(r"[A-Za-z0-9_+=,@~-][A-Za-z0-9_.+=,@~-]{0,254}", re.ASCII)
# Hugging Face: user or organization, and repository names.
_HF_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,95}", re.ASCII)
_S3_BUCKET = re.compile(r"[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]", re.ASCII)
_GS_BUCKET = re.compile(r"[a-z0-9][a-z0-9._-]{1,220}[a-z0-9]", re.ASCII)
_OLLAMA_MODEL = re.compile(
    r"[A-Za-z0-9][A-Za-z0-9._-]*(/[A-Za-z0-9][A-Za-z0-9._-]*)*(:[A-Za-z0-9][A-Za-z0-9._-]*)?",
    re.ASCII,
)
# Claims are mounted as volumes named `pvc-<claim>`: a DNS label of at most 63.
MAX_CLAIM = 59
MAX_SOURCE = 1024


def source_problem(value: str) -> str | None:
    """Why `value` is not a model source, or None."""
    scheme, separator, rest = value.partition("://")
    if not separator or scheme not in MODEL_SCHEMES:
        return f"{shown(value)} is not a model source: use one of " + ", ".join(
            f"{s}://" for s in MODEL_SCHEMES
        )
    if len(value) > MAX_SOURCE:
        return f"a model source is at most {MAX_SOURCE} characters"
    if "@" in rest.split("/", 1)[0] and scheme != "oci":
        return f"{shown(value)}: credentials do not belong in a source (use the pod's identity)"
    rest = rest.strip("/")
    if not rest:
        return f"{shown(value)} names no model"
    if scheme == "oci":
        problem = IMAGE.problem(rest)
        return f"oci:// {problem}" if problem else None
    if scheme == "ollama":
        if not _OLLAMA_MODEL.fullmatch(rest):
            return f"{shown(value)}: an ollama:// source is ollama://<name>[:<tag>]"
        return None
    parts = rest.split("/")
    bad = next((part for part in parts if not _PART.fullmatch(part)), None)
    if bad is not None:
        return _part_problem(value, bad)
    head = parts[0]
    if scheme == "hf":
        if len(parts) < 2 or not all(_HF_NAME.fullmatch(p) for p in parts[:2]):
            return f"{shown(value)}: an hf:// source is hf://<org>/<repo>[/<file>.gguf]"
    elif scheme == "s3" and not _S3_BUCKET.fullmatch(head):
        return f"{shown(value)}: '{head}' is not an S3 bucket name"
    elif scheme == "gs" and not _GS_BUCKET.fullmatch(head):
        return f"{shown(value)}: '{head}' is not a Cloud Storage bucket name"
    elif scheme == "pvc":
        problem = DNS_1123_LABEL.problem(head)
        if problem or len(head) > MAX_CLAIM:
            return f"{shown(value)}: the claim must be a DNS-1123 label of at most {MAX_CLAIM}"
    return None


def _part_problem(value: str, part: str) -> str:
    if part in ("", ".", ".."):
        return f"{shown(value)}: empty, '.' and '..' parts would leave the model's directory"
    return (
        f"{shown(value)}: {shown(part)} may use ASCII letters, digits and '._+=,@~-' only, "
        "not starting with '.' (no spaces, quotes, shell or URL syntax)"
    )


def check_source(value: str) -> str:
    problem = source_problem(value)
    if problem:
        raise ValueError(problem)
    return value


def check_revision(value: str) -> str:
    if any(part in ("", ".", "..") for part in value.split("/")):
        raise ValueError(f"{shown(value)}: empty, '.' and '..' parts are not revisions")
    return REVISION.check(value)
