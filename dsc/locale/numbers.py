"""Numbers written with a locale's decimal and grouping separators (babel, strict mode).

A value is read in every declared locale; it is a number when at least one locale reads it
and all that read it agree (`1.099` with `from [de_DE, en_US]` is 1099 or 1.099: ambiguous).
With no locale declared only dsc's canonical form is read — digits, an optional '.' and
decimals, an optional exponent — which is also what standardisation writes, so standardising
an output again changes nothing.
"""
from __future__ import annotations

import math
import re
from decimal import Decimal, InvalidOperation
from functools import cache
from typing import Any, Iterable

from babel import Locale
from babel.numbers import NumberFormatError, get_decimal_symbol, get_group_symbol, parse_decimal

from dsc.locale.locales import resolve
from dsc.locale.result import Result, ambiguous, ok, rejected
from dsc.locale.text import prepare

# More digits than any measured or counted value has; beyond this a value is a data error
# (and `1e999999` written out would be a megabyte of zeros).
MAX_DIGITS = 60
_CANONICAL = re.compile(r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\Z", re.ASCII)
# Characters written for one another as the group separator: any space where the locale groups
# with a space (fr, sv, fi), either apostrophe where it groups with one (de_CH, fr_CH, it_CH: CLDR
# has had both U+2019 and U+0027, and Swiss data holds both).
_ALIKE = (" \u00a0\u202f", "'\u2019")
_MINUS = "\u2212\u2012\u2013\ufe63\uff0d"  # minus sign and dashes people type for it


def parse_number(value: Any, locales: Iterable[str] = ()) -> Result:
    """Standardise one number; the value is a `Decimal` (exact: no binary rounding).

    >>> parse_number("1.099", ["de"]).value, parse_number("1,099.98", ["en_US"]).value
    (Decimal('1099'), Decimal('1099.98'))
    >>> parse_number("2,109,998", ["de"]).reason
    'not a number in de'
    >>> parse_number("1.099", ["de", "en_US"]).reason
    'ambiguous: reads 1099 in de but 1.099 in en_US'
    >>> parse_number("NaN", ["en_US"]).status, parse_number(float("nan")).reason
    ('rejected', 'not a finite number')
    """
    if value is None:
        return ok(None)
    if isinstance(value, bool):
        return rejected("a true/false value is not a number")
    if isinstance(value, int):
        return ok(Decimal(value))
    if isinstance(value, float):
        return _bounded(Decimal(repr(value))) if math.isfinite(value) else rejected("not a finite number")
    if isinstance(value, Decimal):
        return _bounded(value)
    text = prepare(value, "a number")
    if isinstance(text, Result):
        return text
    return read_decimal(text, tuple(locales))


def read_decimal(text: str, locales: tuple[str, ...], amount: bool = False) -> Result:
    """The decimal `text` denotes in `locales` (or in canonical form when there are none);
    used for the number inside an amount or a measurement too. `amount`: the number of a money
    amount, whose digits may also be grouped as the locale's currency formats group them (CLDR's
    ta_IN writes `₹ 1,000,000.00` with its currency pattern and `10,00,000` with its decimal one)."""
    text = "".join("-" if c in _MINUS else c for c in text)
    if not locales:
        if _CANONICAL.match(text):
            try:
                return _bounded(Decimal(text))
            except InvalidOperation:  # an exponent beyond what Decimal can hold
                return rejected(f"too large or too precise to be a number dsc keeps exactly (over {MAX_DIGITS} "
                                "digits)")
        return rejected("not a plain number (digits with '.' for decimals) and no locale is declared "
                        "to read other separators")
    readings: dict[str, Decimal] = {}
    hints: list[str] = []
    for loc in resolve(locales):
        found = _in_locale(text, loc, amount)
        if isinstance(found, Decimal):
            readings[str(loc)] = found
        elif found:
            hints.append(found)
    if not readings:
        where = " or ".join(locales)
        return rejected(f"not a number in {where}" + (f" ({hints[0]})" if hints else ""))
    values = list(readings.items())
    first_loc, first = values[0]
    for loc, other in values[1:]:
        if other != first:
            return ambiguous(f"reads {_plain(first)} in {first_loc} but {_plain(other)} in {loc}")
    if not first.is_finite():
        return rejected("not a finite number")
    return _bounded(first)


def _in_locale(text: str, loc: Locale, amount: bool = False) -> Decimal | str | None:
    """The number in one locale (latin digits and the locale's own numbering system), a
    hint when babel suggests a spelling, or None. `amount`: groups as the locale's currency
    formats place them are accepted too (babel's strict check knows only the decimal format's)."""
    hint = None
    for system in _systems(loc):
        group, point = _symbols(loc, system)
        candidate = text
        for alike in _ALIKE:
            if group in alike:
                candidate = re.sub(f"[{alike}]", group, candidate)
        if not _shape(group, point).match(candidate):
            continue
        try:
            if group == "'" and group in candidate:
                candidate = _ungrouped(candidate, loc, group, point)
            return parse_decimal(candidate, loc, strict=True, numbering_system=system)
        except NumberFormatError as err:
            for grouping in _currency_groupings(loc) if amount and group in candidate else ():
                try:
                    return parse_decimal(_ungrouped(candidate, loc, group, point, grouping), loc, strict=True,
                                         numbering_system=system)
                except (NumberFormatError, InvalidOperation, ValueError):
                    continue
            if getattr(err, "suggestions", None):
                hint = "separators misplaced: did you mean " + " or ".join(err.suggestions) + "?"
        except (InvalidOperation, ValueError):
            continue
    return hint


def _ungrouped(text: str, loc: Locale, group: str, point: str, grouping: tuple[int, int] | None = None) -> str:
    """`text` without its group separators, once they are where the locale's pattern puts them
    (its decimal pattern's groups, or `grouping`: (first, other) group sizes).

    babel's strict mode checks the groups by formatting the number again, but its formatter
    reads a pair of U+0027 as a quoted literal and drops them (1'234'567 comes out as 1234567
    in de_CH), so it would refuse every number with two groups where CLDR groups with U+0027
    (de_CH, fr_CH, it_CH in babel 2.19). The groups are checked here instead, and babel reads
    the number without them.

    >>> _ungrouped("-1'234'567.5", Locale.parse("de_CH"), "'", ".")
    '-1234567.5'
    """
    sign = text[:1] if text[:1] in "+-" else ""
    whole, dot, fraction = text[len(sign):].partition(point)
    first, other = grouping or loc.decimal_formats[None].grouping
    digits = whole.replace(group, "").lstrip("0") or "0"
    proper, rest = digits[-first:], digits[:-first]
    while rest:
        proper, rest = rest[-other:] + group + proper, rest[:-other]
    if whole != proper:
        raise NumberFormatError(f"{text!r} is not grouped as in {loc}", suggestions=[sign + proper + dot + fraction])
    return sign + digits + dot + fraction


@cache
def _currency_groupings(loc: Locale) -> tuple[tuple[int, int], ...]:
    """The group sizes of the locale's currency formats that its decimal format does not use.

    >>> _currency_groupings(Locale.parse("ta_IN")), _currency_groupings(Locale.parse("de_DE"))
    (((3, 3),), ())
    """
    decimal = loc.decimal_formats[None].grouping
    return tuple(dict.fromkeys(p.grouping for p in loc.currency_formats.values() if p.grouping != decimal))


@cache
def _systems(loc: Locale) -> tuple[str, ...]:
    default = loc.default_numbering_system
    return ("latn",) if default == "latn" else ("latn", "default")


@cache
def _symbols(loc: Locale, system: str) -> tuple[str, str]:
    return get_group_symbol(loc, numbering_system=system), get_decimal_symbol(loc, numbering_system=system)


@cache
def _shape(group: str, point: str) -> re.Pattern:
    """Digits, the locale's two separators, a sign, an exponent — nothing else reaches babel
    (Python's Decimal would also take 'NaN', 'Infinity' and '1_000')."""
    seps = re.escape(group + point)
    return re.compile(rf"[+-]?[\d{seps}]*\d[\d{seps}]*(?:[eE][+-]?\d+)?\Z")


def _bounded(value: Decimal) -> Result:
    if not value.is_finite():
        return rejected("not a finite number")
    digits = len(value.as_tuple().digits)
    if value.adjusted() >= MAX_DIGITS or digits > MAX_DIGITS or value.adjusted() < -MAX_DIGITS:
        return rejected(f"too large or too precise to be a number dsc keeps exactly (over {MAX_DIGITS} digits)")
    return ok(value)


def _plain(value: Decimal) -> str:
    return format(value, "f") if value.is_finite() else str(value)
