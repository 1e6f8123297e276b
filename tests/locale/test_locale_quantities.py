"""Measurements: conversion to the target unit with pint, locale numbers, and the readings
of pint that dsc does not take because they are guesses."""
from decimal import Decimal

import pytest

from dsc.locale import OptionError, parse_quantity

# (text, target, locales, value in the target unit as text, unit as written, named by pint)
READ = [
    ("2 1/2 in", "cm", [], "6.35", "inch"),                  # the example
    ("1,5 kg", "g", ["de"], "1500", "kilogram"),
    ("1.234,5 g", "kg", ["de"], "1.2345", "gram"),
    ("1 lb", "kg", [], "0.45359237", "pound"),                # exact: the pound is defined in kg
    ("5 lbs", "kg", [], "2.26796185", "pound"),
    ("½ cup", "mL", [], "118.29411825", "cup"),
    ("3 ft", "m", [], "0.9144", "foot"),
    ("5 mi", "km", [], "8.04672", "mile"),
    ("5 min", "s", [], "300", "minute"),                      # pint's unprefixed reading wins
    ("10 km/h", "m/s", [], "2.77777777777778", "kilometer / hour"),
    ("10 sq ft", "m^2", [], "0.9290304", "foot ** 2"),
    ("100 °F", "degC", [], "37.7777777777778", "degree_Fahrenheit"),  # offset units go through pint
    ("-40 °F", "degC", [], "-40", "degree_Fahrenheit"),
    ("5 µm", "mm", [], "0.005", "micrometer"),                # micro sign
    ("5 μm", "mm", [], "0.005", "micrometer"),                # Greek mu
    ("2 floz", "mL", [], "59.147059125", "fluid_ounce"),
    ("0 kg", "g", [], "0", "kilogram"),
    ("1e3 g", "kg", [], "1", "gram"),
]

REJECTED = [
    ("3 m", "kg", [], "a length (meter) cannot be converted to kilogram, a mass"),
    ("5 kilos", "kg", [], "unit 'kilos' mixes a prefix name with a unit symbol (pint reads it as kilosecond)"),
    ("2 fl oz", "mL", [], "unit 'fl oz' puts two units side by side"),
    ("5 Kilogramm", "kg", [], "unknown unit 'Kilogramm' (did you mean 'kilogram'?)"),
    ("5 kgg", "kg", [], "unknown unit 'kgg' (did you mean 'kg'?)"),
    ("3", "kg", [], "no unit: write the unit after the number (e.g. kg)"),
    ("kg", "kg", [], "no number"),
    ("5 %", "kg", [], "'%' has no dimension"),
    ("1/0 kg", "kg", [], "a fraction over zero"),
    ("1,5 kg", "kg", [], "not a plain number"),
    ("1.234,5 g", "kg", ["en_US"], "not a number in en_US (separators misplaced"),
    ("NaN kg", "kg", [], "no number"),
]


@pytest.mark.parametrize("text, target, locales, value, original", READ)
def test_measurements_convert_to_the_target(text, target, locales, value, original):
    result = parse_quantity(text, target, locales)
    assert result.ok, result.reason
    assert (str(result.value.value), result.value.unit, result.value.original) == (value, target, original)


@pytest.mark.parametrize("text, target, locales, reason", REJECTED)
def test_measurements_dsc_will_not_guess(text, target, locales, reason):
    result = parse_quantity(text, target, locales)
    assert result.status == "rejected" and result.reason.startswith(reason), result


def test_results_keep_fifteen_significant_digits_and_the_canonical_text_reads_back():
    result = parse_quantity("1 floz", "L")
    assert result.value.value == Decimal("0.0295735295625")
    assert parse_quantity(result.text, "L").text == result.text


def test_a_target_that_is_not_a_unit_is_the_rules_error():
    with pytest.raises(OptionError):
        parse_quantity("5 kg", "kgg")
    with pytest.raises(OptionError):
        parse_quantity("5 kg", "percent")
