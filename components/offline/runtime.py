"""Run the real Pulumi program in-process under the SDK's mock runtime and record everything.

No CLI and no providers: the program registers its resources with a recording monitor,
which keeps what the engine would receive: inputs in wire format, options (protect,
retainOnDelete, deleteBeforeReplace, dependencies, custom timeouts) and stack outputs.
Each resource's state is its inputs, echoed back, so the program reads its outputs as it
would after `pulumi up`. What only the real engine uses (the stack trace the SDK captures
per registration) is not captured here. Speed figures: docs/performance.md.
"""

from __future__ import annotations

import asyncio
import gc
import os
import runpy
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from google.protobuf import struct_pb2

from components import pulumi_internals as sdk

STACK_TYPE = "pulumi:pulumi:Stack"
_REMOTE_IMAGE = "docker:index/remoteImage:RemoteImage"
_CONTAINER = "docker:index/container:Container"
# Wire markers of an unknown value and of a resource reference (see `_RecordingMonitor._register`).
_DECODE_AGAIN = (sdk.UNKNOWN.encode(), sdk.RESOURCE_SIGNATURE.encode())
# The collector's settings from before the outermost `collector_restored`.
_COLLECTOR_SAVED: list[tuple[tuple[int, ...], bool]] = []


@dataclass(frozen=True)
class RecordedResource:
    type: str
    name: str
    urn: str
    parent: str
    custom: bool
    provider: str
    protect: bool
    retain_on_delete: bool
    delete_before_replace: bool
    dependencies: tuple[str, ...]
    custom_timeouts: dict[str, str]
    # The inputs as the request carried them (a serialized protobuf Struct), decoded on use:
    # kept for every resource while the program runs, at a fifth of the decoded values' size.
    wire_inputs: bytes
    # Inputs the monitor had to decode as they came (unknowns kept, references constructed).
    decoded_inputs: dict[str, Any] | None = None

    @property
    def inputs(self) -> dict[str, Any]:
        if self.decoded_inputs is not None:
            return self.decoded_inputs
        return _decode_struct(self.wire_inputs)


def _decode_struct(wire: bytes) -> dict[str, Any]:
    struct = struct_pb2.Struct()
    struct.ParseFromString(wire)
    return sdk.deserialize_properties(struct)


@dataclass
class ProgramRun:
    resources: list[RecordedResource] = field(default_factory=list)
    outputs: dict[str, Any] = field(default_factory=dict)


class _Mocks(sdk.Mocks):
    """Every resource's state is its inputs: what `pulumi up` would send, echoed back."""

    def __init__(self) -> None:
        # new_resource runs inside MockMonitor.RegisterResource, on that call's thread.
        self.decoded = threading.local()
        # The event loops MockMonitor opens on executor threads, closed by run_function:
        # left open, the garbage collector can finalize their sockets first and then
        # fail to close them ("Invalid file descriptor: -1").
        self.thread_loops: set[asyncio.AbstractEventLoop] = set()

    def new_resource(self, args: sdk.MockResourceArgs) -> tuple[str, dict[str, Any]]:
        self.thread_loops.add(asyncio.get_event_loop())
        self.decoded.inputs = args.inputs
        state = dict(args.inputs)
        if args.typ == _REMOTE_IMAGE:
            # Containers take `image_id`; the render shows the reference it stands for.
            state["imageId"] = args.inputs.get("name")
        if args.typ == _CONTAINER and args.inputs.get("attach"):
            state["exitCode"] = 0
        return mock_id(args.name), state

    def call(self, args: sdk.MockCallArgs) -> dict[str, Any]:
        self.thread_loops.add(asyncio.get_event_loop())
        return {}


# Types whose mock state is more than their inputs (see `_Mocks.new_resource`).
_STATE_BEYOND_INPUTS = (_REMOTE_IMAGE, _CONTAINER)


# The state MockMonitor keeps for a resource until a lookup decodes it (`Invoke`).
_NOT_DECODED: dict[str, Any] = {}
_GET_RESOURCE = "pulumi:pulumi:getResource"


def mock_id(name: str) -> str:
    """The ID the mock engine gives a resource: stable, so renders compare."""
    return f"{name}-id"


