"""Agreement coefficients against published worked examples, and the laws they must keep.

Each published value is reproduced to 3 decimals (more where the source gives more).
"""
import math
import random

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.annotation.metrics import (LEVELS, ItemScorer, MetricError, agreement, kind_of, label_pairs, make_scale,
                                    natural_order)
from hypothesis_budget import examples


def units_from_matrix(matrix):
    """coders × units (None = missing) → item → {coder: label}, labels as text."""
    units = {}
    for c, row in enumerate(matrix):
        for u, value in enumerate(row):
            if value is not None:
                units.setdefault(f"unit{u + 1:02d}", {})[f"coder{c + 1}"] = str(value)
    return units


def units_from_counts(table):
    """subjects × categories counts → item → {rater: category}, categories numbered from 1."""
    units = {}
    for s, row in enumerate(table):
        labels = [str(c + 1) for c, n in enumerate(row) for _ in range(n)]
        units[f"s{s + 1:02d}"] = {f"r{k + 1:02d}": label for k, label in enumerate(labels)}
    return units


def units_from_pairs(pairs):
    return {f"i{k:03d}": {"A": a, "B": b} for k, (a, b) in enumerate(pairs)}


def units_from_crosstab(table, names):
    """A two-annotator contingency table (rows: A, columns: B) → units."""
    return units_from_pairs([(names[i], names[j]) for i, row in enumerate(table) for j, n in enumerate(row)
                             for _ in range(n)])


