"""`standardize col as KIND …` — locale-aware standardisation; never guesses a value.

What a rule writes into its column, and beside it, per kind:

- date: ISO 8601 date text, `2019-01-10`;
- datetime: ISO 8601 text, `2014-11-25T22:17:00` (with its offset when one was written);
- number: the schema's type of the column, `int` (exactly: a value that is not a whole number is
  rejected) or `float`; undeclared, exact decimal text, `1099.98` (a column that is already int
  or float keeps its type);
- money: the amount as decimal text, and `col_currency` (ISO 4217) beside it; with a rate
  table also `col_currency_original`, the currency it was written in;
- quantity: the value in the target unit as decimal text, and `col_unit_original`, the unit
  it was written in (as pint names it);
- bool: true / false.

Decimals are text so that no value is rounded through binary floating point. A value that
cannot be read (`rejected`) or can be read two ways (`ambiguous`) follows `on_error`:
`reject` removes the row, with the reason, into the rejects; `flag` keeps the row with a
null in the column and writes row id, reason and the original value to flags.jsonl; `null`
keeps the row with a null and records nothing. A null stays null and is never an error.

Each distinct value of the column is read once (the column is dictionary-encoded), so a
column of repeated dates costs one parse per date, not per row.
"""
from __future__ import annotations

import math
from decimal import Decimal
from typing import TYPE_CHECKING, Any, Literal

from pydantic import model_serializer

from dsc import ast
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.base import Operator, Params, operator
from dsc.ops.runtime import RowOperator, RunError, split_rows
from dsc.reserved import ID
from dsc.syntax.write import listing, value, words

if TYPE_CHECKING:
    import numpy as np

_INT64 = (-(2**63), 2**63 - 1)


