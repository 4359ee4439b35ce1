"""`modelstack diff`: what a change to a stack file does, before anyone runs `pulumi up`.

Exit codes: 0 no changes, 1 changes that all update in place, 3 at least one resource
would be replaced (or the update refused, or a protected resource deleted), 2 bad input.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import tempfile
from pathlib import Path

from components.commands.arguments import (
    EXIT_BAD_INPUT,
    add_output_argument,
    add_stack_arguments,
    stack_file_path,
    stack_name,
)
from components.diff.git_revision import RevisionError, file_at_revision
from components.offline.render_model import Render
from components.offline.stack_file import StackFileError

EPILOG = """\
examples:
  modelstack diff --stack prod --against origin/main
  modelstack diff --stack prod --against HEAD~1 --format markdown   # for a PR comment
  modelstack diff --stack prod --against-file old.yaml --output json

Both sides are rendered with the code as it is now: --against REV takes only the stack
file's content at REV (git show REV:path), so the diff shows what the stack file change
does, not what code changes do.

exit codes:
  0  no changes
  1  changes, all applied in place
  2  bad input (either stack file, a revision, arguments)
  3  something would be replaced, or refused (a protected resource, a PVC shrink, ...)
"""


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "diff",
        help="compare a stack file with an earlier version: changes and replacements",
        description="Render two versions of a stack file and say what changes, resource by"
        " resource, and which changes Kubernetes or Pulumi would answer with a replacement.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    add_stack_arguments(parser)
    against = parser.add_mutually_exclusive_group(required=True)
    against.add_argument(
        "--against", metavar="GIT_REV", help="the stack file as committed at this git revision"
    )
    against.add_argument(
        "--against-file", metavar="PATH", type=Path, help="another stack file (the old side)"
    )
    parser.add_argument("--format", choices=("text", "markdown"), default="text")
    add_output_argument(parser)
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: `diff --help` should not pay for Pulumi and the program.
    from components.diff.compare import compare
    from components.diff.diff_digest import exit_code
    from components.diff.format_json import format_json
    from components.diff.format_markdown import format_markdown
    from components.diff.format_text import format_text

    try:
        current = stack_file_path(args)
        old_side = _old_side(args, current)
    except (StackFileError, RevisionError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    before = _render_old(old_side, stack_name(args))
    after = _render_new(current, stack_name(args))
    if before is None or after is None:
        return EXIT_BAD_INPUT
    diff = compare(before, after)
    title = f"modelstack diff: {stack_name(args)}, {old_side.label} -> {_shown(current)}"
    if args.output == "json":
        print(format_json(diff, title), end="")
    elif args.format == "markdown":
        print(format_markdown(diff, title), end="")
    else:
        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        print(format_text(diff, title, color=color), end="")
    return exit_code(diff)


@dataclasses.dataclass(frozen=True)
class _OldSide:
    label: str  # how messages name it: a path, or REV:path
    path: Path | None = None  # a stack file on disk
    content: str | None = None  # the stack file's text at a revision
    missing: bool = False  # the file did not exist at the revision: everything is new


def _old_side(args: argparse.Namespace, current: Path) -> _OldSide:
    if args.against_file is not None:
        return _OldSide(label=_shown(args.against_file), path=args.against_file)
    label = f"{args.against}:{_shown(current)}"
    content = file_at_revision(current, args.against)
    return _OldSide(label=label, content=content, missing=content is None)


def _render_new(path: Path, stack: str) -> Render | None:
    from components.commands.render_loading import render_file

    return render_file(path, stack, shown_as=_shown(path))


def _render_old(side: _OldSide, stack: str) -> Render | None:
    from components.commands.render_loading import render_file

    if side.missing:
        print(f"note: {side.label} does not exist: every resource is new", file=sys.stderr)
        return Render(objects=[], resources=[], outputs={}, leaks=[])
    if side.path is not None:
        return render_file(side.path, stack, shown_as=side.label)
    with tempfile.TemporaryDirectory(prefix="modelstack-diff-") as directory:
        path = Path(directory) / f"Pulumi.{stack}.yaml"
        path.write_text(side.content or "", encoding="utf-8")
        return render_file(path, stack, shown_as=side.label)


def _shown(path: Path) -> str:
    """Paths as the user would type them: relative to the working directory when inside it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)
