"""Kubernetes resource quantities and model sizes, parsed the way the API server does."""

from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation

from components.spec_identifiers import shown

# Kubernetes' grammar: a decimal number, then a binary or decimal suffix OR an exponent.
_QUANTITY = re.compile(
    r"([+-]?(?:\d+(?:\.\d*)?|\.\d+))(?:(Ki|Mi|Gi|Ti|Pi|Ei|n|u|m|k|M|G|T|P|E)|([eE][+-]?\d+))?"
)
_SUFFIX = {
    None: Decimal(1),
    "n": Decimal("1e-9"),
    "u": Decimal("1e-6"),
    "m": Decimal("1e-3"),
    "k": Decimal(10) ** 3,
    "M": Decimal(10) ** 6,
    "G": Decimal(10) ** 9,
    "T": Decimal(10) ** 12,
    "P": Decimal(10) ** 15,
    "E": Decimal(10) ** 18,
    "Ki": Decimal(2) ** 10,
    "Mi": Decimal(2) ** 20,
    "Gi": Decimal(2) ** 30,
    "Ti": Decimal(2) ** 40,
    "Pi": Decimal(2) ** 50,
    "Ei": Decimal(2) ** 60,
}
GIB = Decimal(2) ** 30
_PARAMETERS = re.compile(r"(\d+(?:\.\d+)?)\s*([MBT]?)", re.IGNORECASE)
_PARAMETER_SCALE = {"": 1.0, "B": 1.0, "M": 1e-3, "T": 1e3}


def parse_quantity(text: str) -> Decimal:
    """'64Gi' -> bytes, '500m' -> 0.5; ValueError with the reason on bad input."""
    # Whole text: the stack file's value goes to the API server as written ("8\n" would not do).
    match = _QUANTITY.fullmatch(text)
    if not match:
        raise ValueError(
            f"{shown(text)} is not a Kubernetes quantity (examples: '8', '500m', '64Gi', '1.5G')"
        )
    try:
        number = Decimal(match.group(1) + (match.group(3) or ""))
    except InvalidOperation as error:
        raise ValueError(f"'{text}' is not a Kubernetes quantity") from error
    return number * _SUFFIX[match.group(2)]


def gib(text: str) -> float:
    """A memory quantity in GiB."""
    return float(parse_quantity(text) / GIB)


def format_gib(value: float) -> str:
    """Whole GiB, rounded up, as a quantity string: 37.2 -> '38Gi'."""
    return f"{max(math.ceil(value), 1)}Gi"


def parse_parameter_count(text: str) -> float:
    """'8B' -> 8.0, '1.5B' -> 1.5, '500M' -> 0.5, '70' -> 70.0 (billions of parameters)."""
    match = _PARAMETERS.fullmatch(text.strip())
    if not match:
        raise ValueError(f"{shown(text)} is not a parameter count (examples: '8B', '1.5B', '500M')")
    value = float(match.group(1)) * _PARAMETER_SCALE[match.group(2).upper()]
    if value <= 0:
        raise ValueError(f"'{text}' must be greater than zero")
    return value
