"""Numbers, power quantities and dates as German and English documents write them."""

from __future__ import annotations

import datetime as dt

import pytest

from adaptlab.extract.values import convert, find_dates, find_quantities, parse_number, parse_quantity


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("2.500,5", 2500.5),
        ("2,500.5", 2500.5),
        ("2,5", 2.5),
        ("1.200", 1200.0),
        ("2500", 2500.0),
        ("1,234,567", 1234567.0),
    ],
)
def test_german_and_english_number_formats(text: str, value: float) -> None:
    assert parse_number(text) == value


def test_quantities_are_converted_to_the_target_unit_and_other_families_skipped() -> None:
    text = "Leistung 2,5 MW, Dach 750 kWp, Park 3.600 kW, Erzeugung 12 MWh, Netz 1,2 GW"
    assert [f.value for f in find_quantities(text, "kW")] == [2500.0, 750.0, 3600.0, 1_200_000.0]
    assert [f.value for f in find_quantities(text, "MWh")] == [12.0]
    assert parse_quantity("10", "kW", default_unit="MW") == 10_000.0
    assert convert(5, "kW", "m") is None


def test_dates_in_iso_german_and_english_forms_with_positions() -> None:
    text = "am 3. März 2021, seit 03.04.2019, on March 5th, 2020, 2018-07-01 und 1. Jan. 2022; 31.02.2020 gibt es nicht"
    found = find_dates(text)
    assert [f.value for f in found] == [
        dt.date(2021, 3, 3), dt.date(2019, 4, 3), dt.date(2020, 3, 5), dt.date(2018, 7, 1), dt.date(2022, 1, 1)
    ]  # fmt: skip
    assert text[found[0].start : found[0].end] == "3. März 2021"
