"""`modelstack`: offline review of stacks for people and CI pipelines.

Exit codes: 0 fine, 1 the check found problems, 2 bad input (stack file or arguments).
Each subcommand lives in components/commands/<name>.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from components.commands import diff, graph, render, status, validate
from components.commands.common import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK

SUBCOMMANDS = (render, validate, diff, graph, status)

__all__ = ["EXIT_BAD_INPUT", "EXIT_INVALID", "EXIT_OK", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="modelstack", description="Offline render, validation and review of modelstack stacks."
    )
    subcommands = parser.add_subparsers(required=True, metavar="COMMAND")
    for module in SUBCOMMANDS:
        module.register(subcommands)
    args = parser.parse_args(argv)
    return int(args.command(args))


if __name__ == "__main__":
    sys.exit(main())
