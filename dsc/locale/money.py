"""Amounts of money → a decimal amount and an ISO 4217 code, with CLDR's currency symbols.

A value is one amount and one currency, in either order: `1.099,98 €`, `$1,099.98`,
`EUR 12.50`, `-12,50 kr`. The amount is read like a number in the declared locales. The
currency is an ISO code, or a symbol read through CLDR in this order:

1. the declared locales' own symbols (`$` is USD in en_US, MXN in es_MX, ARS in es_AR);
   declared locales that disagree make the symbol ambiguous;
2. CLDR's root symbols, which are meant to be read anywhere (`US$`, `€`, `R$`);
3. every locale CLDR has: a symbol that names one currency wherever it is used (`₴`, `zł`)
   is that currency; one that names several (`kr`: DKK, NOK, SEK) is ambiguous.

A rule with a target currency converts with its rate table (written in the spec, never
fetched), rounding half-even to the target's digits (`get_currency_precision`); an amount in
another currency with no rate is rejected. Amounts already in the target keep their digits.
"""
from __future__ import annotations

import re
import unicodedata
from decimal import ROUND_HALF_EVEN, Decimal
from functools import cache
from typing import Any, Iterable, Mapping

from babel import Locale
from babel.numbers import get_currency_precision, list_currencies

from dsc.locale.locales import resolve
from dsc.locale.numbers import read_decimal
from dsc.locale.result import Money, OptionError, Result, ambiguous, ok, rejected
from dsc.locale.text import prepare

# The amount: from the first digit to the last, with a sign just before it, and a decimal
# mark just before it when nothing else is (`.50 €`; the dot of `kr.38` is the symbol's).
_AMOUNT = re.compile(r"(?:(?<![^\s+\-\u2212])[.,])?\d(?:.*\d)?")
_SIGNS = "-\u2212"


def parse_money(value: Any, locales: Iterable[str] = (), target: str | None = None,
                rates: Mapping[str, Decimal] | None = None) -> Result:
    """Standardise one amount; the value is a `Money` (amount, currency, source currency).

    >>> str(parse_money("1.099,98 €", ["de_DE"]).value), str(parse_money("$5", ["es_MX"]).value)
    ('1099.98 EUR', '5 MXN')
    >>> parse_money("kr 20").reason
    'ambiguous: the symbol kr is used for DKK, EEK, NOK, SEK; declare a locale'
    >>> str(parse_money("$10.00", ["en_US"], "EUR", {"USD": Decimal("0.92")}).value)
    '9.20 EUR'
    >>> parse_money("€").reason, parse_money("12.50").reason
    ('no amount, only a currency', 'no currency: write a code (EUR) or a symbol (€)')
    """
    if target is not None and target not in currency_codes():
        raise OptionError(f"unknown currency code '{target}'")  # DSC205 at compile time
    if value is None:
        return ok(None)
    text = prepare(value, "an amount")
    if isinstance(text, Result):
        return text
    locales = tuple(locales)
    match = _AMOUNT.search(text)
    if match is None:
        alone = _currency(_plain(text), locales).status != "rejected"
        return rejected("no amount, only a currency" if alone else "no amount")
    if any(not (c.isdigit() or c.isspace() or c in _separators(locales)) for c in match.group()):
        return rejected("text between the numbers: a value is one amount and one currency")
    before, after = text[:match.start()].strip(), text[match.end():].strip()
    if before[-1:] in ("+", *_SIGNS):  # a sign written just before the digits belongs to them
        amount_text, before = before[-1] + match.group(), before[:-1].strip()
    else:
        amount_text = match.group()
    negative, before, after = _sign(before, after)
    if before and after:
        return rejected(f"text on both sides of the amount ({before!r} and {after!r})")
    symbol = _plain(before or after)
    if not symbol:
        return rejected("no currency: write a code (EUR) or a symbol (€)")
    currency = _currency(symbol, locales)
    if not currency.ok:
        return currency
    amount = read_decimal(amount_text, locales, amount=True)
    if not amount.ok:
        return amount
    if negative and amount.value < 0:
        return rejected("two minus signs")
    signed = -amount.value if negative else amount.value
    return _converted(Money(signed, currency.value, currency.value), target, rates or {})


def _sign(before: str, after: str) -> tuple[bool, str, str]:
    """A minus written outside the amount (`-$5`, `EUR-5` (de_CH), `5 €-`) and the currency text."""
    negative = False
    if before and before[0] in _SIGNS:
        negative, before = True, before[1:].strip()
    elif before and before[-1] in _SIGNS:
        negative, before = True, before[:-1].strip()
    if after and after[-1] in _SIGNS and not negative:
        negative, after = True, after[:-1].strip()
    return negative, before, after


