"""Numbers: cases from babel's test suite (python-babel/babel `tests/test_numbers.py`), in
strict mode, and dsc's rules for several locales and for no locale."""
from decimal import Decimal

import pytest
from babel.numbers import get_decimal_symbol, get_group_symbol

from dsc.locale import parse_number

# NumberParsingTestCase.test_can_parse_decimals, test_parse_decimal, test_parse_number,
# test_parse_decimal_strict_mode (the accepted half), and the outputs of test_format_decimal /
# test_group_separator read back: (text, locale, value as text).
BABEL_READ = [
    ("1,099.98", "en_US", "1099.98"),                 # test_can_parse_decimals
    ("1.099,98", "de", "1099.98"),
    ("1,099", "en_US", "1099"),                       # test_parse_number
    ("1.099", "de_DE", "1099"),
    ("1.001", "de", "1001"),                          # test_parse_decimal_strict_mode
    ("3.00", "en_US", "3.00"),                        # trailing zeroes are kept
    ("2000.1", "en_US", "2000.1"),
    ("5,000001", "fr", "5.000001"),
    ("12,345.5", "en_US", "12345.5"),                 # test_format_decimal
    ("-1.235", "en_US", "-1.235"),
    ("1,234", "sv_SE", "1.234"),
    ("29\u00a0567,12", "fr_CA", "29567.12"),          # test_group_separator
    ("29.567,12", "pt_BR", "29567.12"),
    ("29567,12", "pt_BR", "29567.12"),
    ("12\u00a0345,123", "fi", "12345.123"),           # test_parse_decimal_nbsp_heuristics (formatted form)
]

# test_can_parse_decimals / test_parse_decimal_strict_mode (the rejected half): babel raises
# NumberFormatError, dsc gives the reason with babel's suggestions.
BABEL_REJECTED = [
    ("2,109,998", "de", "not a number in de"),
    ("11.11", "de", "not a number in de (separators misplaced: did you mean 1.111 or 11,11?)"),
    ("80.00.00", "de", "not a number in de (separators misplaced: did you mean 800.000?)"),
    ("2000,000", "en_US", "not a number in en_US (separators misplaced: did you mean 2,000,000 or 2,000?)"),
    ("0,,000", "en_US", "not a number in en_US (separators misplaced: did you mean 0?)"),
    ("0.00", "de", "not a number in de (separators misplaced: did you mean 0?)"),
    # test_parse_decimal_nbsp_heuristics reads "12 345.123" in fi only without strict mode:
    # '.' is not Finnish's decimal separator, so dsc does not read it
    ("12 345.123", "fi", "not a number in fi"),
]


@pytest.mark.parametrize("text, locale, expected", BABEL_READ)
def test_babel_numbers_read(text, locale, expected):
    result = parse_number(text, [locale])
    assert (result.status, result.text) == ("ok", expected), result.reason


@pytest.mark.parametrize("text, locale, reason", BABEL_REJECTED)
def test_babel_numbers_rejected(text, locale, reason):
    result = parse_number(text, [locale])
    assert (result.status, result.reason) == ("rejected", reason)


def test_the_issue_examples():
    assert parse_number("1.099", ["de"]).value == Decimal(1099)
    assert parse_number("2,109,998", ["de"]).status == "rejected"


def test_locales_that_disagree_make_a_value_ambiguous():
    assert parse_number("1.099", ["de_DE", "en_US"]).reason == "ambiguous: reads 1099 in de_DE but 1.099 in en_US"
    assert parse_number("1099", ["de_DE", "en_US"]).text == "1099"
    assert parse_number("12.5", ["de_DE", "en_US"]).text == "12.5"  # de cannot read it: one reading


def test_spaces_and_apostrophes_stand_for_the_grouping_they_look_like():
    assert parse_number("1 234,5", ["fr_FR"]).text == "1234.5"     # fr groups with U+202F
    assert parse_number("1 234.5", ["en_US"]).status == "rejected"
    assert parse_number("\u22125", ["sv_SE"]).text == "-5"          # a typographic minus
    assert parse_number("\u0661\u0662\u0663", ["ar_EG"]).text == "123"  # Arabic-Indic digits


@pytest.mark.parametrize("locale", ["de_CH", "fr_CH", "it_CH"])
@pytest.mark.parametrize("apostrophe", ["'", "\u2019"])
def test_swiss_grouping_reads_either_apostrophe(locale, apostrophe):
    # Older CLDR writes the Swiss group separator as U+2019, babel 2.19's as U+0027; Swiss data
    # holds both, whichever the installed CLDR has.
    assert get_group_symbol(locale) in "'\u2019"
    point = get_decimal_symbol(locale)
    assert parse_number(f"1{apostrophe}234{apostrophe}567{point}5", [locale]).text == "1234567.5"
    assert parse_number(f"12{apostrophe}34{point}5", [locale]).status == "rejected"  # misplaced, either way


def test_without_a_locale_only_the_canonical_form_is_read():
    assert parse_number("-1099.50").text == "-1099.50"
    assert parse_number("1e3").text == "1000"
    assert parse_number("1,099").reason.startswith("not a plain number")


def test_numbers_that_are_not_finite_or_too_big_are_rejected():
    for bad in ("NaN", "nan", "Infinity", "-inf", "sNaN"):
        assert parse_number(bad, ["en_US"]).status == "rejected", bad
    assert parse_number(float("inf")).reason == "not a finite number"
    assert parse_number(Decimal("NaN")).reason == "not a finite number"
    assert parse_number("1e999999", ["en_US"]).reason.startswith("too large")
    assert parse_number("9" * 61).reason.startswith("too large")
    assert parse_number("9" * 60).text == "9" * 60  # big, but every digit is kept
    assert parse_number("1_000", ["en_US"]).status == "rejected"  # Decimal would take it


def test_values_that_are_already_numbers():
    assert parse_number(7).text == "7"
    assert parse_number(0.1).text == "0.1"       # the float's shortest repr, not its binary expansion
    assert parse_number(-0.0).text == "0.0"
    assert parse_number(True).reason == "a true/false value is not a number"
