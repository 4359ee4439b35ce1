"""Start-up cost of the `modelstack` command, against the bare import of the Pulumi SDKs.

Run from the repository root: ``.venv/bin/python benchmarks/startup.py [--runs N]``. Each
case is a whole fresh process (interpreter start, imports, work, exit), timed from outside;
the best of N runs is printed, in seconds. The reference rows are what any Pulumi program
pays before doing anything: `import pulumi`, and pulumi plus both provider SDKs.

Figures are for reading, not a test: nothing here asserts a time.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CLI = (sys.executable, "-m", "components.cli")


def _cases(out: Path) -> list[tuple[str, tuple[str, ...]]]:
    return [
        ("python -c pass (interpreter)", (sys.executable, "-c", "pass")),
        ("import pulumi", (sys.executable, "-c", "import pulumi")),
        (
            "import pulumi + kubernetes + docker SDKs",
            (sys.executable, "-c", "import pulumi, pulumi_kubernetes, pulumi_docker"),
        ),
        ("modelstack --version", (*CLI, "--version")),
        ("modelstack --help", (*CLI, "--help")),
        ("modelstack render --help", (*CLI, "render", "--help")),
        ("modelstack render --stack prod", (*CLI, "render", "--stack", "prod", "--out", str(out))),
        ("modelstack render --stack dev", (*CLI, "render", "--stack", "dev", "--out", str(out))),
    ]


def best_of(command: tuple[str, ...], runs: int) -> str:
    best = float("inf")
    for _ in range(runs):
        start = time.perf_counter()
        done = subprocess.run(command, cwd=ROOT, capture_output=True)
        if done.returncode != 0:
            return f"exit {done.returncode}"
        best = min(best, time.perf_counter() - start)
    return f"{best:.2f}"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5, help="runs per case (best is shown)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        print(f"best of {args.runs} fresh processes, seconds")
        for label, command in _cases(Path(tmp) / "render"):
            print(f"{best_of(command, args.runs):>7}  {label}")


if __name__ == "__main__":
    main()
