"""`modelstack validate`: render (or read a render directory), then check every object
against the real schemas and the guardrail policies (the policy pack's, at the stack
environment's enforcement levels).

This module imports neither Pulumi nor the program: `validate --render-dir` never needs
them, and their imports were 0.65 s of its 3 s budget at 500 deployments.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from components.commands.arguments import (
    EXIT_BAD_INPUT,
    EXIT_INVALID,
    EXIT_OK,
    add_command,
    add_output_argument,
    add_stack_arguments,
    stack_file_path,
)
from components.guardrails.enforcement import STRICTEST_ENVIRONMENT
from components.guardrails.offline import check_render, render_environment, stack_environment
from components.offline.crd_schemas import HOW_TO_GET_SCHEMAS, find_crd_schema_dir
from components.offline.nginx_check import (
    Nginx,
    NginxResult,
    check_config,
    find_nginx,
    gateway_configs,
)
from components.offline.render_dir import RenderDirError, load_render_dir
from components.offline.render_model import OUTPUTS_FILE, Render
from components.offline.schema_validation import SchemaValidator
from components.offline.stack_file import StackFileError

KUBERNETES_VERSION = "1.33"


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = add_command(
        subcommands,
        "validate",
        summary="check every object against the Kubernetes and CRD schemas and the guardrails",
        description="Render the stack (or read a render directory) and check every object:"
        " core kinds strictly against the Kubernetes OpenAPI schemas, custom resources against"
        " CRD schemas (build/crd-schemas from `make crd-schemas`, --crd-schemas or"
        " MODELSTACK_CRD_SCHEMAS; without one they are reported as skipped), then the guardrail"
        " policies at the stack's environment's levels. On docker stacks the gateway's nginx"
        " config is checked with `nginx -t` where nginx is installed (on PATH, /usr/sbin/nginx"
        " or --nginx); where it is not, the output says the config was not checked.",
        examples=[
            "modelstack validate --stack prod",
            "modelstack validate --render-dir render/prod --stack prod",
            "modelstack validate --stack prod --output json",
            "modelstack validate --stack dev --nginx /usr/local/sbin/nginx",
        ],
        exit_codes="exit codes:\n  0  valid (skipped kinds are not failures)\n"
        "  1  schema violations, mandatory policy violations, or nginx -t refused the"
        " gateway config\n"
        "  2  bad input (stack file, render directory, arguments)",
    )
    add_stack_arguments(parser)
    parser.add_argument(
        "--render-dir",
        type=Path,
        help="check this directory, as `modelstack render --out` wrote it, instead of rendering"
        " (--stack/--stack-file then only name the environment)",
    )
    parser.add_argument(
        "--crd-schemas",
        type=Path,
        help="directory of CRD JSON schemas (<group>/<kind>_<version>.json)",
    )
    parser.add_argument(
        "--kubernetes-version", default=KUBERNETES_VERSION, help="schema version (default 1.33)"
    )
    parser.add_argument(
        "--nginx",
        metavar="PATH",
        help="nginx binary that tests docker stacks' gateway config (default: nginx on PATH,"
        " else /usr/sbin/nginx)",
    )
    add_output_argument(parser)
    parser.set_defaults(command=run)


def run(args: argparse.Namespace) -> int:
    try:
        crd_dir = find_crd_schema_dir(args.crd_schemas)
        validator = SchemaValidator(args.kubernetes_version, crd_dir)
        # A named nginx that is not there is a typo: refused before rendering.
        named_nginx = find_nginx(args.nginx) if args.nginx is not None else None
    except (FileNotFoundError, ValueError) as error:
        print(f"error: {error}", file=sys.stderr)
        return EXIT_BAD_INPUT
    render = _render(args)
    if render is None:
        return EXIT_BAD_INPUT
    environment = _environment(args, render)
    if environment is None:
        return EXIT_BAD_INPUT
    violations = validator.validate_all(render.objects)
    # The policy pack's guardrails, at the stack's environment's levels (components/guardrails).
    policies = check_render(render, environment)
    gateways = _check_gateways(render, named_nginx)
    refused = [result for result in gateways if result.checked and not result.valid]
    skipped = sorted(f"{api_version} {kind}" for api_version, kind in validator.skipped)
    checked = len(render.objects) - sum(validator.skipped.values())
    failed = bool(violations) or bool(policies.mandatory) or bool(refused)
    if args.output == "json":
        print(
            json.dumps(
                {
                    "valid": not failed,
                    "objects": len(render.objects),
                    "violations": [str(violation) for violation in violations],
                    "policies": policies.lines(),
                    "skipped": skipped,
                    "crdSchemas": str(crd_dir) if crd_dir else None,
                    "gatewayConfigs": [result.as_json() for result in gateways],
                },
                indent=2,
            )
        )
        return EXIT_INVALID if failed else EXIT_OK
    for violation in violations:
        print(violation)
    print("\n".join(policies.lines()))
    for result in gateways:
        print("\n".join(result.lines()))
    if skipped:
        print(f"skipped (no CRD schema): {', '.join(skipped)}")
        print(HOW_TO_GET_SCHEMAS, file=sys.stderr)
    if violations:
        print(f"{len(violations)} schema violation(s) in {len(render.objects)} objects")
        return EXIT_INVALID
    if policies.mandatory or refused:
        return EXIT_INVALID
    if render.objects or not gateways:
        source = f", CRDs from {crd_dir}" if crd_dir else ""
        note = f", {len(render.objects) - checked} skipped" if skipped else ""
        print(f"{checked} objects valid{note} (Kubernetes {args.kubernetes_version}{source})")
    if gateways:
        print(_gateway_summary(gateways))
    return EXIT_OK


def _check_gateways(render: Render, named: Nginx | None) -> list[NginxResult]:
    """`nginx -t` on each gateway config of a docker render (none on Kubernetes)."""
    configs = gateway_configs(render)
    if not configs:
        return []
    # Looked for only now: Kubernetes stacks never run `nginx -v`.
    nginx = named or find_nginx()
    return [check_config(config, nginx) for config in configs]


def _gateway_summary(gateways: list[NginxResult]) -> str:
    """The last line for a docker stack: what was checked, or plainly that it was not."""
    unchecked = [result for result in gateways if not result.checked]
    if not unchecked:
        return f"{len(gateways)} gateway config(s) valid (nginx -t); no Kubernetes objects"
    return (
        "gateway config NOT checked (see the note above); no Kubernetes objects:"
        " only the policies ran"
    )


def _render(args: argparse.Namespace) -> Render | None:
    """The render to check; on bad input print the error to stderr and return None."""
    if args.render_dir is None:
        # Imported here: rendering needs Pulumi and the program, a render directory neither.
        from components.commands.render_loading import load_render

        return load_render(args)
    try:
        return load_render_dir(args.render_dir)
    except RenderDirError as error:
        print(f"error: {error}", file=sys.stderr)
        return None


def _environment(args: argparse.Namespace, render: Render) -> str | None:
    """Whose enforcement levels apply: the named stack file's environment, else the one the
    render directory records, else the strictest. None (bad input) for a missing stack file."""
    if args.render_dir is None:
        return stack_environment(stack_file_path(args))
    rendered = render_environment(render)
    if args.stack is not None or args.stack_file is not None:
        try:
            path = stack_file_path(args)
        except StackFileError as error:
            print(f"error: {error}", file=sys.stderr)
            return None
        if not path.is_file():
            # Rendering would have refused it; here nothing else would notice.
            print(f"error: {path}: no such stack file", file=sys.stderr)
            return None
        environment = stack_environment(path)
        if rendered is not None and rendered != environment:
            print(
                f"warning: {args.render_dir} was rendered for {rendered}; applying the levels"
                f" of {environment} from {path}",
                file=sys.stderr,
            )
        return environment
    if rendered is not None:
        return rendered
    print(
        f"note: {args.render_dir}/{OUTPUTS_FILE} names no environment: applying the strictest"
        f" ({STRICTEST_ENVIRONMENT}); --stack or --stack-file names it",
        file=sys.stderr,
    )
    return STRICTEST_ENVIRONMENT
