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
# The "compiled" routes use what larger inputs use (from _JIT_FROM rows on): the compiled hash
# table and the in-place compare, on one thread or several (4 workers: 4 hash table partitions).
SIGNATURE = {"_ENCODE_UP_TO": 0, "_SAMPLE_FROM": 0, "_FEW_DISTINCT": -1.0}
ROUTES = {
    "encode": {"_ENCODE_UP_TO": 1 << 62, "_SAMPLE_FROM": 1 << 62},
    "signature": SIGNATURE,
    "sampled": {"_ENCODE_UP_TO": 0, "_SAMPLE_FROM": 0},
    "compiled": {**SIGNATURE, "_JIT_FROM": 0},
    "compiled, 2 workers": {**SIGNATURE, "_JIT_FROM": 0, "workers": 2},
    "compiled, 4 workers": {**SIGNATURE, "_JIT_FROM": 0, "workers": 4},
}


def grouped(arrays, route: str, workers: int | None = None) -> np.ndarray:
    """duplicate_groups with text columns forced down one route (on the route's workers, or on
    ``workers`` when given)."""
    settings = dict(ROUTES[route])
    workers = settings.pop("workers", 1) if workers is None else workers
    saved = {name: getattr(exact, name) for name in settings}
    try:
        for name, value in settings.items():
            setattr(exact, name, value)
        return duplicate_groups(arrays, workers=workers)
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


def _signing(fn):
    """A stand-in for `exact._bytes_signature` giving `fn(arr)`, written into `out` as it is."""
    def sign(arr, compiled=False, out=None):
        sig = fn(arr)
        if out is None:
            return sig
        out[:] = sig
        return out
    return sign


@pytest.mark.parametrize("weak", [lambda arr: np.zeros(len(arr), np.uint64),
                                  lambda arr: np.diff(exact.utf8_buffers(arr)[0]).astype(np.uint64)])
def test_exact_even_when_every_signature_collides(monkeypatch, weak):
    monkeypatch.setattr(exact, "_bytes_signature", _signing(weak))
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


def in_place_and_copied(col, a, b, workers=1) -> tuple[list, list]:
    return (exact._equal_rows_in_place(col, np.array(a), np.array(b), workers).tolist(),
            exact._equal_rows(col, np.array(a), np.array(b)).tolist())


@pytest.mark.parametrize("kind", [pa.string(), pa.large_string(), pa.binary(), pa.large_binary()])
def test_in_place_compare_agrees_with_arrow(kind):
    # lengths around the 8-byte step (0, 7, 8, 9, 16, 17), a difference in the last byte only,
    # nulls (equal to nulls only, never to ""), and a slice whose offsets do not start at 0
    values = ["", "abcdefg", "abcdefgh", "abcdefgi", "abcdefghi", "a" * 16, "a" * 16, "a" * 17,
              "a" * 16 + "b", None, None, "", "x" * 40, "x" * 39 + "y", "é" * 9, "é" * 9]
    raw = [v if v is None or not pa.types.is_binary(kind) and not pa.types.is_large_binary(kind)
           else v.encode() for v in values]
    col = pa.array(["pad"] + raw, kind).slice(1)
    n = len(values)
    a, b = np.meshgrid(np.arange(n), np.arange(n))
    mine, arrow = in_place_and_copied(col, a.ravel(), b.ravel())
    expected = [values[i] == values[j] for i, j in zip(a.ravel(), b.ravel())]
    assert mine == arrow == expected
    assert in_place_and_copied(col, a.ravel(), b.ravel(), workers=3)[0] == expected


@pytest.mark.parametrize("cut", ["a few chunks", "a chunk per row"])
def test_in_place_compare_of_chunked_columns(cut):
    # Pairs across chunks, empty chunks, sliced chunks and a chunk of its own buffers; with a chunk per row
    # every pair joins two different chunks (once grouped by (chunk, chunk), now by address).
    rng = np.random.default_rng(3)
    words = ["a" * 20, "a" * 19 + "b", "b", None, "", "c" * 9]
    values = [words[i] for i in rng.integers(0, len(words), 400)]
    flat = pa.array(values)
    if cut == "a few chunks":
        chunked = pa.chunked_array([flat.slice(0, 150), flat.slice(150, 0), flat.slice(150, 50),
                                    pa.array(values[200:])])
    else:
        chunked = pa.chunked_array([flat.slice(i, 1) for i in range(len(values))])
    a, b = rng.integers(0, 400, 2000), rng.integers(0, 400, 2000)
    expected = [values[i] == values[j] for i, j in zip(a, b)]
    for workers in (1, 2):
        mine, arrow = in_place_and_copied(chunked, a, b, workers)
        assert mine == arrow == expected


def test_in_place_compare_never_reads_a_null_slot():
    # Arrow lets a null slot span bytes (offsets 2..5 here, "xyz"): the null still equals only
    # nulls, not the value "xyz" its bytes would spell, nor "" (a null's length is taken as 0).
    offsets = pa.py_buffer(np.array([0, 2, 5, 8, 8, 8], dtype=np.int32).tobytes())
    data = pa.py_buffer(b"abxyzxyz")
    validity = pa.py_buffer(np.packbits([1, 0, 1, 1, 0, 0, 0, 0], bitorder="little").tobytes())
    col = pa.Array.from_buffers(pa.string(), 5, [validity, offsets, data])
    assert col.to_pylist() == ["ab", None, "xyz", "", None]
    a, b = [1, 1, 1, 1, 3, 0], [4, 2, 3, 1, 4, 0]
    for chunked in (col, pa.chunked_array([col.slice(0, 2), col.slice(2)])):
        assert in_place_and_copied(chunked, a, b) == ([True, False, False, True, False, True],) * 2


