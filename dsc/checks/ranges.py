"""Numbers: each in its range (DSC209), split fractions summing to 1 (DSC208), minimums
written with `>=` (DSC215).

All arithmetic is Decimal, so `0.7 + 0.2 + 0.1` is exactly 1. A percentage is read as the
fraction it denotes (`25%` is 0.25) wherever a fraction is expected; where a count is
expected, a percentage is an error.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from typing import Iterator

from dsc import ast
from dsc.checks.annotation import AGREEMENT_LEVELS
from dsc.checks.common import clean_rules, error, head, shown, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.plan import GUARD_BOUNDS, bound_text

ZERO, ONE = Decimal(0), Decimal(1)
MAX_SEED = 2**63
# The number of MinHash permutations `dedupe near` uses when the spec gives none (the operator's default).
DEFAULT_PERMUTATIONS = Decimal(128)


@dataclass(frozen=True)
class Range:
    """An allowed interval of a number; `integer` for counts, `percent` when `20%` may be written."""

    low: Decimal | None = None
    high: Decimal | None = None
    low_open: bool = False
    high_open: bool = False
    integer: bool = False
    percent: bool = True

    def contains(self, x: Decimal) -> bool:
        if self.low is not None and (x < self.low or (self.low_open and x == self.low)):
            return False
        if self.high is not None and (x > self.high or (self.high_open and x == self.high)):
            return False
        return not self.integer or x == x.to_integral_value()

    def describe(self, as_percent: bool = False) -> str:
        """`in (0, 1]`, `a whole number from 16 to 1024`, `a whole number ≥ 1`, `positive`;
        with `as_percent` the bounds of an interval are percentages (`in (0%, 100%]`).

        >>> Range(ZERO, ONE, low_open=True).describe(), Range(Decimal(1), integer=True).describe()
        ('in (0, 1]', 'a whole number ≥ 1')
        >>> Range(ZERO, ONE).describe(as_percent=True)
        'in [0%, 100%]'
        """
        lo, hi = self.low, self.high
        if as_percent and lo is not None and hi is not None and not self.integer:
            lo_text, hi_text = f"{lo * 100:f}%", f"{hi * 100:f}%"
            return f"in {'(' if self.low_open else '['}{lo_text}, {hi_text}{')' if self.high_open else ']'}"
        if self.integer:
            if lo is not None and hi is not None:
                return f"a whole number from {lo} to {hi - 1 if self.high_open else hi}"
            return f"a whole number ≥ {lo}" if lo is not None else "a whole number"
        if lo is not None and hi is not None:
            return f"in {'(' if self.low_open else '['}{lo}, {hi}{')' if self.high_open else ']'}"
        if lo == ZERO:
            return "positive" if self.low_open else "≥ 0"
        return f"{'>' if self.low_open else '≥'} {lo}"


FRACTION = Range(ZERO, ONE, low_open=True)            # a share of rows, a similarity
UNIT = Range(ZERO, ONE)                               # a proportion that may be 0
COEFFICIENT = Range(-ONE, ONE, percent=False)         # kappa, alpha
COUNT = Range(ZERO, integer=True, percent=False)
POSITIVE_COUNT = Range(ONE, integer=True, percent=False)
PERMUTATIONS = Range(Decimal(16), Decimal(1024), integer=True, percent=False)
SEED = Range(ZERO, Decimal(MAX_SEED), high_open=True, integer=True, percent=False)
VERSION = Range(ZERO, percent=False)
YEAR = Range(ONE, Decimal(9999), integer=True, percent=False)  # a year of a calendar date
LENGTH_RATIO = Range(ZERO, low_open=True, percent=False)  # a multiple of a length

# The augmentation guard's bounds: their ranges, the hint for a value outside it, and the pairs
# that must stay ordered (minimum, maximum, what they bound).
_GUARD_RANGES = {
    "min_similarity": (UNIT, "a similarity is a fraction: 0 shares no character trigram, 1 is the same text"),
    "max_similarity": (UNIT, "a similarity is a fraction: 0 shares no character trigram, 1 is the same text"),
    "min_length_ratio": (LENGTH_RATIO, "a multiple of the source's length, e.g. 0.5 (half as long)"),
    "max_length_ratio": (LENGTH_RATIO, "a multiple of the source's length, e.g. 2 (twice as long)"),
}
_GUARD_PAIRS = (("min_similarity", "max_similarity"), ("min_length_ratio", "max_length_ratio"))


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
    hint = "write a fraction like 0.25, or a percentage like 25%" if too_big else None
    return [error("DSC209", f"{what} must be {rng.describe(num.percent)}, not {shown(num)}", num.span, hint)]


def window_problem(first: int, last: int) -> tuple[str, str] | None:
    """What is wrong with a century window `years FIRST..LAST` (message, hint), or None: it
    runs forwards over exactly 100 years, so that each two-digit year is one year of it.

    >>> window_problem(1950, 2049), window_problem(2049, 1950)[0], window_problem(1950, 2000)[0]
    (None, 'years 2049..1950 runs backwards', 'years 1950..2000 spans 51 years, not 100')
    """
    if first > last:
        return f"years {first}..{last} runs backwards", f"write the first year first: years {last}..{first}"
    if last - first != 99:
        return (f"years {first}..{last} spans {last - first + 1} years, not 100",
                f"a two-digit year is one year of each century: e.g. years {first}..{first + 99}")
    return None


def needs_at_least(op: ast.Name | None, what: str) -> list[Diagnostic]:
    """DSC215 unless `op` is `>=`: minimums are written one way, so specs read alike."""
    if op is None or op.value == ">=":
        return []
    return [error("DSC215", f"{what} is a minimum and is written with '>=', not '{op.value}'", op.span, "use >=")]


def check_ranges(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Header and split seeds, the version, clean-rule numbers and augmentation ratios.

    Seeds are whole numbers in [0, 2**63); a version is a number ≥ 0; `words()`/`chars()`
    compare to whole numbers ≥ 0; dedupe similarity thresholds are in (0, 1] and written
    with `>=`; n-grams are ≥ 1; permutations in [16, 1024]; LSH bands are at most the
    permutations (and should divide them, a warning); a standardize century window (`years
    1950..2049`) spans exactly 100 years, first year first; ratios are in (0, 1]; `concurrency` ≥ 1;
    the guard's similarity bounds are in [0, 1], its length ratios positive, and each minimum is at
    most its maximum (`_guard_bounds`).
    """
    out: list[Diagnostic] = []
    for block in spec.of(ast.DatasetBlock):
        out += out_of_range(block.version, "version", VERSION)
        for stmt in block.body:
            if isinstance(stmt, ast.Seed):
                out += out_of_range(stmt.value, "seed", SEED)
    for split in spec.of(ast.SplitBlock):
        for opt in split.options:
            if opt.key == "seed":
                out += out_of_range(opt.value, "seed", SEED)
    for rule in clean_rules(spec):
        pred = rule.predicate if isinstance(rule, ast.Drop) else None
        if isinstance(pred, ast.MeasurePred) and pred.func.value in ("words", "chars"):
            out += out_of_range(pred.value, f"a {pred.func.value}() count", COUNT)
        elif isinstance(rule, ast.Dedupe):
            out += _dedupe(rule)
        elif isinstance(rule, ast.Standardize):
            out += [d for opt in rule.options if opt.key == "years" for d in _window(opt)]
    for block in spec.of(ast.AugmentBlock):
        for rule in block.rules:
            for opt in rule.options:
                if opt.key == "ratio" and isinstance(opt.value, ast.Num):
                    out += out_of_range(opt.value, "ratio", FRACTION)
                elif opt.key == "concurrency" and isinstance(opt.value, ast.Num):
                    out += out_of_range(opt.value, "concurrency", POSITIVE_COUNT)
            out += _guard_bounds(rule)
    return out


