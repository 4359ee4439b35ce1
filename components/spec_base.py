"""What every stack-file model shares: the base class and the cross-field error.

Kept apart from spec.py so that blocks with their own module (autoscaling) can build on
the same base without importing spec.py, which imports them.
"""

from __future__ import annotations

import re

from pydantic import BaseModel, ConfigDict


class FieldError(ValueError):
    """A cross-field rule broken at a sub-key: the message is reported at `<model path>.<key>`."""

    def __init__(self, key: str, message: str) -> None:
        super().__init__(message)
        self.key = key


class SpecModel(BaseModel):
    """Base of every stack-file object: camelCase keys, unknown keys rejected."""

    model_config = ConfigDict(
        extra="forbid",
        # The camelCase names are the contract: `hf_token` is an unknown key, not an alias.
        validate_by_name=False,
        validate_by_alias=True,
        # `true` is not the number 1, and "2" is not a replica count.
        strict=True,
        alias_generator=lambda name: re.sub(r"_([a-z])", lambda m: m.group(1).upper(), name),
        frozen=True,
    )
