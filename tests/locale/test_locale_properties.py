"""Laws of standardisation, checked with hypothesis (example counts in each `settings`):

- a date, decimal or amount that babel formats in a locale reads back to the same value in
  that locale (babel writes what CLDR says a locale writes; dsc reads it back);
- standardising the output again gives the same output (idempotence). The output is dsc's
  canonical form, which is read with no locale (a '.' decimal point would be a misplaced group
  in de_DE); dates and booleans read the same in the rule's own locales too;
- a numeric date is read in the day-month order of the declared locales' CLDR short date
  pattern, and one whose day and month could be swapped is never turned into a date when
  neither the rule nor the locales fix the order (no locale, or locales that disagree).
"""
import datetime as dt
import re
from decimal import Decimal

from babel import Locale
from babel.dates import format_date
from babel.localedata import locale_identifiers
from babel.numbers import (format_currency, format_decimal, get_currency_precision, get_group_symbol,
                           get_territory_currencies)
from hypothesis import HealthCheck, assume, example, given, settings
from hypothesis import strategies as st

from dsc.locale import parse_bool, parse_date, parse_money, parse_number, parse_quantity, standardize
from dsc.locale.booleans import WORDS
from hypothesis_budget import examples
from test_locale_dates import cldr_order

# Locales whose CLDR long, medium and full date formats dateparser reads.
DATE_LOCALES = ["en_US", "en_GB", "de_DE", "fr_FR", "es_ES", "it_IT", "pt_BR", "nl_NL", "ru_RU", "pl_PL",
                "sv_SE", "da_DK", "nb_NO", "fi_FI", "cs_CZ", "tr_TR", "ja_JP", "zh_CN", "ko_KR", "uk_UA",
                "ro_RO", "hu_HU", "el_GR", "id_ID", "vi_VN", "ar_EG", "ca_ES", "hr_HR", "bg_BG"]
# Formats dateparser does not read, left out (dsc rejects them, it never misreads them): a
# Japanese weekday glued to the day; and, not listed above, Hebrew and Hindi medium dates
# (abbreviation marks) and Thai dates (the ค.ศ. era; dateparser reads Thai medium months
# wrongly, which dsc catches against CLDR's month names).
DATE_GAPS = {("ja_JP", "full")}
ALL_LOCALES = sorted(locale_identifiers())
# Locales whose own currency format babel's strict reading refuses: the currency pattern groups
# digits unlike the number pattern (ml_IN, mr_IN, or_IN, dv_MV), or the symbol is a zero-width
# space (kea_CV, pt_CV). dsc rejects these amounts; it never misreads them.
MONEY_GAPS = {"ml_IN", "mr_IN", "or_IN", "dv_MV", "kea_CV", "pt_CV"}
# The currency each locale's territory used on a fixed day (the default, today, would make
# the test depend on when it runs).
ON = dt.date(2024, 1, 1)


def _currency_locales() -> list[tuple[str, str]]:
    out = []
    for ident in ALL_LOCALES:
        territory = Locale.parse(ident).territory
        currencies = get_territory_currencies(territory, ON) if territory else []
        if currencies and ident not in MONEY_GAPS:
            out.append((ident, currencies[0]))
    return out


MONEY_LOCALES = _currency_locales()


def _swiss_grouped(text: str, locale: str) -> str:
    """babel's text with the grouping its locale's data asks for. babel 2.19 takes the `'` group
    symbol of de_CH, en_CH, it_CH, … for a quote in its own number pattern and writes
    `1000000'000` or `1234567.50`; Swiss data groups every three digits (`1'000'000'000`), and
    dsc reads that (and refuses the misplaced separator)."""
    if get_group_symbol(locale) != "'":
        return text
    regroup = lambda m: f"{int(m.group(1).replace(chr(39), '')):,}".replace(",", "'")  # noqa: E731
    return re.sub(r"(\d[\d']*)", regroup, text, count=1)


def _order(locale: str, width: str) -> str:
    """The day-month-year order of a locale's date pattern, as a rule would declare it."""
    pattern = Locale.parse(locale).date_formats[width].pattern
    return "".join(sorted("DMY", key=lambda part: pattern.find({"D": "d", "M": "M", "Y": "y"}[part])))


dates = st.dates(min_value=dt.date(1900, 1, 1), max_value=dt.date(2100, 12, 31))


@settings(max_examples=examples(2.5), deadline=None)
@given(day=dates, locale=st.sampled_from(DATE_LOCALES), width=st.sampled_from(["long", "medium", "full"]))
def test_a_date_babel_formats_reads_back(day, locale, width):
    assume((locale, width) not in DATE_GAPS)
    text = format_date(day, width, locale=locale)
    result = parse_date(text, [locale], order=_order(locale, width))
    assert result.value == day, (text, result)
    assert parse_date(result.text, [locale]).text == result.text  # idempotent in the rule's locale
    assert parse_date(result.text).text == result.text            # and with none


