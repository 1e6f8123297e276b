"""Locale-aware standardisation: one reader per kind, each returning a `Result`.

    parse_date      10.1.2019, 10. Januar 2019, yesterday (with a base) → 2019-01-10
    parse_datetime  Nov 25 2014 10:17 pm, 2004-05-15 16:10 -0400          → ISO 8601
    parse_number    1.099 (de), 1,099.98 (en_US)                          → Decimal
    parse_money     1.099,98 €, $5 (es_MX), EUR 12.50                     → Money(amount, ISO 4217)
    parse_quantity  2 1/2 in, 1,5 kg (de), 100 °F                         → Quantity in the target unit
    parse_bool      ja, non, sí, true, 0                                  → bool

No reader guesses and none raises on bad data: a value that cannot be read is `rejected`,
one that could be read two ways is `ambiguous`, each with a reason. A null stays null.
Errors in the *options* (an unknown locale, a base that is not a date) are the spec's, and
raise `OptionError`. `standardize` dispatches on the kind, with the options of a plan step.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any, Iterable, Mapping

from dsc.locale.booleans import parse_bool
from dsc.locale.dates import Window, parse_date, parse_datetime
from dsc.locale.money import parse_money
from dsc.locale.numbers import parse_number
from dsc.locale.quantities import parse_quantity
from dsc.locale.result import Money, OptionError, Quantity, Result

__all__ = ["KINDS", "Money", "OptionError", "Quantity", "Result", "parse_bool", "parse_date", "parse_datetime",
           "parse_money", "parse_number", "parse_quantity", "standardize"]

KINDS = ("date", "datetime", "number", "money", "quantity", "bool")


def standardize(kind: str, value: Any, locales: Iterable[str] = (), order: str | None = None,
                base: str | None = None, target: str | None = None,
                rates: Mapping[str, Decimal] | None = None, years: Window | None = None) -> Result:
    """Standardise `value` as `kind`; options a kind does not read are ignored.

    >>> standardize("money", "1.099,98 €", ["de_DE"]).text
    '1099.98 EUR'
    >>> standardize("date", "03/04/2019").status
    'ambiguous'
    """
    locales = tuple(locales)
    if kind in ("date", "datetime"):
        reader = parse_date if kind == "date" else parse_datetime
        return reader(value, locales, order, base, years)
    if kind == "number":
        return parse_number(value, locales)
    if kind == "money":
        return parse_money(value, locales, target, rates)
    if kind == "quantity":
        if not target:
            raise OptionError("a quantity needs a target unit")
        return parse_quantity(value, target, locales)
    if kind == "bool":
        return parse_bool(value, locales)
    raise OptionError(f"unknown kind {kind!r}; use one of {', '.join(KINDS)}")
