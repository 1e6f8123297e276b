"""`normalize cols: steps` — Unicode and whitespace normalisation of text columns."""
from __future__ import annotations

from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import RowOperator

STEPS = ("nfc", "nfkc", "strip_control", "collapse_whitespace", "strip", "casefold")


@operator
class Normalize(RowOperator, Operator):
    name = keyword = "normalize"
    effect = "changes values"

    class Params(Params):
        columns: list[str]
        steps: list[str]

    @classmethod
    def describe(cls, p):
        return f"normalise {cols(p['columns'])}: {', '.join(p['steps'])}"

    @classmethod
    def transform(cls, table, params, ctx):
        from dsc.kernels.text import normalize
        from dsc.ops.runtime import text_column

        for name in params["columns"]:
            index = table.column_names.index(name)
            table = table.set_column(index, name, normalize(text_column(table, name), params["steps"]))
        return table
