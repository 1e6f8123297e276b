"""dsc.kernels.exact groups 64-bit keys with a compiled hash table from `_JIT_FROM` rows on and
with a numpy sort below: both routes must give every row the first row with its key, exactly,
whatever the keys (tags shared, slots shared, the empty-slot bit pattern as a key)."""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.kernels import exact
from dsc.kernels.exact import duplicate_groups
from hypothesis_budget import examples

ALL_ONES = (1 << 64) - 1


def reference(values) -> list[int]:
    first: dict = {}
    return [first.setdefault(v, i) for i, v in enumerate(values)]


def both_routes(monkeypatch, keys: np.ndarray, workers: int = 1):
    """(first, moved) of the hash table (partitioned over `workers` threads) and of the sort."""
    monkeypatch.setattr(exact, "_JIT_FROM", 0)
    table = exact._first_of_keys(keys, workers)
    monkeypatch.setattr(exact, "_JIT_FROM", 1 << 62)
    return table, exact._first_of_keys(keys)


def assert_first_labels(monkeypatch, keys: np.ndarray) -> None:
    expected = reference(keys.tolist())
    for workers in (1, 2, 5):  # one table; two partitions; four partitions on five threads
        (first, moved), (sorted_first, sorted_moved) = both_routes(monkeypatch, keys, workers)
        assert first.tolist() == sorted_first.tolist() == expected
        assert moved.tolist() == sorted_moved.tolist() == [i for i, f in enumerate(expected) if f != i]


def test_a_partition_holding_every_key_still_has_room(monkeypatch):
    # Keys whose mixed value starts with a 0 bit all fall in the first of two partitions: its table
    # is sized from the rows it really gets, not from an even share.
    rng = np.random.default_rng(4)
    keys = rng.integers(0, 1 << 62, 30_000).astype(np.uint64)
    keys = keys[(keys * exact._MIX) >> np.uint64(63) == 0][:10_000]
    keys = np.concatenate([keys, keys[::3]])
    assert_first_labels(monkeypatch, keys)


def test_keys_sharing_their_tag_are_told_apart(monkeypatch):
    # The tag is the low half of key * _MIX, which depends only on the key's low 32 bits: keys
    # equal there share a tag, and only the whole key separates them.
    rng = np.random.default_rng(3)
    keys = (rng.integers(0, 50, 5_000).astype(np.uint64) << np.uint64(32)) | np.uint64(7)
    assert_first_labels(monkeypatch, keys)


def test_extreme_keys_including_the_empty_slot_pattern(monkeypatch):
    keys = np.array([ALL_ONES, 0, ALL_ONES, 1, 0, ALL_ONES - 1, 1 << 63, 1 << 63, ALL_ONES], dtype=np.uint64)
    assert_first_labels(monkeypatch, keys)
    signed = np.array([-1, 0, -1, -(1 << 63), 5, -(1 << 63)], dtype=np.int64)  # codes are int64
    assert_first_labels(monkeypatch, signed)


@pytest.mark.parametrize("dup_share", [0.0, 0.1, 0.9])
def test_full_table_at_any_share_of_repeats(monkeypatch, dup_share):
    # Many keys per slot run (a table twice the rows, most of them repeats or none)
    rng = np.random.default_rng(5)
    n = 20_000
    src = rng.integers(0, 1 << 62, n).astype(np.uint64)
    copies = rng.random(n) < dup_share
    src[copies] = src[rng.integers(0, n, int(copies.sum()))]
    assert_first_labels(monkeypatch, src)


@settings(max_examples=examples(), deadline=None)
@given(keys=st.lists(st.sampled_from([0, 1, 2, ALL_ONES, 1 << 32, (1 << 32) | 1, 1 << 63])
                     | st.integers(0, ALL_ONES), max_size=80))
def test_any_keys_get_first_occurrence_labels_both_ways(keys):
    with pytest.MonkeyPatch.context() as mp:
        assert_first_labels(mp, np.array(keys, dtype=np.uint64))


@pytest.mark.parametrize("dup_share", [0.0, 0.1, 0.9])
def test_text_labels_equal_on_both_routes(monkeypatch, dup_share):
    # The whole kernel on the signature route (the one that groups 64-bit keys)
    monkeypatch.setattr(exact, "_ENCODE_UP_TO", 0)
    monkeypatch.setattr(exact, "_SAMPLE_FROM", 1 << 62)
    rng = np.random.default_rng(5)
    n = 20_000
    src = np.arange(n)
    copies = rng.random(n) < dup_share
    src[copies] = rng.integers(0, n, int(copies.sum()))
    values = [f"row {v} " + "x" * int(v % 50) for v in src]
    labels = []
    for jit_from in (0, 1 << 62):
        monkeypatch.setattr(exact, "_JIT_FROM", jit_from)
        labels.append(duplicate_groups([pa.array(values)]).tolist())
    assert labels[0] == labels[1] == reference(values)


@pytest.mark.parametrize("digest", [lambda h: np.zeros_like(h), lambda h: h & np.uint64(3)],
                         ids=["all collide", "four digests"])
def test_sort_route_regroups_colliding_digests_exactly(monkeypatch, digest):
    # The sort groups on a 32-bit digest of the key; rows whose digests merely collide must
    # come apart again, however many share one.
    monkeypatch.setattr(exact, "_fmix64", digest)
    rng = np.random.default_rng(8)
    keys = rng.integers(0, 300, 4_000).astype(np.uint64) * np.uint64(0x100000001)
    first, moved = exact._sort_first_of_keys(keys)
    expected = reference(keys.tolist())
    assert first.tolist() == expected
    assert moved.tolist() == [i for i, f in enumerate(expected) if f != i]
