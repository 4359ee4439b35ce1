"""Loading a render for a subcommand (exit codes and stack arguments: arguments.py)."""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

import pulumi

from components.commands.arguments import stack_file_path
from components.offline.render import Render, render_stack, warn_leaks
from components.offline.stack_file import StackFileError, read_stack_file


def load_render(args: argparse.Namespace) -> Render | None:
    """Render the stack; on bad input print every error to stderr and return None."""
    try:
        path = stack_file_path(args)
    except StackFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    return render_file(path, args.stack)


def render_file(path: Path, stack: str | None, shown_as: str | None = None) -> Render | None:
    """Render one stack file; errors name it as `shown_as` (e.g. `stacks/x.yaml@main`)."""
    try:
        config = read_stack_file(path, stack)
        if shown_as is not None:
            config = dataclasses.replace(config, stack_file=Path(shown_as))
        render = render_stack(config)
    except StackFileError as error:
        message = str(error) if shown_as is None else str(error).replace(str(path), shown_as)
        print(f"error: {message}", file=sys.stderr)
        return None
    except pulumi.RunError as error:
        print(str(error), file=sys.stderr)
        return None
    warn_leaks(render)
    return render
