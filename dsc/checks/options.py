"""Option words of the clean rules, of `export` and of the `split` header: known values
(DSC203), options that apply to the statement they are on (DSC217), options given once (DSC214).
"""
from __future__ import annotations

import re

from dsc import ast
from dsc.checks.common import at_line, clean_rules, error, first_seen, head, shown, unknown_value
from dsc.checks.context import CheckContext
from dsc.checks.types import STANDARD_TYPES
from dsc.diagnostics import Diagnostic, did_you_mean
from dsc.kernels.lang import CODES as LANGUAGE_CODES
from dsc.ops import operator_for
from dsc.ops.base import choices
from dsc.ops.conflicts import Conflicts
from dsc.ops.dedupe_exact import IGNORING as DEDUPE_IGNORING
from dsc.ops.dedupe_near import DedupeNear
from dsc.ops.drop import MEASURES, TESTS
from dsc.ops.standardize import Standardize
from dsc.vocabulary import KEEP_RULES, NORMALIZE_STEPS
from dsc.engines.shapes import SHAPES as EXPORT_SHAPES

MEASURE_FUNCS = tuple(MEASURES)  # dsc.ops.drop.MEASURES: one table of the functions that measure
TEST_FUNCS = TESTS
LANG_FUNCS = ("lang",)
STANDARD_KINDS = tuple(STANDARD_TYPES)
DATE_ORDERS = ("DMY", "MDY", "YMD")
ON_ERROR = choices(Standardize.Params, "on_error")
IGNORING = tuple(DEDUPE_IGNORING)
NGRAM_UNITS = choices(DedupeNear.Params, "unit")
KEEP = tuple(k for k in KEEP_RULES if k != "by")  # `keep by COL` is its own option
DIRECTIONS = ("asc", "desc")
RESOLVE = choices(Conflicts.Params, "resolve")
OTHERWISE = choices(Conflicts.Params, "otherwise")
EXPORT_FORMATS = ("parquet", "jsonl", "hf_disk")
SHAPES = tuple(EXPORT_SHAPES)  # dsc.engines.shapes: what each writes and reads

# Which dedupe options each mode reads; the rest do not apply (DSC217).
DEDUPE_OPTIONS = {
    "exact": ("ignoring", "keep", "keep_by"),
    "near": ("jaccard", "ngram", "permutations", "bands", "keep", "keep_by", "cluster"),
    "fuzzy": ("pairs", "threshold", "keep", "keep_by"),
}
# Standardize options that only some kinds read; the others apply to every kind.
STD_OPTIONS = {"order": ("date", "datetime"), "years": ("date", "datetime"), "rates": ("money",)}
# Standardize options whose value is a word from a fixed list: (what it is, the words).
_STD_VALUES = {"order": ("date order", DATE_ORDERS), "on_error": ("on_error policy", ON_ERROR)}
# Kinds whose rule names a target after the kind (a currency, a unit).
TARGETED = ("money", "quantity")
_PLACEHOLDER = re.compile(r"\{([^{}]*)\}")


