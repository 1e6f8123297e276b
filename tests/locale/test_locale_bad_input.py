"""The issue's bad input — empty strings, nulls, mixed scripts, huge numbers, NaN, a currency
symbol alone, a unit pint does not know — gives a reason, never a traceback, never a value."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.locale import KINDS, standardize
from hypothesis_budget import examples

OPTIONS = {"date": {"locales": ["de_DE", "en_US"]}, "datetime": {"locales": ["en_US"]},
           "number": {"locales": ["de_DE"]}, "money": {"locales": ["de_DE"], "target": "EUR"},
           "quantity": {"locales": ["de_DE"], "target": "kg"}, "bool": {"locales": ["de_DE"]}}

BAD = [
    ("date", "", "empty value"),
    ("date", "   ", "empty value"),
    ("date", "Маrch 3, 2020", "mixed scripts in the word 'Маrch' (Cyrillic and Latin)"),
    ("date", "99999999-01-01", "not a date"),
    ("date", "NaN", "not a date in de, en"),
    ("date", "x" * 500, "too long to be a date (500 characters)"),
    ("datetime", "", "empty value"),
    ("number", "", "empty value"),
    ("number", "NaN", "not a number in de_DE"),
    ("number", "1" * 80, "too large"),
    ("number", "1e400", "too large"),
    ("number", "1٢3", "mixed scripts in the number '1٢3' (Arabic-Indic and Latin)"),
    ("money", "€", "no amount, only a currency"),
    ("money", "kr", "no amount, only a currency"),
    ("money", "12,50", "no currency"),
    ("money", "NaN €", "no amount"),
    ("money", "9" * 70 + " €", "too large"),
    ("money", "", "empty value"),
    ("quantity", "5 blorbs", "unknown unit 'blorbs'"),
    ("quantity", "kg", "no number"),
    ("quantity", "NaN kg", "no number"),
    ("quantity", "", "empty value"),
    ("bool", "", "empty value"),
    ("bool", "vielleicht", "not a yes/no word in de"),
]


@pytest.mark.parametrize("kind, text, reason", BAD)
def test_bad_input_gives_a_reason(kind, text, reason):
    result = standardize(kind, text, **OPTIONS[kind])
    assert result.status == "rejected" and result.value is None
    assert result.reason.startswith(reason), result.reason


@pytest.mark.parametrize("kind", KINDS)
def test_null_stays_null(kind):
    result = standardize(kind, None, **OPTIONS[kind])
    assert result.ok and result.value is None and result.text is None


@pytest.mark.parametrize("kind", KINDS)
def test_the_kr_symbol_without_a_locale_is_ambiguous_only_for_money(kind):
    options = dict(OPTIONS[kind], locales=[])
    result = standardize(kind, "20 kr", **options)
    assert not result.ok
    assert (result.status == "ambiguous") == (kind == "money")


# Text a reader could meet: digits, separators, signs, currency symbols, letters of several
# scripts, control and format characters.
_messy = st.text(alphabet=st.sampled_from(list("0123456789 .,'-+/:$€£¥kr%ämsyTZ") +
                                          ["\u00a0", "\u202f", "\u200f", "\u0661", "\u0416", "°", "½", "\t"]),
                 max_size=24)


@settings(max_examples=examples(1.5), deadline=None)
@given(kind=st.sampled_from(KINDS), text=st.one_of(_messy, st.text(max_size=24)))
def test_no_text_makes_a_reader_raise(kind, text):
    """1.5× the profile's examples over all kinds: every answer is a Result, never an exception."""
    result = standardize(kind, text, **OPTIONS[kind])
    assert result.status in ("ok", "rejected", "ambiguous")
    assert result.ok == (result.reason is None)
