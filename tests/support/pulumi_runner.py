"""Running the real Pulumi CLI in a test's own sandbox: local state, no downloads, one call.

Both real-engine suites (tests/e2e, tests/e2e_docker) drive the CLI built by `make e2e-tools`
this way: a PULUMI_HOME and file backend inside the test's folder, a test-only passphrase,
automatic plugin acquisition off, and the project's virtualenv first on PATH so the language
host and the dynamic-provider host run the project's Python.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path


class PulumiFailed(RuntimeError):
    def __init__(self, args: list[str], result: subprocess.CompletedProcess[str]) -> None:
        super().__init__(
            f"pulumi {' '.join(args)} exited {result.returncode}\n"
            f"--- stdout ---\n{result.stdout[-6000:]}\n--- stderr ---\n{result.stderr[-6000:]}"
        )
        self.result = result


def sandbox_env(
    workdir: Path, passphrase: str, path_first: list[Path], base: Mapping[str, str] | None = None
) -> dict[str, str]:
    """The environment for `pulumi` with state, plugins and secrets all inside `workdir`."""
    base = os.environ if base is None else base
    venv_bin = Path(sys.executable).parent
    search = [*(str(p) for p in path_first), str(venv_bin), base.get("PATH", "")]
    return {
        **{k: v for k, v in base.items() if not k.startswith("PULUMI_")},
        "PATH": os.pathsep.join(search),
        "VIRTUAL_ENV": str(venv_bin.parent),
        "PULUMI_HOME": str(workdir / "pulumi-home"),
        "PULUMI_BACKEND_URL": f"file://{workdir / 'state'}",
        "PULUMI_CONFIG_PASSPHRASE": passphrase,
        "PULUMI_SKIP_UPDATE_CHECK": "true",
        "PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION": "true",
        "NO_COLOR": "1",
    }


def run_pulumi(
    pulumi: Path,
    args: tuple[str, ...] | list[str],
    workdir: Path,
    env: Mapping[str, str],
    check: bool = True,
    timeout: float = 900,
) -> subprocess.CompletedProcess[str]:
    result = subprocess.run(
        [str(pulumi), *args, "--non-interactive"],
        cwd=workdir,
        env=dict(env),
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
    )
    if check and result.returncode != 0:
        raise PulumiFailed(list(args), result)
    return result
