"""Inter-annotator agreement: dataset-level coefficients and per-item agreement.

The coefficients come from well-kept libraries — scikit-learn (`cohen_kappa_score`),
statsmodels (`fleiss_kappa`) and `krippendorff` (`alpha`) — and are tested against published
worked examples (tests/annotation/test_metrics.py names each source). What is ours: turning
annotations into the layout each library takes, the label scale (order and numeric value),
and saying *why* a coefficient is undefined instead of passing NaN off as a number.

Data is `units`: item → {annotator: label}. Only items with two or more labels say anything
about agreement; the others are left out of every coefficient (and counted apart).

- `percent`: the mean, over items, of the share of annotator pairs that agree (Fleiss' P̄).
- `cohen`: Cohen's kappa between exactly two annotators, over the items both labelled;
  weights `none`, `linear` or `quadratic` on the label ranks.
- `fleiss`: Fleiss' kappa; every item needs the same number of labels.
- `krippendorff`: Krippendorff's alpha at `nominal`, `ordinal`, `interval` or `ratio` level;
  any number of annotators, missing labels allowed.

The label order (for ordinal and weighted metrics) is the order the schema declares
(`label {low, mid, high}`); without one, numeric labels sort by value and others by text.
Interval and ratio levels need numeric labels.
"""
from __future__ import annotations

import math
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import numpy as np

from dsc.errors import DscError
from dsc.exitcodes import EXIT_SPEC_ERROR

METRICS = ("percent", "cohen", "fleiss", "krippendorff")
LEVELS = ("nominal", "ordinal", "interval", "ratio")
WEIGHTS = ("none", "linear", "quadratic")
DECIMALS = 6  # values are reported, and compared with thresholds, at this many decimals

Units = Mapping[str, Mapping[str, str]]


class MetricError(DscError, ValueError):
    """The metric cannot be applied to these labels at all (e.g. interval level, text labels)."""

    default_code = "DSC304"
    default_exit_code = EXIT_SPEC_ERROR


@dataclass(frozen=True)
class Scale:
    """The labels in order, how they are measured (`kind`) and their numeric values."""

    kind: str  # nominal | ordinal | interval | ratio | linear | quadratic
    labels: tuple[str, ...]
    values: tuple[float, ...]

    def index(self) -> dict[str, int]:
        return {label: i for i, label in enumerate(self.labels)}


@dataclass(frozen=True)
class Agreement:
    """A dataset-level coefficient, or None with the reason it is undefined."""

    metric: str
    level: str | None
    value: float | None
    items: int
    annotators: int
    reason: str | None = None

    @property
    def rounded(self) -> float | None:
        return None if self.value is None else round(self.value, DECIMALS)

    def as_dict(self) -> dict[str, Any]:
        return {"metric": self.metric, "level": self.level, "value": self.rounded, "items": self.items,
                "annotators": self.annotators, "reason": self.reason}


# ── scales ─────────────────────────────────────────────────────────────────────────────
def kind_of(metric: str, level: str | None) -> str:
    """How labels are compared for `metric` at `level` (the spec's level slot; weights for cohen).

    >>> kind_of("cohen", "quadratic"), kind_of("krippendorff", None), kind_of("fleiss", None)
    ('quadratic', 'nominal', 'nominal')
    """
    if metric not in METRICS:
        raise MetricError(f"unknown agreement metric '{metric}' (use {', '.join(METRICS)})")
    if metric == "cohen":
        if level not in (None, *WEIGHTS):
            raise MetricError(f"unknown cohen weights '{level}' (use {', '.join(WEIGHTS)})")
        return "nominal" if level in (None, "none") else level
    if metric == "krippendorff":
        if level not in (None, *LEVELS):
            raise MetricError(f"unknown krippendorff level '{level}' (use {', '.join(LEVELS)})")
        return level or "nominal"
    if level not in (None, "nominal"):
        raise MetricError(f"{metric} agreement takes no level")
    return "nominal"


def natural_order(labels: Sequence[str]) -> list[str]:
    """Distinct labels in order: by value when every one is a number, else by text.

    >>> natural_order(["10", "9", "2.5"]), natural_order(["b", "a", "b"])
    (['2.5', '9', '10'], ['a', 'b'])
    """
    distinct = sorted(set(labels))
    numbers = [_number(x) for x in distinct]
    if distinct and all(n is not None for n in numbers):
        return [x for _, x in sorted(zip(numbers, distinct))]
    return distinct


def make_scale(kind: str, order: Sequence[str]) -> Scale:
    """The scale of labels `order` (already in order) for comparison `kind`.

    >>> make_scale("interval", ["1", "2", "5"]).values
    (1.0, 2.0, 5.0)
    """
    labels = tuple(dict.fromkeys(order))
    if kind in ("interval", "ratio"):
        numbers = [_number(x) for x in labels]
        bad = [x for x, n in zip(labels, numbers) if n is None]
        if bad:
            raise MetricError(f"{kind} agreement needs numeric labels; '{bad[0]}' is not a number")
        if kind == "ratio" and any(n < 0 for n in numbers):
            raise MetricError("ratio agreement needs labels of zero or more; "
                              f"'{labels[numbers.index(min(numbers))]}' is negative")
        return Scale(kind, labels, tuple(float(n) for n in numbers))
    return Scale(kind, labels, tuple(float(i) for i in range(len(labels))))


