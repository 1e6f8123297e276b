"""The one jinja2 environment user templates render in (export templates, prompt templates).

It is jinja2's immutable sandbox, plus two limits: `*` and `**` cannot build a huge string,
list or number (a template must not exhaust memory or CPU), and a template may print data only —
printing a function, class or other Python object is an error rather than a leaked repr.
"""
from __future__ import annotations

from datetime import date
from decimal import Decimal

from jinja2 import Undefined
from jinja2.exceptions import SecurityError
from jinja2.sandbox import ImmutableSandboxedEnvironment

MAX_REPEAT = 10_000_000  # characters or items a `*` may produce
MAX_POWER_BITS = 65_536  # bits an integer `**` may produce
_DATA = (str, int, float, bool, Decimal, date, list, tuple, dict)


class DataSandbox(ImmutableSandboxedEnvironment):
    """The immutable sandbox with bounded `*` / `**`; see the module docstring.

    >>> DataSandbox().from_string("{{ 2 ** 10 }} {{ 'ab' * 3 }}").render()
    '1024 ababab'
    >>> DataSandbox().from_string("{{ 'a' * 10 ** 10 }}").render()
    Traceback (most recent call last):
    jinja2.exceptions.SecurityError: the repeated text or list is too long
    """

    intercepted_binops = frozenset({"*", "**"})

    def __init__(self, *, none_as: str | None = None, **options):
        # `none_as`: what a None prints as ("" for exports); None keeps jinja's own "None".
        super().__init__(finalize=lambda value: self._data_only(value, none_as), **options)

    def call_binop(self, context, operator, left, right):
        if operator == "**" and isinstance(left, int) and isinstance(right, int) and abs(left) > 1 \
                and right * abs(left).bit_length() > MAX_POWER_BITS:
            raise SecurityError("the power is too large")
        if operator == "*":
            for seq, n in ((left, right), (right, left)):
                if isinstance(seq, (str, list, tuple)) and isinstance(n, int) and len(seq) * n > MAX_REPEAT:
                    raise SecurityError("the repeated text or list is too long")
        return super().call_binop(context, operator, left, right)

    @staticmethod
    def _data_only(value, none_as):
        if value is None:
            return none_as if none_as is not None else value
        if isinstance(value, _DATA + (Undefined,)):  # an Undefined raises its own, clearer error
            return value
        raise SecurityError(f"a template may print data only, not a {type(value).__name__}")
