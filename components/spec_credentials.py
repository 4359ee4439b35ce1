"""What a credential looks like: by its name (env variables, flags) or by its value.

One definition for the spec (refuses literal credentials in the stack file) and the
no-literal-secret-env guardrail (refuses them in rendered pods), so the two agree.
"""

from __future__ import annotations

import re

# Name segments that mark a credential. Whole segments, so TOKENIZERS_PARALLELISM and
# MAX_TOKENS (everyday engine settings) are not taken for secrets.
SECRET_WORDS = frozenset(
    {
        "TOKEN",
        "SECRET",
        "PASSWORD",
        "PASSWD",
        "PWD",
        "KEY",
        "APIKEY",
        "CREDENTIAL",
        "CREDENTIALS",
        "AUTH",
        "PAT",
    }
)
# In command-line flags PAT and AUTH are mostly short for "path" and "authentication mode".
FLAG_SECRET_WORDS = SECRET_WORDS - {"PAT", "AUTH", "PWD"}
# A name ending in one of these points at where the secret is, not at the secret itself
# (HF_TOKEN_PATH=/var/run/secrets/hf/token).
REFERENCE_SUFFIXES = frozenset({"FILE", "PATH", "DIR", "ID", "NAME", "REF"})
_SEGMENT = re.compile(r"[A-Z0-9]+")

# Values shaped like a credential of a known issuer, whatever the name they sit under.
_TOKEN_SHAPES = (
    ("a Hugging Face token", re.compile(r"\bhf_[A-Za-z0-9]{30,}")),
    ("a GitHub token", re.compile(r"\b(gh[pousr]_[A-Za-z0-9]{30,}|github_pat_[A-Za-z0-9_]{20,})")),
    ("a GitLab token", re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}")),
    ("an API secret key (sk-...)", re.compile(r"\bsk-[A-Za-z0-9_-]{20,}")),
    ("an AWS access key id", re.compile(r"\b(AKIA|ASIA)[0-9A-Z]{16}\b")),
    ("a Google API key", re.compile(r"\bAIza[0-9A-Za-z_-]{35}")),
    ("a Slack token", re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}")),
    ("a private key", re.compile(r"-----BEGIN [A-Z ]*PRIVATE KEY-----")),
    (
        "a JSON Web Token",
        re.compile(r"\beyJ[A-Za-z0-9_-]{8,}\.eyJ[A-Za-z0-9_-]{8,}\.[A-Za-z0-9_-]{8,}"),
    ),
    # scheme://user:password@host: the password is in the URL.
    ("a URL with a password", re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s:@]*:[^/\s@]+@")),
)


def looks_secret(name: str, words: frozenset[str] = SECRET_WORDS) -> bool:
    """Whether an env variable (or, with FLAG_SECRET_WORDS, a flag) names a credential."""
    segments = _SEGMENT.findall(name.upper())
    if not segments or segments[-1] in REFERENCE_SUFFIXES:
        return False
    return any(
        segment in words or segment.endswith(("TOKEN", "APIKEY", "PASSWORD", "SECRET"))
        for segment in segments
    )


def credential_in(value: str) -> str | None:
    """What kind of credential `value` holds ("a GitHub token"), or None."""
    for kind, shape in _TOKEN_SHAPES:
        if shape.search(value):
            return kind
    return None
