"""Money: amounts formatted by babel's own tests read back, price-parser's examples with a
declared locale, CLDR symbols per locale, and conversion with a rate table."""
from decimal import Decimal

import pytest

from dsc.locale import OptionError, parse_money

# python-babel/babel `tests/test_numbers.py`: the outputs asserted in test_format_currency,
# test_format_currency_format_type, test_group_separator and test_format_currency_precision,
# read back in the locale that wrote them: (text, locale, amount, currency).
BABEL_FORMATTED = [
    ("$1,099.98", "en_US", "1099.98", "USD"),
    ("$0.00", "en_US", "0.00", "USD"),
    ("US$\u00a01.099,98", "es_CO", "1099.98", "USD"),
    ("1.099,98\u00a0\u20ac", "de_DE", "1099.98", "EUR"),
    ("EUR 1,099.98", "en_US", "1099.98", "EUR"),
    ("US$\u00a01,00", "es_AR", "1.00", "USD"),
    ("US$\u00a01.000.000,00", "es_AR", "1000000.00", "USD"),
    ("\u00a51,100", "en_US", "1100", "JPY"),
    ("$1099.98", "en_US", "1099.98", "USD"),
    ("101299,98\u00a0\u20ac", "fr_CA", "101299.98", "EUR"),
    ("101\u00a0299,98\u00a0\u20ac", "fr_CA", "101299.98", "EUR"),
    ("$1.001", "en_US", "1.001", "USD"),
]

# scrapinghub/price-parser `tests/test_price_parsing.py` (PRICE_PARSING_EXAMPLES, _NEW, _2):
# (price_raw, the locale dsc is told, amount, ISO code). price-parser returns the symbol;
# dsc returns the ISO 4217 code CLDR gives the symbol in that locale.
PRICE_PARSER_READ = [
    ("$ 1.144.000", "es_AR", "1144000", "ARS"),
    ("A$190.00", "en_US", "190.00", "AUD"),
    ("PTE 120 000 000", "pt_PT", "120000000", "PTE"),
    ("DEM 170 000", "fr_FR", "170000", "DEM"),
    ("45,00 zł", "pl_PL", "45.00", "PLN"),
    ("$ 22.00", "en_US", "22.00", "USD"),
    ("$14.99", "en_US", "14.99", "USD"),
    ("R$260,00", "pt_BR", "260.00", "BRL"),
    ("35,70 €", "de_DE", "35.70", "EUR"),
    ("249,00 EUR", "de_DE", "249.00", "EUR"),
    ("€13.95", "en_US", "13.95", "EUR"),
    ("$699,000", "en_US", "699000", "USD"),
    ("€ 11.69", "en_US", "11.69", "EUR"),
    ("£11.95", "en_GB", "11.95", "GBP"),
    ("80 Kč", "cs_CZ", "80", "CZK"),
    ("49,96€", "de_DE", "49.96", "EUR"),
    ("₪98", "he_IL", "98", "ILS"),
    ("Rp 31.500", "id_ID", "31500", "IDR"),
    ("$ 119,999", "en_US", "119999", "USD"),
    ("฿ 3.3900", "th_TH", "3.3900", "THB"),
    ("€ 2.109,00", "es_ES", "2109.00", "EUR"),
    ("9.990,00 €", "de_DE", "9990.00", "EUR"),
    ("60,00 DKK", "da_DK", "60.00", "DKK"),
    ("0,00 EUR", "de_DE", "0.00", "EUR"),
    ("£ 8.29", "en_GB", "8.29", "GBP"),
    ("€16,95", "nl_NL", "16.95", "EUR"),
    ("HUF 39900", "hu_HU", "39900", "HUF"),
]

# price-parser extracts a price from surrounding text and guesses; dsc takes a cell that is one
# amount and one currency, so these are rejected: (price_raw, locale, the start of the reason).
PRICE_PARSER_REJECTED = [
    ("US$:12.99", "en_US", "unknown currency"),
    ("205,68 € 205.68", "de_DE", "text between the numbers"),
    ("AED 8000 (USD 2179)", "en_US", "text between the numbers"),
    ("13800 ₶", "fr_FR", "unknown currency"),
    ("34,50 € *", "de_DE", "unknown currency"),
    ("Běžná cena 9 800 Kč", "cs_CZ", "text on both sides"),
    ("171900 руб.", "ru_RU", "unknown currency"),      # CLDR's ruble symbol is ₽
    ("1128240 рублей", "ru_RU", "unknown currency"),   # currency names are not read
    ("Free!", "en_US", "no amount"),                    # price-parser: 0
    ("$119. 95", "en_US", "not a number in en_US"),
    ("Cena 283,50 PLN", "pl_PL", "text on both sides"),
    ("$426.20/EA", "en_US", "text on both sides"),
    ("€ 610,", "de_DE", "text on both sides"),
    ("Type of Transfer *", "en_US", "no amount"),
]


