"""Numbers: each in the range of its meaning (DSC209), split fractions summing to exactly 1
(DSC208), minimums written with `>=` (DSC215).

`NUMBERS` is the one table of those ranges: every number the grammar admits — in the header, the
clean rules, annotate, split, augment, gate and finetune blocks — is checked against its entry,
so none reaches a run unbounded. (Number literals are first bounded by `dsc.syntax.numbers`,
which keeps every value, and every sum of them, cheap and exact.) A percentage is read as the
fraction it denotes (`25%` is 0.25) wherever a fraction is expected; where a count is expected, a
percentage is an error.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal, DivisionByZero, Inexact, InvalidOperation, Overflow, localcontext
from typing import Iterator

from dsc import ast
from dsc.checks.annotation import AGREEMENT_LEVELS
from dsc.checks.common import clean_rules, error, head, shown, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.locale.dates import window_problem
from dsc.ops.decontaminate import DecontaminateRule
from dsc.ops.dedupe_near import DedupeNear
from dsc.ops.drop import MEASURES
from dsc.plan import GUARD_BOUNDS, bound_text
from dsc.syntax.numbers import MAX_DIGITS

ZERO, ONE = Decimal(0), Decimal(1)
MAX_SEED = 2**63
# The number of MinHash permutations `dedupe near` uses when the spec gives none (the operator's default).
DEFAULT_PERMUTATIONS = Decimal(DedupeNear.Params.model_fields["permutations"].default)


@dataclass(frozen=True)
class Range:
    """An allowed interval of a number, bounded both ways (so no number reaches a run unbounded);
    `integer` for counts, `percent` when `20%` may be written; `hint` says what the number means,
    for a diagnostic about a value outside it."""

    low: Decimal
    high: Decimal
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    percent: bool = True
    hint: str | None = None

    def contains(self, x: Decimal) -> bool:
        if x < self.low or (self.low_open and x == self.low):
            return False
        if x > self.high or (self.high_open and x == self.high):
            return False
        return not self.integer or x == x.to_integral_value()

    def describe(self, as_percent: bool = False) -> str:
        """`in (0, 1]`, `a whole number from 16 to 1024`; with `as_percent` the bounds of an
        interval are percentages (`in (0%, 100%]`).

        >>> Range(ZERO, ONE, low_open=True).describe(), Range(Decimal(16), Decimal(1024), integer=True).describe()
        ('in (0, 1]', 'a whole number from 16 to 1024')
        >>> Range(ZERO, ONE).describe(as_percent=True)
        'in [0%, 100%]'
        """
        if self.integer:
            return f"a whole number from {self.low} to {self.high - 1 if self.high_open else self.high}"
        scale, unit = (100, "%") if as_percent else (1, "")
        low, high = f"{self.low * scale:f}{unit}", f"{self.high * scale:f}{unit}"
        return f"in {'(' if self.low_open else '['}{low}, {high}{')' if self.high_open else ']'}"


def _whole(low: int, high: int, hint: str | None = None) -> Range:
    return Range(Decimal(low), Decimal(high), integer=True, percent=False, hint=hint)


def _positive(high: int, hint: str | None = None) -> Range:
    return Range(ZERO, Decimal(high), low_open=True, percent=False, hint=hint)


def _measure(m) -> Range:
    """The range of a `drop where NAME(COL) CMP N` threshold, from its entry in dsc.ops.drop.MEASURES:
    a count is a whole number from 0, a fraction is in [0, 1] (a percentage allowed), any other
    value a number from 0 to its bound."""
    if m.integer:
        return _whole(0, m.high)
    if m.fraction:
        return Range(ZERO, ONE, hint="a share: 0 is none, 1 is all (a percentage like 60% also works)")
    return Range(ZERO, Decimal(m.high), percent=False)


FRACTION = Range(ZERO, ONE, low_open=True)            # a share of rows, a similarity
UNIT = Range(ZERO, ONE)                               # a proportion that may be 0
COEFFICIENT = Range(-ONE, ONE, percent=False)         # kappa, alpha
_SIMILARITY = replace(UNIT, hint="a similarity is a fraction: 0 shares no character trigram, 1 is the same text")
_SEED = Range(ZERO, Decimal(MAX_SEED), high_open=True, integer=True, percent=False)

# Every number of the grammar, by the word that introduces it, and the range its meaning allows.
# Upper bounds are generous for their meaning and keep what a run derives from them (n-gram passes,
# threads, integer columns, finetune arithmetic) small; `tests/reliability/test_rel_numbers.py`
# proves that every number of the grammar is checked against this table.
NUMBERS: dict[str, Range] = {
    # dataset header, split header
    "version": Range(ZERO, Decimal(10**9), percent=False),
    "seed": _SEED,
    # clean: `drop where words(c) < N`, standardize, dedupe
    **{name: _measure(m) for name, m in MEASURES.items()},  # words, chars, tokens, alpha_ratio, …
    "confidence": UNIT,  # lang(COL) in {…} confidence >= P
    "year": _whole(1, 9999),
    "rate": _positive(10**9, "write how much one unit of the currency is worth in the target currency"),
    "jaccard": FRACTION,
    "threshold": FRACTION,
    "ngram": _whole(1, 64, "each unit of an n-gram is one more pass over the text: 5 words or 3 to 10 "
                           "characters is usual"),
    "permutations": _whole(16, 1024),
    "bands": _whole(1, 1024),
    # annotate
    "annotators": _whole(1, 1000),
    "experts": _whole(1, 1000),
    "agreement": COEFFICIENT,  # kappa and alpha; percent agreement is "percent agreement"
    "percent agreement": UNIT,
    "item_agreement": UNIT,
    # split
    "fraction": FRACTION,
    # augment
    "ratio": FRACTION,
    "concurrency": _whole(1, 64, "requests in flight to the endpoint at once, one thread each"),
    "min_similarity": _SIMILARITY,
    "max_similarity": _SIMILARITY,
    "min_length_ratio": _positive(100, "a multiple of the source's length, e.g. 0.5 (half as long)"),
    "max_length_ratio": _positive(100, "a multiple of the source's length, e.g. 2 (twice as long)"),
    # gate
    "dropped": UNIT,
    "kept": UNIT,
    "drop_rate": UNIT,
    "rows": _whole(0, 10**12),
    "leakage": FRACTION,
    # finetune
    "epochs": _whole(1, 10_000),
    "lr": _positive(10),
    "batch_size": _whole(1, 2**20),
    "max_length": _whole(1, 2**24),
    "gpu_tflops": _positive(10**6),
    "utilization": FRACTION,
    "gpu_power_w": _positive(10**5),
    "carbon_kg_per_kwh": Range(ZERO, Decimal(10), percent=False),
    "gpu_count": _whole(1, 10**6),
    "pue": Range(ONE, Decimal(10), percent=False),  # power usage effectiveness: facility power / IT power
    "gpu_memory_gb": _positive(10**5),
    "r": _whole(1, 2**16),
    "alpha": _positive(10**6),
    "dropout": Range(ZERO, ONE, high_open=True),
    "virtual_tokens": _whole(1, 2**24),
}
# The augmentation guard's bounds (ranged in NUMBERS) and the pairs that must stay ordered.
_GUARD_PAIRS = (("min_similarity", "max_similarity"), ("min_length_ratio", "max_length_ratio"))


def agreement_range(metric: str) -> Range:
    """The scale of an agreement metric: [0, 1] for percent agreement, [-1, 1] for kappa and alpha."""
    return NUMBERS["percent agreement" if metric == "percent" else "agreement"]


def out_of_range(num: ast.Num, what: str, rng: Range) -> list[Diagnostic]:
    """An error (DSC209) unless `num` is in `rng`; says the range and what was written.

    >>> out_of_range(ast.Num(Decimal("1.5")), "jaccard threshold", FRACTION)[0].message
    'jaccard threshold must be in (0, 1], not 1.5'
    """
    if num.percent and not rng.percent:
        return [error("DSC209", f"{what} must be {rng.describe()}, not a percentage", num.span,
                      "write it without '%'")]
    if rng.contains(num.fraction):
        return []
    share = rng.percent and rng.high == ONE
    too_big = share and not num.percent and num.value > ONE
    hint = "write a fraction like 0.25, or a percentage like 25%" if too_big else rng.hint
    return [error("DSC209", f"{what} must be {rng.describe(num.percent)}, not {shown(num)}", num.span, hint)]


def needs_at_least(op: ast.Name | None, what: str) -> list[Diagnostic]:
    """DSC215 unless `op` is `>=`: minimums are written one way, so specs read alike."""
    if op is None or op.value == ">=":
        return []
    return [error("DSC215", f"{what} is a minimum and is written with '>=', not '{op.value}'", op.span, "use >=")]


def check_ranges(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Header and split seeds, the version, clean-rule numbers and augmentation numbers, each
    against its entry in NUMBERS.

    Besides: LSH bands are at most the permutations (and should divide them, a warning); a
    standardize century window (`years 1950..2049`) spans exactly 100 years, first year first;
    dedupe similarity thresholds are written with `>=`; each guard minimum is at most its maximum
    (`_guard_bounds`).
    """
    out: list[Diagnostic] = []
    for block in spec.of(ast.DatasetBlock):
        out += out_of_range(block.version, "version", NUMBERS["version"])
        for stmt in block.body:
            if isinstance(stmt, ast.Seed):
                out += out_of_range(stmt.value, "seed", NUMBERS["seed"])
    for split in spec.of(ast.SplitBlock):
        for opt in split.options:
            if opt.key == "seed":
                out += out_of_range(opt.value, "seed", NUMBERS["seed"])
    for rule in clean_rules(spec):
        pred = rule.predicate if isinstance(rule, ast.Drop) else None
        if isinstance(pred, ast.MeasurePred) and pred.func.value in MEASURES:
            what = "a {}() count" if MEASURES[pred.func.value].integer else "the {}() threshold"
            out += out_of_range(pred.value, what.format(pred.func.value), NUMBERS[pred.func.value])
        elif isinstance(pred, ast.LangPred) and pred.confidence is not None:
            out += needs_at_least(pred.op, "a lang() confidence")
            out += out_of_range(pred.confidence, "a lang() confidence", NUMBERS["confidence"])
        elif isinstance(rule, ast.Dedupe):
            out += _dedupe(rule)
        elif isinstance(rule, DecontaminateRule) and rule.ngram is not None:
            out += out_of_range(rule.ngram, "n-gram size", NUMBERS["ngram"])
        elif isinstance(rule, ast.Standardize):
            out += [d for opt in rule.options if opt.key == "years" for d in _window(opt)]
    for block in spec.of(ast.AugmentBlock):
        for rule in block.rules:
            for opt in rule.options:
                if opt.key in ("ratio", "concurrency") and isinstance(opt.value, ast.Num):
                    out += out_of_range(opt.value, opt.key, NUMBERS[opt.key])
            out += _guard_bounds(rule)
    return out


