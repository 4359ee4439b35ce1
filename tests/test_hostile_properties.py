"""Any string in any string field: the render refuses it (exit 2, at its key path) or what
it renders stays valid and inert. Never a traceback, never another exit code."""

from __future__ import annotations

import tempfile
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tests.support.hostile import document_with, dump, run_render
from tests.test_hostile_input import assert_inert

D = "deployments[0]"
# (committed stack, key path the string goes to, key path errors are reported at)
STRING_FIELDS = [
    ("staging", f"{D}.name", f"{D}.name"),
    ("staging", f"{D}.description", f"{D}.description"),
    ("staging", f"{D}.model.source", f"{D}.model"),
    ("staging", f"{D}.model.revision", f"{D}.model.revision"),
    ("staging", f"{D}.model.servedName", f"{D}.model.servedName"),
    ("staging", f"{D}.image", f"{D}.image"),
    ("staging", f"{D}.env.EXTRA", f"{D}.env.EXTRA"),
    ("staging", f"{D}.tags.team", f"{D}.tags.team"),
    ("staging", f"{D}.engineArgs", f"{D}.engineArgs[0]"),
    ("staging", f"{D}.cache.storageClass", f"{D}.cache.storageClass"),
    ("staging", f"{D}.placement.runtimeClass", f"{D}.placement.runtimeClass"),
    ("staging", f"{D}.resources.memory", f"{D}.resources"),
    ("staging", f"{D}.cache.size", f"{D}.cache.size"),
    ("staging", f"{D}.gpu.type", f"{D}.gpu.type"),
    ("staging", "kubernetes.namespace", "kubernetes.namespace"),
    ("staging", "kubernetes.prometheus", "kubernetes.prometheus"),
    ("staging", "kubernetes.context", "kubernetes.context"),
    ("dev", f"{D}.route.path", f"{D}.route.path"),
    ("dev", f"{D}.route.hosts", f"{D}.route.hosts[0]"),
    ("dev", f"{D}.model.servedName", f"{D}.model.servedName"),
    ("dev", "docker.bindAddress", "docker.bindAddress"),
]
HOSTILE_PARTS = [
    '"',
    "'",
    "`id`",
    "$(id)",
    "${HOME}",
    "$(HF_TOKEN)",
    ";",
    "&&",
    "|",
    "\n",
    "\r",
    "\t",
    "\x00",
    "..",
    "/",
    "//",
    " ",
    "-",
    "--port",
    "%s",
    "{",
    "}",
    "#",
    "\\",
    "\u0430",
    "\uff11",
    "\u202e",
    "hf_" + "x1" * 20,
    "user:pw@",
    "a",
    "b-1",
    "x.y",
]
_values = st.one_of(
    st.text(max_size=30),
    st.lists(st.sampled_from(HOSTILE_PARTS), min_size=1, max_size=6).map("".join),
    st.from_regex(r"[a-z][a-z0-9.-]{0,12}[a-z0-9]", fullmatch=True),
)


@given(field=st.sampled_from(STRING_FIELDS), value=_values)
@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
def test_any_string_in_any_field_is_refused_or_rendered_inert(
    field: tuple[str, str, str], value: str
) -> None:
    base, path, reported_at = field
    as_list = path.endswith(("engineArgs", "hosts"))
    document = document_with(base, {path: [value] if as_list else value})
    with tempfile.TemporaryDirectory() as scratch:
        outcome = run_render(Path(scratch), dump(document))
        assert outcome.code in (0, 2), outcome.stderr
        assert "Traceback" not in outcome.stderr
        if outcome.code == 2:
            assert f"modelstack:{reported_at}" in outcome.stderr, outcome.stderr
            assert not outcome.out.exists()
        else:
            assert_inert(outcome.out, Path(scratch))
