"""The engine pod's wait-for-model init container: markers are argv, never shell text."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from components.kubernetes.manifests.pod import WAIT_SCRIPT
from components.planning.helper_images import LOADERS, WAIT
from tests.conftest import deployments_of, find_object, render_document, stack_document

SH = shutil.which("sh")
HOSTILE_MARKERS = [
    '/c/m"; touch PWNED; echo "/.modelstack-complete',
    "/c/$(touch PWNED)/.modelstack-complete",
    "/c/`touch PWNED`/.modelstack-complete",
    "/c/m'; touch PWNED; '/.modelstack-complete",
    "/c/m\ntouch PWNED\n/.modelstack-complete",
    "/c/-n/.modelstack-complete",
    "/c/%s%n/.modelstack-complete",
]


def _run_wait(
    markers: list[str], cwd: Path, sleep_stub: Path, pending: Path
) -> subprocess.CompletedProcess[str]:
    """The container's command, run by this machine's sh with `sleep` stubbed out."""
    env = {
        **os.environ,
        "PATH": f"{sleep_stub}:{os.environ['PATH']}",
        "SLEEP_LOG": str(sleep_stub / "sleep.log"),
        "MARKERS_TO_CREATE": str(pending),
    }
    return subprocess.run(
        [SH, "-c", WAIT_SCRIPT, "wait-for-model", *markers],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=20,
    )


@pytest.fixture
def sleep_stub(tmp_path: Path) -> Path:
    """`sleep` that creates every pending marker (listed in MARKERS_TO_CREATE) and returns."""
    stub_dir = tmp_path / "bin"
    stub_dir.mkdir()
    stub = stub_dir / "sleep"
    stub.write_text(
        '#!/bin/sh\necho slept >> "$SLEEP_LOG"\n'
        'while IFS= read -r path; do mkdir -p "$(dirname "$path")"; : > "$path"; '
        'done < "$MARKERS_TO_CREATE"\n'
    )
    stub.chmod(0o755)
    return stub_dir


def test_the_script_is_a_constant_that_parses() -> None:
    assert SH is not None
    checked = subprocess.run([SH, "-n", "-c", WAIT_SCRIPT], capture_output=True, text=True)
    assert checked.returncode == 0, checked.stderr


@pytest.mark.parametrize("marker", HOSTILE_MARKERS)
def test_hostile_markers_run_nothing_and_still_wait(
    marker: str, tmp_path: Path, sleep_stub: Path
) -> None:
    work = tmp_path / "work"
    work.mkdir()
    relative = marker.lstrip("/")
    pending = tmp_path / "pending"
    pending.write_text(str(work / relative) + "\n" if "\n" not in relative else "")
    if "\n" in relative:
        # A path with a newline cannot come from the stub's line list: create it here.
        (work / relative).parent.mkdir(parents=True, exist_ok=True)
        (work / relative).write_text("")
    result = _run_wait([relative], work, sleep_stub, pending)
    log = sleep_stub / "sleep.log"
    assert result.returncode == 0, result.stderr
    # Nothing in the marker ran: no file appeared outside the marker's own path.
    assert not list(tmp_path.rglob("PWNED"))
    if "\n" not in relative:
        # The marker was missing at first: the script waited (slept) before it went on.
        assert log.read_text().count("slept") == 1
        assert f"waiting for {relative}" in result.stdout


def test_every_marker_is_awaited(tmp_path: Path, sleep_stub: Path) -> None:
    work = tmp_path / "work"
    work.mkdir()
    (work / "a").write_text("")
    pending = tmp_path / "pending"
    pending.write_text(str(work / "b") + "\n")
    result = _run_wait(["a", "b"], work, sleep_stub, pending)
    assert result.returncode == 0
    assert result.stdout == "waiting for b\n"


def test_the_rendered_pod_passes_markers_as_arguments(tmp_path: Path) -> None:
    document = stack_document("staging")
    render = render_document(tmp_path, document)
    name = deployments_of(document)[0]["name"]
    workloads = [
        o
        for o in render.objects
        if o["kind"] == "Deployment" and o["metadata"]["name"].startswith(name)
    ]
    assert workloads
    for workload in workloads:
        init = workload["spec"]["template"]["spec"]["initContainers"][0]
        command = init["command"]
        assert command[:4] == ["sh", "-c", WAIT_SCRIPT, "wait-for-model"]
        assert command[4:] and all(m.endswith("/.modelstack-complete") for m in command[4:])
    assert find_object(render, "Deployment", workloads[0]["metadata"]["name"])


def test_prod_pins_the_wait_image_by_digest_and_tag(stack_renders) -> None:
    def wait_images(name: str) -> set[str]:
        return {
            o["spec"]["template"]["spec"]["initContainers"][0]["image"]
            for o in stack_renders[name].objects
            if o["kind"] == "Deployment" and o["spec"]["template"]["spec"].get("initContainers")
        }

    assert wait_images("prod") == {f"{WAIT.reference}@{WAIT.digest}"}
    assert wait_images("staging") == {WAIT.reference}
    # Loader images without a recorded digest keep their tag in prod (helper_images.py).
    loaders = {
        o["spec"]["template"]["spec"]["containers"][0]["image"]
        for o in stack_renders["prod"].objects
        if o["kind"] == "Job"
    }
    assert loaders == {LOADERS["hf"].reference}