def _guard_bounds(rule: ast.Augmentation) -> list[Diagnostic]:
    """An augmentation's guard bounds (DSC209): each in its range (NUMBERS), and each minimum at
    most its maximum — where only one of a pair is written, the other's default counts, so
    `min_similarity 0.97` alone is an error (the default maximum is 0.95): no generation could pass.
    A bound out of range is not compared again. As in the compiler, a repeated bound's last value
    counts (the repeat is DSC214).
    """
    out: list[Diagnostic] = []
    given: dict[str, ast.Num] = {}
    bad: set[str] = set()
    for opt in rule.options:
        if opt.key not in GUARD_BOUNDS or not isinstance(opt.value, ast.Num):
            continue
        found = out_of_range(opt.value, opt.key, NUMBERS[opt.key])
        out += found
        given[opt.key] = opt.value
        if found:
            bad.add(opt.key)
    for low, high in _GUARD_PAIRS:
        if low in bad or high in bad or not (low in given or high in given):
            continue
        lo = given[low].fraction if low in given else GUARD_BOUNDS[low]
        hi = given[high].fraction if high in given else GUARD_BOUNDS[high]
        if lo <= hi:
            continue
        if low in given and high in given:
            out.append(error("DSC209", f"{low} {shown(given[low])} is above {high} {shown(given[high])}",
                             given[low].span, f"no generation could pass the guard: lower {low} or raise {high}"))
        elif low in given:
            default, value = bound_text(GUARD_BOUNDS[high]), shown(given[low])
            out.append(error("DSC209", f"{low} {value} is above the default {high} {default}", given[low].span,
                             f"no generation could pass the guard (the default {high} is {default}): "
                             f"lower {low}, or also write {high} {value} or more"))
        else:
            default, value = bound_text(GUARD_BOUNDS[low]), shown(given[high])
            out.append(error("DSC209", f"{high} {value} is below the default {low} {default}", given[high].span,
                             f"no generation could pass the guard (the default {low} is {default}): "
                             f"raise {high}, or also write {low} {value} or less"))
    return out


