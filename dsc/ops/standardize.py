"""`standardize col as KIND …` — locale-aware standardisation; never guesses a value."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from dsc.ops.base import Operator, Params, operator


@operator
class Standardize(Operator):
    name = keyword = "standardize"
    effect = "changes values"

    class Params(Params):
        column: str
        kind: Literal["date", "datetime", "number", "money", "quantity", "bool"]
        target: str | None = None
        locales: list[str] = []
        order: str | None = None
        base: str | None = None
        rates: dict[str, Decimal] = {}
        on_error: Literal["reject", "flag", "null"] = "reject"

    @classmethod
    def describe(cls, p):
        bits = [f"standardise {p['column']} as {p['kind']}"]
        if p.get("target"):
            bits.append(f"in {p['target']}")
        if p.get("locales"):
            bits.append(f"reading {', '.join(p['locales'])}")
        if p.get("order"):
            bits.append(f"order {p['order']}")
        if p.get("rates"):
            bits.append("with rates " + ", ".join(f"{k} {v}" for k, v in sorted(p["rates"].items())))
        bits.append(f"(unparseable values: {p.get('on_error', 'reject')})")
        return " ".join(bits)

    @classmethod
    def strictness(cls, old, new):
        rest = lambda p: {k: v for k, v in p.items() if k != "on_error"}  # noqa: E731
        if rest(old) != rest(new):
            return None
        a, b = old.get("on_error") == "reject", new.get("on_error") == "reject"
        return 0 if a == b else 1 if b else -1