@settings(max_examples=examples(3), deadline=None)
@given(value=st.decimals(min_value=-10**12, max_value=10**12, places=6), locale=st.sampled_from(ALL_LOCALES))
@example(value=Decimal("1000000000.000000"), locale="en_CH")  # babel writes 1000000'000
def test_a_decimal_babel_formats_reads_back(value, locale):
    text = _swiss_grouped(format_decimal(value, locale=locale, decimal_quantization=False), locale)
    result = parse_number(text, [locale])
    assert result.value == value, (text, result)
    assert parse_number(result.text).text == result.text


@settings(max_examples=examples(3), deadline=None)
@given(units=st.integers(min_value=-10**10, max_value=10**10), where=st.sampled_from(MONEY_LOCALES))
@example(units=10_000_000, where=("ta_IN", "INR"))  # ₹ 100,000.00: ta_IN's currency pattern groups by 3
def test_an_amount_babel_formats_reads_back(units, where):
    locale, currency = where
    amount = Decimal(units).scaleb(-get_currency_precision(currency))
    text = _swiss_grouped(format_currency(amount, currency, locale=locale), locale)
    result = parse_money(text, [locale])
    assert result.ok, (text, result)
    assert (result.value.amount, result.value.currency) == (amount, currency), text
    assert parse_money(result.text).text == result.text


money_rules = st.sampled_from([(None, {}), ("EUR", {"USD": Decimal("0.92"), "GBP": Decimal("1.17"),
                                                   "JPY": Decimal("0.0061")})])


@settings(max_examples=examples(1.5), deadline=None)
@given(units=st.integers(min_value=-10**8, max_value=10**8), locale=st.sampled_from(["en_US", "en_GB", "ja_JP",
                                                                                      "de_DE", "fr_FR"]),
       rule=money_rules)
def test_money_standardisation_is_idempotent(units, locale, rule):
    target, rates = rule
    currency = {"en_US": "USD", "en_GB": "GBP", "ja_JP": "JPY"}.get(locale, "EUR")
    text = format_currency(Decimal(units).scaleb(-get_currency_precision(currency)), currency, locale=locale)
    once = parse_money(text, [locale], target, rates)
    assert once.ok, (text, once)
    # the canonical form is read with no locale: `0.00 EUR` in de_DE would be a misplaced group
    assert parse_money(once.text, [], target, rates).text == once.text


UNITS = [("kg", "lb"), ("kg", "g"), ("m", "ft"), ("m", "in"), ("L", "floz"), ("degC", "degF"), ("km/h", "mph")]


@settings(max_examples=examples(1.5), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(value=st.decimals(min_value=-10**6, max_value=10**6, places=3), units=st.sampled_from(UNITS),
       locale=st.sampled_from(["en_US", "de_DE", "fr_FR", "sv_SE", "de_CH"]))
def test_quantity_standardisation_is_idempotent(value, units, locale):
    target, written = units
    once = parse_quantity(f"{format_decimal(value, locale=locale, decimal_quantization=False)} {written}",
                          target, [locale])
    assert once.ok, once
    again = parse_quantity(once.text, target)
    assert again.text == once.text and parse_quantity(again.text, target).text == once.text


@settings(deadline=None)
@given(language=st.sampled_from(sorted(WORDS)), pick=st.data())
def test_bool_standardisation_is_idempotent(language, pick):
    yes, no = WORDS[language]
    word = pick.draw(st.sampled_from(yes + no))
    once = parse_bool(word, [language])
    assert once.value == (word in yes)
    assert parse_bool(once.text, [language]).value == once.value and parse_bool(once.text).value == once.value


@settings(max_examples=examples(3), deadline=None)
@given(year=st.integers(min_value=1000, max_value=9999), first=st.integers(1, 12), second=st.integers(1, 12),
       sep=st.sampled_from(["/", ".", "-", ". ", " / "]), pad=st.booleans(),
       tail=st.sampled_from(["", ".", " 10:15", "T10:15:00", " 10:15 pm", ", 08:45:39"]),
       kind=st.sampled_from(["date", "datetime"]),
       locales=st.lists(st.sampled_from(["en_US", "de_DE", "fr_FR", "ja_JP", "ar_EG"]), max_size=2))
def test_a_numeric_date_is_read_in_the_locales_order_and_never_when_they_disagree(
        year, first, second, sep, pad, tail, kind, locales):
    assume(first != second)
    a, b = (f"{first:02d}", f"{second:02d}") if pad else (str(first), str(second))
    text = f"{a}{sep}{b}{sep}{year}{tail}"
    result = standardize(kind, text, locales=locales)
    orders = {cldr_order(loc) for loc in locales} - {"YMD"} if locales else {"DMY", "MDY"}
    if len(orders) == 2:
        assert result.status == "ambiguous" and result.value is None, (text, result)
    elif not orders:  # only locales that write the year first (ja_JP)
        assert result.status == "rejected" and result.reason.startswith("written with the year last"), (text, result)
    elif kind == "datetime" and ":" not in tail:
        assert result.reason == "no time of day: a date alone is not a datetime", (text, result)
    else:
        month, day = (first, second) if orders == {"MDY"} else (second, first)
        assert result.ok and (result.value.month, result.value.day) == (month, day), (text, result)
