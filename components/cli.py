"""`modelstack`: offline review of stacks for people and CI pipelines.

Exit codes: 0 fine, 1 the check found problems, 2 bad input (stack file or arguments).
Each subcommand lives in components/commands/<name>.py.
"""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Sequence

from components.commands.arguments import EXIT_BAD_INPUT, EXIT_INVALID, EXIT_OK
from components.gc_settings import full_collections_skipped

# 128 + SIGPIPE: what a shell reports for a writer whose reader went away.
EXIT_BROKEN_PIPE = 141

# Modules under components/commands, in the order `--help` lists them, with their summary:
# `modelstack --help` imports none of them (their imports reach Pulumi and the program).
SUBCOMMANDS = {
    "render": "write what `pulumi up` would send, as files",
    "validate": "check every object against the Kubernetes and CRD schemas and the guardrails",
    "diff": "compare a stack file with an earlier version: changes and replacements",
    "graph": "draw the stack's topology (Mermaid and SVG): routes, Services, slots, caches",
    "status": "show what runs for a stack: statuses, conditions, error codes",
}
EPILOG = """examples:
  modelstack render --stack prod --out render/prod
  modelstack validate --stack prod
  modelstack diff --stack prod --against origin/main
  modelstack status --stack prod --watch

exit codes:
  0  fine
  1  the check found problems (diff: changes; status: ERROR/FAILED)
  2  bad input (stack file, arguments)
  3  diff: something would be replaced; status: still progressing
  4  status: the cluster or Docker daemon cannot be read

`modelstack COMMAND --help` describes each command."""

__all__ = ["EXIT_BAD_INPUT", "EXIT_INVALID", "EXIT_OK", "main"]


def main(argv: Sequence[str] | None = None) -> int:
    # A short-lived process: full collections would walk a large render's whole heap for
    # nothing (1.3 s at 500 deployments). Restored after, for callers in a longer-lived
    # process (tests).
    with full_collections_skipped():
        try:
            return _run(sys.argv[1:] if argv is None else list(argv))
        except BrokenPipeError:
            # The reader stopped early (`| head`): end quietly, as Unix tools do.
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
            return EXIT_BROKEN_PIPE


def version() -> str:
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("modelstack")
    except PackageNotFoundError:  # run from a checkout without installing
        return "unknown"


def _run(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(
        prog="modelstack",
        description="Offline render, validation and review of modelstack stacks: what"
        " `pulumi up` would do, without the Pulumi CLI, credentials or a cluster.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--version", action="version", version=f"modelstack {version()}")
    subcommands = parser.add_subparsers(required=True, metavar="COMMAND")
    named = argv[0] if argv and argv[0] in SUBCOMMANDS else None
    for name, summary in SUBCOMMANDS.items():
        if name == named:
            # Only the named subcommand's module is imported, with its full parser.
            importlib.import_module(f"components.commands.{name}").register(subcommands)
        else:
            subcommands.add_parser(name, help=summary)
    args = parser.parse_args(argv)
    return int(args.command(args))


if __name__ == "__main__":
    sys.exit(main())
