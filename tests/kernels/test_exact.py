"""Tests for dsc.kernels.exact.duplicate_groups."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.kernels import exact
from dsc.kernels.exact import duplicate_groups
from hypothesis_budget import examples


def reference(rows: list[tuple]) -> list[int]:
    """Smallest index of an equal row, by Python equality (None == None, NaN == NaN)."""
    def key(v):
        if isinstance(v, float) and math.isnan(v):
            return ("nan",)
        if isinstance(v, float) and v == 0:
            return 0.0  # -0.0 == 0.0
        return v

    first: dict = {}
    return [first.setdefault(tuple(key(v) for v in r), i) for i, r in enumerate(rows)]


# Routes through the kernel: text columns dictionary-encoded (few distinct values), all
# hashed to signatures and verified (many distinct values), or as the sample decides.
ROUTES = {
    "encode": {"_ENCODE_UP_TO": 1 << 62, "_SAMPLE_FROM": 1 << 62},
    "signature": {"_ENCODE_UP_TO": 0, "_SAMPLE_FROM": 0, "_FEW_DISTINCT": -1.0},
    "sampled": {"_ENCODE_UP_TO": 0, "_SAMPLE_FROM": 0},
}


def grouped(arrays, route: str) -> np.ndarray:
    """duplicate_groups with text columns forced down one route."""
    saved = {name: getattr(exact, name) for name in ROUTES[route]}
    try:
        for name, value in ROUTES[route].items():
            setattr(exact, name, value)
        return duplicate_groups(arrays)
    finally:
        for name, value in saved.items():
            setattr(exact, name, value)


def check(columns: list[list], types: list[pa.DataType]) -> np.ndarray:
    arrays = [pa.array(c, t) for c, t in zip(columns, types)]
    rows = list(zip(*columns)) if columns[0] else []
    for route in ROUTES:
        cluster = grouped(arrays, route)
        assert cluster.dtype == np.int64
        assert cluster.tolist() == reference(rows), route
    if rows:
        # pandas treats None and NaN alike; Arrow (and dsc) keep NaN a value, distinct from null
        columns = [["<null>" if v is None else v for v in c] for c in columns]
        frame = pd.DataFrame({f"c{i}": pd.Series(c, dtype=object) for i, c in enumerate(columns)})
        assert np.array_equal(cluster != np.arange(len(rows)), frame.duplicated().to_numpy())
    return cluster


def test_single_column_with_nulls():
    cluster = check([["a", "b", "a", None, "", None, ""]], [pa.string()])
    assert cluster.tolist() == [0, 1, 0, 3, 4, 3, 4]  # null == null, null != ""


def test_multi_column():
    check(
        [["x", "x", "y", "x", "x"], [1, 2, 1, 1, None], ["p", "p", "p", "p", "p"]],
        [pa.large_string(), pa.int64(), pa.string()],
    )


def test_float_semantics_follow_pandas():
    cluster = check([[0.0, -0.0, float("nan"), float("nan"), None, 1.5]], [pa.float64()])
    assert cluster.tolist() == [0, 0, 2, 2, 4, 5]


def test_binary_dictionary_and_view_columns():
    values = ["a", "bb", "a", None, "bb"]
    expected = [0, 1, 0, 3, 1]
    binary = pa.array([v and v.encode() for v in values], pa.binary())
    assert duplicate_groups([binary]).tolist() == expected
    assert duplicate_groups([pa.array(values).dictionary_encode()]).tolist() == expected
    assert duplicate_groups([pa.array(values, pa.string_view())]).tolist() == expected
    # a dictionary that repeats a value must still compare by value
    repeated = pa.DictionaryArray.from_arrays(pa.array([0, 1, 2]), pa.array(["z", "z", "q"]))
    assert duplicate_groups([repeated]).tolist() == [0, 0, 2]


def test_nested_columns():
    lists = pa.array([[1.0, 2.0], [1.0], [1.0, 2.0], None, [], None, [float("nan")], [float("nan")]])
    assert duplicate_groups([lists]).tolist() == [0, 1, 0, 3, 4, 3, 6, 6]
    structs = pa.array([{"a": 1, "b": "x"}, {"a": 1, "b": "y"}, {"a": 1, "b": "x"}])
    assert duplicate_groups([structs, pa.array(["k", "k", "k"])]).tolist() == [0, 1, 0]


def test_chunked_and_sliced_input_give_the_same_labels():
    values = ["a" * 40, "b", None, "a" * 40, "b", "c" * 70, "c" * 70, None]
    flat = pa.array(values)
    chunked = pa.chunked_array([flat.slice(0, 3), flat.slice(3, 0), flat.slice(3)])
    expected = duplicate_groups([flat]).tolist()
    assert duplicate_groups([chunked]).tolist() == expected
    padded = pa.array(["zz"] + values + ["zz"]).slice(1, len(values))
    assert duplicate_groups([padded]).tolist() == expected


def test_edge_cases_and_errors():
    assert duplicate_groups([pa.array([], pa.string())]).tolist() == []
    assert duplicate_groups([pa.array([""] * 5)]).tolist() == [0] * 5
    assert duplicate_groups([pa.array([None] * 3, pa.string())]).tolist() == [0] * 3
    with pytest.raises(ValueError):
        duplicate_groups([])
    with pytest.raises(ValueError):
        duplicate_groups([pa.array(["a"]), pa.array(["a", "b"])])


def test_near_identical_strings_are_never_merged():
    # Same length, same first and last 32 bytes, differing only in the middle:
    # every row has the same signature, so all of them go through the exact path.
    base = "p" * 40 + "{}" + "s" * 40
    values = [base.format(f"{i % 37:02d}") for i in range(500)]
    cluster = check([values], [pa.large_string()])
    assert len(set(cluster.tolist())) == 37


@pytest.mark.parametrize("weak", [lambda arr: np.zeros(len(arr), np.uint64),
                                  lambda arr: np.diff(exact.utf8_buffers(arr)[0]).astype(np.uint64)])
def test_exact_even_when_every_signature_collides(monkeypatch, weak):
    monkeypatch.setattr(exact, "_bytes_signature", weak)
    rng = np.random.default_rng(7)
    words = ["ab", "ba", "abc", "", None, "x" * 50]
    a = [words[i] for i in rng.integers(0, len(words), 300)]
    b = [words[i] for i in rng.integers(0, len(words), 300)]
    check([a, b], [pa.string(), pa.large_string()])


def test_windows_read_only_their_own_value():
    # Short values at both ends of the buffer and between long neighbours.
    values = ["", "a", "ab" * 20, "a", "", "b" * 31, "b" * 32, "b" * 33, "a", "ab" * 20, "b" * 31, ""]
    check([values], [pa.string()])


_text = st.one_of(
    st.none(),
    st.sampled_from(["", "a", "A", "a" * 33, "a" * 32 + "b", "b" + "a" * 32, "é" * 20, "\x00"]),
    st.text(max_size=70),
)


@settings(max_examples=examples(2), deadline=None)
@given(
    data=st.data(),
    n=st.integers(0, 40),
    kinds=st.lists(st.sampled_from(["text", "int", "float"]), min_size=1, max_size=3),
)
def test_matches_pandas_on_random_tables(data, n, kinds):
    columns, types = [], []
    for kind in kinds:
        if kind == "text":
            pool = data.draw(st.lists(_text, min_size=1, max_size=5))
            columns.append([data.draw(st.sampled_from(pool)) for _ in range(n)])
            types.append(data.draw(st.sampled_from([pa.string(), pa.large_string()])))
        elif kind == "int":
            ints = st.one_of(st.none(), st.integers(-2, 2))
            columns.append(data.draw(st.lists(ints, min_size=n, max_size=n)))
            types.append(pa.int64())
        else:
            floats = st.sampled_from([0.0, -0.0, 1.0, float("nan"), None])
            columns.append(data.draw(st.lists(floats, min_size=n, max_size=n)))
            types.append(pa.float64())
    check(columns, types)


def test_work_split_into_passes_gives_the_same_labels(monkeypatch):
    monkeypatch.setattr(exact, "_ROWS_PER_PASS", 3)  # verification batches
    monkeypatch.setattr(exact, "_SIGNATURE_ROWS", 2)  # signature blocks
    values = ["a" * 40, "b", None, "a" * 40, "b", "", "c" * 70, "c" * 70, None, "", "b"]
    check([values, [1, 1, 2, 1, 1, 0, 3, 3, 2, 0, 1]], [pa.string(), pa.int64()])


@pytest.mark.parametrize("jit_from", [0, 1 << 62], ids=["hash table", "sort"])
def test_exact_when_every_combined_signature_collides(monkeypatch, jit_from):
    # A finaliser returning zeros gives every row of several columns the same key: the values
    # themselves must still tell the rows apart, on either grouping route.
    monkeypatch.setattr(exact, "_fmix64", lambda h: np.zeros_like(h))
    monkeypatch.setattr(exact, "_JIT_FROM", jit_from)
    rng = np.random.default_rng(11)
    words = ["ab", "ba", "", None, "x" * 50, "x" * 49 + "y"]
    a = [words[i] for i in rng.integers(0, len(words), 200)]
    b = [int(i) for i in rng.integers(0, 3, 200)]
    c = [words[i] for i in rng.integers(0, 3, 200)]
    check([a, b, c], [pa.string(), pa.int64(), pa.large_string()])
    check([b, b], [pa.int64(), pa.int64()])


def test_sample_picks_the_route_for_larger_columns():
    rng = np.random.default_rng(5)
    n = 50_000
    few = pa.array([f"value {i}" for i in rng.integers(0, 40, n)])
    many = pa.array([f"value {i}" for i in rng.permutation(n)])
    assert exact._few_distinct(few) and not exact._few_distinct(many)
    both = pa.array([f"v{i % 7}" for i in range(n)])
    for columns in ([few], [many], [few, both], [many, few]):
        rows = list(zip(*(c.to_pylist() for c in columns)))
        assert duplicate_groups(columns).tolist() == reference(rows)


def test_codes_out_of_first_appearance_order_still_group_exactly():
    assert exact._labels_of_codes(np.array([2, 0, 2, 1, 0]), 3).tolist() == [0, 1, 0, 3, 1]
