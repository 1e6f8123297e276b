"""`drop where PREDICATE` — remove rows matching a declarative predicate.

Measures (`NAME(COL) CMP N`) dispatch through one table, `MEASURES`: `words(COL)`, `chars(COL)` and
the heuristic quality measures of `dsc.kernels.quality` (alpha_ratio, mean_word_length, …; see
docs/quality.md) measure text by itself; `tokens(COL)` counts it with the `finetune` block's base
tokenizer, which the plan names (`tokenizer`: the base as the spec writes it, relative to the
spec's folder, and the sha256 of its tokenizer files), so the plan changes when the tokenizer does
and a run refuses files that are no longer those. A row a quality measure removes carries the
measured value in its reason.

`lang(COL) [not] in {en, und} [confidence >= P]` compares the detected language
(`dsc.kernels.lang`): `und` for a text too short to judge or judged below the confidence.
"""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Literal

from pydantic import model_serializer

from dsc import ast
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.base import Operator, Params, operator
from dsc.kernels.quality import MEASURES as TEXT_MEASURES
from dsc.kernels.quality import Measure
from dsc.ops.runtime import RowOperator, RunError, split_rows, text_column
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
        kind: Literal["measure", "test", "matches", "in", "lang"]
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
        # lang(): the least confidence a detected language needs (0: any). Left out of the plan
        # for every other rule, as tokenizer is.
        confidence: Decimal | None = None
        # has_pii(): the region national phone numbers are read in (the dataset locale's territory,
        # as `redact` reads them; null: only international +numbers). Left out for every other rule.
        region: str | None = None

        @model_serializer(mode="wrap")
        def _leave_out_unset(self, handler):
            data = handler(self)
            if self.func == "has_pii":
                return data  # its region is part of its meaning, null included
            for key in ("tokenizer", "confidence", "region"):
                if getattr(self, key) is None:
                    data.pop(key, None)
            return data

    @classmethod
    def build(cls, b, tree, ch):
        negations = sum(1 for c in ch if getattr(c, "type", None) == "NOT")
        return ast.Drop(_predicate(b, ch[-1]), negations, span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        p = n.predicate
        if isinstance(p, ast.LangPred):
            text = words(f"{p.func.value}({p.column.value})", "not" if p.negated else None,
                         f"in {{{listing(p.values)}}}", p.option, p.op, p.confidence)
        elif isinstance(p, (ast.MeasurePred, ast.TestPred)):
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
            params = {"kind": "measure", "func": pred.func.value, "op": pred.op.value, "value": _canonical(pred.value)}
            if pred.func.value == "tokens":
                # The compiler's env knows the finetune block's base and its files (dsc.compiler).
                params["tokenizer"] = getattr(env, "tokenizer", None)
        elif isinstance(pred, ast.TestPred):
            params = {"kind": "test", "func": pred.func.value}
            if pred.func.value == "has_pii":
                from dsc.kernels.pii import region_of

                params["region"] = region_of(env.locale)
        elif isinstance(pred, ast.MatchesPred):
            params = {"kind": "matches", "pattern": pred.pattern.value}
        elif isinstance(pred, ast.LangPred):
            # One spelling per meaning: a set (sorted, once each), and no confidence is confidence 0.
            confidence = _canonical(pred.confidence) if pred.confidence is not None else Decimal(0)
            params = {"kind": "lang", "values": sorted({str(ast.plain(v)) for v in pred.values}),
                      "negate": negate != pred.negated, "confidence": confidence}
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
    def pool(cls, params):
        # Python per row: language detection, PII matching and tokenizers; the rest is Arrow compute
        # and compiled kernels
        python = params["kind"] == "lang" or params.get("func") in ("has_pii", "tokens")
        return "processes" if python else "threads"

    @classmethod
    def transform(cls, table, params, ctx):
        import numpy as np
        import pyarrow.compute as pc

        hit, shown = _matches(table, params, ctx)
        if params.get("negate"):
            hit = pc.invert(hit)
        mask = np.asarray(pc.fill_null(hit, False).to_numpy(zero_copy_only=False), dtype=bool)
        reason = f"drop where {_text(params)}"
        if shown is None:
            return mask, reason
        # The rule and, per removed row, what it measured (a quality value, a detected language).
        reasons = [f"{reason} ({v})" for v in shown(mask)]
        return split_rows(table, mask, reasons)

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
        if old["kind"] in ("in", "lang") and not old.get("negate"):
            a, b = set(old["values"]), set(new["values"])
            return 0 if a == b else 1 if a < b else -1 if b < a else None
        return None


def _canonical(num: ast.Num) -> Decimal:
    """A threshold as the plan holds it, one spelling per value: a percentage as its fraction, no
    trailing zeros (`60%`, `0.6` and `0.60` are one plan).

    >>> [str(_canonical(ast.Num(Decimal(t), percent=p))) for t, p in (("60", True), ("0.60", False), ("20", False))]
    ['0.6', '0.6', '20']
    """
    return Decimal(format(ast.plain(num).normalize(), "f"))


def _text(p) -> str:
    """The predicate as the spec writes it, `not` first when the plan negates it."""
    kind, col = p["kind"], p["column"]
    if kind == "measure":
        text = f"{p['func']}({col}) {p['op']} {p['value']}"
    elif kind == "test":
        text = f"{p['func']}({col})"
    elif kind == "matches":
        text = f"{col} matches {p['pattern']!r}"
    elif kind == "lang":
        floor = p.get("confidence") or 0
        text = f"lang({col}) in {{{', '.join(p['values'])}}}" + (f" confidence >= {floor}" if floor else "")
    else:
        text = f"{col} in {{{', '.join(p['values'])}}}"
    return f"{'not ' if p.get('negate') else ''}{text}"


def _predicate(b, tree) -> ast.Predicate:
    """The predicate node of a `measure_pred`, `test_pred`, `matches_pred`, `in_pred` or `lang_pred` tree."""
    ch, span = tree.children, b.span(tree)
    if tree.data == "lang_pred":
        func, column, negated, values, option, op, confidence = ch
        return ast.LangPred(b.leaf(func), b.leaf(column), b.leaf(values), negated is not None, b.leaf(option),
                            b.leaf(op), b.leaf(confidence), span=span)
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
    """The predicate's value per row (nulls count as empty text, so they are never unknown), and
    a function giving what the rows of a mask measured, for the reasons of the rows removed (None
    where a reason names none): only the removed rows' values are ever turned into text."""
    import pyarrow as pa
    import pyarrow.compute as pc

    kind, name = params["kind"], params["column"]
    column = table.column(name)
    if kind == "test" and params["func"] == "null":
        return pc.is_null(column), None
    text = pc.fill_null(text_column(table, name), "")
    if isinstance(text, pa.ChunkedArray):
        text = text.combine_chunks()
    if kind == "test" and params["func"] == "has_pii":  # any kind `redact` knows, found as it finds them
        from dsc.kernels.pii import KINDS, has_any

        return pa.array(has_any(text, KINDS, params.get("region"))), None
    if kind == "test":  # empty(): null, "" or only whitespace
        return pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(text)), 0), None
    if kind == "measure":
        return _measure(text, params, ctx)
    if kind == "lang":
        return _lang(text, params)
    if kind == "matches":
        # pyarrow's regex engine is RE2: linear time, and the pattern's size is bounded (also for a plan
        # that skipped the checks), so no pattern can hang a run.
        from dsc.kernels.regex import pattern_problem

        problem = pattern_problem(params["pattern"])
        if problem:
            raise RunError(f"pattern {params['pattern']!r} cannot run: {problem}", exit_code=EXIT_SPEC_ERROR,
                           code="DSC310")
        return pc.match_substring_regex(text, params["pattern"]), None
    if pa.types.is_integer(column.type) or pa.types.is_floating(column.type):
        return pc.is_in(column, value_set=_numbers(params["values"], column.type)), None  # `1.0`, `1e0`, `1` alike
    return pc.is_in(text, value_set=pa.array(params["values"], type=pa.string())), None