class _RecordingMonitor(sdk.MockMonitor):
    def __init__(self, run: ProgramRun) -> None:
        self._mocks = _Mocks()
        super().__init__(self._mocks)
        self.run = run
        self._lock = threading.Lock()
        self._records: dict[str, RecordedResource] = {}
        self.duplicates: list[str] = []

    def RegisterResource(self, request: Any) -> Any:
        if request.type == STACK_TYPE:
            return super().RegisterResource(request)
        wire = request.object.SerializeToString()
        response, decoded = self._register(request, wire)
        urn = response.urn
        timeouts = request.customTimeouts
        record = RecordedResource(
            type=request.type,
            name=request.name,
            urn=urn,
            parent=request.parent,
            custom=bool(request.custom),
            provider=request.provider,
            protect=bool(request.protect),
            retain_on_delete=bool(request.retainOnDelete),
            delete_before_replace=bool(request.deleteBeforeReplace),
            dependencies=tuple(sorted(set(request.dependencies))),
            custom_timeouts={
                key: value
                for key, value in (
                    ("create", timeouts.create),
                    ("update", timeouts.update),
                    ("delete", timeouts.delete),
                )
                if value
            },
            wire_inputs=wire,
            decoded_inputs=decoded,
        )
        with self._lock:
            # The mock accepts duplicates; the real engine rejects them ("Duplicate resource URN").
            if urn in self._records:
                self.duplicates.append(urn)
            self._records[urn] = record
            self.run.resources.append(record)
        return response

    def _register(self, request: Any, wire: bytes) -> tuple[Any, dict[str, Any] | None]:
        """The engine's answer, and the inputs if they had to be decoded now.

        Most resources' state is exactly their inputs, already on the wire in the request:
        answer with that Struct, decoding nothing (MockMonitor decodes it and encodes it
        again: a quarter of the work of a registration); the state MockMonitor keeps is
        decoded only if a lookup asks for it (`Invoke`). Unknowns and resource references
        take MockMonitor's way: its decoding drops unknowns and constructs references, so
        the record decodes them again, keeping unknowns.
        """
        if any(marker in wire for marker in _DECODE_AGAIN):
            response = super().RegisterResource(request)
            return response, sdk.deserialize_properties(request.object, keep_unknowns=True)
        if request.type in _STATE_BEYOND_INPUTS:
            # The record shares the inputs MockMonitor decoded for the state it keeps.
            return super().RegisterResource(request), self._mocks.decoded.inputs
        urn = self.make_urn(request.parent, request.type, request.name)
        id_ = mock_id(request.name)
        sdk.keep_registration(self, urn, id_, _NOT_DECODED)
        response = sdk.RegisterResourceResponse(urn=urn, id=id_, object=request.object)
        return response, None

    def Invoke(self, request: Any) -> Any:
        if request.tok == _GET_RESOURCE:
            # Rehydrating a resource from its URN reads the state MockMonitor keeps.
            urn = sdk.deserialize_properties(request.args).get("urn")
            registration = self.resources.get(urn)
            if registration is not None and registration.state is _NOT_DECODED:
                sdk.registration_with_state(self, urn, self._records[urn].inputs)
        return super().Invoke(request)

    def thread_loops(self) -> list[asyncio.AbstractEventLoop]:
        return [loop for loop in self._mocks.thread_loops if not loop.is_running()]

    def RegisterResourceOutputs(self, request: Any) -> Any:
        if request.urn.endswith(f"{STACK_TYPE}::{sdk.running_stack_urn_suffix()}"):
            self.run.outputs = sdk.deserialize_properties(request.outputs, keep_unknowns=True)
        return super().RegisterResourceOutputs(request)


def run_program(
    program: Path,
    project: str,
    stack_name: str,
    config: dict[str, str],
    secret_keys: list[str],
    environment: dict[str, str] | None = None,
    record: ProgramRun | None = None,
) -> ProgramRun:
    """Run `program` (a Pulumi `__main__.py`) as `pulumi up` would, against the mock engine.

    Raises whatever the program raises (a pulumi.RunError for a bad stack file); `record`,
    if given, is filled as resources register, so a caller can see what got that far.
    """
    return run_function(
        lambda: runpy.run_path(str(program), run_name="__main__"),
        project,
        stack_name,
        config,
        secret_keys,
        environment,
        record,
    )


def run_function(
    main: Callable[[], object],
    project: str,
    stack_name: str,
    config: dict[str, str],
    secret_keys: list[str],
    environment: dict[str, str] | None = None,
    record: ProgramRun | None = None,
) -> ProgramRun:
    """Run `main` as a program's body on the same runtime (benchmarks/render.py's bare program)."""
    monitor = _RecordingMonitor(record or ProgramRun())
    loop = asyncio.new_event_loop()
    with (
        _isolated_environment(environment or {}),
        collector_restored(),
        sdk.stack_traces_disabled(),
    ):
        asyncio.set_event_loop(loop)
        try:
            sdk.set_config(config, secret_keys)
            sdk.configure_mock_engine(monitor, project, stack_name)
            sdk.reset_root_resource()
            loop.run_until_complete(sdk.run_in_stack(main))
        finally:
            sdk.reset_root_resource()
            sdk.set_config({}, [])
            asyncio.set_event_loop(None)
            loop.close()
            for thread_loop in monitor.thread_loops():
                thread_loop.close()
    if monitor.duplicates:
        raise DuplicateResourceError(monitor.duplicates)
    return monitor.run


class DuplicateResourceError(RuntimeError):
    def __init__(self, urns: list[str]) -> None:
        super().__init__("duplicate resource URN(s), which `pulumi up` rejects: " + ", ".join(urns))


@contextmanager
def collector_restored() -> Iterator[None]:
    """The program tunes the garbage collector for its whole process (components/program.py);
    a render runs inside a longer-lived one (tests, `modelstack diff`): restore it after.

    Nested uses restore only at the outermost, so a render keeps the program's setting
    while it builds its files (a full collection there walked the whole heap for nothing).
    """
    outermost = not _COLLECTOR_SAVED
    if outermost:
        _COLLECTOR_SAVED.append((gc.get_threshold(), gc.isenabled()))
    try:
        yield
    finally:
        if outermost:
            thresholds, enabled = _COLLECTOR_SAVED.pop()
            gc.set_threshold(*thresholds)
            if enabled:
                gc.enable()


@contextmanager
def _isolated_environment(extra: dict[str, str]) -> Iterator[None]:
    """The SDK also reads config from PULUMI_CONFIG* variables: hide the caller's."""
    saved = {key: value for key, value in os.environ.items() if key.startswith("PULUMI_CONFIG")}
    for key in saved:
        del os.environ[key]
    previous = {key: os.environ.get(key) for key in extra}
    os.environ.update(extra)
    try:
        yield
    finally:
        for key, value in previous.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
        os.environ.update(saved)


def is_secret(value: Any) -> bool:
    """A value the program marked secret (the wire format wraps it in a signature map)."""
    return sdk.is_rpc_secret(value)
