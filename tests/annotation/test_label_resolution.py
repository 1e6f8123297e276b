"""Label resolution: majority, unanimous, expert; ties by the declared policy; order-free."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.annotation.resolve import POLICIES, TIES, Vote, resolve
from hypothesis_budget import examples

ORDER = ["bug", "billing", "account"]


def votes(*pairs):
    return [Vote(f"a{i}", label, role) for i, (label, role) in enumerate(pairs)]


def test_majority():
    r = resolve(votes(("bug", None), ("bug", None), ("billing", "expert")))
    assert (r.label, r.status, r.reason) == ("bug", "resolved", None)


@pytest.mark.parametrize("tie, label, status, reason", [
    ("drop", None, "drop", "tie between bug and billing (1 vote each)"),
    ("flag", None, "flag", "tie between bug and billing (1 vote each)"),
    ("first", "bug", "first", "tie between bug and billing (1 vote each); took 'bug', first in label order"),
])
def test_tie_policies(tie, label, status, reason):
    r = resolve(votes(("billing", None), ("bug", None)), tie=tie, order=ORDER)
    assert (r.label, r.status, r.reason, r.candidates) == (label, status, reason, ("bug", "billing"))


def test_prefer_breaks_a_majority_tie_by_the_preferred_role():
    tied = votes(("billing", None), ("bug", "expert"), ("billing", "expert"), ("bug", None))
    assert resolve(tied, prefer="expert").status == "drop"  # the experts are split too
    r = resolve(votes(("billing", None), ("bug", "expert")), prefer="expert")
    assert (r.label, r.status) == ("bug", "resolved")
    # a clear majority is not overruled by the preferred role
    assert resolve(votes(("billing", None), ("billing", None), ("bug", "expert")), prefer="expert").label == "billing"


def test_unanimous():
    assert resolve(votes(("bug", None), ("bug", None)), "unanimous").label == "bug"
    r = resolve(votes(("bug", None), ("bug", None), ("account", None)), "unanimous", "first", order=ORDER)
    assert (r.label, r.reason) == ("bug", "annotators disagree (bug ×2, account ×1); took 'bug', first in label order")


def test_expert():
    mixed = votes(("bug", None), ("bug", None), ("billing", "expert"))
    assert resolve(mixed, "expert", expert_role="expert").label == "billing"
    r = resolve(votes(("bug", None)), "expert", "flag", expert_role="expert")
    assert (r.label, r.status, r.reason) == (None, "flag", "no expert label to resolve by")
    senior = votes(("bug", "expert"), ("billing", "senior"))
    assert resolve(senior, "expert", expert_role="expert", prefer="senior").label == "billing"


def test_the_method_says_how_a_label_was_resolved():
    assert resolve(votes(("bug", None), ("bug", None), ("billing", None))).method == "majority"
    assert resolve(votes(("billing", None), ("bug", "expert")), prefer="expert").method == "prefer"
    assert resolve(votes(("bug", None), ("bug", None)), "unanimous").method == "unanimous"
    assert resolve(votes(("bug", None), ("billing", "expert")), "expert", expert_role="expert").method == "expert"
    for tie in TIES:  # left open: the tie policy, not a method, decided
        assert resolve(votes(("billing", None), ("bug", None)), tie=tie, order=ORDER).method is None


def test_labels_outside_the_order_sort_after_it_alphabetically():
    r = resolve(votes(("zeta", None), ("alpha", None), ("bug", None)), tie="first", order=ORDER)
    assert r.candidates == ("bug", "alpha", "zeta")


def test_unknown_policies_are_bugs_not_data():
    with pytest.raises(ValueError):
        resolve(votes(("bug", None)), "vote")


VOTES = st.lists(st.tuples(st.sampled_from(ORDER), st.sampled_from([None, "expert"])), min_size=1, max_size=7)


@settings(max_examples=examples(1.5), deadline=None)
@given(VOTES, st.sampled_from(POLICIES), st.sampled_from(TIES), st.sampled_from([None, "expert"]), st.randoms())
def test_resolution_does_not_depend_on_annotation_order(pairs, policy, tie, prefer, rnd):
    ballot = votes(*pairs)
    shuffled = ballot[:]
    rnd.shuffle(shuffled)
    kwargs = dict(expert_role="expert", prefer=prefer, order=ORDER)
    assert resolve(ballot, policy, tie, **kwargs) == resolve(shuffled, policy, tie, **kwargs)


@settings(deadline=None)
@given(VOTES, st.sampled_from(POLICIES), st.sampled_from(TIES))
def test_a_label_is_one_given_and_unanimity_always_resolves(pairs, policy, tie):
    ballot = votes(*pairs)
    r = resolve(ballot, policy, tie, expert_role="expert", order=ORDER)
    assert r.label is None or r.label in {v.label for v in ballot}
    assert (r.label is None) == (r.status in ("drop", "flag"))
    same = [Vote(v.annotator, ballot[0].label, "expert") for v in ballot]
    assert resolve(same, policy, tie, expert_role="expert").label == ballot[0].label
