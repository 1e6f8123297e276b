"""Tests for dsc.kernels.survivors: survivors() and keep_order()."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.kernels.survivors import KEEP_RULES, keep_order, survivors
from hypothesis_budget import examples

# Two clusters {0, 1, 3, 5} and {2, 4} plus a singleton 6.  Source positions are
# deliberately not in index order, so "first" in source order differs from "first" by index.
CLUSTER = np.array([0, 0, 2, 0, 2, 0, 6])
POSITION = np.array([5, 2, 9, 7, 1, 3, 0])


def run(keep, **kw):
    return survivors(CLUSTER, keep, position=POSITION, **kw).tolist()


def test_first_and_last_go_by_source_position():
    assert run("first") == [1, 1, 4, 1, 4, 1, 6]  # positions 2 and 1
    assert run("last") == [3, 3, 2, 3, 2, 3, 6]  # positions 7 and 9
    # without positions, the row index is the source order (what the engines hand over)
    assert survivors(CLUSTER, "first").tolist() == [0, 0, 2, 0, 2, 0, 6]
    assert survivors(CLUSTER, "last").tolist() == [5, 5, 4, 5, 4, 5, 6]


def test_longest_and_shortest_break_ties_by_source_position():
    lengths = np.array([9, 4, 3, 9, 3, 4, 1])
    # longest in cluster 0: rows 0 and 3 (9) -> position 5 < 7; cluster 2 tie (3, 3) -> position 1
    assert run("longest", lengths=lengths) == [0, 0, 4, 0, 4, 0, 6]
    # shortest in cluster 0: rows 1 and 5 (4) -> position 2 < 3
    assert run("shortest", lengths=lengths) == [1, 1, 4, 1, 4, 1, 6]


def test_by_column_nulls_and_nan_never_win():
    score = pa.array([1.0, None, None, float("nan"), None, 1.0, None])
    # cluster 0: 1.0 at rows 0 (position 5) and 5 (position 3) -> row 5; cluster 2: all null -> the first read
    assert run("by", by=score) == [5, 5, 4, 5, 4, 5, 6]
    assert run("by", by=score, descending=False) == [5, 5, 4, 5, 4, 5, 6]
    dates = pa.array(["2024-01-02", "2023-05-01", "2020-01-01", "2025-01-01", None, None, None])
    assert run("by", by=dates) == [3, 3, 2, 3, 2, 3, 6]
    assert run("by", by=pa.chunked_array([dates.slice(0, 2), dates.slice(2)]), descending=False) == [
        1, 1, 2, 1, 2, 1, 6
    ]


def test_keep_none_drops_whole_clusters_but_not_singletons():
    assert run("none") == [-1, -1, -1, -1, -1, -1, 6]


def test_singletons_always_survive():
    cluster = np.arange(5)
    for keep in ("first", "last", "none"):
        assert survivors(cluster, keep, position=np.array([4, 3, 2, 1, 0])).tolist() == [0, 1, 2, 3, 4]


def test_keep_order_lists_rows_as_the_rule_prefers_them():
    lengths = np.array([9, 4, 3, 9, 3, 4, 1])
    assert keep_order("first", 7, position=POSITION).tolist() == [6, 4, 1, 5, 0, 3, 2]
    assert keep_order("last", 7, position=POSITION).tolist() == [2, 3, 0, 5, 1, 4, 6]
    assert keep_order("none", 4).tolist() == [0, 1, 2, 3]
    assert keep_order("longest", 7, lengths=lengths, position=POSITION).tolist() == [0, 3, 1, 5, 4, 2, 6]
    assert keep_order("by", 3, by=pa.array([None, 2, 7])).tolist() == [2, 1, 0]
    assert keep_order("by", 3, by=pa.array([None, 2, 7]), descending=False).tolist() == [1, 2, 0]
    # the first row of every cluster in keep order is the row survivors() keeps for it
    for keep, kw in (("first", {}), ("last", {}), ("longest", {"lengths": lengths}),
                     ("shortest", {"lengths": lengths})):
        order = keep_order(keep, 7, position=POSITION, **kw)
        head = {}
        for i in order.tolist():
            head.setdefault(int(CLUSTER[i]), i)
        assert run(keep, **kw) == [head[int(c)] for c in CLUSTER]


def test_empty_and_errors():
    assert survivors(np.array([], np.int64), "first").tolist() == []
    assert keep_order("first", 0).tolist() == []
    with pytest.raises(ValueError, match="unknown keep rule"):
        run("biggest")
    with pytest.raises(ValueError, match="lengths"):
        run("longest")
    with pytest.raises(ValueError, match="by column"):
        run("by")
    with pytest.raises(ValueError, match="distinct"):
        survivors(np.array([0, 0]), "first", position=np.array([3, 3]))
    with pytest.raises(ValueError, match="entries"):
        survivors(np.array([0, 0]), "first", position=np.array([1]))


def test_keep_hash_keeps_the_smallest_row_id_whatever_the_order():
    ids = pa.array(["c", "a", "f", "b", "e", "d", "g"])
    # cluster 0: rows 0, 1, 3, 5 -> "a" (row 1); cluster 2: rows 2, 4 -> "e" (row 4)
    assert run("hash", row_ids=ids) == [1, 1, 4, 1, 4, 1, 6]
    assert keep_order("hash", 7, row_ids=ids).tolist() == [1, 3, 0, 5, 4, 2, 6]
    # the same rows in another order (positions too) keep the same ids
    perm = np.array([6, 3, 5, 0, 2, 1, 4])
    again = survivors(CLUSTER[perm], "hash", position=POSITION[perm], row_ids=ids.take(pa.array(perm)))
    assert sorted({ids[perm[s]].as_py() for s in again.tolist()}) == ["a", "e", "g"]
    # equal ids (a key column that repeats) go to the row read first
    assert survivors(np.array([0, 0, 0]), "hash", position=np.array([4, 1, 7]),
                     row_ids=["k", "k", "j"]).tolist() == [2, 2, 2]
    assert survivors(np.array([0, 0]), "hash", row_ids=["k", "k"]).tolist() == [0, 0]


def test_keep_hash_needs_a_row_id_on_every_row():
    with pytest.raises(ValueError, match="row ids"):
        run("hash")
    with pytest.raises(ValueError, match="every row"):
        survivors(np.array([0, 0]), "hash", row_ids=["a", None])
    with pytest.raises(ValueError, match="entries"):
        survivors(np.array([0, 0]), "hash", row_ids=["a"])


@st.composite
def _tables(draw):
    n = draw(st.integers(1, 30))
    group = draw(st.lists(st.integers(0, 5), min_size=n, max_size=n))
    ids = draw(st.lists(st.integers(0, 10**6), min_size=n, max_size=n, unique=True))  # source positions
    lengths = draw(st.lists(st.integers(0, 3), min_size=n, max_size=n))
    by = draw(st.lists(st.one_of(st.none(), st.integers(0, 3)), min_size=n, max_size=n))
    perm = draw(st.permutations(range(n)))
    return np.array(group), ids, np.array(lengths), by, np.array(perm)


def _labels(group: np.ndarray) -> np.ndarray:
    """Cluster label = smallest index with the same group, as the dedupe kernels produce."""
    first: dict[int, int] = {}
    return np.array([first.setdefault(int(g), i) for i, g in enumerate(group)])


def _hash_of(position: int) -> str:
    """A row id unlike its position (an odd multiplier is a bijection mod 2**32): what content hashes look like."""
    return f"{(position * 2654435761) % 2**32:010d}"


def _surviving_ids(group, ids, lengths, by, keep, descending):
    out = survivors(_labels(group), keep, position=np.array(ids), lengths=lengths, by=pa.array(by, pa.int64()),
                    descending=descending, row_ids=pa.array([_hash_of(i) for i in ids]))
    return [None if s < 0 else ids[s] for s in out]


@settings(max_examples=examples(2), deadline=None)
@given(table=_tables(), keep=st.sampled_from(KEEP_RULES), descending=st.booleans())
def test_survivors_do_not_depend_on_row_order(table, keep, descending):
    group, ids, lengths, by, perm = table
    before = _surviving_ids(group, ids, lengths, by, keep, descending)
    after = _surviving_ids(group[perm], [ids[p] for p in perm], lengths[perm], [by[p] for p in perm],
                           keep, descending)
    back = [None] * len(ids)
    for new, old in enumerate(perm):
        back[old] = after[new]
    assert back == before
    # and each survivor is a member of the row's own cluster (or -1 for keep="none")
    for i, sid in enumerate(before):
        if sid is None:
            assert keep == "none" and (group == group[i]).sum() >= 2
        else:
            assert group[ids.index(sid)] == group[i]