@settings(max_examples=examples(), deadline=None)
@given(data=st.data(), workers=st.integers(1, 4), kind=st.sampled_from([pa.string(), pa.large_string()]))
def test_any_chunking_and_workers_give_the_same_labels(data, workers, kind):
    # The compiled route (signatures, hash table, compare by address) on a column cut into many
    # small chunks (1-50 rows): the same labels as Python's, with any number of workers.
    pool = data.draw(st.lists(_text, min_size=1, max_size=8))
    values = data.draw(st.lists(st.sampled_from(pool), min_size=1, max_size=300))
    chunks, at = [], 0
    while at < len(values):
        size = data.draw(st.integers(1, 50))
        chunks.append(pa.array(values[at : at + size], kind))
        at += size
    cluster = grouped([pa.chunked_array(chunks, kind)], "compiled", workers)
    assert cluster.tolist() == reference([(v,) for v in values])


@pytest.mark.parametrize("workers", [1, 2, 3, 8])
def test_labels_on_threads_are_the_labels_of_one(monkeypatch, workers):
    # A larger table (from _JIT_FROM rows on the compiled route is taken anyway), chunked as N
    # workers leave a column, with repeats of values that differ only in the middle.
    monkeypatch.setattr(exact, "_JIT_FROM", 1 << 10)
    monkeypatch.setattr(exact, "_SIGNATURE_ROWS", 1 << 9)  # several signature blocks per thread
    rng = np.random.default_rng(workers)
    n = 6_000
    src = rng.integers(0, 2_500, n)
    values = [None if v % 97 == 0 else "p" * 40 + str(v % 50) + "s" * 40 if v % 3 == 0 else f"row {v}" for v in src]
    flat = pa.array(values)
    chunked = pa.chunked_array([flat.slice(0, 2_000), flat.slice(2_000, 3_000), flat.slice(5_000)])
    expected = reference([(v,) for v in values])
    for col in (flat, chunked):
        assert duplicate_groups([col], workers=workers).tolist() == expected
        assert duplicate_groups([col, pa.array(src % 2)], workers=workers).tolist() == \
            reference(list(zip(values, (src % 2).tolist())))


def test_the_operator_on_threads_writes_the_same_parquet_bytes(monkeypatch):
    # `dedupe exact` with 3 workers: labels and the kept rows' copy on threads. The kept table
    # comes back cut into the same chunks (what parquet bytes could show), with the same rows, the
    # same removed rows, and the parquet file dsc writes is the same as with 1 worker.
    import io
    from pathlib import Path

    from dsc.engines.export import write_parquet
    from dsc.ops import runtime
    from dsc.ops.dedupe_exact import DedupeExact
    from dsc.reserved import ID

    monkeypatch.setattr(exact, "_JIT_FROM", 1 << 10)
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 100)
    monkeypatch.setattr("dsc.engines.export.PARQUET_ROWS", 700)  # row groups that cut across the slices
    rng = np.random.default_rng(12)
    n = 4_000
    values = [None if v == 0 else "x" * 40 + str(v) + "y" * 40 for v in rng.integers(0, 1_500, n)]
    tbl = pa.table({ID: [f"r{i}" for i in range(n)], "q": values})
    params = {"columns": ["q"], "keep": "first", "ignoring": []}
    one, three = (DedupeExact.apply(tbl, params, runtime.RunContext(base_dir=Path("."), workers=w)) for w in (1, 3))
    assert [len(c) for c in three.table.column("q").chunks] == [len(c) for c in one.table.column("q").chunks]
    assert three.table.equals(one.table) and three.removed.equals(one.removed)
    assert all(np.array_equal(a, b) for a, b in zip(one.positions, three.positions))
    assert three.table.column("q").to_pylist() == list(dict.fromkeys(values))  # first of each value, in order
    files = []
    for outcome in (one, three):
        sink = io.BytesIO()
        write_parquet(outcome.table, sink)
        files.append(sink.getvalue())
    assert files[0] == files[1]


@settings(max_examples=examples(2), deadline=None)
@given(values=st.lists(st.integers(-3, 3), max_size=60), wide=st.booleans(),
       type_=st.sampled_from([pa.int8(), pa.int32(), pa.int64(), pa.uint8(), pa.uint64()]),
       cut=st.integers(0, 60))
def test_an_integer_column_keys_the_hash_table_as_it_is(values, wide, type_, cut):
    """One integer column without nulls goes straight to the hash table (its values are their own
    keys); negative, extreme and chunked values group as everywhere else."""
    top = {pa.int8(): 127, pa.int32(): 2**31 - 1, pa.int64(): 2**63 - 1, pa.uint8(): 255, pa.uint64(): 2**64 - 1}[type_]
    values = [(top - abs(v) if wide else v) if pa.types.is_signed_integer(type_) or v >= 0 else top + v
              for v in values]
    arr = pa.array(values, type_)
    column = pa.chunked_array([arr.slice(0, cut), arr.slice(cut)], type_)
    for route in ("compiled", "compiled, 2 workers", "encode"):
        assert grouped([column], route).tolist() == reference([(v,) for v in values]), route
