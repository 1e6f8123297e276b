"""What a standardiser returns: a value, or why there is none.

Every reader in `dsc.locale` answers with a `Result` instead of raising: bad data is a
reason, never a traceback. `status` is `ok` (the value, or None for a null input),
`rejected` (the text is not a value of the kind) or `ambiguous` (it is, but could be two
different values and the spec does not say which).
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Any, Literal

from dsc.errors import DscError
from dsc.exitcodes import EXIT_SPEC_ERROR

Status = Literal["ok", "rejected", "ambiguous"]


class OptionError(DscError, ValueError):
    """A rule option no value can be read with (an unknown locale, a base that is not a
    date): the spec's mistake, not the data's."""

    default_code = "DSC310"
    default_exit_code = EXIT_SPEC_ERROR


@dataclass(frozen=True)
class Money:
    """An amount in an ISO 4217 currency; `source` is the currency it was written in when a
    rate table converted it (else the same as `currency`)."""

    amount: Decimal
    currency: str
    source: str

    def __str__(self) -> str:
        return f"{decimal_text(self.amount)} {self.currency}"


@dataclass(frozen=True)
class Quantity:
    """A measurement in the rule's target unit; `original` is the unit it was written in,
    as pint names it."""

    value: Decimal
    unit: str
    original: str

    def __str__(self) -> str:
        return f"{decimal_text(self.value)} {self.unit}"


@dataclass(frozen=True)
class Result:
    """The outcome of standardising one value."""

    status: Status
    value: Any = None
    reason: str | None = None

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def text(self) -> str | None:
        """The value in dsc's canonical, locale-neutral form (None when there is no value).

        >>> Result("ok", dt.date(2019, 1, 10)).text, Result("ok", Decimal("1099.50")).text
        ('2019-01-10', '1099.50')
        >>> Result("ok", True).text, Result("rejected", reason="empty value").text
        ('true', None)
        """
        return canonical(self.value)

    def as_json(self, given: Any) -> dict[str, Any]:
        """The object `dsc standardize --json` prints: input, value, status, reason."""
        value = self.value if isinstance(self.value, bool) else self.text
        return {"input": given, "value": value, "status": self.status, "reason": self.reason}


def ok(value: Any) -> Result:
    return Result("ok", value)


def rejected(reason: str) -> Result:
    return Result("rejected", None, reason)


def ambiguous(reason: str) -> Result:
    return Result("ambiguous", None, "ambiguous: " + reason)


def decimal_text(value: Decimal) -> str:
    """A decimal in plain notation, never with an exponent; negative zero is zero.

    >>> decimal_text(Decimal("1E+3")), decimal_text(Decimal("-0.0")), decimal_text(Decimal("12.50"))
    ('1000', '0.0', '12.50')
    """
    if value.is_zero():
        value = abs(value)
    return format(value, "f")


def canonical(value: Any) -> str | None:
    if value is None:
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return decimal_text(value)
    return str(value)
