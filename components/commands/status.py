"""`modelstack status`: what runs for a stack, compared with what its stack file asks for.

Prints, per deployment and slot, the status (REQUESTED, DEPLOYING, INITIALIZING, OVERDUE,
DEGRADED, DEPLOYED, STOPPED, ERROR, FAILED), the route path and what the slot runs (engine,
image, precision, profile, GPUs), a progressive canary's phase, the conditions (CacheReady,
RuntimeReady, RoutingReady, Ready, Progressing, Degraded), the instances, and error codes with
what to do about them.
`--json` prints one document for pipelines, errors included (`error`, `reason`, `exitCode`
and what the reason needs, e.g. the kubeconfig's contexts). `--watch` polls until nothing
is coming up within its window any more (or `--timeout` passes): a redrawn display in a
terminal, and only the lines that changed otherwise (CI logs), then the full report.

Exit codes:
    0  ready: every deployment is DEPLOYED or STOPPED
    1  failed: some deployment is ERROR or FAILED
    2  bad input: stack file, arguments, kubeconfig or context, DOCKER_HOST
    3  still coming up: without --watch, when --timeout passed, or past the plan's window
       (OVERDUE: the target keeps trying, so it is not a failure; --watch stops there)
    4  the cluster (or Docker) could not be read (unreachable, or credentials refused)
    5  degraded: everything settled, some deployment serves only in part (DEGRADED). Not
       0, so a gate after `pulumi up` does not pass it; not 1, because requests are
       still answered, which is what alerting tells apart from an outage.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import textwrap
import time
from pathlib import Path
from typing import Any, Protocol, TextIO

from components.commands.arguments import (
    EXIT_BAD_INPUT,
    EXIT_INVALID,
    EXIT_OK,
    add_command,
    add_stack_arguments,
    stack_file_path,
)
from components.errors import StackConfigError
from components.offline.stack_file import StackFileError, read_stack_file
from components.plan import build_plan
from components.stack_config import parse_stack_spec, read_stack_file_config
from components.status.model import (
    ConditionType,
    DeploymentReport,
    Outcome,
    ReaderSetupError,
    SlotReport,
    SlotSetup,
    StackExpectation,
    StackReport,
    StatusReader,
    StatusUnavailable,
    guidance_for,
    report_as_json,
)

EXIT_FAILED = EXIT_INVALID
EXIT_PROGRESSING = 3
EXIT_UNREACHABLE = 4
EXIT_DEGRADED = 5
EXIT_CODES = {
    Outcome.READY: EXIT_OK,
    Outcome.FAILED: EXIT_FAILED,
    Outcome.PROGRESSING: EXIT_PROGRESSING,
    Outcome.OVERDUE: EXIT_PROGRESSING,
    Outcome.DEGRADED: EXIT_DEGRADED,
}
DEFAULT_INTERVAL_SECONDS = 5.0
# Loading a large model after a fresh download takes a while; CI sets its own limit.
DEFAULT_TIMEOUT_SECONDS = 1800.0


def register(subcommands: argparse._SubParsersAction) -> None:
    parser = add_command(
        subcommands,
        "status",
        summary="show what runs for a stack: statuses, conditions, error codes",
        description="Read the stack's objects from the cluster (kubernetes.context, or"
        " kubectl's current context) or its containers from the Docker daemon (DOCKER_HOST)"
        " and compare them with the stack file: per deployment and slot a status, conditions,"
        " instances, and problems with an error code, the evidence and what to do.",
        examples=[
            "modelstack status --stack prod",
            "modelstack status --stack prod --watch --timeout 3600",
            "modelstack status --stack prod --json       # errors as JSON on stdout too",
        ],
        exit_codes="exit codes:\n  0  ready\n  1  ERROR or FAILED\n"
        "  2  bad input (stack file, arguments, kubeconfig or context)\n"
        "  3  still progressing, or OVERDUE (past the plan's window)\n"
        "  4  cluster or daemon not readable\n"
        "  5  DEGRADED: serves, but only in part",
    )
    add_stack_arguments(parser)
    parser.add_argument("--watch", action="store_true", help="poll until ready, failed or timeout")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    parser.add_argument(
        "--interval",
        type=_positive_seconds,
        default=DEFAULT_INTERVAL_SECONDS,
        help=f"seconds between polls with --watch (default {DEFAULT_INTERVAL_SECONDS:g})",
    )
    parser.add_argument(
        "--timeout",
        type=_positive_seconds,
        default=DEFAULT_TIMEOUT_SECONDS,
        help=f"give up watching after this many seconds (default {DEFAULT_TIMEOUT_SECONDS:g})",
    )
    parser.add_argument(
        "--kubeconfig", type=Path, help="kubeconfig file (default: $KUBECONFIG, ~/.kube/config)"
    )
    parser.set_defaults(command=run)


def _positive_seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"'{text}' is not a number of seconds") from None
    if value <= 0:
        raise argparse.ArgumentTypeError("must be more than 0 seconds")
    return value


def run(args: argparse.Namespace) -> int:
    try:
        expectation = load_expectation(args)
        reader = reader_for(expectation, args.kubeconfig)
    except StackFileError as error:
        return fail(args, EXIT_BAD_INPUT, f"error: {error}", "StackFileInvalid")
    except StackConfigError as error:
        return fail(args, EXIT_BAD_INPUT, error.report(), "StackConfigInvalid")
    except ReaderSetupError as error:
        reason = getattr(error, "reason", "ReaderSetupFailed")
        details = getattr(error, "details", {})
        return fail(args, EXIT_BAD_INPUT, f"error: {error}", reason, details)
    if args.watch:
        return watch(reader, expectation, args, sys.stdout)
    try:
        report = reader.read(expectation)
    except StatusUnavailable as error:
        return fail(args, EXIT_UNREACHABLE, f"error: {error}", "Unreachable")
    print(json.dumps(report_as_json(report), indent=2) if args.json else "\n".join(text(report)))
    return EXIT_CODES[report.outcome]


def fail(
    args: argparse.Namespace,
    code: int,
    message: str,
    reason: str,
    details: dict[str, Any] | None = None,
) -> int:
    """Report an error and return its exit code. With --json, stdout also carries it as the
    one JSON document a pipeline parses (stderr keeps the message for people)."""
    print(message, file=sys.stderr)
    if args.json:
        document = {
            "stack": args.stack,
            "error": message.removeprefix("error: "),
            "reason": reason,
            "exitCode": code,
            **(details or {}),
        }
        print(json.dumps(document, indent=2))
    return code


# -- what the stack file expects -----------------------------------------------------------


def load_expectation(args: argparse.Namespace) -> StackExpectation:
    """The stack file -> spec -> plan, as `pulumi up` would see it; raises on bad input."""
    stack = read_stack_file(stack_file_path(args), args.stack)
    raw, secret_keys = read_stack_file_config(stack)
    spec = parse_stack_spec(raw, secret_keys, str(stack.stack_file))
    plan = build_plan(spec, str(stack.stack_file))
    return StackExpectation.from_plan(stack.stack_name, plan)


def reader_for(expectation: StackExpectation, kubeconfig: Path | None) -> StatusReader:
    """One reader per target: the cluster's API, or the Docker daemon's (DOCKER_HOST)."""
    if expectation.target == "kubernetes":
        # The kubernetes client takes a second to import: only `status` should pay for it.
        from components.status.kubernetes_reader import KubernetesStatusReader

        return KubernetesStatusReader(expectation.namespace, expectation.context, kubeconfig)
    if expectation.target == "docker":
        from components.status.docker_reader import DockerStatusReader

        return DockerStatusReader(expectation.namespace)
    raise ReaderSetupError(f"status is not available for the {expectation.target} target yet")


# -- watching ------------------------------------------------------------------------------


def watch(
    reader: StatusReader, expectation: StackExpectation, args: argparse.Namespace, out: TextIO
) -> int:
    live = out.isatty() and not args.json
    # With --json, stdout carries only the final document; progress goes to stderr.
    display: WatchDisplay = (
        LiveDisplay(out, args.interval) if live else ChangeLog(sys.stderr if args.json else out)
    )
    try:
        report, failure = _poll_until_settled(reader, expectation, args, display)
    except KeyboardInterrupt:
        return EXIT_PROGRESSING  # stopped by hand: nothing settled, as at a timeout
    if report is None:
        return fail(args, EXIT_UNREACHABLE, f"error: {failure}", "Unreachable")
    if args.json:
        print(json.dumps(report_as_json(report), indent=2), file=out)
    elif not live:
        print("\n".join(text(report)), file=out)
    return EXIT_CODES[report.outcome]


def _poll_until_settled(
    reader: StatusReader,
    expectation: StackExpectation,
    args: argparse.Namespace,
    display: WatchDisplay,
) -> tuple[StackReport | None, str | None]:
    """The last report (or why there is none) once ready, failed, or out of time."""
    started = time.monotonic()
    while True:
        try:
            report, failure = reader.read(expectation), None
        except StatusUnavailable as error:
            # Often passing (API server restart, network blip): keep trying until the timeout.
            report, failure = None, f"cannot read the cluster: {error}"
        elapsed = time.monotonic() - started
        display.show(report, failure, elapsed)
        if report is not None and report.outcome is not Outcome.PROGRESSING:
            return report, failure
        remaining = args.timeout - (time.monotonic() - started)
        if remaining <= 0:
            return report, failure
        time.sleep(min(args.interval, remaining))


class WatchDisplay(Protocol):
    def show(self, report: StackReport | None, failure: str | None, elapsed: float) -> None: ...


class LiveDisplay:
    """Redraws one block in place: a terminal shows the current state, not a history."""

    def __init__(self, stream: TextIO, interval: float) -> None:
        self.stream = stream
        self.interval = interval
        self.height = 0

    def show(self, report: StackReport | None, failure: str | None, elapsed: float) -> None:
        body = text(report) if report else [str(failure)]
        footer = f"watching for {elapsed:.0f}s, every {self.interval:g}s (Ctrl-C stops)"
        self.draw([*body, "", footer])

    def draw(self, lines: list[str]) -> None:
        # Wrap here, not in the terminal: the redraw must know how many rows it wrote.
        width = max(shutil.get_terminal_size().columns - 1, 40)
        rows = [row for line in lines for row in _wrap(line, width)]
        if self.height:
            self.stream.write(f"\x1b[{self.height}F\x1b[J")  # to the block's start, clear below
        self.stream.write("\n".join(rows) + "\n")
        self.stream.flush()
        self.height = len(rows)


def _wrap(line: str, width: int) -> list[str]:
    indent = " " * (len(line) - len(line.lstrip()) + 2)
    return textwrap.wrap(line, width, subsequent_indent=indent) or [""]


class ChangeLog:
    """Appends only lines that changed since the last poll, stamped with the elapsed time."""

    def __init__(self, stream: TextIO) -> None:
        self.stream = stream
        self.previous: set[str] = set()

    def show(self, report: StackReport | None, failure: str | None, elapsed: float) -> None:
        lines = progress_lines(report) if report else [str(failure)]
        for line in lines:
            if line not in self.previous:
                print(f"[{elapsed:6.0f}s] {line}", file=self.stream, flush=True)
        self.previous = set(lines)


def progress_lines(report: StackReport) -> list[str]:
    """One line per slot: enough to follow a rollout in a CI log."""
    lines = []
    for deployment in report.deployments:
        for slot in deployment.slots:
            line = (
                f"{deployment.name}/{slot.slot}: {slot.status} "
                f"{slot.ready_replicas}/{slot.desired_replicas} ready"
            )
            ready = next(c for c in slot.conditions if c.type is ConditionType.READY)
            if not ready.status:
                line += f" ({ready.reason})"
            if slot.problems:
                line += " [" + ", ".join(dict.fromkeys(p.code.value for p in slot.problems)) + "]"
            lines.append(line)
    return lines


# -- the report as text --------------------------------------------------------------------


def text(report: StackReport) -> list[str]:
    context = report.context or "current context"
    lines = [
        f"stack {report.stack}: {report.outcome.value} "
        f"({report.target}, {context}, namespace {report.namespace})"
    ]
    for deployment in report.deployments:
        lines += _deployment_text(deployment, report.target)
    for name in report.external:
        lines += ["", f"{name}  routes to external endpoints: modelstack runs nothing there"]
    if report.unmanaged:
        lines.append(
            "not in the stack file, objects still in the namespace (caches are kept on purpose): "
            + ", ".join(report.unmanaged)
        )
    return lines


def _deployment_text(deployment: DeploymentReport, target: str) -> list[str]:
    lines = [
        "",
        f"{deployment.name}  {deployment.status}  {deployment.hardware}  {deployment.endpoint}",
    ]
    if deployment.route_path is not None:
        lines.append(f"  route path {deployment.route_path}")
    for slot in deployment.slots:
        lines += _slot_text(slot, target)
    if deployment.debug_commands:
        lines.append("  debug access (a shell next to the engine):")
        lines += [f"    {command}" for command in deployment.debug_commands]
    return lines


def setup_text(setup: SlotSetup) -> str:
    """`vllm vllm/vllm-openai:v0.31.0, bf16, latency profile, 1 x H100, cpu 8, memory 64Gi`."""
    parts = [f"{setup.engine} {setup.image}", setup.precision]
    if setup.profile:
        parts.append(f"{setup.profile} profile")
    gpus = "no GPU" if setup.gpus == "cpu" else setup.gpus
    parts += [gpus, f"cpu {setup.cpu}", f"memory {setup.memory}"]
    return ", ".join(part for part in parts if part)


def _slot_text(slot: SlotReport, target: str) -> list[str]:
    role = "serving" if slot.serving else "not serving"
    lines = [
        f"  slot {slot.slot} ({slot.workload}, {role})  {slot.status}  "
        f"{slot.ready_replicas}/{slot.desired_replicas} ready"
    ]
    if slot.setup is not None:
        lines.append(f"    runs {setup_text(slot.setup)}")
    if slot.canary is not None:
        lines.append(f"    canary: {slot.canary.summary}")
    for condition in slot.conditions:
        lines.append(
            f"    {condition.type.value:<13} {condition.status!s:<6} {condition.reason:<16} "
            f"{condition.message}"
        )
    for instance in slot.instances:
        node = f"  on {instance.node}" if instance.node else ""
        lines.append(
            f"    {instance.role.value} {instance.name}  {instance.status}  {instance.detail}"
            f"  restarts {instance.restarts}{node}"
        )
    for problem in slot.problems:
        guidance = guidance_for(problem.code, target)
        lines += [
            f"    {problem.code}  {problem.source}: {problem.message}",
            f"      {guidance.remedy.value}: {guidance.advice}",
        ]
    return lines
