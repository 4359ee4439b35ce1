"""Identifier rules: one definition per kind of name, checked by full match, with its words.

A pattern ending in a dollar anchor, checked with `re.match`, accepts a trailing newline
(the anchor matches before a final newline); every rule here uses `re.fullmatch`, so the
whole value is what was checked. The spec, the planner and the guardrails all check names
through these rules and no copies of them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class IdentifierRule:
    """A kind of name: its pattern (whole value), length bound and how to say what it is."""

    pattern: re.Pattern[str]
    max_length: int
    # Completes "'x' is not ...": e.g. "a DNS label (lowercase letters, digits and '-')".
    description: str

    def matches(self, value: object) -> bool:
        return (
            isinstance(value, str)
            and len(value) <= self.max_length
            and self.pattern.fullmatch(value) is not None
        )

    def problem(self, value: str) -> str | None:
        """Why `value` is not such a name, or None."""
        if len(value) > self.max_length:
            return f"{shown(value)} is {len(value)} characters; at most {self.max_length}"
        if self.pattern.fullmatch(value) is None:
            return f"{shown(value)} is not {self.description}"
        return None

    def check(self, value: str) -> str:
        """For pydantic validators: the value, or ValueError with the problem."""
        problem = self.problem(value)
        if problem:
            raise ValueError(problem)
        return value


def shown(value: str, limit: int = 80) -> str:
    """A value quoted for a message: control characters visible, long values cut."""
    text = repr(value) if not value.isprintable() else f"'{value}'"
    return text if len(text) <= limit else text[: limit - 4] + "...'"


def _rule(pattern: str, max_length: int, description: str) -> IdentifierRule:
    # ASCII: look-alike letters (Cyrillic letters, fullwidth digits) never pass for names.
    return IdentifierRule(re.compile(pattern, re.ASCII), max_length, description)


_DNS_LABEL_TEXT = "lowercase letters, digits and '-', starting and ending with a letter or digit"

DNS_1035_LABEL = _rule(
    r"[a-z]([-a-z0-9]*[a-z0-9])?",
    63,
    "a DNS label: lowercase letters, digits and '-', starting with a letter and ending "
    "with a letter or digit",
)
DNS_1123_LABEL = _rule(r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", 63, f"a DNS-1123 label: {_DNS_LABEL_TEXT}")
DNS_1123_SUBDOMAIN = _rule(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    253,
    f"a DNS-1123 subdomain: {_DNS_LABEL_TEXT}, in parts joined by '.'",
)
HOSTNAME = _rule(
    r"(\*\.)?[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*",
    253,
    "a host name (lowercase, optionally starting with '*.')",
)
ENV_NAME = _rule(
    r"[A-Za-z_][A-Za-z0-9_]*", 256, "an environment variable name: letters, digits and '_'"
)
LABEL_NAME = _rule(
    r"([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]",
    63,
    "a label name: letters, digits, '-', '_' and '.', starting and ending with a letter or digit",
)
LABEL_VALUE = _rule(
    r"(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?",
    63,
    "a label value: at most 63 letters, digits, '-', '_' or '.'",
)
# Secret and ConfigMap keys.
CONFIG_KEY = _rule(r"[-._a-zA-Z0-9]+", 253, "a Secret or ConfigMap key: letters, digits, '-_.'")
# Names modelstack passes on as they are (adapters, node groups, the Grafana label).
PLAIN_NAME = _rule(
    r"[A-Za-z0-9][-A-Za-z0-9_.]*",
    63,
    "a name: letters, digits, '-', '_' and '.', starting with a letter or digit",
)
GRAFANA_LABEL = _rule(
    r"[A-Za-z0-9][-A-Za-z0-9_./]*", 253, "a label key: letters, digits, '-', '_', '.', '/'"
)
POOL_NAME = _rule(
    r"[a-z]([-a-z0-9]*[a-z0-9])?", 12, "a pool name: lowercase letters, digits and '-'"
)
REGISTRY_NAME = _rule(
    r"[a-z0-9]([-a-z0-9]*[a-z0-9])?", 40, "a registry name: lowercase letters, digits and '-'"
)
REGISTRY_SERVER = _rule(
    r"[A-Za-z0-9]([-A-Za-z0-9.]*[A-Za-z0-9])?(:[0-9]{1,5})?(/[A-Za-z0-9._-]+)*",
    253,
    "a registry server: host[:port][/path]",
)
# The model id clients send; also an engine argument and a file name for some engines.
SERVED_NAME = _rule(
    r"[A-Za-z0-9][A-Za-z0-9._:+@/-]*",
    128,
    "a model name: letters, digits and '._:+@/-', starting with a letter or digit",
)
# A Hugging Face branch, tag or commit (path segments; `..` is refused separately).
REVISION = _rule(
    r"[A-Za-z0-9_][A-Za-z0-9_.+-]*(/[A-Za-z0-9_][A-Za-z0-9_.+-]*)*",
    128,
    "a revision: a branch, tag or commit (ASCII letters, digits, '._+-', '/' between parts)",
)
HEALTH_PATH = _rule(r"/[A-Za-z0-9._/-]*", 200, "an HTTP path: '/' then letters, digits, '._/-'")
# Template placeholders are resolved (and checked again) by the planner's route rule.
ROUTE_TEMPLATE = _rule(
    r"/[A-Za-z0-9._~{}/-]*", 400, "a path template: '/' then letters, digits, '._~/-' and {...}"
)
BIND_ADDRESS = _rule(
    r"[0-9]{1,3}(\.[0-9]{1,3}){3}|::1?|localhost",
    64,
    "a bind address: an IPv4 address, :: or ::1, or localhost",
)
CLOCK_TIME = _rule(r"([01][0-9]|2[0-3]):[0-5][0-9]", 5, 'a time of day such as "08:00"')
SURGE_PERCENT = _rule(r"[0-9]{1,4}%", 5, "a percentage such as '25%'")
UNAVAILABLE_PERCENT = _rule(r"(100|[0-9]{1,2})%", 4, "a percentage from 0% to 100%")
PROMETHEUS_URL = _rule(
    r"https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?(/[A-Za-z0-9._~/-]*)?",
    2048,
    "an http(s) URL of Prometheus: scheme, host[:port] and path (no credentials, no query)",
)
# An OpenAI-compatible service's base URL: scheme, host (DNS name or IPv4), port, and a path
# ending in /v1. No credentials, query or fragment (an API key is a Pulumi secret).
OPENAI_BASE_URL = _rule(
    r"(?P<scheme>http|https)://(?P<host>[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*)"
    r"(:(?P<port>[0-9]{1,5}))?(?P<prefix>(/[A-Za-z0-9._~-]+)*)/v1/?",
    2048,
    "an OpenAI base URL: http(s)://host[:port][/prefix]/v1 (lowercase host, no credentials, "
    "no query)",
)
KUBE_CONTEXT = _rule(
    r"[A-Za-z0-9][A-Za-z0-9._:@/-]*", 253, "a kubeconfig context name: letters, digits, '._:@/-'"
)
GPU_TYPE = _rule(r"[A-Za-z0-9][A-Za-z0-9._-]*", 40, "a GPU type name such as L4 or H100")
TOLERATION_KEY = _rule(
    r"([a-z0-9]([-a-z0-9.]*[a-z0-9])?/)?[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?",
    316,
    "a taint key: [prefix/]name",
)
USERNAME = _rule(r"[!-~]+", 256, "a user name: printable ASCII without spaces")


def printable_text(value: str) -> str:
    """Free text (descriptions): any printable characters; no control characters or NUL."""
    if not value.isprintable():
        raise ValueError(f"{shown(value)} has control characters (newline, tab, NUL...)")
    return value
