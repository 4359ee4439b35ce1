"""The docker target on a real Docker Engine: a dockerd of the tests' own, local images.

Needs root, Debian's docker.io and the root filesystems `scripts/e2e-docker-setup.sh` builds
(`make e2e-docker` runs it), and the Pulumi CLI from `make e2e-tools`. Outside CI a missing
piece skips with what to run; in CI it fails.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.e2e_docker.daemon import Daemon, dockerd_available, start_daemon, stop_daemon
from tests.e2e_docker.images import Images, RootfsMissing, build_images, rootfs
from tests.e2e_docker.pulumi_driver import pulumi_available
from tests.e2e_docker.stack import DockerStack


def _require(ready: bool, why: str) -> None:
    if not ready:
        if os.environ.get("CI"):
            pytest.fail(why)
        pytest.skip(why)


@pytest.fixture(scope="session")
def daemon() -> Iterator[Daemon]:
    _require(dockerd_available(), "needs root and dockerd: apt-get install docker.io")
    _require(pulumi_available(), "needs the Pulumi CLI: make e2e-tools")
    try:
        rootfs("gateway"), rootfs("python")
    except RootfsMissing as missing:
        _require(False, str(missing))
    started = start_daemon()
    try:
        yield started
    finally:
        stop_daemon(started)


@pytest.fixture(scope="session")
def images(daemon: Daemon) -> Images:
    return build_images(daemon.env())


@pytest.fixture
def make_stack(daemon: Daemon, images: Images) -> Iterator[Callable[[str], DockerStack]]:
    """DockerStack factory; every stack's containers, networks and volumes go afterwards."""
    made: list[DockerStack] = []
    workdir = Path(tempfile.mkdtemp(prefix="mse2e-stack-"))

    def make(name: str) -> DockerStack:
        stack = DockerStack(daemon, images, workdir / name)
        made.append(stack)
        return stack

    yield make
    for stack in made:
        stack.teardown()
    shutil.rmtree(workdir, ignore_errors=True)