def _window(opt: ast.StdOption) -> list[Diagnostic]:
    """`years FIRST..LAST`: two years, then `window_problem`."""
    first, last = opt.values
    out = out_of_range(first, "the first year", NUMBERS["year"]) + out_of_range(last, "the last year", NUMBERS["year"])
    if out:
        return out
    problem = window_problem(int(first.value), int(last.value))
    return [error("DSC209", problem[0], opt.span, problem[1])] if problem else []


# The dedupe options that are numbers, as a diagnostic names them; their ranges are in NUMBERS.
_DEDUPE_NUMBERS = {"jaccard": "jaccard threshold", "threshold": "match threshold", "ngram": "n-gram size",
                   "permutations": "permutations", "bands": "bands"}


def _dedupe(rule: ast.Dedupe) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    nums = {o.key: o.values for o in rule.options}
    for opt in rule.options:
        if opt.key == "jaccard":
            out += needs_at_least(opt.values[0], "a jaccard threshold")
        if opt.key in _DEDUPE_NUMBERS:
            value = opt.values[-1] if opt.key == "jaccard" else opt.values[0]
            out += out_of_range(value, _DEDUPE_NUMBERS[opt.key], NUMBERS[opt.key])
    bands = nums.get("bands", (None,))[0]
    perms = nums.get("permutations", (ast.Num(DEFAULT_PERMUTATIONS),))[0]
    if bands is None or bands.percent or perms.percent:
        return out
    if not (NUMBERS["bands"].contains(bands.value) and NUMBERS["permutations"].contains(perms.value)):
        return out
    written = "" if "permutations" in nums else " (the default)"
    if bands.value > perms.value:
        out.append(error("DSC209", f"{shown(bands)} bands need at least as many permutations, "
                                   f"not {shown(perms)}{written}",
                         bands.span, "each band hashes one or more permutations; lower bands or raise permutations"))
    elif perms.value % bands.value:
        out.append(warning("DSC209", f"{shown(bands)} bands do not divide {shown(perms)} permutations{written}",
                           bands.span, f"{perms.value % bands.value} permutations would go unused"))
    return out