@operator
class Standardize(RowOperator, Operator):
    name = keyword = "standardize"
    effect = "changes values"
    node = ast.Standardize
    grammar = "standardize_stmt"
    reads = ("column",)  # a `target` is a currency or unit, not a column
    option_order = ("from", "locale", "order", "years", "base", "rates", "on_error")

    class Params(Params):
        column: str
        kind: Literal["date", "datetime", "number", "money", "quantity", "bool"]
        target: str | None = None
        locales: list[str] = []
        order: str | None = None
        base: str | None = None
        rates: dict[str, Decimal] = {}
        # The century window of two-digit years (first year, last year); None when the rule
        # sets none — then the field is left out of the plan, so rules without a window keep
        # the fingerprints they had before `years` was spec syntax.
        years: tuple[int, int] | None = None
        # The schema's type of a number's column, which the rule writes; None (left out of the
        # plan, as `years` is) when the schema does not declare the column.
        type: Literal["int", "float"] | None = None
        on_error: Literal["reject", "flag", "null"] = "reject"

        @model_serializer(mode="wrap")
        def _leave_out_unset(self, handler):
            data = handler(self)
            for key in ("years", "type"):
                if getattr(self, key) is None:
                    data.pop(key, None)
            return data

    @classmethod
    def build(cls, b, tree, ch):
        target = b.leaf(ch[2].children[0]) if ch[2] is not None else None
        options = tuple(_build_option(b, o) for o in ch[3:])
        return ast.Standardize(b.leaf(ch[0]), b.leaf(ch[1]), target, options, span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("standardize", n.column, "as", n.kind, n.target, *map(_fmt_option, n.options))

    @classmethod
    def compile(cls, rule, env):
        params: dict = {"column": rule.column.value, "kind": rule.kind.value,
                        "target": rule.target.value if rule.target else None}
        if rule.kind.value == "number" and rule.column.value in env.types:
            params["type"] = env.types[rule.column.value]  # int or float (DSC207): the rule writes it
        for opt in rule.options:
            if opt.key == "from":
                params["locales"] = [v.value for v in opt.values]
            elif opt.key == "locale":
                params["locales"] = [opt.values[0].value]
            elif opt.key == "rates":
                params["rates"] = {r.currency.value: r.value.value for r in opt.values}
            elif opt.key == "years":
                params["years"] = tuple(int(v.value) for v in opt.values)
            else:
                params[opt.key] = opt.values[0].value
        if not params.get("locales") and env.locale:
            params["locales"] = [env.locale]
        return params, rule.column.value

    @classmethod
    def describe(cls, p):
        bits = [f"standardise {p['column']} as {p['kind']}"]
        if p.get("type"):
            bits.append(f"into {p['type']}")
        if p.get("target"):
            bits.append(f"in {p['target']}")
        if p.get("locales"):
            bits.append(f"reading {', '.join(p['locales'])}")
        if p.get("order"):
            bits.append(f"order {p['order']}")
        if p.get("years"):
            bits.append("two-digit years in {}..{}".format(*p["years"]))
        if p.get("rates"):
            bits.append("with rates " + ", ".join(f"{k} {v}" for k, v in sorted(p["rates"].items())))
        bits.append(f"(unparseable values: {p.get('on_error', 'reject')})")
        return " ".join(bits)

    @classmethod
    def strictness(cls, old, new):
        """Rows are dropped only by `on_error reject`, and a century window reads two-digit
        years that are rejected without one: adding a window drops fewer rows, removing it
        more; another window reads the same values as other dates."""
        rest = lambda p: {k: v for k, v in p.items() if k not in ("on_error", "years")}  # noqa: E731
        if rest(old) != rest(new):
            return None
        a, b = old.get("on_error") == "reject", new.get("on_error") == "reject"
        if a != b:
            return 1 if b else -1
        if not a:
            return 0
        return (new.get("years") is None) - (old.get("years") is None)

    @classmethod
    def transform(cls, table, params, ctx):
        import numpy as np

        from dsc.locale import OptionError, standardize

        name, kind = params["column"], params["kind"]
        options = {"locales": tuple(params.get("locales") or ()), "order": params.get("order"),
                   "base": params.get("base"), "target": params.get("target"), "rates": params.get("rates") or None,
                   "years": params.get("years")}
        values, index = _distinct(table.column(name))
        try:
            results = [standardize(kind, value, **options) for value in values]
        except OptionError as err:
            raise RunError(f"rule standardize {name} as {kind}: {err}", exit_code=EXIT_SPEC_ERROR,
                               code=err.code) from None
        if params.get("type"):
            results = [_typed(r, params["type"], name) if r.ok else r for r in results]
        failed = np.array([not r.ok for r in results] + [False], dtype=bool)[index]  # index -1: a null row
        new = _write(table, name, kind, params, values, results, index)
        policy = params.get("on_error", "reject")
        reasons = [f"{name} as {kind}: {results[i].reason}" for i in index[failed]]
        if policy == "reject":
            return split_rows(table, failed, reasons, kept=new)
        flags = []
        if policy == "flag":
            ids = table.column(ID).to_pylist()
            flags = [{"row_id": ids[row], "reason": reason, "column": name, "value": _json_safe(values[index[row]])}
                     for row, reason in zip(np.flatnonzero(failed), reasons)]
        return split_rows(table, np.zeros(table.num_rows, dtype=bool), "", kept=new, flags=flags)


def _typed(result, type_: str, name: str):
    """A number read, as the schema's type of its column: an int exactly (a value that is not a
    whole number, or is beyond 64 bits, is rejected), or the float nearest to it (numbers have at
    most 60 digits: within a float's range)."""
    from dsc.locale.result import decimal_text, ok, rejected

    value = result.value
    if type_ == "float":
        return ok(float(value))
    if value != value.to_integral_value():
        return rejected(f"not a whole number ({decimal_text(value)}), and the schema declares {name} int")
    if not _INT64[0] <= value <= _INT64[1]:
        return rejected(f"{decimal_text(value)} is beyond the 64-bit range of the int column {name}")
    return ok(int(value))


def _json_safe(value: Any) -> Any:
    # flags.jsonl is JSON: a NaN or infinity is written as its name, not as a bare NaN token.
    return str(value) if isinstance(value, float) and not math.isfinite(value) else value


def _mask(mask: np.ndarray):
    import pyarrow as pa

    return pa.array(mask, type=pa.bool_())


def _distinct(column) -> tuple[list[Any], np.ndarray]:
    """The column's distinct non-null values and, per row, the position of its value (-1
    for a null), so that each distinct value is standardised once."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):  # a parquet file may hold the column encoded already
        array = array.dictionary_decode()
    if pa.types.is_null(array.type):
        return [], np.full(len(array), -1, dtype=np.int64)
    try:
        encoded = pc.dictionary_encode(array)
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid):
        # types Arrow cannot dictionary-encode (bool, nested): one entry per row
        values = array.to_pylist()
        index = np.array([-1 if v is None else i for i, v in enumerate(values)], dtype=np.int64)
        return values, index
    index = pc.fill_null(encoded.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)
    return encoded.dictionary.to_pylist(), index


def _write(table, name: str, kind: str, params: dict, values: list, results: list, index: np.ndarray):
    """`table` with the standardised column (nulls where a value failed) and its siblings."""
    import pyarrow as pa

    at = table.column_names.index(name)
    source_type = table.column(name).type
    columns = _outputs(kind, params, values, results, source_type)
    rows = pa.array(index, mask=index < 0)
    for offset, (suffix, type_, entries) in enumerate(columns):
        column = pa.array(entries, type=type_).take(rows) if entries else pa.nulls(len(index), type_)
        if suffix:
            sibling = name + suffix
            if sibling in table.column_names:
                raise RunError(f"standardize {name} as {kind} writes the column '{sibling}', which the data "
                               "already has; rename one of them", exit_code=EXIT_SPEC_ERROR, code="DSC310")
            table = table.add_column(at + offset, sibling, column)
        else:
            table = table.set_column(at, name, column)
    return table


def _outputs(kind: str, params: dict, values: list, results: list, source_type) -> list[tuple[str, Any, list]]:
    """(column suffix, Arrow type, one entry per distinct value) for each column a kind writes."""
    import pyarrow as pa

    from dsc.locale.result import decimal_text

    good = [r.value if r.ok else None for r in results]
    text = pa.string()
    if kind == "bool":
        return [("", pa.bool_(), good)]
    if kind == "number" and params.get("type"):
        return [("", pa.int64() if params["type"] == "int" else pa.float64(), good)]
    if kind == "number" and (pa.types.is_integer(source_type) or pa.types.is_floating(source_type)):
        return [("", source_type, [v if r.ok else None for v, r in zip(values, results)])]
    if kind == "money":
        out = [("", text, [decimal_text(m.amount) if m else None for m in good]),
               ("_currency", text, [m.currency if m else None for m in good])]
        if params.get("rates"):
            out.append(("_currency_original", text, [m.source if m else None for m in good]))
        return out
    if kind == "quantity":
        return [("", text, [decimal_text(q.value) if q else None for q in good]),
                ("_unit_original", text, [q.original if q else None for q in good])]
    return [("", text, [r.text if r.ok else None for r in results])]


def _build_option(b, opt) -> ast.StdOption:
    key = opt.data.removeprefix("std_")
    if key == "from":
        values = b.leaf(opt.children[0])
    elif key == "rates":
        values = tuple(ast.Rate(b.leaf(r.children[0]), b.leaf(r.children[1]), span=b.span(r)) for r in opt.children)
    else:
        values = tuple(b.leaf(c) for c in opt.children)  # years: the first and last year
    return ast.StdOption(key, values, span=b.span(opt))


def _fmt_option(n: ast.StdOption) -> str:
    if n.key == "from":
        return f"from [{listing(n.values)}]"
    if n.key == "rates":
        return "rates {" + ", ".join(words(r.currency, r.value) for r in n.values) + "}"
    if n.key == "years":
        return "years " + "..".join(map(value, n.values))
    return words(n.key, *n.values)
