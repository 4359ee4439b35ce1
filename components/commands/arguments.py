"""Exit codes and the stack arguments every subcommand shares.

Free of Pulumi and the program (components/commands/render_loading.py imports both), so a
subcommand that needs neither (`validate --render-dir`) starts without their imports.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from components.offline.render_model import project_root
from components.offline.stack_file import StackFileError

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_BAD_INPUT = 2


# Every subcommand's help ends with these (its own codes first where it has more).
EXIT_CODES_HELP = """exit codes:
  0  fine
  1  the check found problems
  2  bad input (stack file, arguments)"""


def add_command(
    subcommands: argparse._SubParsersAction,
    name: str,
    summary: str,
    description: str,
    examples: list[str],
    exit_codes: str = EXIT_CODES_HELP,
) -> argparse.ArgumentParser:
    """A subcommand whose --help has a description, examples and its exit codes."""
    epilog = "examples:\n" + "\n".join(f"  {line}" for line in examples) + "\n\n" + exit_codes
    return subcommands.add_parser(
        name,
        help=summary,
        description=description,
        epilog=epilog,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    # One or the other: a name and a path together would leave which file is read unclear.
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--stack", help="stack name: reads stacks/Pulumi.<stack>.yaml")
    group.add_argument("--stack-file", type=Path, help="any stack file (for review in CI)")


def add_output_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--output",
        choices=("text", "json"),
        default="text",
        help="json: one document on stdout for pipelines (default: text)",
    )


def known_stacks() -> list[str]:
    return sorted(
        path.name.removeprefix("Pulumi.").removesuffix(".yaml")
        for path in (project_root() / "stacks").glob("Pulumi.*.yaml")
    )


def stack_file_path(args: argparse.Namespace) -> Path:
    if args.stack_file is not None:
        return args.stack_file
    stacks = ", ".join(known_stacks()) or "none in stacks/"
    if args.stack is None:
        raise StackFileError(f"give --stack NAME (stacks: {stacks}) or --stack-file PATH")
    if "/" in args.stack or "\\" in args.stack or args.stack.endswith((".yaml", ".yml")):
        raise StackFileError(
            f"--stack takes a stack name, not a path ('{args.stack}'): "
            f"use --stack-file {args.stack} (stacks: {stacks})"
        )
    path = project_root() / "stacks" / f"Pulumi.{args.stack}.yaml"
    if not path.is_file():
        raise StackFileError(f"no stack '{args.stack}' (stacks: {stacks})")
    return path


def stack_name(args: argparse.Namespace) -> str:
    return args.stack or args.stack_file.stem.removeprefix("Pulumi.")
