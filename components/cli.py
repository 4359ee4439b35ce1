"""`modelstack`: offline review of stacks for people and CI pipelines.

Exit codes: 0 fine, 1 the check found problems, 2 bad input (stack file or arguments).
Each subcommand lives in components/commands/<name>.py.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from components.collector import full_collections_skipped
from components.commands.arguments import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK

# Modules under components/commands, in the order `--help` lists them.
SUBCOMMANDS = ("render", "validate", "diff", "graph", "status")

__all__ = ["EXIT_BAD_INPUT", "EXIT_INVALID", "EXIT_OK", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    # A short-lived process: full collections would walk a large render's whole heap for
    # nothing (1.3 s at 500 deployments). Restored after, for callers in a longer-lived
    # process (tests).
    with full_collections_skipped():
        return _run(sys.argv[1:] if argv is None else list(argv))


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="modelstack", description="Offline render, validation and review of modelstack stacks."
    )
    subcommands = parser.add_subparsers(required=True, metavar="COMMAND")
    # Only the named subcommand's module is imported: the others bring Pulumi and the
    # program, which `validate --render-dir` never needs (0.65 s). `--help` lists them all.
    named = [argv[0]] if argv and argv[0] in SUBCOMMANDS else SUBCOMMANDS
    for name in named:
        importlib.import_module(f"components.commands.{name}").register(subcommands)
    args = parser.parse_args(argv)
    return int(args.command(args))


if __name__ == "__main__":
    sys.exit(main())
