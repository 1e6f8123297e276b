"""Measurements → a decimal value in the rule's target unit (pint), the written unit kept.

A value is a number and a unit: `2.5 kg`, `1,5 kg` (de), `2 1/2 in`, `½ cup`, `100 °F`, or a
compound of them from the largest unit to the smallest, which is their sum: `5 ft 3 in`,
`1 lb 4 oz`, `5'3"` (feet and inches). The number is read like a number in the declared
locales; a fraction is exact. The unit is read by pint — the same registry the compile-time
check uses — but not every reading pint offers is taken, because some of them are guesses:

- a prefix name with a unit symbol (`kilos` is kilo-s, a kilosecond, to pint) is rejected;
  so is a word pint can split two ways with a prefix each (unprefixed readings win, as in
  pint: `min` is a minute);
- two unit words side by side (`fl oz`, which pint multiplies: femtolitre × ounce) are
  rejected; write `floz`, `fluid_ounce`, or an operator (`N*m`);
- a unit of another dimension than the target (`3 m` for a weight) is rejected, and so is a
  compound of two dimensions (`5 ft 3 kg`), of offset units (`°C`), or not from the largest
  unit to the smallest (`3 in 5 ft`, `5 ft 3 ft`: two values run together, more likely than
  an odd way to write one).

Conversion is exact for multiplicative units (the factor pint gives, kept to 15 significant
digits, times the exact value); offset units (°C, °F) convert through pint. Results keep 15
significant digits.
"""
from __future__ import annotations

import re
from decimal import Decimal, localcontext
from fractions import Fraction
from functools import cache
from typing import Any, Iterable

from dsc.locale.numbers import read_decimal
from dsc.locale.result import OptionError, Quantity, Result, ok, rejected
from dsc.locale.text import prepare
from dsc.locale.units import parse_unit, registry, suggest_unit

DIGITS = 15
_VULGAR = {"½": (1, 2), "⅓": (1, 3), "⅔": (2, 3), "¼": (1, 4), "¾": (3, 4), "⅕": (1, 5), "⅖": (2, 5),
           "⅗": (3, 5), "⅘": (4, 5), "⅙": (1, 6), "⅚": (5, 6), "⅛": (1, 8), "⅜": (3, 8), "⅝": (5, 8),
           "⅞": (7, 8)}
_FRACTION = re.compile(rf"(?:(\d+)\s+)?(\d+)\s*/\s*(\d+)(?!\d)|(?:(\d+)\s*)?([{''.join(_VULGAR)}])")
# The number: digits and the separators between them, with a sign; the unit is what follows.
_SPLIT = re.compile(r"([+\-\u2212]?\s*[\d.,'\u2019\u00a0\u202f ]*\d(?:[eE][+-]?\d+)?)\s*(.*)\Z", re.S)
_TOKENS = re.compile(r"[^\W\d_]+|°[^\W\d_]*|[µμ][^\W\d_]*")
# A compound: the first unit, then (after a space) the next number and what follows it.
_NEXT = re.compile(rf"(\S.*?)\s+([\d{''.join(_VULGAR)}].*)\Z", re.S)
# Feet and inches written with primes: 5'3", 5′ 3″, 5' (the whole value, nothing else).
_PRIMES = re.compile(r"(\d+(?:[.,]\d+)?)\s*['\u2032](?:\s*(\d+(?:[.,]\d+)?)\s*[\"\u2033])?\Z")
_OPERATOR_WORDS = frozenset({"per", "square", "sq", "cubic", "cu"})