@pytest.mark.parametrize("text, locale, amount, code", BABEL_FORMATTED)
def test_babel_formatted_amounts_read_back(text, locale, amount, code):
    result = parse_money(text, [locale])
    assert result.ok, result.reason
    assert (str(result.value.amount), result.value.currency) == (amount, code)


@pytest.mark.parametrize("text, locale, amount, code", PRICE_PARSER_READ)
def test_price_parser_examples(text, locale, amount, code):
    result = parse_money(text, [locale])
    assert result.ok, result.reason
    assert (str(result.value.amount), result.value.currency) == (amount, code)


@pytest.mark.parametrize("text, locale, reason", PRICE_PARSER_REJECTED)
def test_price_parser_examples_dsc_will_not_guess(text, locale, reason):
    result = parse_money(text, [locale])
    assert result.status == "rejected" and result.reason.startswith(reason), result


def test_symbols_follow_the_declared_locale():
    assert parse_money("$5", ["en_US"]).text == "5 USD"
    assert parse_money("$5", ["es_MX"]).text == "5 MXN"
    assert parse_money("$5", ["en_CA"]).text == "5 CAD"
    assert parse_money("$5", ["en_US", "es_MX"]).reason == "ambiguous: the symbol $ is USD in en_US but MXN in es_MX"
    assert parse_money("20 kr", ["sv_SE"]).text == "20 SEK"
    assert parse_money("20 kr", ["nb_NO"]).text == "20 NOK"
    assert parse_money("¥100", ["ja_JP"]).text == "100 JPY"   # CLDR writes ￥ (full width) in ja
    assert parse_money("¥100", ["zh_CN"]).text == "100 CNY"


def test_symbols_without_a_locale():
    assert parse_money("kr 20").reason == "ambiguous: the symbol kr is used for DKK, EEK, NOK, SEK; declare a locale"
    assert parse_money("$20").status == "ambiguous"
    assert parse_money("€20").text == "20 EUR"      # root CLDR symbol
    assert parse_money("US$20").text == "20 USD"
    assert parse_money("₴ 5").text == "5 UAH"       # one currency wherever CLDR uses it
    assert parse_money("20 eur").text == "20 EUR"   # an ISO code, in any case
    assert parse_money("20,50 EUR").reason.startswith("not a plain number")


def test_signs_outside_the_amount():
    assert parse_money("-$1,234.50", ["en_US"]).text == "-1234.50 USD"
    for apostrophe in "'\u2019":  # de_CH groups with either, whichever CLDR writes (babel 2.19: ')
        assert parse_money(f"EUR-1{apostrophe}234.50", ["de_CH"]).text == "-1234.50 EUR"  # its negative pattern
    assert parse_money("\u200f-1,234.50\u00a0€", ["ar_EG"]).text == "-1234.50 EUR"  # with a direction mark
    assert parse_money("5 €-", ["de"]).text == "-5 EUR"


def test_conversion_rounds_to_the_target_currency_digits():
    rates = {"USD": Decimal("0.92"), "JPY": Decimal("0.0061"), "BHD": Decimal("2.44")}
    converted = parse_money("$10.01", ["en_US"], "EUR", rates).value
    assert (converted.amount, converted.currency, converted.source) == (Decimal("9.21"), "EUR", "USD")
    assert parse_money("¥1,000", ["en_US"], "EUR", rates).text == "6.10 EUR"
    # babel test_get_currency_precision: EUR has 2 digits, JPY 0
    assert parse_money("€10", [], "JPY", {"EUR": Decimal("162.345")}).text == "1623 JPY"
    assert parse_money("$0.125", ["en_US"], "USD").text == "0.125 USD"  # not converted: digits kept
    assert parse_money("£5", ["en_GB"], "EUR", rates).reason == \
        "amount in GBP, and the rule has no rate from GBP to EUR"
    with pytest.raises(OptionError):
        parse_money("5 EUR", [], "EURO")


def test_half_even_rounding():
    assert parse_money("0.125 USD", [], "EUR", {"USD": Decimal(1)}).text == "0.12 EUR"
    assert parse_money("0.135 USD", [], "EUR", {"USD": Decimal(1)}).text == "0.14 EUR"


def test_an_amount_may_be_grouped_as_the_locales_currency_format_groups():
    # CLDR's ta_IN groups currency by threes (₹ 1,000,000.00) and plain numbers the Indian way
    # (10,00,000): an amount reads either way, a plain number only the decimal way, and groups
    # that match neither are refused with babel's suggestion.
    from dsc.locale import parse_number

    for text in ("₹\u00a01,000,000.00", "₹\u00a010,00,000.00"):
        assert parse_money(text, ["ta_IN"]).value.amount == Decimal("1000000.00"), text
    refused = parse_money("₹\u00a010,00.00", ["ta_IN"])
    assert refused.status == "rejected" and "separators misplaced" in refused.reason
    assert parse_number("10,00,000", ["ta_IN"]).value == Decimal("1000000")
    assert parse_number("1,000,000", ["ta_IN"]).status == "rejected"