def _guard_bounds(rule: ast.Augmentation) -> list[Diagnostic]:
    """An augmentation's guard bounds (DSC209): `min_similarity`/`max_similarity` in [0, 1] (a
    percentage too), `min_length_ratio`/`max_length_ratio` positive, and each minimum at most its
    maximum — where only one of a pair is written, the other's default counts, so
    `min_similarity 0.97` alone is an error (the default maximum is 0.95): no generation could pass.
    A bound out of range is not compared again. As in the compiler, a repeated bound's last value
    counts (the repeat is DSC214).
    """
    out: list[Diagnostic] = []
    given: dict[str, ast.Num] = {}
    bad: set[str] = set()
    for opt in rule.options:
        if opt.key not in _GUARD_RANGES or not isinstance(opt.value, ast.Num):
            continue
        rng, hint = _GUARD_RANGES[opt.key]
        found = [d if d.hint else replace(d, hint=hint) for d in out_of_range(opt.value, opt.key, rng)]
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
    out = out_of_range(first, "the first year", YEAR) + out_of_range(last, "the last year", YEAR)
    if out:
        return out
    problem = window_problem(int(first.value), int(last.value))
    return [error("DSC209", problem[0], opt.span, problem[1])] if problem else []


def _dedupe(rule: ast.Dedupe) -> list[Diagnostic]:
    out: list[Diagnostic] = []
    nums = {o.key: o.values for o in rule.options}
    for opt in rule.options:
        first = opt.values[0] if opt.values else None
        if opt.key == "jaccard":
            op, value = opt.values
            out += needs_at_least(op, "a jaccard threshold")
            out += out_of_range(value, "jaccard threshold", FRACTION)
        elif opt.key == "threshold":
            out += out_of_range(first, "match threshold", FRACTION)
        elif opt.key == "ngram":
            out += out_of_range(first, "n-gram size", POSITIVE_COUNT)
        elif opt.key == "permutations":
            out += out_of_range(first, "permutations", PERMUTATIONS)
        elif opt.key == "bands":
            out += out_of_range(first, "bands", POSITIVE_COUNT)
    bands = nums.get("bands", (None,))[0]
    perms = nums.get("permutations", (ast.Num(DEFAULT_PERMUTATIONS),))[0]
    if bands is None or bands.percent or perms.percent:
        return out
    if not (POSITIVE_COUNT.contains(bands.value) and PERMUTATIONS.contains(perms.value)):
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

