"""`modelstack render`: write what `pulumi up` would send, as files."""

from __future__ import annotations

import argparse
from pathlib import Path

from components.commands.arguments import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_stack_arguments,
    stack_name,
)
from components.commands.common import load_render
from components.offline.render import write_render


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser("render", help="write what `pulumi up` would send, as files")
    add_stack_arguments(parser)
    parser.add_argument("--out", type=Path, help="output directory (default: render/<stack>)")
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    render = load_render(args)
    if render is None:
        return EXIT_BAD_INPUT
    out = args.out or Path("render") / stack_name(args)
    written = write_render(render, out)
    documents = len(render.object_files())
    print(
        f"wrote {documents} resource documents and {len(written) - documents} index files to {out}"
    )
    return EXIT_OK
