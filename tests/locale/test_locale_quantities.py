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
    ("300 K", "degC", [], "26.85", "kelvin"),                 # into an offset unit: through pint, not a factor
    # compounds, from the largest unit to the smallest, are the sum of their parts (defect 9)
    ("5 ft 3 in", "cm", [], "160.02", "foot + inch"),
    ("1 lb 4 oz", "kg", [], "0.5669904625", "pound + ounce"),
    ("5'3\"", "in", [], "63", "foot + inch"),                 # feet and inches written with primes
    ("5\u2032 3\u2033", "in", [], "63", "foot + inch"),
    ("6'", "cm", [], "182.88", "foot"),
    ("5 ft 3 1/2 in", "in", [], "63.5", "foot + inch"),
    ("5 ft 3,5 in", "in", ["de"], "63.5", "foot + inch"),
    ("-5 ft 3 in", "in", [], "-63", "foot + inch"),           # the sign is the whole value's
    ("1 h 30 min", "min", [], "90", "hour + minute"),
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
    ("5 ft 3 kg", "cm", [], "a compound of a length (foot) and a mass (kilogram): its parts must measure one thing"),
    ("5 ft 3 in", "kg", [], "a length (foot) cannot be converted to kilogram, a mass"),
    ("3 in 5 ft", "cm", [], "a compound goes from the largest unit to the smallest, not inch then foot"),
    ("5 ft 3 ft", "cm", [], "a compound goes from the largest unit to the smallest, not foot then foot"),
    ("1 degC 2 degF", "K", [], "a compound of degree_Celsius, degree_Fahrenheit: offset units"),
    ("5 ft 3", "cm", [], "no unit"),
    ("5 kilos 3 g", "kg", [], "unit 'kilos' mixes a prefix name"),
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