def parse_quantity(value: Any, target: str, locales: Iterable[str] = ()) -> Result:
    """Standardise one measurement into `target`; the value is a `Quantity`.

    >>> str(parse_quantity("2 1/2 in", "cm").value), str(parse_quantity("1,5 kg", "g", ["de"]).value)
    ('6.35 cm', '1500 g')
    >>> parse_quantity("3 m", "kg").reason
    'a length (meter) cannot be converted to kilogram, a mass'
    >>> print(parse_quantity("5 kilos", "kg").reason)
    unit 'kilos' mixes a prefix name with a unit symbol (pint reads it as kilosecond)
    >>> str(parse_quantity("5 ft 3 in", "cm").value), parse_quantity("5′3″", "cm").value.original
    ('160.02 cm', 'foot + inch')
    """
    if value is None:
        return ok(None)
    goal = parse_unit(target)
    if goal is None or goal.dimensionless:
        raise OptionError(f"'{target}' is not a unit with a dimension")  # DSC206 at compile time
    text = prepare(value, "a measurement")
    if isinstance(text, Result):
        return text
    primes = _PRIMES.match(text)
    if primes:
        text = f"{primes.group(1)} ft" + (f" {primes.group(2)} in" if primes.group(2) else "")
    terms = _terms(text, tuple(locales), target)
    if not terms.ok:
        return terms
    return _compound(terms.value) or _convert(terms.value, goal, target)


def _terms(text: str, locales: tuple[str, ...], target: str) -> Result:
    """[(exact magnitude, pint unit)]: one, or one per part of a compound (`5 ft 3 in`)."""
    number = _number(text, locales)
    if not number.ok:
        return number
    magnitude, unit_text = number.value
    if not unit_text:
        return rejected(f"no unit: write the unit after the number (e.g. {target})")
    unit = _unit(unit_text)
    nxt = None if unit.ok else _NEXT.match(unit_text)
    if nxt is None:
        return ok([(magnitude, unit.value)]) if unit.ok else unit
    head = _unit(nxt.group(1))
    if not head.ok:
        return head
    rest = _terms(nxt.group(2), locales, target)
    if not rest.ok:
        return rest
    sign = -1 if magnitude < 0 else 1  # -5 ft 3 in is -(5 ft 3 in)
    return ok([(magnitude, head.value), *((sign * m, u) for m, u in rest.value)])


def _compound(terms: list) -> Result | None:
    """Why the parts of a compound do not add up to one measurement, or None."""
    units = [u for _, u in terms]
    for unit in units[1:]:
        if unit.dimensionality != units[0].dimensionality:
            return rejected(f"a compound of {_dimension(units[0])} ({units[0]}) and {_dimension(unit)} ({unit}): "
                            "its parts must measure one thing")
    if len(units) > 1 and any(_factor(u, units[0]) is None for u in units):
        return rejected(f"a compound of {', '.join(map(str, units))}: offset units (°C, °F) do not add up")
    for bigger, smaller in zip(units, units[1:]):
        if _factor(smaller, bigger) >= 1:
            return rejected(f"a compound goes from the largest unit to the smallest, not {bigger} then {smaller}")
    return None


def _number(text: str, locales: tuple[str, ...]) -> Result:
    """(exact magnitude, the unit text after it)."""
    fraction = _FRACTION.match(text)
    if fraction:
        whole = int(fraction.group(1) or fraction.group(4) or 0)
        num, den = (int(fraction.group(2)), int(fraction.group(3))) if fraction.group(2) else \
            _VULGAR[fraction.group(5)]
        if den == 0:
            return rejected("a fraction over zero")
        return ok((Fraction(whole) + Fraction(num, den), text[fraction.end():].strip()))
    split = _SPLIT.match(text)
    if split is None:
        return rejected("no number: a measurement is a number and a unit")
    amount = read_decimal(split.group(1).strip(), locales)
    if not amount.ok:
        return amount
    return ok((Fraction(amount.value), split.group(2).strip()))


@cache
def _unit(text: str) -> Result:
    """The pint unit of `text`, or why it is not taken (cached: a column has few units)."""
    unit = parse_unit(text)
    if unit is None:
        hint = suggest_unit(text)
        return rejected(f"unknown unit {text!r}" + (f" ({hint})" if hint else ""))
    tokens = [(m.group(), m.start(), m.end()) for m in _TOKENS.finditer(text)]
    for (word, _, end), (nxt, start, _) in zip(tokens, tokens[1:]):
        between = text[end:start]
        if not between.strip() and word.lower() not in _OPERATOR_WORDS and nxt.lower() not in _OPERATOR_WORDS:
            return rejected(f"unit {text!r} puts two units side by side ({word} {nxt}); pint would multiply "
                            f"them: write one unit name (e.g. fluid_ounce) or an operator")
    for word, _, _ in tokens:
        if word.lower() in _OPERATOR_WORDS:
            continue
        problem = _prefix_problem(word)
        if problem:
            return rejected(problem)
    if unit.dimensionless:
        return rejected(f"{text!r} has no dimension, so it is not a unit of measurement")
    return ok(unit)


