"""Reading inputs straight from the wire renders exactly what the SDK's decoding does."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path
from typing import Any

import pytest
from google.protobuf import struct_pb2

from components.offline.render import build_render, project_root
from components.offline.runtime import ProgramRun, run_program
from components.offline.stack_file import read_stack_file
from components.offline.wire_values import REDACTED, NotPlainWire, WireReader
from components.pulumi_internals import ASSET_SIGNATURE, SECRET_SIGNATURE, SIGNATURE_KEY
from components.stack_config import STACK_FILE_ENV
from tests.conftest import STACK_NAMES, stack_document, write_stack

PLACEHOLDER = "offline-placeholder-for-token"
SECRET = {SIGNATURE_KEY: SECRET_SIGNATURE}


def _wire(value: dict[str, Any]) -> bytes:
    struct = struct_pb2.Struct()
    struct.update(value)
    return struct.SerializeToString()


def _secret(value: Any) -> dict[str, Any]:
    return {**SECRET, "value": value}


def test_plain_values_come_out_sorted_with_integral_numbers_as_ints() -> None:
    reader = WireReader((PLACEHOLDER,))
    wire = _wire({"spec": {"replicas": 2.0, "ratio": 0.5, "on": True, "gone": None, "b": [3.0]}})
    body = reader.read(wire)
    assert body == {"spec": {"b": [3], "gone": None, "on": True, "ratio": 0.5, "replicas": 2}}
    assert list(body["spec"]) == sorted(body["spec"])
    assert isinstance(body["spec"]["replicas"], int) and not reader.leaked


def test_secrets_keep_their_shape_with_every_leaf_redacted() -> None:
    reader = WireReader((PLACEHOLDER,))
    secret = _secret({"token": PLACEHOLDER, "list": [1.0, _secret("inner")]})
    body = reader.read(_wire({"stringData": secret, "plain": _secret(None)}))
    assert body == {
        "plain": REDACTED,
        "stringData": {"list": [REDACTED, REDACTED], "token": REDACTED},
    }
    assert not reader.leaked  # inside a secret, a placeholder is where it belongs


def test_a_placeholder_outside_a_secret_is_redacted_and_reported() -> None:
    reader = WireReader((PLACEHOLDER,))
    assert reader.read(_wire({"env": [f"TOKEN={PLACEHOLDER}"]})) == {"env": [REDACTED]}
    assert reader.leaked
    reader.read(_wire({"env": ["fine"]}))
    assert not reader.leaked  # per read


def test_skipped_fields_and_other_signatures() -> None:
    reader = WireReader(())
    assert reader.read(_wire({"__provider": "pickled", "url": "x"}), skip=("__provider",)) == {
        "url": "x"
    }
    asset = {SIGNATURE_KEY: ASSET_SIGNATURE, "text": "hello"}
    with pytest.raises(NotPlainWire):
        reader.read(_wire({"file": asset}))
    with pytest.raises(NotPlainWire):
        reader.read(_wire({"file": _secret(asset)}))


def _with_secrets(name: str) -> dict[str, Any]:
    document = stack_document(name)
    document["config"]["modelstack:hfToken"] = {"secure": "v1:ciphertext"}
    if name != "dev":
        document["config"]["modelstack:registries"] = [
            {"name": "ghcr", "server": "ghcr.io", "username": "deploy-bot"}
        ]
        document["config"]["modelstack:registryPasswords"] = {"ghcr": {"secure": "v1:abc"}}
    return document


@pytest.mark.parametrize("name", STACK_NAMES)
def test_every_stack_renders_the_same_as_through_the_sdk_decoding(
    tmp_path: Path, name: str
) -> None:
    config = read_stack_file(write_stack(tmp_path, _with_secrets(name), name))
    run = run_program(
        project_root() / "__main__.py",
        "modelstack",
        config.stack_name,
        config.values,
        list(config.secret_keys),
        {STACK_FILE_ENV: str(config.stack_file)},
    )
    assert any(resource.decoded_inputs is None for resource in run.resources)
    # The same run with every record decoded by the SDK: build_render's other way.
    decoded = ProgramRun(
        resources=[dataclasses.replace(r, decoded_inputs=r.inputs) for r in run.resources],
        outputs=run.outputs,
    )
    from_wire = build_render(run, config.placeholders)
    through_sdk = build_render(decoded, config.placeholders)
    assert from_wire == through_sdk
    # Key order too: it is the order of the YAML files.
    assert json.dumps(from_wire.object_files()) == json.dumps(through_sdk.object_files())
    assert REDACTED in str(from_wire.objects) or REDACTED in str(from_wire.other_files)