def _measure(text, params, ctx):
    """`NAME(COL) CMP N` through the MEASURES table: the comparison per row, and the measured values
    as a reason shows them (`0.4286`, `3`) when the measure shows its value."""
    import numpy as np
    import pyarrow as pa

    func = params["func"]
    entry = MEASURES.get(func)
    if entry is None:  # a plan that skipped the checks
        raise RunError(f"drop where {func}(): no such measure", exit_code=EXIT_SPEC_ERROR, code="DSC310",
                       hint="the measures are " + ", ".join(sorted(MEASURES)))
    values = entry.measure(text, params, ctx) if entry.plan_reader else entry.measure(text)
    value = params["value"]
    bound = int(value) if value == int(value) else float(value)
    hit = getattr(np, _COMPARE[params["op"]])(np.asarray(values), bound)
    if not entry.shows_value:
        return pa.array(hit, type=pa.bool_()), None

    def shown(mask):
        return [f"measured {_shown(v, entry.integer)}" for v in np.asarray(values)[mask].tolist()]
    return pa.array(hit, type=pa.bool_()), shown


def _shown(v, integer: bool) -> str:
    """A measured value for a reason: a count whole, a ratio to 4 significant digits.

    >>> _shown(2, True), _shown(0.428571, False), _shown(1.0, False)
    ('2', '0.4286', '1')
    """
    return str(int(v)) if integer else f"{v:.4g}"


def _lang(text, params):
    """`lang(COL) in {…}`: the detected language (`und` when too short or below the confidence) in
    the rule's set, and each row's language and confidence for its reason."""
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    from dsc.kernels.lang import detect

    langs, confs = detect(text, float(params.get("confidence") or 0))
    hit = pc.is_in(pa.array(langs, type=pa.string()), value_set=pa.array(params["values"], type=pa.string()))
    def shown(mask):
        return [f"detected {langs[i]}, confidence {confs[i]:.4g}" if confs[i] else
                f"detected {langs[i]}, too short to judge" for i in np.flatnonzero(mask).tolist()]
    return hit, shown


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


def _token_counts(text, params, ctx):
    import numpy as np

    return np.asarray(_tokens(text, params, ctx), dtype=np.int64)


# Every function of `drop where NAME(COL) CMP N`: the text measures and tokens(). The checks read
# the names and the ranges of thresholds from here (dsc.checks.options, dsc.checks.ranges).
_TOKENS = Measure(_token_counts, high=10**9, integer=True, shows_value=False, plan_reader=True)
MEASURES: dict[str, Measure] = {"words": TEXT_MEASURES["words"], "chars": TEXT_MEASURES["chars"], "tokens": _TOKENS,
                                **TEXT_MEASURES}
#: The functions of `drop where NAME(COL)` that test a row rather than measure it.
TESTS = ("empty", "null", "has_pii")


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
