"""`modelstack`: offline render and validation of a stack, for review and CI.

Exit codes: 0 fine, 1 the render breaks a schema, 2 bad input (stack file or arguments).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from pathlib import Path

import pulumi

from components.offline.crd_schemas import HOW_TO_GET_SCHEMAS, find_crd_schema_dir
from components.offline.render import Render, project_root, render_stack, warn_leaks, write_render
from components.offline.schema_validation import SchemaValidator
from components.offline.stack_file import StackFileError, read_stack_file

EXIT_OK = 0
EXIT_INVALID = 1
EXIT_BAD_INPUT = 2
KUBERNETES_VERSION = "1.33"


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    args = parser.parse_args(argv)
    if args.stack is None and args.stack_file is None:
        parser.error("give --stack NAME or --stack-file PATH")
    return int(args.command(args))


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="modelstack", description="Offline render and validation of modelstack stacks."
    )
    commands = parser.add_subparsers(required=True, metavar="COMMAND")

    render = commands.add_parser("render", help="write what `pulumi up` would send, as files")
    _stack_arguments(render)
    render.add_argument("--out", type=Path, help="output directory (default: render/<stack>)")
    render.set_defaults(command=_render)

    validate = commands.add_parser(
        "validate", help="render and check every object against the Kubernetes and CRD schemas"
    )
    _stack_arguments(validate)
    validate.add_argument(
        "--crd-schemas",
        type=Path,
        help="directory of CRD JSON schemas (<group>/<kind>_<version>.json)",
    )
    validate.add_argument(
        "--kubernetes-version", default=KUBERNETES_VERSION, help="schema version (default 1.33)"
    )
    validate.set_defaults(command=_validate)
    return parser


def _stack_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--stack", help="stack name: reads stacks/Pulumi.<stack>.yaml")
    parser.add_argument("--stack-file", type=Path, help="any stack file (for review in CI)")


def _load(args: argparse.Namespace) -> Render | None:
    """Render the stack; on bad input print every error and return None."""
    path = args.stack_file or project_root() / "stacks" / f"Pulumi.{args.stack}.yaml"
    try:
        config = read_stack_file(path, args.stack)
        render = render_stack(config)
    except StackFileError as error:
        print(f"error: {error}", file=sys.stderr)
        return None
    except pulumi.RunError as error:
        print(str(error), file=sys.stderr)
        return None
    warn_leaks(render)
    return render


def _render(args: argparse.Namespace) -> int:
    render = _load(args)
    if render is None:
        return EXIT_BAD_INPUT
    name = args.stack or (args.stack_file.stem.removeprefix("Pulumi."))
    out = args.out or Path("render") / name
    written = write_render(render, out)
    print(
        f"wrote {len(render.objects)} objects and {len(written) - len(render.objects)} "
        f"index files to {out}"
    )
    return EXIT_OK


def _validate(args: argparse.Namespace) -> int:
    try:
        crd_dir = find_crd_schema_dir(args.crd_schemas)
    except FileNotFoundError as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    render = _load(args)
    if render is None:
        return EXIT_BAD_INPUT
    validator = SchemaValidator(args.kubernetes_version, crd_dir)
    violations = validator.validate_all(render.objects)
    for violation in violations:
        print(violation)
    if violations:
        if crd_dir is None:
            print(HOW_TO_GET_SCHEMAS, file=sys.stderr)
        print(f"{len(violations)} schema violation(s) in {len(render.objects)} objects")
        return EXIT_INVALID
    print(
        f"{len(render.objects)} objects valid (Kubernetes {args.kubernetes_version}"
        f"{', CRDs from ' + str(crd_dir) if crd_dir else ''})"
    )
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