def _prefix_problem(word: str) -> str | None:
    """Why pint's reading of one unit word is a guess, or None when it is not."""
    reg = registry()
    try:
        readings = reg.parse_unit_name(word)
    except Exception:  # noqa: BLE001 — pint raises assorted errors on odd names
        return None
    consistent = [r for r in readings if _consistent(word, *r)]
    plain = [r for r in consistent if not r[0]]
    if plain or len(consistent) == 1:
        return None
    if not consistent and readings:
        prefix, name, _ = readings[0]
        return (f"unit {word!r} mixes a prefix name with a unit symbol (pint reads it as {prefix}{name})"
                if prefix else None)
    names = ", ".join(f"{p}{n}" for p, n, _ in consistent)
    return f"unit {word!r} has several readings ({names})" if consistent else None


def _consistent(word: str, prefix: str, name: str, suffix: str) -> bool:
    """A prefix and a unit both written as names (`kilogram`) or both as symbols (`kg`);
    pint's aliases count as either (`μ` and `u` are aliases of the prefix `µ`)."""
    if not prefix:
        return True
    reg = registry()
    pdef, udef = reg._prefixes[prefix], reg._units[name]  # pint lists definitions only privately
    rest = word[:len(word) - len(suffix)] if suffix else word
    names = ({pdef.name, *pdef.aliases}, {udef.name, udef.name + "s", *udef.aliases})
    symbols = ({pdef.symbol, *pdef.aliases}, {udef.symbol, *udef.aliases})
    return any(rest == head + tail for heads, tails in (names, symbols) for head in heads if head
               for tail in tails if tail)


@cache
def _factor(unit, goal) -> Decimal | None:
    """How many `goal` one `unit` is, or None for offset units (°C, °F) that do not scale."""
    one = registry().Quantity(1, unit)
    if not (one._is_multiplicative and registry().Quantity(1, goal)._is_multiplicative):  # pint: only privately
        return None
    return _rounded(Decimal(repr(float(one.to(goal).magnitude))))


def _convert(terms: list, goal, target: str) -> Result:
    """The sum of the terms in `goal`; a term in an offset unit (°C) is alone (`_compound`)."""
    for _, unit in terms:
        if unit.dimensionality != goal.dimensionality:
            return rejected(f"{_dimension(unit)} ({unit}) cannot be converted to {goal}, {_dimension(goal)}")
    value = Decimal(0)
    try:
        for magnitude, unit in terms:
            exact = Decimal(magnitude.numerator) / Decimal(magnitude.denominator)
            factor = _factor(unit, goal)
            if factor is None:
                value += Decimal(repr(float(registry().Quantity(float(exact), unit).to(goal).magnitude)))
            else:
                value += exact * factor
    except Exception as err:  # noqa: BLE001 — pint's conversion errors are many types; each is a reason
        return rejected(f"cannot convert {unit} to {goal}: {err}")
    return ok(Quantity(_plain_decimal(_rounded(value)), target, " + ".join(str(u) for _, u in terms)))


def _plain_decimal(value: Decimal) -> Decimal:
    """Without trailing zeros and without an exponent: 1.5E+3 is 1500."""
    value = value.normalize()
    return value.quantize(Decimal(1)) if value.as_tuple().exponent > 0 else value


def _rounded(value: Decimal) -> Decimal:
    with localcontext() as ctx:
        ctx.prec = DIGITS
        return +value


_DIMENSIONS = {"[mass]": "mass", "[length]": "length", "[time]": "time", "[temperature]": "temperature",
               "[length] ** 2": "area", "[length] ** 3": "volume", "[length] / [time]": "speed"}


def _dimension(unit) -> str:
    name = _DIMENSIONS.get(str(unit.dimensionality))
    if name is None:
        return f"a quantity of {unit.dimensionality}"
    return ("an " if name[0] in "aeiou" else "a ") + name
