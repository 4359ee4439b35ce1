"""A resource's inputs as the render shows them, read straight from the wire.

What `build_render` would get from decoding the protobuf Struct with the SDK
(`deserialize_properties`), then giving integral numbers back their int type, redacting
secrets and placeholders, and sorting keys: here in one pass over the Struct, without the
SDK's per-value type tests and three intermediate copies (a tenth of a render at 100
deployments). Only the shapes the recording monitor leaves encoded occur here: plain values
and secrets. Any other signature (assets, archives, anything new) raises `NotPlainWire`, and
the caller takes the SDK's way.
"""

from __future__ import annotations

from typing import Any

from google.protobuf import struct_pb2

from components import pulumi_internals as sdk

REDACTED = "[secret]"
_SIGNATURE = sdk.SIGNATURE_KEY
_SECRET = sdk.SECRET_SIGNATURE


class NotPlainWire(Exception):
    """A value with a signature other than a secret's: decode it with the SDK."""


class WireReader:
    """Reads inputs for one render: `placeholders` stand in for `secure:` values and must
    never show outside a secret; `leaked` says whether one did since the last `read`."""

    def __init__(self, placeholders: tuple[str, ...]) -> None:
        self._placeholders = placeholders
        self.leaked = False

    def read(self, wire: bytes, skip: tuple[str, ...] = ()) -> dict[str, Any]:
        """The top-level fields of the serialized Struct `wire`, except `skip`, keys sorted."""
        struct = struct_pb2.Struct()
        struct.ParseFromString(wire)
        self.leaked = False
        fields = struct.fields
        if _SIGNATURE in fields:
            raise NotPlainWire
        return {key: self._value(fields[key]) for key in sorted(fields) if key not in skip}

    def _value(self, value: struct_pb2.Value) -> Any:
        kind = value.WhichOneof("kind")
        if kind == "string_value":
            text = value.string_value
            if any(placeholder in text for placeholder in self._placeholders):
                self.leaked = True
                return REDACTED
            return text
        if kind == "number_value":
            number = value.number_value
            return int(number) if number.is_integer() else number
        if kind == "struct_value":
            fields = value.struct_value.fields
            secret = _secret_value(fields)
            if secret is not None:
                return _redacted(secret)
            return {key: self._value(fields[key]) for key in sorted(fields)}
        if kind == "list_value":
            return [self._value(item) for item in value.list_value.values]
        if kind == "bool_value":
            return value.bool_value
        return None


def _redacted(value: struct_pb2.Value) -> Any:
    """A secret's shape with every leaf redacted (a Secret's stringData stays a map, so the
    render still validates); secrets nested inside come out the same."""
    kind = value.WhichOneof("kind")
    if kind == "struct_value":
        fields = value.struct_value.fields
        secret = _secret_value(fields)
        if secret is not None:
            return _redacted(secret)
        return {key: _redacted(fields[key]) for key in sorted(fields)}
    if kind == "list_value":
        return [_redacted(item) for item in value.list_value.values]
    return REDACTED


def _secret_value(fields: Any) -> struct_pb2.Value | None:
    """The value a secret wraps, None for a plain map; NotPlainWire for other signatures."""
    if _SIGNATURE not in fields:
        return None
    if fields[_SIGNATURE].string_value != _SECRET:
        raise NotPlainWire
    return fields["value"]
