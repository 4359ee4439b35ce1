"""`pulumi up` ends with a healthy gateway: the config resource waits for Docker's verdict.

The command stands in for `docker inspect --format {{.State.Health.Status}} <gateway>` (the
e2e-docker suite runs the real one): a script that prints the next status of a sequence.
"""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from components.docker import nginx_reload
from components.docker.nginx_reload import NginxConfigError, wait_healthy


def _statuses(tmp_path: Path, *sequence: str) -> list[str]:
    """A command printing `sequence` one per call, then its last status on every call."""
    (tmp_path / "statuses").write_text("\n".join(sequence) + "\n")
    script = (
        'line=$(head -n 1 "$1/statuses"); rest=$(tail -n +2 "$1/statuses"); '
        '[ -n "$rest" ] && printf "%s\\n" "$rest" > "$1/statuses"; printf "%s\\n" "$line"'
    )
    return ["sh", "-c", script, "sh", str(tmp_path)]


@pytest.fixture(autouse=True)
def quick_polls(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(nginx_reload, "HEALTH_POLL_SECONDS", 0.01)


def test_waits_through_starting_until_healthy(tmp_path: Path) -> None:
    command = _statuses(tmp_path, "starting", "starting", "healthy")
    wait_healthy({"health_status": command, "health_wait_seconds": 10})
    # The three statuses were read: the wait ended at the first `healthy`.
    assert (tmp_path / "statuses").read_text() == "healthy\n"


def test_a_gateway_that_never_passes_fails_the_apply_with_dockers_word(tmp_path: Path) -> None:
    command = _statuses(tmp_path, "starting", "unhealthy")
    started = time.monotonic()
    with pytest.raises(NginxConfigError) as raised:
        wait_healthy({"health_status": command, "health_wait_seconds": 0.3})
    assert time.monotonic() - started >= 0.3
    assert "did not pass within 0.3 s" in str(raised.value)
    assert "Docker says: unhealthy" in str(raised.value)


def test_without_a_command_nothing_is_waited_for() -> None:
    started = time.monotonic()
    wait_healthy({"health_status": [], "health_wait_seconds": 30})
    assert time.monotonic() - started < 1
