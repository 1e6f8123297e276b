"""`normalize cols: steps` — Unicode and whitespace normalisation of text columns."""
from __future__ import annotations

from dsc import ast
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import RowOperator
from dsc.syntax.write import listing
from dsc.vocabulary import NORMALIZE_STEPS as STEPS


@operator
class Normalize(RowOperator, Operator):
    name = keyword = "normalize"
    effect = "changes values"
    node = ast.Normalize
    grammar = "normalize_stmt"

    class Params(Params):
        columns: list[str]
        steps: list[str]

    @classmethod
    def build(cls, b, tree, ch):
        return ast.Normalize(b.leaf(ch[0]), b.leaf(ch[1]), span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return f"normalize {listing(n.columns)}: {listing(n.steps)}"

    @classmethod
    def compile(cls, rule, env):
        steps = {s.value for s in rule.steps}
        columns = ast.names(rule.columns)
        return {"columns": columns, "steps": [s for s in STEPS if s in steps]}, ",".join(columns)

    @classmethod
    def describe(cls, p):
        return f"normalise {cols(p['columns'])}: {', '.join(p['steps'])}"

    @classmethod
    def pool(cls, params):
        # Arrow compute and compiled kernels, except ftfy's repairs (Python)
        return "processes" if "fix_text" in params["steps"] else "threads"

    @classmethod
    def transform(cls, table, params, ctx):
        from dsc.kernels.text import normalize
        from dsc.ops.runtime import text_column

        for name in params["columns"]:
            index = table.column_names.index(name)
            table = table.set_column(index, name, normalize(text_column(table, name), params["steps"]))
        return table