def _currency(symbol: str, locales: tuple[str, ...]) -> Result:
    if len(symbol) == 3 and symbol.isascii() and symbol.upper() in currency_codes():
        return ok(symbol.upper())
    named = {}
    for loc in resolve(locales):
        code = _symbols(loc).get(symbol)
        if code is not None:
            named[str(loc)] = code
    if len(set(named.values())) > 1:
        return ambiguous(f"the symbol {symbol} is " + " but ".join(f"{c} in {loc}" for loc, c in named.items()))
    if named:
        return ok(next(iter(named.values())))
    code = _symbols(Locale("root")).get(symbol)
    if code is not None:
        return ok(code)
    everywhere = _anywhere().get(symbol, ())
    if len(everywhere) == 1:
        return ok(everywhere[0])
    if everywhere:
        return ambiguous(f"the symbol {symbol} is used for {', '.join(everywhere)}; declare a locale"
                         + (" that uses it" if locales else ""))
    return rejected(f"unknown currency {symbol!r}: write an ISO 4217 code or a symbol CLDR knows")


def _converted(money: Money, target: str | None, rates: Mapping[str, Decimal]) -> Result:
    if target is None or money.currency == target:
        return ok(money)
    rate = rates.get(money.currency)
    if rate is None:
        return rejected(f"amount in {money.currency}, and the rule has no rate from {money.currency} to {target}")
    step = Decimal(1).scaleb(-get_currency_precision(target))
    return ok(Money((money.amount * Decimal(rate)).quantize(step, ROUND_HALF_EVEN), target, money.currency))


@cache
def _separators(locales: tuple[str, ...]) -> frozenset[str]:
    """What may stand between the digits of one amount: the separators of the declared
    locales (Arabic ٬ and ٫, Adlam ⹁ …), the common ones, and the spaces CLDR groups with."""
    from babel.numbers import get_decimal_symbol, get_group_symbol

    found = set(".,'\u2019\u00a0\u202f")
    for loc in resolve(locales):
        for system in ("latn", "default"):
            found |= {get_group_symbol(loc, numbering_system=system), get_decimal_symbol(loc, numbering_system=system)}
    return frozenset(found)


@cache
def currency_codes() -> frozenset[str]:
    """The ISO 4217 codes babel knows: what a money rule may name as its target or in its rates."""
    return frozenset(list_currencies())


@cache
def _symbols(loc: Locale) -> dict[str, str]:
    """symbol → currency in one locale; a symbol two currencies share there is left out,
    unless one of them is the territory's own currency."""
    from babel.numbers import get_territory_currencies

    own = set(get_territory_currencies(loc.territory)) if loc.territory else set()
    by_symbol: dict[str, set[str]] = {}
    for code, sym in loc.currency_symbols.items():
        by_symbol.setdefault(_plain(sym), set()).add(code)
    out = {}
    for sym, codes in by_symbol.items():
        mine = codes & own if len(codes) > 1 else codes
        if len(mine) == 1 and sym != next(iter(mine)):
            out[sym] = next(iter(mine))
    return out


@cache
def _anywhere() -> dict[str, tuple[str, ...]]:
    """symbol → every currency it stands for in some CLDR locale. Each locale file is read as
    written, without its inherited data (the symbols a locale inherits are in its parent's
    file): 0.2 s instead of the 2 s of building every Locale. babel.localedata.load is not
    used because it would cache the unmerged data for later Locale objects."""
    import pickle

    from babel.localedata import locale_identifiers, resolve_locale_filename

    found: dict[str, set[str]] = {}
    for ident in ("root", *locale_identifiers()):
        with open(resolve_locale_filename(ident), "rb") as fh:  # babel's own data files
            symbols = pickle.load(fh).get("currency_symbols", {})
        for code, sym in symbols.items():
            if _plain(sym) != code:
                found.setdefault(_plain(sym), set()).add(code)
    return {sym: tuple(sorted(codes)) for sym, codes in found.items()}


def _plain(symbol: str) -> str:
    """A symbol as compared: without the direction marks CLDR wraps some right-to-left
    symbols in, and with full-width forms folded (NFKC: `￥` is `¥`)."""
    return unicodedata.normalize("NFKC", "".join(c for c in symbol if c not in "\u200e\u200f\u061c")).strip()
