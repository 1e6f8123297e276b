"""`drop where PREDICATE` — remove rows matching a declarative predicate.

`words(COL)` and `chars(COL)` measure text by itself; `tokens(COL)` counts it with the `finetune`
block's base tokenizer, which the plan names (`tokenizer`: the base as the spec writes it,
relative to the spec's folder, and the sha256 of its tokenizer files), so the plan changes when
the tokenizer does and a run refuses files that are no longer those.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import model_serializer

from dsc import ast
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.base import Operator, Params, operator
from dsc.ops.runtime import RowOperator, RunError, text_column
from dsc.syntax.write import listing, words

_FLIP = {"<": ">", "<=": ">=", ">": "<", ">=": "<=", "==": "!=", "!=": "=="}


@operator
class Drop(RowOperator, Operator):
    name = keyword = "drop"
    effect = "drops rows"
    node = ast.Drop
    grammar = "drop_stmt"
    reads = ("column",)

    class Params(Params):
        kind: Literal["measure", "test", "matches", "in"]
        column: str
        func: str | None = None
        op: str | None = None
        value: Decimal | None = None
        pattern: str | None = None
        values: list[str] | None = None
        negate: bool = False
        # tokens(): what it counts with, {"base": REF, "fingerprint": "sha256:…"} (the fingerprint is
        # null for a spec compiled without its folder). Left out of the plan for every other rule,
        # so they keep the fingerprints they had before tokens() existed.
        tokenizer: dict[str, str | None] | None = None

        @model_serializer(mode="wrap")
        def _leave_out_unset(self, handler):
            data = handler(self)
            if self.tokenizer is None:
                data.pop("tokenizer", None)
            return data

    @classmethod
    def build(cls, b, tree, ch):
        negations = sum(1 for c in ch if getattr(c, "type", None) == "NOT")
        return ast.Drop(_predicate(b, ch[-1]), negations, span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        p = n.predicate
        if isinstance(p, (ast.MeasurePred, ast.TestPred)):
            text = words(f"{p.func.value}({p.column.value})", getattr(p, "op", None), getattr(p, "value", None))
        elif isinstance(p, ast.MatchesPred):
            text = words(p.column, "matches", p.pattern)
        else:
            text = words(p.column, "not" if p.negated else None, f"in {{{listing(p.values)}}}")
        return words("drop where", *["not"] * n.negations, text)

    @classmethod
    def compile(cls, rule, env):
        pred, negate = rule.predicate, rule.negations % 2 == 1
        common = {"column": pred.column.value, "negate": negate}
        if isinstance(pred, ast.MeasurePred):
            params = {"kind": "measure", "func": pred.func.value, "op": pred.op.value, "value": pred.value.value}
            if pred.func.value == "tokens":
                # The compiler's env knows the finetune block's base and its files (dsc.compiler).
                params["tokenizer"] = getattr(env, "tokenizer", None)
        elif isinstance(pred, ast.TestPred):
            params = {"kind": "test", "func": pred.func.value}
        elif isinstance(pred, ast.MatchesPred):
            params = {"kind": "matches", "pattern": pred.pattern.value}
        else:
            params = {"kind": "in", "values": sorted(str(ast.plain(v)) for v in pred.values),
                      "negate": negate != pred.negated}
        return {**common, **params}, pred.column.value

    @classmethod
    def describe(cls, p):
        tokenizer = p.get("tokenizer")
        counted = ""
        if tokenizer:
            pinned = f", files {tokenizer['fingerprint'][:19]}" if tokenizer.get("fingerprint") else ""
            counted = f" (counted with the tokenizer of {tokenizer['base']}{pinned})"
        return f"drop rows where {_text(p)}{counted}"

    @classmethod
    def transform(cls, table, params, ctx):
        import pyarrow.compute as pc

        hit = _matches(table, params, ctx)
        if params.get("negate"):
            hit = pc.invert(hit)
        mask = pc.fill_null(hit, False).to_numpy(zero_copy_only=False)
        return mask, f"drop where {_text(params)}"

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


def _text(p) -> str:
    """The predicate as the spec writes it, `not` first when the plan negates it."""
    kind, col = p["kind"], p["column"]
    if kind == "measure":
        text = f"{p['func']}({col}) {p['op']} {p['value']}"
    elif kind == "test":
        text = f"{p['func']}({col})"
    elif kind == "matches":
        text = f"{col} matches {p['pattern']!r}"
    else:
        text = f"{col} in {{{', '.join(p['values'])}}}"
    return f"{'not ' if p.get('negate') else ''}{text}"


def _predicate(b, tree) -> ast.Predicate:
    """The predicate node of a `measure_pred`, `test_pred`, `matches_pred` or `in_pred` tree."""
    ch, span = tree.children, b.span(tree)
    if tree.data == "measure_pred":
        return ast.MeasurePred(*b.leaves(ch), span=span)
    if tree.data == "test_pred":
        return ast.TestPred(*b.leaves(ch), span=span)
    if tree.data == "matches_pred":
        return ast.MatchesPred(*b.leaves(ch), span=span)
    return ast.InPred(b.leaf(ch[0]), b.leaf(ch[2]), ch[1] is not None, span=span)


_COMPARE = {"<": "less", "<=": "less_equal", ">": "greater", ">=": "greater_equal", "==": "equal",
            "!=": "not_equal"}


def _matches(table, params, ctx=None):
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
        if params["func"] == "words":  # as str.split counts: Arrow gives '' for "" and around whitespace
            trimmed = pc.utf8_trim_whitespace(text)
            size = pc.if_else(pc.equal(pc.utf8_length(trimmed), 0), 0,
                              pc.list_value_length(pc.utf8_split_whitespace(trimmed)))
        elif params["func"] == "tokens":
            size = pa.array(_tokens(text, params, ctx), type=pa.int64())
        else:
            size = pc.utf8_length(text)
        value = params["value"]
        bound = pa.scalar(int(value) if value == int(value) else float(value))
        return getattr(pc, _COMPARE[params["op"]])(size, bound)
    if kind == "matches":
        # pyarrow's regex engine is RE2: linear time, and the pattern's size is bounded (also for a plan
        # that skipped the checks), so no pattern can hang a run.
        from dsc.kernels.regex import pattern_problem

        problem = pattern_problem(params["pattern"])
        if problem:
            raise RunError(f"pattern {params['pattern']!r} cannot run: {problem}", exit_code=EXIT_SPEC_ERROR,
                           code="DSC310")
        return pc.match_substring_regex(text, params["pattern"])
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return pc.is_in(column, value_set=_numbers(params["values"], column.type))  # `1.0`, `1e0`, `1` alike
    return pc.is_in(text, value_set=pa.array(params["values"], type=pa.string()))


def _tokens(text, params, ctx) -> list[int]:
    """Each row's tokens with the tokenizer the plan names, counted in batches (`text_tokens`); a
    tokenizer that cannot be used stops the run (DSC307, exit 4; DSC312 without transformers)."""
    from dsc.extras import missing

    tokenizer = params.get("tokenizer")
    if not tokenizer:
        raise RunError("tokens() names no tokenizer: the plan was compiled without a finetune block's base",
                       exit_code=EXIT_SPEC_ERROR, code="DSC310",
                       hint='compile the spec with: finetune METHOD { base "models/NAME" }')
    lacking = missing("tokens()")  # `dsc check` warned about it (DSC221); here it stops the run
    if lacking is not None:
        raise RunError(": ".join(lacking), code="DSC312")
    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.tokens import rule_tokenizer, text_tokens

    base_dir = ctx.base_dir if ctx is not None else Path(".")
    try:
        counter = rule_tokenizer(tokenizer["base"], base_dir, tokenizer.get("fingerprint"))
    except FinetuneError as err:
        raise RunError(f"tokens() cannot count: {err}", code=err.code if err.code.startswith("DSC3") else "DSC307",
                       hint=err.hint) from None
    return text_tokens(counter, text.to_pylist())


def _numbers(values: list[str], kind):
    """The values of an `in` set that are numbers, in the column's own type (`1.0`, `1e0` and `1` are
    one value; a fraction never equals an int; a value the type cannot hold matches nothing)."""
    import pyarrow as pa

    out = []
    for v in values:
        try:
            d = Decimal(v)
        except ArithmeticError:
            continue  # not a number: the type check reports it (DSC207); it matches nothing here
        if not d.is_finite() or (pa.types.is_integer(kind) and d != d.to_integral_value()):
            continue
        try:
            out.append(pa.array([int(d) if pa.types.is_integer(kind) else float(d)], type=kind))
        except (pa.ArrowInvalid, OverflowError):
            continue
    return pa.concat_arrays(out) if out else pa.array([], type=kind)
