"""`strip COLS suffix "text"` / `strip COLS prefix "text"` — remove a literal end or start.

The text is removed once, where the value ends (or starts) with it exactly, as Python's
`str.removesuffix` does: `strip completion suffix "<|endoftext|>"` takes the end-of-text marker
off every completion that carries it and leaves the others as they are. A null stays null.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from dsc import ast
from dsc.diagnostics import error
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import RowOperator, text_column
from dsc.syntax.write import listing, words


@dataclass(frozen=True)
class StripRule(ast.Node):
    """`strip col, col suffix|prefix "text"`."""

    columns: tuple[ast.Name, ...] = ast.column("strip", unique=True)
    side: ast.Name = ast.keyword("suffix", "prefix")
    text: ast.Str


@operator
class Strip(RowOperator, Operator):
    name = keyword = "strip"
    effect = "changes values"
    node = StripRule
    grammar = "strip_stmt"

    class Params(Params):
        columns: list[str]
        side: Literal["prefix", "suffix"]
        text: str

    @classmethod
    def build(cls, b, tree, ch):
        return StripRule(b.leaf(ch[0]), b.leaf(ch[1].children[0]), b.leaf(ch[2]), span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("strip", listing(n.columns), n.side, n.text)

    @classmethod
    def compile(cls, rule, env):
        columns = ast.names(rule.columns)
        return {"columns": columns, "side": rule.side.value, "text": rule.text.value}, ",".join(columns)

    @classmethod
    def check(cls, rule):
        if rule.text.value:
            return []
        return [error("DSC209", f"'strip … {rule.side.value}' needs some text to remove", rule.text.span,
                      f'e.g. strip completion {rule.side.value} "<|endoftext|>"')]

    @classmethod
    def describe(cls, p):
        return f"in {cols(p['columns'])}, remove the {p['side']} {p['text']!r} where present"

    @classmethod
    def transform(cls, table, params, ctx):
        import pyarrow.compute as pc

        text, n = params["text"], len(params["text"])
        for name in params["columns"]:
            column = text_column(table, name)
            if params["side"] == "suffix":
                has, rest = pc.ends_with(column, text), pc.utf8_slice_codeunits(column, 0, -n)
            else:
                has, rest = pc.starts_with(column, text), pc.utf8_slice_codeunits(column, n)
            table = table.set_column(table.column_names.index(name), name, pc.if_else(has, rest, column))
        return table