# ── Krippendorff (2011), "Computing Krippendorff's Alpha-Reliability", section C: 4 observers,
# 12 units, values 1–5, with missing values. Published: nominal .743, ordinal .815,
# interval .849, ratio .797.
KRIPPENDORFF_2011 = [
    [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
    [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
    [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
    [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
]


@pytest.mark.parametrize("level, published", [("nominal", 0.743), ("ordinal", 0.815), ("interval", 0.849),
                                               ("ratio", 0.797)])
def test_krippendorff_2011_worked_example(level, published):
    found = agreement(units_from_matrix(KRIPPENDORFF_2011), "krippendorff", level)
    assert round(found.value, 3) == published
    # unit 12 has one value only, so it is not pairable
    assert (found.items, found.annotators, found.level) == (11, 4, level)


def test_krippendorff_ordinal_follows_the_declared_order_of_text_labels():
    # The same example with the values named; the schema's order makes them ordinal.
    names = {1: "very low", 2: "low", 3: "mid", 4: "high", 5: "very high"}
    named = [[names.get(v) for v in row] for row in KRIPPENDORFF_2011]
    order = ["very low", "low", "mid", "high", "very high"]
    assert round(agreement(units_from_matrix(named), "krippendorff", "ordinal", order).value, 3) == 0.815
    assert round(agreement(units_from_matrix(named), "krippendorff", "nominal").value, 3) == 0.743


# ── Fleiss (1971) as worked on Wikipedia's "Fleiss' kappa" page: 10 subjects, 14 raters,
# 5 categories. Published: P̄ = 0.378, P̄e = 0.213, κ = 0.210. (Also statsmodels'
# test_fleiss_kappa.)
FLEISS_WIKIPEDIA = [
    [0, 0, 0, 0, 14], [0, 2, 6, 4, 2], [0, 0, 3, 5, 6], [0, 3, 9, 2, 0], [2, 2, 8, 1, 1],
    [7, 7, 0, 0, 0], [3, 2, 6, 3, 0], [2, 5, 3, 2, 2], [6, 5, 2, 1, 0], [0, 2, 2, 3, 7],
]


def test_fleiss_wikipedia_example():
    units = units_from_counts(FLEISS_WIKIPEDIA)
    assert round(agreement(units, "fleiss").value, 3) == 0.210
    assert round(agreement(units, "percent").value, 3) == 0.378  # P̄, the mean per-subject agreement


# Fleiss (1971) psychiatric diagnoses, 30 patients × 6 raters, as in statsmodels'
# test_fleiss_kappa_irr; R irr::kappam.fleiss gives 0.4302445.
DIAGNOSES = [
    [4, 4, 4, 4, 4, 4], [2, 2, 2, 5, 5, 5], [2, 3, 3, 3, 3, 5], [5, 5, 5, 5, 5, 5], [2, 2, 2, 4, 4, 4],
    [1, 1, 3, 3, 3, 3], [3, 3, 3, 3, 5, 5], [1, 1, 3, 3, 3, 4], [1, 1, 4, 4, 4, 4], [5, 5, 5, 5, 5, 5],
    [1, 4, 4, 4, 4, 4], [1, 2, 4, 4, 4, 4], [2, 2, 2, 3, 3, 3], [1, 4, 4, 4, 4, 4], [2, 2, 4, 4, 4, 5],
    [3, 3, 3, 3, 3, 5], [1, 1, 1, 4, 5, 5], [1, 1, 1, 1, 1, 2], [2, 2, 4, 4, 4, 4], [1, 3, 3, 5, 5, 5],
    [5, 5, 5, 5, 5, 5], [2, 4, 4, 4, 4, 4], [2, 2, 4, 5, 5, 5], [1, 1, 4, 4, 4, 4], [1, 4, 4, 4, 4, 5],
    [2, 2, 2, 2, 2, 4], [1, 1, 1, 1, 5, 5], [2, 2, 4, 4, 4, 4], [1, 3, 3, 3, 3, 3], [5, 5, 5, 5, 5, 5],
]


def test_fleiss_diagnoses_statsmodels_irr():
    units = units_from_matrix(np.array(DIAGNOSES).T.tolist())
    assert round(agreement(units, "fleiss").value, 7) == 0.4302445


# ── Cohen's kappa, the worked example on Wikipedia's "Cohen's kappa" page: 50 applications,
# yes/yes 20, yes/no 5, no/yes 10, no/no 15. Published: p_o = 0.7, p_e = 0.5, κ = 0.4.
def test_cohen_wikipedia_example():
    units = units_from_crosstab([[20, 5], [10, 15]], ["yes", "no"])
    assert round(agreement(units, "cohen").value, 3) == 0.4
    assert round(agreement(units, "percent").value, 3) == 0.7


# Artstein & Poesio (2008), "Inter-Coder Agreement for Computational Linguistics", the
# 100-utterance example (NLTK's artstein_poesio_example.txt): A_o = 0.88, κ = 0.8013,
# π = 0.7995 (NLTK: 0.79953). For two coders Fleiss' kappa is Scott's π.
ARTSTEIN_POESIO = [[46, 6, 0], [0, 32, 0], [0, 6, 10]]  # rows coder A, columns coder B: stat, ireq, chck


def test_artstein_poesio_example():
    units = units_from_crosstab(ARTSTEIN_POESIO, ["stat", "ireq", "chck"])
    assert agreement(units, "percent").value == pytest.approx(0.88)
    assert round(agreement(units, "cohen").value, 4) == 0.8013
    assert round(agreement(units, "fleiss").value, 5) == 0.79953


# statsmodels' test_inter_rater, a SAS printout (3 × 3 table): simple kappa 0.4842,
# weighted kappa with equally spaced weights (linear) 0.4701.
SAS_TABLE = [[0, 4, 1], [0, 8, 0], [0, 1, 5]]


@pytest.mark.parametrize("weights, published", [("none", 0.4842), ("linear", 0.4701)])
def test_cohen_sas_example(weights, published):
    units = units_from_crosstab(SAS_TABLE, ["1", "2", "3"])
    assert round(agreement(units, "cohen", weights).value, 4) == published


# statsmodels' test_cohens_kappa_irr: R irr::kappa2 on the `anxiety` data, raters 2 and 3
# (levels 1, 2, 3, 4, 6 — level 5 is unused and irr drops it): unweighted −0.006289308,
# "equal" (linear) 0.1459075, "squared" (quadratic) 0.2520325.
ANXIETY = np.array([
    3, 3, 3, 4, 5, 5, 2, 3, 5, 2, 2, 6, 1, 5, 2, 2, 1, 2, 4, 3, 3, 6, 4,
    6, 2, 4, 2, 4, 3, 3, 2, 3, 3, 3, 2, 2, 1, 3, 3, 4, 2, 1, 4, 4, 3, 2,
    1, 6, 1, 1, 1, 2, 3, 3, 1, 1, 3, 3, 2, 2]).reshape(20, 3, order="F")


@pytest.mark.parametrize("weights, published", [("none", -0.006289308), ("linear", 0.1459075),
                                                 ("quadratic", 0.2520325)])
def test_cohen_weighted_r_irr(weights, published):
    units = units_from_pairs([(str(a), str(b)) for a, b in ANXIETY[:, 1:]])
    assert agreement(units, "cohen", weights).value == pytest.approx(published, abs=5e-8)  # R prints 7 digits


# ── undefined cases say why, never NaN ────────────────────────────────────────────────
def test_a_single_annotator_has_nothing_to_compare():
    found = agreement({"1": {"a": "x"}, "2": {"a": "y"}}, "krippendorff")
    assert found.value is None and found.items == 0
    assert found.reason == "no item has labels from two annotators, so there is nothing to compare"


@pytest.mark.parametrize("metric, level", [("cohen", None), ("fleiss", None), ("krippendorff", "interval")])
def test_identical_labels_leave_chance_corrected_metrics_undefined(metric, level):
    units = {str(i): {"a": "3", "b": "3"} for i in range(5)}
    found = agreement(units, metric, level)
    assert found.value is None and "chance agreement is total" in found.reason
    assert agreement(units, "percent").value == 1.0


def test_cohen_needs_exactly_two_annotators():
    units = {"1": {"a": "x", "b": "x", "c": "y"}, "2": {"a": "y", "b": "y", "c": "y"}}
    found = agreement(units, "cohen")
    assert found.value is None
    assert found.reason == "Cohen's kappa compares two annotators; these labels come from 3 (a, b, c): use fleiss " \
                           "or krippendorff"


def test_fleiss_needs_equal_counts():
    units = {"1": {"a": "x", "b": "x", "c": "y"}, "2": {"a": "y", "b": "y"}}
    found = agreement(units, "fleiss")
    assert found.value is None and "2 to 3" in found.reason


def test_interval_needs_numbers_and_labels_must_be_declared():
    units = {"1": {"a": "low", "b": "high"}, "2": {"a": "low", "b": "low"}}
    with pytest.raises(MetricError, match="interval agreement needs numeric labels; 'high' is not a number"):
        agreement(units, "krippendorff", "interval")
    with pytest.raises(MetricError, match="label 'low' is not in the declared labels"):
        agreement(units, "krippendorff", "nominal", ["high", "mid"])
    with pytest.raises(MetricError, match="takes no level"):
        kind_of("fleiss", "ordinal")


def test_natural_order_and_label_pairs():
    assert natural_order(["10", "2", "2.5"]) == ["2", "2.5", "10"]
    assert label_pairs({"1": {"a": "x", "b": "y", "c": "y"}}, ["x", "y"]) == [[0, 2], [2, 2]]


def test_item_agreement_uses_the_metric_distance():
    nominal = ItemScorer(make_scale("nominal", ["1", "2", "3"]))
    interval = ItemScorer(make_scale("interval", ["1", "2", "3"]))
    assert nominal(["1", "2"]) == 0.0 and interval(["1", "2"]) == 0.75  # 1 − (1/2)²
    assert interval(["1", "3"]) == 0.0 and nominal(["3", "3", "3"]) == 1.0
    linear = ItemScorer(make_scale("linear", ["a", "b", "c"]))
    assert linear(["a", "b"]) == 0.5


# ── laws ──────────────────────────────────────────────────────────────────────────────
METRIC_LEVELS = [("percent", None), ("cohen", "none"), ("cohen", "linear"), ("cohen", "quadratic"),
                 ("fleiss", None)] + [("krippendorff", level) for level in LEVELS]


@st.composite
def perfect_units(draw, annotators):
    n_items = draw(st.integers(2, 12))
    truth = draw(st.lists(st.integers(1, 5), min_size=n_items, max_size=n_items).filter(lambda x: len(set(x)) > 1))
    return {f"item{i}": {f"a{k}": str(label) for k in range(annotators)} for i, label in enumerate(truth)}


@settings(max_examples=examples(0.4), deadline=None)
@given(perfect_units(2), st.integers(3, 5), st.data())
def test_perfect_agreement_gives_one_for_every_metric(two, many, data):
    for metric, level in METRIC_LEVELS:
        units = two if metric == "cohen" else {i: {f"a{k}": next(iter(v.values())) for k in range(many)}
                                                for i, v in two.items()}
        assert agreement(units, metric, level).value == pytest.approx(1.0), (metric, level)
    # with missing labels too (Krippendorff allows them)
    gappy = {i: dict(list(v.items())[:data.draw(st.integers(2, many))])
             for i, v in {i: {f"a{k}": next(iter(v.values())) for k in range(many)} for i, v in two.items()}.items()}
    for level in LEVELS:
        assert agreement(gappy, "krippendorff", level).value == pytest.approx(1.0)


@st.composite
def random_units(draw, annotators=3, complete=False):
    n_items = draw(st.integers(2, 10))
    units = {}
    for i in range(n_items):
        coders = list(range(annotators)) if complete else draw(
            st.lists(st.integers(0, annotators - 1), min_size=2, max_size=annotators, unique=True))
        units[f"item{i}"] = {f"a{k}": str(draw(st.integers(1, 4))) for k in coders}
    return units


def _shuffled(units, seed):
    rng = random.Random(seed)
    items, coders = sorted(units), sorted({a for v in units.values() for a in v})
    new_items, new_coders = items[:], coders[:]
    rng.shuffle(new_items)
    rng.shuffle(new_coders)
    item_of, coder_of = dict(zip(items, new_items)), dict(zip(coders, new_coders))
    pairs = [(item_of[i], coder_of[a], label) for i, v in units.items() for a, label in v.items()]
    rng.shuffle(pairs)
    out = {}
    for item, coder, label in pairs:
        out.setdefault(item, {})[coder] = label
    return out


@settings(max_examples=examples(0.4), deadline=None)
@given(random_units(annotators=2, complete=True), random_units(annotators=4, complete=True),
       random_units(annotators=4), st.integers(0, 10**6))
def test_permuting_items_or_annotators_changes_nothing(two, full, gappy, seed):
    for metric, level in METRIC_LEVELS:
        units = two if metric == "cohen" else full if metric == "fleiss" else gappy
        before, after = agreement(units, metric, level), agreement(_shuffled(units, seed), metric, level)
        assert (before.value is None) == (after.value is None)
        if before.value is not None:
            assert after.value == pytest.approx(before.value, abs=1e-12), (metric, level)
            assert math.isfinite(before.value)


@settings(max_examples=examples(0.6), deadline=None)
@given(st.lists(st.sampled_from(["1", "2", "3", "4"]), min_size=2, max_size=6),
       st.sampled_from(["nominal", "ordinal", "interval", "ratio", "linear", "quadratic"]), st.randoms())
def test_item_agreement_is_bounded_and_order_free(labels, kind, rnd):
    units = {"x": {"a": "1", "b": "4"}, "y": {"a": "2", "b": "3"}}
    score = ItemScorer(make_scale(kind, ["1", "2", "3", "4"]), units)
    shuffled = labels[:]
    rnd.shuffle(shuffled)
    assert 0.0 <= score(labels) <= 1.0
    assert score(shuffled) == score(labels)
    assert score([labels[0]] * len(labels)) == 1.0
