"""`modelstack validate`: render, then check every object against the real schemas and the
guardrail policies (the policy pack's, at the stack environment's enforcement levels)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from components.commands.common import (
    EXIT_BAD_INPUT,
    EXIT_INVALID,
    EXIT_OK,
    add_stack_arguments,
    load_render,
    stack_file_path,
)
from components.guardrails.offline import check_render, stack_environment
from components.offline.crd_schemas import HOW_TO_GET_SCHEMAS, find_crd_schema_dir
from components.offline.schema_validation import SchemaValidator

KUBERNETES_VERSION = "1.33"


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = subcommands.add_parser(
        "validate",
        help="render and check every object against the Kubernetes and CRD schemas and the"
        " guardrail policies",
    )
    add_stack_arguments(parser)
    parser.add_argument(
        "--crd-schemas",
        type=Path,
        help="directory of CRD JSON schemas (<group>/<kind>_<version>.json)",
    )
    parser.add_argument(
        "--kubernetes-version", default=KUBERNETES_VERSION, help="schema version (default 1.33)"
    )
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    try:
        crd_dir = find_crd_schema_dir(args.crd_schemas)
        validator = SchemaValidator(args.kubernetes_version, crd_dir)
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    render = load_render(args)
    if render is None:
        return EXIT_BAD_INPUT
    violations = validator.validate_all(render.objects)
    for violation in violations:
        print(violation)
    # The policy pack's guardrails, at the stack's environment's levels (components/guardrails).
    policies = check_render(render, stack_environment(stack_file_path(args)))
    print("\n".join(policies.lines()))
    if violations:
        if crd_dir is None:
            print(HOW_TO_GET_SCHEMAS, file=sys.stderr)
        print(f"{len(violations)} schema violation(s) in {len(render.objects)} objects")
        return EXIT_INVALID
    if policies.mandatory:
        return EXIT_INVALID
    source = f", CRDs from {crd_dir}" if crd_dir else ""
    print(f"{len(render.objects)} objects valid (Kubernetes {args.kubernetes_version}{source})")
    return EXIT_OK
