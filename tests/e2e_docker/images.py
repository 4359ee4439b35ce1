"""The test images: root filesystems from debootstrap (scripts/e2e-docker-setup.sh) + stand-ins.

`docker import` turns a root filesystem into an image with no registry involved. The gateway
is Debian's nginx as it is; the python image carries the engine stand-in (tests/support's fake
engine behind an engine's command line) and the loader stand-ins (`pip`, `hf`).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tarfile
import tempfile
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
ROOTFS_DIR = ROOT / "build" / "e2e-docker"
STANDINS = Path(__file__).resolve().parent / "standins"
FAKE_ENGINE = ROOT / "tests" / "support" / "fake_engine.py"

GATEWAY = "modelstack-e2e/gateway:nginx-1.22"
ENGINE = "modelstack-e2e/engine:standin"
LOADER = "modelstack-e2e/loader:standin"


class RootfsMissing(FileNotFoundError):
    pass


@dataclass(frozen=True)
class Images:
    gateway: str = GATEWAY
    engine: str = ENGINE
    loader: str = LOADER


def rootfs(name: str) -> Path:
    found = sorted(ROOTFS_DIR.glob(f"{name}-*.tar"), key=lambda path: path.stat().st_mtime)
    if not found:
        raise RootfsMissing(
            f"no {name} root filesystem in {ROOTFS_DIR}: run `bash scripts/e2e-docker-setup.sh` "
            "(or `make e2e-docker`)"
        )
    return found[-1]


def build_images(env: dict[str, str]) -> Images:
    _import(rootfs("gateway"), GATEWAY, [], env)
    files = {
        "opt/standin/engine.py": STANDINS / "engine.py",
        "opt/standin/fake_engine.py": FAKE_ENGINE,
        "opt/standin/hf": STANDINS / "hf",
        "usr/local/bin/pip": STANDINS / "pip",
    }
    entrypoint = ["python3", "-u", "/opt/standin/engine.py"]
    _import(rootfs("python"), ENGINE, [f"ENTRYPOINT {json.dumps(entrypoint)}"], env, files)
    # One filesystem for both stand-ins: the loader runs its own entrypoint (/bin/sh -c).
    subprocess.run(["docker", "tag", ENGINE, LOADER], env=env, check=True, capture_output=True)
    return Images()


def _import(
    base: Path,
    tag: str,
    changes: list[str],
    env: dict[str, str],
    files: dict[str, Path] | None = None,
) -> None:
    with tempfile.TemporaryDirectory(prefix="mse2e-image-") as scratch:
        tarball = base
        if files:
            tarball = Path(scratch) / "rootfs.tar"
            shutil.copyfile(base, tarball)
            with tarfile.open(tarball, "a") as archive:
                for target, source in files.items():
                    info = archive.gettarinfo(str(source), arcname=f"./{target}")
                    info.uid = info.gid = 0
                    info.uname = info.gname = "root"
                    info.mode = 0o755
                    with source.open("rb") as handle:
                        archive.addfile(info, handle)
        command = ["docker", "import"]
        for change in changes:
            command += ["--change", change]
        subprocess.run([*command, str(tarball), tag], env=env, check=True, capture_output=True)
