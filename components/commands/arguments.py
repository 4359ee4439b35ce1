"""Exit codes and the stack arguments every subcommand shares.

Free of Pulumi and the program (components/commands/common.py imports both), so a
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


def add_stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="stack name: reads stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--stack-file", type=Path, help="any stack file (for review in CI)")


def stack_file_path(args: argparse.Namespace) -> Path:
    if args.stack_file is not None:
        return args.stack_file
    if args.stack is None:
        raise StackFileError("give --stack NAME or --stack-file PATH")
    return project_root() / "stacks" / f"Pulumi.{args.stack}.yaml"


def stack_name(args: argparse.Namespace) -> str:
    return args.stack or args.stack_file.stem.removeprefix("Pulumi.")
