"""dsc.kernels.exact sorts only rows whose digest bucket is shared: the labels must be those of
sorting every row, whatever the share of duplicates and however the digests collide."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.kernels import exact
from dsc.kernels.exact import duplicate_groups
from hypothesis_budget import examples


def reference(values) -> list[int]:
    first: dict = {}
    return [first.setdefault(v, i) for i, v in enumerate(values)]


def both_ways(monkeypatch, arrays):
    """Labels without and with the prefilter, text always on the signature route (which is the
    one that sorts digests)."""
    monkeypatch.setattr(exact, "_ENCODE_UP_TO", 0)
    monkeypatch.setattr(exact, "_SAMPLE_FROM", 1 << 62)
    monkeypatch.setattr(exact, "_PREFILTER_FROM", 1 << 62)
    whole = duplicate_groups(arrays)
    monkeypatch.setattr(exact, "_PREFILTER_FROM", 0)
    return whole, duplicate_groups(arrays)


@pytest.mark.parametrize("dup_share", [0.0, 0.1, 0.9])
def test_prefiltered_labels_equal_sorting_every_row(monkeypatch, dup_share):
    rng = np.random.default_rng(5)
    n = 20_000
    src = np.arange(n)
    copies = rng.random(n) < dup_share
    src[copies] = rng.integers(0, n, int(copies.sum()))
    values = [f"row {v} " + "x" * int(v % 50) for v in src]
    whole, pre = both_ways(monkeypatch, [pa.array(values)])
    assert whole.tolist() == pre.tolist() == reference(values)


def test_colliding_digests_are_still_told_apart():
    # digests equal in their top bits (one shared bucket): grouped by the full digest, so only
    # the true repeats share a label
    digest = np.array([5, 5, 7, 5 | (1 << 20), 7, 9], dtype=np.uint64)
    first, moved = exact._group_shared_buckets(digest, digest.size)
    assert first.tolist() == [0, 0, 2, 3, 2, 5]
    assert sorted(moved.tolist()) == [1, 4]


@settings(max_examples=examples(), deadline=None)
@given(values=st.lists(st.sampled_from(["a", "b", "", "long value " * 5, "é"]) | st.text(max_size=6),
                       max_size=60))
def test_any_text_gets_first_occurrence_labels_both_ways(values):
    with pytest.MonkeyPatch.context() as mp:
        whole, pre = both_ways(mp, [pa.array(values, pa.string())])
    assert whole.tolist() == pre.tolist() == reference(values)
