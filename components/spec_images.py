"""The shape of a container image reference, for a stack file's `image:` and `oci://` sources.

What counts as pinned is components/catalog/image_pinning.py (planner and guardrail alike).
"""

from __future__ import annotations

import re

from components.spec_identifiers import IdentifierRule

IMAGE = IdentifierRule(
    re.compile(
        r"(?:(?:localhost|[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)(?::[0-9]+)?/)?"  # registry[:port]
        r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*"
        r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"  # tag
        r"(?:@sha256:[a-f0-9]{64})?",
        re.ASCII,
    ),
    512,
    "a container image reference ([registry/]repository[:tag][@sha256:digest])",
)