def _number(text: str) -> Decimal | None:
    try:
        value = Decimal(text)
    except (InvalidOperation, ValueError):
        return None
    return value if value.is_finite() else None


# ── dataset-level coefficients ─────────────────────────────────────────────────────────
def agreement(units: Units, metric: str, level: str | None = None, order: Sequence[str] | None = None) -> Agreement:
    """The dataset-level coefficient `metric` over `units` (item → {annotator: label}).

    `order` lists the labels in order (the schema's); without it the labels found are put
    in natural order. Undefined cases return `value=None` and a reason.

    >>> units = {"1": {"a": "x", "b": "x"}, "2": {"a": "y", "b": "y"}, "3": {"a": "x", "b": "y"}}
    >>> round(agreement(units, "percent").value, 3), round(agreement(units, "cohen").value, 3)
    (0.667, 0.4)
    >>> agreement({"1": {"a": "x", "b": "x"}}, "krippendorff").reason
    "every label is 'x', so chance agreement is total and krippendorff is undefined (0/0)"
    """
    kind = kind_of(metric, level)
    shown_level = level if metric in ("cohen", "krippendorff") else None
    if metric == "krippendorff" and level is None:
        shown_level = "nominal"
    pairable = {item: dict(labels) for item, labels in sorted(units.items()) if len(labels) >= 2}
    annotators = sorted({a for labels in pairable.values() for a in labels})
    found = [label for labels in pairable.values() for label in labels.values()]
    scale = make_scale(kind, _domain(order, found))

    def result(value: float | None, reason: str | None = None) -> Agreement:
        if value is not None and not math.isfinite(value):
            value, reason = None, f"{metric} is undefined for these labels (0/0)"
        return Agreement(metric, shown_level, value, len(pairable), len(annotators), reason)

    if not pairable:
        return result(None, "no item has labels from two annotators, so there is nothing to compare")
    if metric == "percent":
        return result(float(np.mean([_pair_agreement(list(labels.values())) for labels in pairable.values()])))
    if len(set(found)) < 2:
        return result(None, f"every label is '{found[0]}', so chance agreement is total and {metric} is "
                            "undefined (0/0)")
    if metric == "cohen":
        return _cohen(pairable, annotators, scale, result)
    if metric == "fleiss":
        return _fleiss(pairable, scale, result)
    return result(krippendorff_alpha(pairable, scale))


def _domain(order: Sequence[str] | None, found: Sequence[str]) -> list[str]:
    if order is None:
        return natural_order(found)
    missing = sorted(set(found) - set(order))
    if missing:
        raise MetricError(f"label '{missing[0]}' is not in the declared labels {{{', '.join(order)}}}")
    return list(order)


def _pair_agreement(labels: Sequence[str]) -> float:
    """Share of the ordered pairs of different annotators that gave the same label."""
    n = len(labels)
    counts: dict[str, int] = {}
    for label in labels:
        counts[label] = counts.get(label, 0) + 1
    return sum(c * (c - 1) for c in counts.values()) / (n * (n - 1))


def _cohen(pairable: dict, annotators: list[str], scale: Scale, result) -> Agreement:
    if len(annotators) != 2:
        return result(None, f"Cohen's kappa compares two annotators; these labels come from {len(annotators)} "
                            f"({', '.join(annotators[:5])}{', …' if len(annotators) > 5 else ''}): use fleiss "
                            "or krippendorff")
    first, second = annotators
    return result(cohen_kappa([labels[first] for labels in pairable.values()],
                              [labels[second] for labels in pairable.values()], scale))


def cohen_kappa(first: Sequence[str], second: Sequence[str], scale: Scale) -> float:
    """Cohen's kappa (scikit-learn) of two annotators' labels for the same items, in order.

    >>> round(cohen_kappa(list("aabb"), list("abbb"), make_scale("nominal", ["a", "b"])), 3)
    0.5
    """
    from sklearn.metrics import cohen_kappa_score

    weights = scale.kind if scale.kind in ("linear", "quadratic") else None
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(cohen_kappa_score(list(first), list(second), labels=list(scale.labels), weights=weights))


def _fleiss(pairable: dict, scale: Scale, result) -> Agreement:
    sizes = sorted({len(labels) for labels in pairable.values()})
    if len(sizes) > 1:
        return result(None, f"Fleiss' kappa needs the same number of labels on every item; these items have "
                            f"{sizes[0]} to {sizes[-1]}: use krippendorff, which allows missing labels")
    return result(fleiss_kappa(count_table(pairable, scale)))