def check_splits(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each split fraction is in (0, 1] and together they sum to exactly 1 (DSC208).

    A lone split may take every row (`train 1`), which an augment-only spec needs. The sum is
    exact (`_exact`): no digit of any fraction is rounded away.

    The message says what they sum to, and — when one fraction can take the slack — the
    hint says which value of the last split would make it 1.
    """
    out: list[Diagnostic] = []
    for split in spec.of(ast.SplitBlock):
        if not split.parts:
            out.append(error("DSC212", "the split block declares no splits", head(split, "split"),
                             "add one line per split, e.g. train 0.9 and validation 0.1"))
            continue
        bad = False
        for part in split.parts:
            found = out_of_range(part.fraction, f"the fraction of '{part.name.value}'", NUMBERS["fraction"])
            bad = bad or bool(found)
            out += found
        if bad:
            continue
        with _exact(len(split.parts)):
            total = sum((p.fraction.fraction for p in split.parts), ZERO)
            last = split.parts[-1]
            rest = ONE - (total - last.fraction.fraction)
            if total == ONE:
                continue
            hint = (f"e.g. {last.name.value} {rest.normalize():f}" if ZERO < rest < ONE
                    else "adjust the fractions so they add up to 1")
            out.append(error("DSC208", f"split fractions sum to {total.normalize():f}, not 1", head(split, "split"),
                             hint))
    return out


def _exact(terms: int):
    """A decimal context in which sums of `terms` numbers of a spec are exact — and any rounding
    would raise. A literal has at most MAX_DIGITS digits before the point and as many after it
    (`dsc.syntax.numbers`), a percentage two more after it, so a sum needs at most twice
    MAX_DIGITS, plus 2, plus the digits of `terms`.
    """
    return localcontext(prec=2 * MAX_DIGITS + 2 + len(str(terms)),
                        traps=[InvalidOperation, DivisionByZero, Overflow, Inexact])  # the defaults, and Inexact


def check_annotation_numbers(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Annotation minimums: counts are whole numbers in NUMBERS' range, experts ≤ annotators,
    agreement thresholds in the metric's range ([-1, 1] for kappa and alpha, [0, 1] for percent
    agreement and item agreement), all written with `>=`.
    """
    out: list[Diagnostic] = []
    for block in spec.of(ast.AnnotateBlock):
        counts: dict[str, ast.Num] = {}
        for setting, what in _minimums(block):
            out += needs_at_least(setting.op, what)
            value = setting.values[-1] if setting.key in ("agreement", "item_agreement") else setting.values[0]
            if not isinstance(value, ast.Num):
                continue
            if setting.key in ("annotators", "experts"):
                found = out_of_range(value, f"the number of {setting.key}", NUMBERS[setting.key])
                if not found:
                    counts[setting.key] = value
                out += found
            elif setting.key == "agreement":
                metric = setting.values[0].value if isinstance(setting.values[0], ast.Name) else ""
                if metric in AGREEMENT_LEVELS:  # an unknown metric is reported by the annotation pass
                    out += out_of_range(value, f"{metric} agreement threshold", agreement_range(metric))
            else:
                out += out_of_range(value, "item agreement", NUMBERS["item_agreement"])
        if "experts" in counts and "annotators" in counts and counts["experts"].value > counts["annotators"].value:
            out.append(error("DSC209", f"{shown(counts['experts'])} experts are more than the "
                                       f"{shown(counts['annotators'])} annotators per item", counts["experts"].span,
                             "experts are counted among the annotators; raise annotators or lower experts"))
    return out


def _minimums(block: ast.AnnotateBlock) -> Iterator[tuple[ast.AnnSetting, str]]:
    names = {"annotators": "'annotators'", "experts": "'experts'", "agreement": "an agreement threshold",
             "item_agreement": "'item_agreement'"}
    for setting in block.body:
        if setting.key in names:
            yield setting, names[setting.key]
