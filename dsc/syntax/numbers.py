"""Number literals: read exactly, or refused from their text before any conversion.

A literal is read when it has at most `MAX_DIGITS` significant digits, at most `MAX_DIGITS`
digits before the point and at most `MAX_DIGITS` after it, its exponent counted in (`1e27` and
`1e-28` are the extremes). Those counts are taken from the text, so `1e999999999`, an exponent of
a thousand digits or a million-digit literal is refused in time linear in its length, without
ever being turned into a number. Every setting's own range (`dsc.checks.ranges.NUMBERS`) lies
inside these limits; within them every literal, and the fraction a percentage stands for, is
exact in the default decimal context (28 digits), prints in plain notation in a few dozen
characters, and converts to an int or a float at once.
"""
from __future__ import annotations

MAX_DIGITS = 28
# An exponent longer than this is out of range whatever the mantissa; shorter ones are read as ints.
_EXPONENT_CHARS = 9
LIMITS = (f"a number has at most {MAX_DIGITS} significant digits, and at most {MAX_DIGITS} digits before and "
          f"{MAX_DIGITS} after the point once its exponent is applied; each setting's own range is narrower")


def number_problem(text: str) -> str | None:
    """Why a NUMBER token cannot be read (`has more than 28 digits after the point`), or None.

    >>> number_problem("0.85"), number_problem("1e27"), number_problem("-1e-28"), number_problem("007")
    (None, None, None, None)
    >>> number_problem("1e28"), number_problem("1e" + "9" * 10**6)
    ('has more than 28 digits before the point', 'has more than 28 digits before the point')
    >>> number_problem("1e-400"), number_problem("1" * 29 + ".5")
    ('has more than 28 digits after the point', 'has more than 28 significant digits')
    """
    mantissa, _, exponent = text.lstrip("-").lower().partition("e")
    whole, _, places = mantissa.partition(".")
    digits = (whole + places).lstrip("0") or "0"
    power = exponent.lstrip("+-").lstrip("0")
    if len(digits) > MAX_DIGITS:
        return f"has more than {MAX_DIGITS} significant digits"
    if len(power) > _EXPONENT_CHARS:
        shift = -(10**_EXPONENT_CHARS) if exponent.startswith("-") else 10**_EXPONENT_CHARS
    else:
        shift = -int(power or 0) if exponent.startswith("-") else int(power or 0)
    last = shift - len(places)  # the power of ten of the last digit written
    if last + len(digits) > MAX_DIGITS:
        return f"has more than {MAX_DIGITS} digits before the point"
    if last < -MAX_DIGITS:
        return f"has more than {MAX_DIGITS} digits after the point"
    return None