def fleiss_kappa(table: np.ndarray) -> float:
    """Fleiss' kappa (statsmodels) of an items × labels table of counts.

    >>> round(fleiss_kappa(np.array([[2, 0], [0, 2], [1, 1]])), 3)
    0.333
    """
    from statsmodels.stats.inter_rater import fleiss_kappa as _fleiss_kappa

    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(_fleiss_kappa(table, method="fleiss"))


def krippendorff_alpha(units: Units, scale: Scale) -> float:
    """Krippendorff's alpha (the `krippendorff` package) of `units` on `scale`.

    Counts per item and label are passed, not a coder × unit matrix, so a label that reads
    like a missing value ('nan') is still a label.

    >>> units = {"1": {"a": "1", "b": "1"}, "2": {"a": "2", "b": "2"}, "3": {"a": "1", "b": "2"}}
    >>> round(krippendorff_alpha(units, make_scale("nominal", ["1", "2"])), 3)
    0.444
    """
    import krippendorff

    counts = count_table({k: v for k, v in units.items() if len(v) >= 2}, scale)
    domain = np.array(scale.values, dtype=float)
    level = scale.kind if scale.kind in LEVELS else "nominal"
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        return float(krippendorff.alpha(value_counts=counts, value_domain=domain, level_of_measurement=level))


def count_table(units: Units, scale: Scale) -> np.ndarray:
    """items (sorted) × labels (scale order) → how many annotators gave that label."""
    index = scale.index()
    table = np.zeros((len(units), len(scale.labels)), dtype=np.int64)
    for row, item in enumerate(sorted(units)):
        for label in units[item].values():
            table[row, index[label]] += 1
    return table


# ── per-item agreement ─────────────────────────────────────────────────────────────────
class ItemScorer:
    """Observed agreement within one item: 1 − the mean distance between its labels.

    Distances are the metric's own — 0/1 for nominal, rank-based for weighted kappa,
    Krippendorff's ordinal, interval and ratio distances — scaled so that the two most
    distant labels are 1 apart. So an item scores 1 when everyone agrees and 0 when every
    pair is as far apart as the labels allow. It is not chance-corrected: one item has no
    chance distribution of its own. An item with fewer than two labels has no score.

    >>> score = ItemScorer(make_scale("nominal", ["a", "b"]))
    >>> score(["a", "a", "b"]), score(["a"])
    (0.333333, None)
    """

    def __init__(self, scale: Scale, units: Units | None = None):
        self.scale = scale
        self.index = scale.index()
        self.distance = _distances(scale, units or {})

    def __call__(self, labels: Sequence[str]) -> float | None:
        n = len(labels)
        if n < 2:
            return None
        idx = [self.index[label] for label in labels]
        total = sum(self.distance[i, j] for a, i in enumerate(idx) for b, j in enumerate(idx) if a != b)
        return round(1.0 - float(total) / (n * (n - 1)), DECIMALS)


def _distances(scale: Scale, units: Units) -> np.ndarray:
    """V × V distances for `scale`, scaled to a maximum of 1 (all zero when no two labels differ)."""
    v = np.array(scale.values, dtype=float)
    size = len(v)
    if scale.kind == "nominal":
        d = 1.0 - np.eye(size)
    elif scale.kind == "linear":
        d = np.abs(v[:, None] - v[None, :])
    elif scale.kind == "quadratic":
        d = (v[:, None] - v[None, :]) ** 2
    elif scale.kind == "interval":
        d = (v[:, None] - v[None, :]) ** 2
    elif scale.kind == "ratio":
        total = v[:, None] + v[None, :]
        with np.errstate(all="ignore"):
            d = np.where(total != 0, ((v[:, None] - v[None, :]) / np.where(total == 0, 1, total)) ** 2, 0.0)
    else:  # ordinal: Krippendorff's distance, from how often each label was given on pairable items
        n_v = count_table({k: u for k, u in units.items() if len(u) >= 2}, scale).sum(axis=0).astype(float)
        cum = np.concatenate([[0.0], np.cumsum(n_v)])
        lo, hi = np.minimum.outer(np.arange(size), np.arange(size)), np.maximum.outer(np.arange(size), np.arange(size))
        d = (cum[hi + 1] - cum[lo] - (n_v[lo] + n_v[hi]) / 2) ** 2
        d[lo == hi] = 0.0
    top = d.max() if size else 0.0
    return d / top if top > 0 else np.zeros_like(d)


def label_pairs(units: Units, labels: Sequence[str]) -> list[list[int]]:
    """Labels × labels: how many times two different annotators of one item gave that pair.

    The matrix is symmetric; its diagonal counts agreeing pairs. (For two annotators per
    item this is the confusion matrix with both orders added together.)

    >>> label_pairs({"1": {"a": "x", "b": "y"}, "2": {"a": "x", "b": "x"}}, ["x", "y"])
    [[2, 1], [1, 0]]
    """
    index = {label: i for i, label in enumerate(labels)}
    matrix = [[0] * len(labels) for _ in labels]
    for item in sorted(units):
        given = [index[label] for label in units[item].values()]
        for a, i in enumerate(given):
            for b, j in enumerate(given):
                if a != b:
                    matrix[i][j] += 1
    return matrix
