"""The Pulumi SDK internals modelstack relies on: the only importer of `pulumi.runtime`.

`pulumi.runtime` is the SDK's engine-facing layer, and names with a leading underscore there
change without notice between releases. Every use lives here, listed in `SDK_USES` with the
SDK version it was checked against, so an upgrade means re-reading one file and running one
test (tests/test_pulumi_internals.py checks each name still exists with the listed shape).
The offline render (components/offline/) and the program's config reading
(components/stack_config.py) go through the functions and names below.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Literal

from pulumi.runtime import config as sdk_config
from pulumi.runtime import mocks as sdk_mocks
from pulumi.runtime import resource as sdk_resource
from pulumi.runtime import rpc as sdk_rpc
from pulumi.runtime import settings as sdk_settings
from pulumi.runtime import stack as sdk_stack
from pulumi.runtime.proto import resource_pb2, source_pb2

# uv.lock pins pulumi==3.272.0; every use below was read against that release's source.
CHECKED_AGAINST = "3.272.0"

Shape = Literal["str", "class", "callable", "context_var", "instance_attribute"]


@dataclass(frozen=True)
class SdkUse:
    """One SDK name modelstack depends on, and what it must look like."""

    module: str
    name: str  # dotted inside the module: "MockMonitor.make_urn"
    shape: Shape
    why: str
    # For callables: the leading parameter names (after self) the calls here pass.
    parameters: tuple[str, ...] = ()
    checked_against: str = CHECKED_AGAINST


SDK_USES: tuple[SdkUse, ...] = (
    SdkUse("pulumi.runtime.rpc", "UNKNOWN", "str", "wire marker of an unknown value"),
    SdkUse("pulumi.runtime.rpc", "_special_sig_key", "str", "key of a signed (typed) wire map"),
    SdkUse("pulumi.runtime.rpc", "_special_secret_sig", "str", "signature of a secret"),
    SdkUse("pulumi.runtime.rpc", "_special_resource_sig", "str", "signature of a reference"),
    SdkUse("pulumi.runtime.rpc", "_special_asset_sig", "str", "signature of an asset (tests)"),
    SdkUse(
        "pulumi.runtime.rpc",
        "deserialize_properties",
        "callable",
        "decode a protobuf Struct as the SDK does",
        ("props_struct", "keep_unknowns"),
    ),
    SdkUse("pulumi.runtime.rpc", "is_rpc_secret", "callable", "a wire secret", ("value",)),
    SdkUse("pulumi.runtime.config", "CONFIG", "context_var", "the config the program reads"),
    SdkUse("pulumi.runtime.config", "get_config_env", "callable", "PULUMI_CONFIG config"),
    SdkUse(
        "pulumi.runtime.config",
        "set_all_config",
        "callable",
        "config for a render",
        ("config", "secret_keys"),
    ),
    SdkUse("pulumi.runtime.config", "is_config_secret", "callable", "secret keys", ("k",)),
    SdkUse("pulumi.runtime.mocks", "Mocks", "class", "the mock engine's resource states"),
    SdkUse("pulumi.runtime.mocks", "MockResourceArgs", "class", "what new_resource receives"),
    SdkUse("pulumi.runtime.mocks", "MockCallArgs", "class", "what call receives"),
    SdkUse("pulumi.runtime.mocks", "MockMonitor", "class", "the monitor the render records"),
    SdkUse(
        "pulumi.runtime.mocks",
        "MockMonitor.make_urn",
        "callable",
        "a registration's URN without decoding it",
        ("parent", "type_", "name"),
    ),
    SdkUse(
        "pulumi.runtime.mocks",
        "MockMonitor.ResourceRegistration",
        "class",
        "the state MockMonitor keeps per URN (a NamedTuple: urn, id, state)",
    ),
    SdkUse(
        "pulumi.runtime.mocks",
        "MockMonitor.resources",
        "instance_attribute",
        "registrations by URN, read by lookups (getResource)",
    ),
    SdkUse("pulumi.runtime.mocks", "MockEngine", "class", "the mock engine's log sink"),
    SdkUse("pulumi.runtime.mocks", "MockSettings", "class", "runtime settings for mocks"),
    SdkUse("pulumi.runtime.mocks", "configure", "callable", "install settings", ("settings",)),
    SdkUse("pulumi.runtime.settings", "ROOT", "context_var", "the root (stack) resource"),
    SdkUse("pulumi.runtime.settings", "get_project", "callable", "the running project"),
    SdkUse("pulumi.runtime.settings", "get_stack", "callable", "the running stack"),
    SdkUse("pulumi.runtime.stack", "run_in_stack", "callable", "run a program", ("func",)),
    SdkUse(
        "pulumi.runtime.resource",
        "_get_stack_trace",
        "callable",
        "captured per registration; replaced while rendering (a tenth of a render)",
    ),
    SdkUse("pulumi.runtime.proto.resource_pb2", "RegisterResourceResponse", "class", "answer"),
    SdkUse("pulumi.runtime.proto.source_pb2", "StackTrace", "class", "an empty stack trace"),
)

# Wire format.
UNKNOWN = sdk_rpc.UNKNOWN
SIGNATURE_KEY = sdk_rpc._special_sig_key
SECRET_SIGNATURE = sdk_rpc._special_secret_sig
RESOURCE_SIGNATURE = sdk_rpc._special_resource_sig
ASSET_SIGNATURE = sdk_rpc._special_asset_sig
deserialize_properties = sdk_rpc.deserialize_properties
is_rpc_secret = sdk_rpc.is_rpc_secret

# The mock engine.
Mocks = sdk_mocks.Mocks
MockMonitor = sdk_mocks.MockMonitor
MockResourceArgs = sdk_mocks.MockResourceArgs
MockCallArgs = sdk_mocks.MockCallArgs
RegisterResourceResponse = resource_pb2.RegisterResourceResponse
run_in_stack = sdk_stack.run_in_stack


def runtime_config() -> dict[str, Any]:
    """Every config value the running program sees: PULUMI_CONFIG, then what the engine set."""
    return {**sdk_config.get_config_env(), **sdk_config.CONFIG.get()}


def is_config_secret(full_key: str) -> bool:
    return sdk_config.is_config_secret(full_key)


def set_config(values: dict[str, str], secret_keys: list[str]) -> None:
    sdk_config.set_all_config(dict(values), list(secret_keys))


def configure_mock_engine(monitor: Any, project: str, stack: str) -> None:
    """Point the SDK at `monitor`, as `pulumi up` (not a preview) of `project`/`stack`."""
    sdk_mocks.configure(
        sdk_mocks.MockSettings(
            monitor=monitor,
            monitor_features=set(monitor.GetDeploymentInfo(None).supportedFeatures),
            engine=sdk_mocks.MockEngine(None),
            project=project,
            stack=stack,
            dry_run=False,
            organization="organization",
            callbacks=None,
        )
    )


def reset_root_resource() -> None:
    """Forget the stack resource, so the next run registers its own."""
    sdk_settings.ROOT.set(None)


def running_stack_urn_suffix() -> str:
    """How the URN of the running program's stack resource ends."""
    return f"{sdk_settings.get_project()}-{sdk_settings.get_stack()}"


def keep_registration(monitor: Any, urn: str, id_: str, state: dict[str, Any]) -> None:
    """Record a registration in `monitor` as MockMonitor.RegisterResource would."""
    monitor.resources[urn] = sdk_mocks.MockMonitor.ResourceRegistration(urn, id_, state)


def registration_with_state(monitor: Any, urn: str, state: dict[str, Any]) -> None:
    """Replace the state `monitor` keeps for `urn` (registered before)."""
    monitor.resources[urn] = monitor.resources[urn]._replace(state=state)


@contextmanager
def stack_traces_disabled() -> Iterator[None]:
    """The SDK captures the caller's stack with every registration, for the engine's messages
    (source positions); the mock engine drops it, and capturing it was a tenth of a render
    (a file URI per frame, per resource). The program runs unchanged."""
    captured = sdk_resource._get_stack_trace
    sdk_resource._get_stack_trace = source_pb2.StackTrace
    try:
        yield
    finally:
        sdk_resource._get_stack_trace = captured


def stack_trace_capture() -> Any:
    """The function the SDK calls now to capture a registration's stack (tests)."""
    return sdk_resource._get_stack_trace
