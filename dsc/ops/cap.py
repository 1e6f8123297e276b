"""`cap per COL N` — keep at most N rows for each value of a column (each label, each source, …).

Within each value's rows the N of lowest rank are kept, the rank being the seeded hash of the row
id that `sample` uses (with its own domain word: see dsc.ops.sample), ties broken by the row id and
then by where the row was read. So the rows kept depend only on the seed and on the rows of that
value — never on row order, workers or partitioning — and a larger N keeps every row a smaller one
keeps. A value with N rows or fewer keeps them all. A null is a value of its own (`label=null`).

The rows over the cap go to the rejects as "over the cap of N for COL=value". On Ray the rule is
keyed: rows are shuffled by the value, and each group is capped where it lands.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import TYPE_CHECKING

from dsc import ast
from dsc.diagnostics import error
from dsc.ops.base import Operator, Params, operator
from dsc.ops.runtime import Outcome, RunError, split_rows
from dsc.syntax.write import words
from dsc.ops.sample import MAX_ROWS

if TYPE_CHECKING:
    import pyarrow as pa


@dataclass(frozen=True)
class CapRule(ast.Node):
    """`cap per col N`."""

    column: ast.Name = ast.column()
    limit: ast.Num


@operator
class Cap(Operator):
    name = keyword = "cap"
    effect = "drops rows"
    node = CapRule
    grammar = "cap_stmt"
    distributed = "keyed"

    class Params(Params):
        columns: list[str]  # the one column capped (a list: the Ray engine's keyed stages read `columns`)
        limit: int

    @classmethod
    def build(cls, b, tree, ch):
        return CapRule(b.leaf(ch[0]), b.leaf(ch[1]), span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("cap", "per", n.column, n.limit)

    @classmethod
    def check(cls, rule):
        n = rule.limit
        if n.percent or n.value != n.value.to_integral_value() or not 1 <= n.value <= MAX_ROWS:
            return [error("DSC209", f"'cap per {rule.column.value}' needs a whole number of rows from 1 to "
                                    f"{MAX_ROWS:.0e}, not "
                                    f"{words(n)}", n.span, f"e.g. cap per {rule.column.value} 1000")]
        return []

    @classmethod
    def compile(cls, rule, env):
        return {"columns": [rule.column.value], "limit": int(rule.limit.value)}, rule.column.value

    @classmethod
    def describe(cls, p):
        return f"keep at most {p['limit']} rows per value of {p['columns'][0]}, chosen by seeded hash of the row id"

    @classmethod
    def strictness(cls, old, new):
        """A lower cap on the same column keeps a subset of what a higher one keeps."""
        if old["columns"] != new["columns"]:
            return None
        return (old["limit"] > new["limit"]) - (old["limit"] < new["limit"])

    @classmethod
    def apply(cls, table: pa.Table, params: dict, ctx) -> Outcome:
        import numpy as np
        import pyarrow as pa
        import pyarrow.compute as pc

        from dsc.ops.sample import rank_order, row_ranks

        [name] = params["columns"]
        limit = params["limit"]
        column = table.column(name)
        try:
            encoded = pc.dictionary_encode(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column,
                                           null_encoding="encode")
        except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
            raise RunError(f"'cap per {name}' groups rows by their value, and column '{name}' holds {column.type} "
                           "values, which cannot be grouped", code="DSC303",
                           hint="cap by a column of text, numbers, booleans or dates") from None
        groups = encoded.indices.to_numpy(zero_copy_only=False).astype(np.int64)
        drop = np.zeros(table.num_rows, dtype=bool)
        if table.num_rows:
            ranks = row_ranks(table, ctx.seed, b"dsc-cap\x00")
            order = rank_order(table, ranks, np.arange(table.num_rows), groups)
            sorted_groups = groups[order]
            starts = np.flatnonzero(np.concatenate(([True], sorted_groups[1:] != sorted_groups[:-1])))
            place = np.arange(order.size) - np.repeat(starts, np.diff(np.append(starts, order.size)))
            drop[order[place >= limit]] = True
        values = encoded.dictionary.to_pylist()
        reasons = [f"over the cap of {limit} for {name}={_shown(values[g])}" for g in groups[drop]]
        return split_rows(table, drop, reasons)


# The longest value a reason shows (a cap per a long text column would copy the text into every reject).
SHOWN = 80


def _shown(value) -> str:
    """A value as the reason shows it: text as is, anything else as JSON (null, true, 3), clipped.

    >>> _shown("billing"), _shown(None), _shown(3), _shown("x" * 100)[-3:]
    ('billing', 'null', '3', 'xx…')
    """
    if isinstance(value, str):
        text = value
    else:
        try:
            text = json.dumps(value)
        except TypeError:
            text = str(value)
    return text if len(text) <= SHOWN else text[:SHOWN] + "…"
