"""Content ids computed per batch must be the ids of the row-by-row definition."""

import datetime as dt

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.io import rowids
from dsc.io.rowids import content_ids, table_content_ids
from hypothesis_budget import examples

_text = st.text(st.characters(exclude_categories=("Cs",)), max_size=8)
# Few distinct values, so that repeated rows (numbered ~2, ~3...) are common.
_columns = {
    "s": (st.one_of(st.none(), st.sampled_from(["a", "é", 'q"\\\n', "\x00\x1f\u2028"]), _text), pa.string()),
    "i": (st.one_of(st.none(), st.integers(-(2**63), 2**63 - 1), st.integers(-2, 2)), pa.int64()),
    "u": (st.one_of(st.none(), st.integers(0, 2**64 - 1)), pa.uint64()),
    "b": (st.one_of(st.none(), st.booleans()), pa.bool_()),
    "f": (st.one_of(st.none(), st.floats(allow_nan=False), st.sampled_from([1.0, -0.0, 2.5])), pa.float64()),
    "l": (st.one_of(st.none(), st.lists(st.integers(0, 3), max_size=2)), pa.list_(pa.int64())),
    "z": (st.none(), pa.null()),
}


@st.composite
def tables(draw):
    names = draw(st.lists(st.sampled_from(sorted(_columns)), min_size=1, max_size=4, unique=True))
    rows = draw(st.integers(0, 12))
    return pa.table({n: pa.array([draw(_columns[n][0]) for _ in range(rows)], _columns[n][1]) for n in names})


@settings(max_examples=examples(2), deadline=None)
@given(table=tables())
def test_batch_ids_equal_the_row_by_row_ids(table):
    assert table_content_ids(table).to_pylist() == content_ids(table.to_pylist())


def test_ids_over_several_batches_number_repeats_in_read_order(monkeypatch):
    monkeypatch.setattr(rowids, "_BATCH_ROWS", 3)
    table = pa.table({"a": ["x", "y", "x", "x", "z", "y", "x"], "d": [dt.date(2020, 1, 1)] * 7})
    ids = table_content_ids(table)
    assert ids.type == pa.string()
    assert ids.to_pylist() == content_ids(table.to_pylist())
    assert [i.partition("~")[2] for i in ids.to_pylist()] == ["", "", "2", "3", "", "2", "4"]


def test_an_empty_table_has_no_ids():
    assert table_content_ids(pa.table({"a": pa.array([], pa.string())})).to_pylist() == []


_plain_chars = st.sampled_from(list('ab"\\\x00\x1f\n\x7f\u2028\u2029é中😀'))
_plain_text = st.one_of(st.none(), st.text(_plain_chars, max_size=20))
_plain_names = st.lists(st.sampled_from(["a", "b", "", "é", 'k"ey', "\n", "😀", "a\x00"]), min_size=1, max_size=4,
                        unique=True)


@settings(max_examples=examples(2), deadline=None)
@given(names=_plain_names, data=st.data(), batch=st.sampled_from([1, 3, 8192]))
def test_plain_tables_are_hashed_column_wise_to_the_same_ids(names, data, batch):
    """Strings, integers, booleans and nulls take the compiled path; its ids are the row-by-row ones."""
    rows = data.draw(st.integers(0, 10))
    kinds = [(_plain_text, pa.string()), (_plain_text, pa.large_string()), (_columns["u"][0], pa.uint64()),
             (_columns["i"][0], pa.int64()), (_columns["b"][0], pa.bool_()), (st.none(), pa.null())]
    columns = {}
    for name in names:
        values, type_ = data.draw(st.sampled_from(kinds))
        columns[name] = pa.array([data.draw(values) for _ in range(rows)], type_)
    table = pa.table(columns)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(rowids, "_BATCH_ROWS", batch)
        patch.setattr(rowids, "_python_digests", lambda _: pytest.fail("a plain batch went row by row"))
        ids = table_content_ids(table).to_pylist()
    assert ids == content_ids(table.to_pylist())


@settings(max_examples=examples(2), deadline=None)
@given(picks=st.lists(st.integers(0, 5), max_size=60))
def test_numbered_counts_each_digests_occurrences_in_order(picks):
    pool = [bytes([k]) * 8 for k in range(6)]
    seen: dict[bytes, int] = {}
    expected = []
    for k in picks:
        seen[pool[k]] = seen.get(pool[k], 0) + 1
        expected.append(pool[k].hex() + (f"~{seen[pool[k]]}" if seen[pool[k]] > 1 else ""))
    assert rowids._numbered(b"".join(pool[k] for k in picks)).to_pylist() == expected