A lone split may take every row (`train 1`), which an augment-only spec needs.

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
            found = out_of_range(part.fraction, f"the fraction of '{part.name.value}'", FRACTION)
            bad = bad or bool(found)
            out += found
        total = sum((p.fraction.fraction for p in split.parts), ZERO)
        if bad or total == ONE:
            continue
        last = split.parts[-1]
        rest = ONE - (total - last.fraction.fraction)
        hint = (f"e.g. {last.name.value} {rest.normalize():f}" if ZERO < rest < ONE
                else "adjust the fractions so they add up to 1")
        out.append(error("DSC208", f"split fractions sum to {total.normalize():f}, not 1", head(split, "split"), hint))
    return out


def check_annotation_numbers(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Annotation minimums: counts are whole numbers ≥ 1, experts ≤ annotators, agreement
    thresholds in the metric's range ([-1, 1] for kappa and alpha, [0, 1] for percent
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
                found = out_of_range(value, f"the number of {setting.key}", POSITIVE_COUNT)
                if not found:
                    counts[setting.key] = value
                out += found
            elif setting.key == "agreement":
                metric = setting.values[0].value if isinstance(setting.values[0], ast.Name) else ""
                if metric in AGREEMENT_LEVELS:  # an unknown metric is reported by the annotation pass
                    rng = UNIT if metric == "percent" else COEFFICIENT
                    out += out_of_range(value, f"{metric} agreement threshold", rng)
            else:
                out += out_of_range(value, "item agreement", UNIT)
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
