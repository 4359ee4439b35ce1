"""Kubernetes quantities and parameter counts, parsed as the stack file writes them."""

from __future__ import annotations

from decimal import Decimal

import pytest

from components.quantities import format_gib, gib, parse_parameter_count, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("8", Decimal(8), id="plain-integer"),
        pytest.param("500m", Decimal("0.5"), id="milli"),
        pytest.param("1.5", Decimal("1.5"), id="decimal"),
        pytest.param(".5", Decimal("0.5"), id="leading-dot"),
        pytest.param("5.", Decimal(5), id="trailing-dot"),
        pytest.param("+2", Decimal(2), id="plus-sign"),
        pytest.param("-1", Decimal(-1), id="minus-sign"),
        pytest.param("0", Decimal(0), id="zero"),
        pytest.param("100n", Decimal("1e-7"), id="nano"),
        pytest.param("250u", Decimal("0.00025"), id="micro"),
        pytest.param("2k", Decimal(2000), id="kilo"),
        pytest.param("1M", Decimal(10**6), id="mega"),
        pytest.param("1.5G", Decimal("1.5e9"), id="giga-decimal"),
        pytest.param("1T", Decimal(10**12), id="tera"),
        pytest.param("1P", Decimal(10**15), id="peta"),
        pytest.param("1E", Decimal(10**18), id="exa-not-exponent"),
        pytest.param("1Ki", Decimal(1024), id="kibi"),
        pytest.param("512Mi", Decimal(512 * 2**20), id="mebi"),
        pytest.param("64Gi", Decimal(64 * 2**30), id="gibi"),
        pytest.param("1.5Gi", Decimal(3 * 2**29), id="gibi-fraction"),
        pytest.param("2Ti", Decimal(2 * 2**40), id="tebi"),
        pytest.param("1Pi", Decimal(2**50), id="pebi"),
        pytest.param("1Ei", Decimal(2**60), id="exbi"),
        pytest.param("1e3", Decimal(1000), id="exponent"),
        pytest.param("1.5E2", Decimal(150), id="exponent-upper"),
        pytest.param("2e-3", Decimal("0.002"), id="exponent-negative"),
    ],
)
def test_parse_quantity(text, value):
    assert parse_quantity(text) == value


@pytest.mark.parametrize(
    "text",
    [
        pytest.param("", id="empty"),
        pytest.param("Gi", id="suffix-only"),
        pytest.param("eight", id="word"),
        pytest.param("64GB", id="two-letter-decimal-suffix"),
        pytest.param("64GiB", id="bytes-suffix"),
        pytest.param("1K", id="uppercase-kilo"),
        pytest.param("1ki", id="lowercase-kibi"),
        pytest.param("100 Gi", id="space-before-suffix"),
        pytest.param("1.2.3", id="two-dots"),
        pytest.param(".", id="dot-only"),
        pytest.param("1,5Gi", id="comma"),
        pytest.param("0x10", id="hex"),
        pytest.param("Infinity", id="infinity"),
        pytest.param("NaN", id="nan"),
    ],
)
def test_parse_quantity_rejects(text):
    with pytest.raises(ValueError, match="is not a Kubernetes quantity"):
        parse_quantity(text)


def test_parse_quantity_error_names_the_input_and_examples():
    with pytest.raises(ValueError) as caught:
        parse_quantity("64GB")
    assert str(caught.value) == (
        "'64GB' is not a Kubernetes quantity (examples: '8', '500m', '64Gi', '1.5G')"
    )


@pytest.mark.parametrize("text", ["1e3Gi", "1e3m"])
def test_parse_quantity_rejects_exponent_with_suffix(text):
    with pytest.raises(ValueError):
        parse_quantity(text)


@pytest.mark.parametrize(
    ("text", "value"),
    [
        pytest.param("64Gi", 64.0, id="gibi"),
        pytest.param("512Mi", 0.5, id="mebi"),
        pytest.param("1Ti", 1024.0, id="tebi"),
        pytest.param("1G", 10**9 / 2**30, id="decimal-giga"),
        pytest.param(str(2**30), 1.0, id="bytes"),
    ],
)
def test_gib(text, value):
    assert gib(text) == pytest.approx(value)


def test_gib_rejects_bad_quantity():
    with pytest.raises(ValueError, match="not a Kubernetes quantity"):
        gib("64 gigabytes")


@pytest.mark.parametrize(
    ("value", "text"),
    [
        pytest.param(37.2, "38Gi", id="rounds-up"),
        pytest.param(38.0, "38Gi", id="whole"),
        pytest.param(1.0000001, "2Gi", id="just-above-whole"),
        pytest.param(0.1, "1Gi", id="below-one"),
        pytest.param(0, "1Gi", id="zero-is-one"),
        pytest.param(100, "100Gi", id="integer"),
    ],
)
def test_format_gib(value, text):
    assert format_gib(value) == text


def test_format_gib_round_trips_through_gib():
    assert gib(format_gib(37.2)) >= 37.2


@pytest.mark.parametrize(
    ("text", "billions"),
    [
        pytest.param("8B", 8.0, id="billions"),
        pytest.param("8b", 8.0, id="lowercase"),
        pytest.param("1.5B", 1.5, id="fraction"),
        pytest.param("500M", 0.5, id="millions"),
        pytest.param("135m", 0.135, id="millions-lowercase"),
        pytest.param("1.5T", 1500.0, id="trillions"),
        pytest.param("70", 70.0, id="plain-number-is-billions"),
        pytest.param("8 B", 8.0, id="space-before-unit"),
        pytest.param(" 8B ", 8.0, id="surrounding-space"),
    ],
)
def test_parse_parameter_count(text, billions):
    assert parse_parameter_count(text) == pytest.approx(billions)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        pytest.param("", "is not a parameter count", id="empty"),
        pytest.param("B", "is not a parameter count", id="unit-only"),
        pytest.param("8K", "is not a parameter count", id="unknown-unit"),
        pytest.param("8BB", "is not a parameter count", id="double-unit"),
        pytest.param("-8B", "is not a parameter count", id="negative"),
        pytest.param("1.B", "is not a parameter count", id="trailing-dot"),
        pytest.param("8e9", "is not a parameter count", id="exponent"),
        pytest.param("eight", "is not a parameter count", id="word"),
        pytest.param("0", "'0' must be greater than zero", id="zero"),
        pytest.param("0.0B", "'0.0B' must be greater than zero", id="zero-with-unit"),
    ],
)
def test_parse_parameter_count_rejects(text, message):
    with pytest.raises(ValueError, match=message):
        parse_parameter_count(text)


def test_every_accepted_quantity_has_the_kubernetes_clients_value():
    # The client's parser is the reference for the arithmetic; it is not used at run time:
    # importing `kubernetes` costs the program ~2 s, and it takes what the API server
    # refuses ("1K", "NaN", "1e3Gi", " 8"), so the grammar check stays ours.
    from kubernetes.utils import parse_quantity as client_parse_quantity

    for case in test_parse_quantity.pytestmark[0].args[1]:
        text, value = case.values
        assert parse_quantity(text) == client_parse_quantity(text) == value, text
