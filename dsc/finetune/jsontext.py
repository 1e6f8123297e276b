"""JSON text for the fine-tuning outputs, with exact numbers.

Decimals are written as JSON numbers in their exact decimal text (`0.0002`, never
`0.00020000000000000001`), so a file a trainer reads with `json.load` is byte-identical on
every platform. Floats are refused: nothing in these outputs may depend on float printing.
"""
from __future__ import annotations

import json
from decimal import Decimal


def dumps(value, indent: int = 2) -> str:
    """`value` as JSON text with sorted keys and a final newline.

    >>> print(dumps({"lr": Decimal("2E-4"), "r": 8, "target": ["q_proj"], "bias": None}, indent=0), end="")
    {
    "bias": null,
    "lr": 0.0002,
    "r": 8,
    "target": [
    "q_proj"
    ]
    }
    """
    return _text(value, indent, 0) + "\n"


def _text(value, indent: int, depth: int) -> str:
    pad, inner = " " * indent * depth, " " * indent * (depth + 1)
    if isinstance(value, dict):
        if not value:
            return "{}"
        items = [f"{inner}{json.dumps(str(k), ensure_ascii=False)}: {_text(v, indent, depth + 1)}"
                 for k, v in sorted(value.items())]
        return "{\n" + ",\n".join(items) + "\n" + pad + "}"
    if isinstance(value, (list, tuple)):
        if not value:
            return "[]"
        return "[\n" + ",\n".join(inner + _text(v, indent, depth + 1) for v in value) + "\n" + pad + "]"
    if isinstance(value, Decimal):
        return _decimal(value)
    if isinstance(value, float):
        raise TypeError(f"float {value!r} in a fine-tuning output; use Decimal")
    return json.dumps(value, ensure_ascii=False)


def _decimal(value: Decimal) -> str:
    """A Decimal as a JSON number: integral values without a point, others in plain notation.

    >>> _decimal(Decimal("8")), _decimal(Decimal("0.050")), _decimal(Decimal("1E+3"))
    ('8', '0.05', '1000')
    """
    if value == 0:
        return "0"
    return format(value.normalize(), "f")
