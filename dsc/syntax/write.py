"""Values back to spec text: the pieces `dsc fmt` and every operator's `fmt` print with.

>>> from decimal import Decimal
>>> from dsc import ast
>>> words("keep", ast.Name("first"), None, ast.Num(Decimal("0.8")), ast.Str('a"b'))
'keep first 0.8 "a\\\\"b"'
"""
from __future__ import annotations

from dsc import ast

_ESCAPES = str.maketrans({"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"})


def value(v: ast.Value) -> str:
    """A name, a string re-escaped, a number from its Decimal (`20%` stays `20%`)."""
    if isinstance(v, ast.Str):
        return f'"{v.value.translate(_ESCAPES)}"'
    if isinstance(v, ast.Num):
        return str(v.value).replace("E", "e") + ("%" if v.percent else "")
    return v.value


def listing(values) -> str:
    """Values joined by `, `."""
    return ", ".join(value(v) for v in values)


def words(*parts) -> str:
    """Join the parts that are present with single spaces; nodes are printed as values."""
    return " ".join(p if isinstance(p, str) else value(p) for p in parts if p is not None and p != "")


def opt(word: str, v) -> str | None:
    """`word v`, or None when `v` is None (an option that is not set)."""
    return None if v is None else words(word, v)
