"""`modelstack render`: write what `pulumi up` would send, as files (or one YAML stream)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.commands.arguments import (
    EXIT_BAD_INPUT,
    EXIT_OK,
    add_command,
    add_stack_arguments,
    stack_name,
)

EXIT_CODES = """exit codes:
  0  rendered
  2  bad input (stack file, arguments): every error on stderr, nothing written"""


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = add_command(
        subcommands,
        "render",
        summary="write what `pulumi up` would send, as files",
        description="Run the stack's program under Pulumi's mock runtime (no CLI, no cluster)"
        " and write one document per resource: kubernetes/<kind>-<name>.yaml,"
        " docker/<type>-<name>.yaml, checks/<name>.yaml, plus resources.json and outputs.json."
        " A new render removes only the files the previous one listed in"
        " .modelstack-render.json; other files in the directory are left alone.",
        examples=[
            "modelstack render --stack prod                 # into render/prod",
            "modelstack render --stack-file my.yaml --out out/",
            "modelstack render --stack prod --out - | kubectl apply --dry-run=client -f -",
        ],
        exit_codes=EXIT_CODES,
    )
    add_stack_arguments(parser)
    parser.add_argument(
        "--out",
        type=Path,
        help="output directory (default: render/<stack>); - writes one YAML stream to stdout",
    )
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    # Imported here: `render --help` should not pay for Pulumi and the program.
    from components.commands.render_loading import load_render
    from components.offline.render import render_stream, write_render

    render = load_render(args)
    if render is None:
        return EXIT_BAD_INPUT
    if str(args.out) == "-":
        sys.stdout.write(render_stream(render))
        return EXIT_OK
    out = args.out or Path("render") / stack_name(args)
    written = write_render(render, out)
    documents = len(render.object_files())
    print(
        f"wrote {documents} resource documents and {len(written) - documents} index files to {out}"
    )
    return EXIT_OK
