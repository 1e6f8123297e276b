"""`drop where PREDICATE` — remove rows matching a declarative predicate."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.base import Operator, Params, operator
from dsc.ops.runtime import RowOperator, RunError, text_column

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "!=", "!=": "=="}


@operator
class Drop(RowOperator, Operator):
    name = keyword = "drop"
    effect = "drops rows"

    class Params(Params):
        kind: Literal["measure", "test", "matches", "in"]
        column: str
        func: str | None = None
        op: str | None = None
        value: Decimal | None = None
        pattern: str | None = None
        values: list[str] | None = None
        negate: bool = False

    @classmethod
    def describe(cls, p):
        kind, col = p["kind"], p["column"]
        if kind == "measure":
            text = f"{p['func']}({col}) {p['op']} {p['value']}"
        elif kind == "test":
            text = f"{p['func']}({col})"
        elif kind == "matches":
            text = f"{col} matches {p['pattern']!r}"
        else:
            text = f"{col} in {{{', '.join(p['values'])}}}"
        return f"drop rows where {'not ' if p.get('negate') else ''}{text}"

    @classmethod
    def transform(cls, table, params, ctx):
        import pyarrow.compute as pc

        hit = _matches(table, params)
        if params.get("negate"):
            hit = pc.invert(hit)
        mask = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
        return mask, cls.describe(params).replace("drop rows where", "drop where", 1)

    @classmethod
    def strictness(cls, old, new):
        same = {k: v for k, v in old.items() if k not in ("value", "values")} == {
            k: v for k, v in new.items() if k not in ("value", "values")
        }
        if not same:
            return None
        if old["kind"] == "measure" and not old.get("negate"):
            a, b, op = Decimal(str(old["value"])), Decimal(str(new["value"])), old["op"]
            if a == b:
                return 0
            # `words(x) < 3` → `< 5` drops more rows; `> 3` → `> 5` drops fewer.
            grows = b > a if op in ("<", "<=") else (b < a if op in (">", ">=") else None)
            return None if grows is None else (1 if grows else -1)
        if old["kind"] == "in" and not old.get("negate"):
            a, b = set(old["values"]), set(new["values"])
            return 0 if a == b else 1 if a < b else -1 if b < a else None
        return None


_COMPARE = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal", "==": "equal",
            "!=": "not_equal"}


def _matches(table, params):
    """The predicate's value per row (nulls count as empty text, so they are never unknown)."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind, name = params["kind"], params["column"]
    column = table.column(name)
    if kind == "test" and params["func"] == "null":
        return pc.is_null(column)
    text = pc.fill_null(text_column(table, name), "")
    if kind == "test":  # empty(): null, "" or only whitespace
        return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0)
    if kind == "measure":
        if params["func"] == "words":
            size = pc.list_value_length(pc.utf8_split_whitespace(text))
        else:
            size = pc.utf8_length(text)
        value = params["value"]
        bound = pa.scalar(int(value) if value == int(value) else float(value))
        return getattr(pc, _COMPARE[params["op"]])(size, bound)
    if kind == "matches":
        # pyarrow's regex engine is RE2: linear time, and the pattern's size is bounded (also for a plan
        # that skipped the checks), so no pattern can hang a run.
        from dsc.checks.regex import pattern_problem

        problem = pattern_problem(params["pattern"])
        if problem:
            raise RunError(f"pattern {params['pattern']!r} cannot run: {problem}", exit_code=EXIT_SPEC_ERROR)
        return pc.match_substring_regex(text, params["pattern"])
    return pc.is_in(text, value_set=pa.array(params["values"], type=pa.string()))