def check_clean_options(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Every option word of `normalize`, `drop`, `standardize`, `dedupe` and `conflicts`, and each
    operator's own `check`.

    Also: a column standardized by two rules (DSC202 — the second would see the first's
    output), `dedupe fuzzy` without its labelled-pairs file (DSC211).
    """
    out: list[Diagnostic] = []
    rules = clean_rules(spec)
    for rule in rules:
        if isinstance(rule, ast.Normalize):
            out += _normalize(rule)
        elif isinstance(rule, ast.Drop):
            out += _drop(rule.predicate)
        elif isinstance(rule, ast.Standardize):
            out += _standardize(rule)
        elif isinstance(rule, ast.Dedupe):
            out += _dedupe(rule)
        elif isinstance(rule, ast.Conflicts):
            out += _conflicts(rule)
        out += operator_for(rule).check(rule)  # the operator's own checks
        out += operator_for(rule).check_in_spec(rule, spec)  # … and those that read the rest of the spec
    standardized = [(r.column.value, r.column) for r in rules if isinstance(r, ast.Standardize)]
    for repeat, first in first_seen(standardized):
        out.append(error("DSC202", f"column '{repeat.value}' is standardized twice", repeat.span,
                         f"the first rule is {at_line(first, repeat)}; keep one"))
    return out


def _normalize(rule: ast.Normalize) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    for step in rule.steps:
        out += unknown_value(step, "normalisation step", NORMALIZE_STEPS)
    for repeat, _ in first_seen((s.value, s) for s in rule.steps):
        out.append(error("DSC214", f"step '{repeat.value}' is listed twice", repeat.span, "remove the repeat"))
    forms = [s for s in rule.steps if s.value in ("nfc", "nfkc")]
    if len({s.value for s in forms}) > 1:
        out.append(error("DSC214", "'nfc' and 'nfkc' are two different normal forms", forms[-1].span,
                         "choose one: nfkc also folds compatibility characters (ligatures, full-width forms)"))
    return out


def _drop(pred: ast.Predicate) -> list[Diagnostic]:
    if isinstance(pred, ast.LangPred):
        return _lang(pred)
    if isinstance(pred, ast.MeasurePred):
        if pred.func.value in TEST_FUNCS:
            return [error("DSC217", f"{pred.func.value}() is a test and takes no comparison", pred.op.span,
                          f"write: drop where {pred.func.value}({pred.column.value})")]
        return unknown_value(pred.func, "function", MEASURE_FUNCS + TEST_FUNCS)
    if isinstance(pred, ast.TestPred):
        if pred.func.value in MEASURE_FUNCS:
            return [error("DSC212", f"{pred.func.value}() counts, so it needs a comparison", pred.func.span,
                          f"e.g. drop where {pred.func.value}({pred.column.value}) < 3")]
        return unknown_value(pred.func, "function", MEASURE_FUNCS + TEST_FUNCS)
    return []


def _lang(pred: ast.LangPred) -> list[Diagnostic]:
    """`lang(COL) [not] in {…} [confidence >= P]`: the function is lang, each value a language the
    detector knows (or `und`), the option is `confidence` (its range and `>=`: dsc.checks.ranges)."""
    if pred.func.value != "lang":
        if pred.func.value in MEASURE_FUNCS + TEST_FUNCS:
            return [error("DSC217", f"{pred.func.value}() takes no set of values", pred.func.span,
                          "only lang() is compared with a set, e.g. drop where lang(text) not in {en, und}")]
        return unknown_value(pred.func, "function", LANG_FUNCS + MEASURE_FUNCS + TEST_FUNCS)
    out: list[Diagnostic] = []
    for v in pred.values:
        if isinstance(v, ast.Num):
            out.append(error("DSC203", f"'{shown(v)}' is not a language code", v.span,
                             "write ISO 639 codes such as en, de, zh, or und for undetermined"))
        elif v.value not in LANGUAGE_CODES:
            hint = did_you_mean(v.value, LANGUAGE_CODES) or \
                "write one of the detector's ISO 639 codes (docs/quality.md lists them), or und"
            out.append(error("DSC203", f"unknown language code '{v.value}'", v.span, hint))
    if pred.option is not None:
        out += unknown_value(pred.option, "lang() option", ("confidence",))
    return out


def _standardize(rule: ast.Standardize) -> list[Diagnostic]:
    out = unknown_value(rule.kind, "standardize kind", STANDARD_KINDS)
    kind = rule.kind.value
    for repeat, _ in first_seen((o.key, o) for o in rule.options):
        out.append(error("DSC214", f"'{repeat.key}' is given twice", head(repeat, repeat.key), "keep one"))
    keys = {o.key for o in rule.options}
    for opt in rule.options:
        kinds = STD_OPTIONS.get(opt.key)
        if kinds and kind in STANDARD_KINDS and kind not in kinds:
            out.append(error("DSC217", f"'{opt.key}' does not apply to {kind}", head(opt, opt.key),
                             f"'{opt.key}' is read only when standardizing {' or '.join(kinds)}"))
        vocabulary = _STD_VALUES.get(opt.key)
        if vocabulary:
            out += [d for v in opt.values if isinstance(v, ast.Name) for d in unknown_value(v, *vocabulary)]
    if {"from", "locale"} <= keys:
        second = next(o for o in reversed(rule.options) if o.key in ("from", "locale"))
        out.append(error("DSC214", "'from' and 'locale' both say which locale to read", head(second, second.key),
                         "use 'from [a, b]' to try several locales in order, or 'locale x' for one"))
    if rule.target is not None and kind in STANDARD_KINDS and kind not in TARGETED:
        out.append(error("DSC217", f"standardizing as {kind} takes no target", rule.target.span,
                         "only money (a currency) and quantity (a unit) name a target"))
    return out


def _dedupe(rule: ast.Dedupe) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    mode = rule.mode.value
    allowed = DEDUPE_OPTIONS[mode]
    for repeat, _ in first_seen((o.key.replace("keep_by", "keep"), o) for o in rule.options):
        word = repeat.key.split("_")[0]
        out.append(error("DSC214", f"'{word}' is given twice", head(repeat, word), "keep one"))
    for opt in rule.options:
        word = opt.key.split("_")[0]
        if opt.key not in allowed:
            modes = [m for m, keys in DEDUPE_OPTIONS.items() if opt.key in keys]
            out.append(error("DSC217", f"'{word}' does not apply to dedupe {mode}", head(opt, word),
                             f"'{word}' is read by dedupe {' and '.join(modes)}"))
        out += _dedupe_values(opt)
    if mode == "fuzzy" and not any(o.key == "pairs" for o in rule.options):
        out.append(error("DSC211", "dedupe fuzzy needs a labelled-pairs file", rule.mode.span,
                         'add pairs "labels/pairs.json": pairs of rows marked duplicate or distinct, '
                         "labelled once (e.g. with the dedupe library's console labeller) and kept in "
                         "version control"))
    return out


def _dedupe_values(opt: ast.DedupeOption) -> list[Diagnostic]:
    names = [v for v in opt.values if isinstance(v, ast.Name)]
    out: list[Diagnostic] = []
    if opt.key == "ignoring":
        for name in names:
            out += unknown_value(name, "'ignoring' value", IGNORING)
        for repeat, _ in first_seen((n.value, n) for n in names):
            out.append(error("DSC214", f"'{repeat.value}' is listed twice", repeat.span, "remove the repeat"))
    elif opt.key == "ngram":
        out += [d for n in names for d in unknown_value(n, "n-gram unit", NGRAM_UNITS)]
    elif opt.key == "keep":
        out += [d for n in names for d in unknown_value(n, "'keep' policy", KEEP)]
    elif opt.key == "keep_by" and len(opt.values) > 1 and isinstance(opt.values[1], ast.Name):
        out += unknown_value(opt.values[1], "sort direction", DIRECTIONS)
    return out


def _conflicts(rule: ast.Conflicts) -> list[Diagnostic]:
    out = unknown_value(rule.resolve, "conflict policy", RESOLVE)
    if rule.otherwise is not None:
        out += unknown_value(rule.otherwise, "'else' policy", OTHERWISE)
        if rule.resolve.value != "majority" and rule.resolve.value in RESOLVE:
            out.append(error("DSC217", f"'else' only applies to 'resolve majority', not '{rule.resolve.value}'",
                             rule.otherwise.span, "'else' says what to do when there is no majority; remove it"))
    if rule.target.value in {c.value for c in rule.columns}:
        out.append(error("DSC214", f"'{rule.target.value}' is both a key column and the target", rule.target.span,
                         "rows are grouped by the columns before '->' and compared on the column after it"))
    return out


def check_split_options(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """`stratify` and `seed` are given at most once in a split header (DSC214)."""
    out: list[Diagnostic] = []
    for split in spec.of(ast.SplitBlock):
        for repeat, first in first_seen((o.key, o) for o in split.options):
            out.append(error("DSC214", f"'{repeat.key}' is given twice in the split header", head(repeat, repeat.key),
                             f"the first is {at_line(first, repeat)}; keep one"))
    return out


def check_exports(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Export formats and shapes are known; `shape` and `template` are given once each and
    exclude each other (DSC214).

    With a split block, every export path contains `{split}` (else every split would be
    written to one file, DSC212); `{split}` is the only placeholder (DSC203).
    """
    out: list[Diagnostic] = []
    has_splits = bool(spec.of(ast.SplitBlock))
    for export in spec.of(ast.Export):
        out += unknown_value(export.format, "export format", EXPORT_FORMATS)
        for opt in export.options:
            if opt.key == "shape":
                out += unknown_value(opt.value, "export shape", SHAPES)
        for repeat, first in first_seen((o.key, o) for o in export.options):
            out.append(error("DSC214", f"'{repeat.key}' is given twice", head(repeat, repeat.key),
                             f"the first is {at_line(first, repeat)}; keep one"))
        if export.shape is not None and export.template is not None:
            out.append(error("DSC214", "an export has either a 'shape' or a 'template', not both",
                             export.template.span, "a shape is a built-in template; keep one of them"))
        holes = _PLACEHOLDER.findall(export.path.value)
        for hole in holes:
            if hole != "split":
                out.append(error("DSC203", f"unknown placeholder '{{{hole}}}' in the export path", export.path.span,
                                 "the only placeholder is {split}"))
        if has_splits and "split" not in holes:
            out.append(error("DSC212", "the export path has no '{split}'", export.path.span,
                             'every split is written separately, e.g. "out/{split}.parquet"'))
    return out
