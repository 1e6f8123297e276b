"""dsc.kernels.select: `filter_table` is Arrow's `Table.filter`, value for value, each column cut
into chunks as Arrow's `ChunkedArray.filter` cuts it, with any number of workers, whether a column
goes through the kernel or through Arrow."""
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.kernels import select
from dsc.kernels.select import filter_table
from tests.hypothesis_budget import examples

TYPES = [pa.string(), pa.large_string(), pa.binary(), pa.large_binary()]


@pytest.fixture
def always_kernel(monkeypatch):
    """Every text column without nulls through the kernel, however short."""
    monkeypatch.setattr(select, "_KERNEL_FROM", 0)
    monkeypatch.setattr(select, "_KERNEL_BYTES", 0)


def chunks_of(column: pa.ChunkedArray) -> list[int]:
    return [len(c) for c in column.chunks]


@st.composite
def tables(draw):
    rows = draw(st.integers(0, 40))
    cuts = sorted({0, rows, *draw(st.lists(st.integers(0, rows), max_size=3))})
    columns = {}
    for k, kind in enumerate(draw(st.lists(st.sampled_from(TYPES), min_size=1, max_size=3))):
        text = st.text(max_size=12)
        value = st.one_of(st.none(), text) if draw(st.booleans()) else text
        values = draw(st.lists(value, min_size=rows, max_size=rows))
        if pa.types.is_binary(kind) or pa.types.is_large_binary(kind):
            values = [None if v is None else v.encode() for v in values]
        head = draw(st.integers(0, 2))  # arrays that are slices of bigger ones
        pad = [values[0] if values else None] * head
        chunks = [pa.array(pad + values[a:b], kind).slice(head) for a, b in zip(cuts, cuts[1:])]
        columns[f"c{k}"] = pa.chunked_array(chunks, kind)
    columns["n"] = pa.chunked_array([pa.array(range(a, b)) for a, b in zip(cuts, cuts[1:])], pa.int64())
    return pa.table(columns)


# The fixture only sets two module constants, the same for every example.
@settings(max_examples=examples(2), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(table=tables(), data=st.data(), workers=st.integers(1, 4))
def test_same_as_arrows_filter(always_kernel, table, data, workers):
    keep = np.array(data.draw(st.lists(st.booleans(), min_size=table.num_rows, max_size=table.num_rows)), bool)
    want = table.filter(pa.array(keep, pa.bool_()))
    got = filter_table(table, keep, workers)
    assert got.schema.equals(want.schema)
    assert got.equals(want)
    for name in table.column_names:
        got_column = got.column(name)
        for chunk in got_column.chunks:
            chunk.validate(full=True)
        assert chunks_of(got_column) == chunks_of(table.column(name).filter(pa.array(keep, pa.bool_())))


def test_runs_of_kept_rows_at_every_edge(always_kernel):
    values = [f"row {i} " + "x" * (i % 7) for i in range(50)]
    table = pa.table({"t": values})
    for keep in (np.zeros(50, bool), np.ones(50, bool), np.arange(50) % 2 == 0, np.arange(50) < 25,
                 np.arange(50) >= 49, np.arange(50) % 10 != 3):
        for workers in (1, 2, 3, 7):
            got = filter_table(table, keep, workers)
            assert got.column("t").to_pylist() == [v for v, k in zip(values, keep) if k]


def test_columns_it_leaves_to_arrow():
    long = pa.chunked_array([pa.array(["x" * 50] * 10)])
    assert not select._by_kernel(long)  # too few rows to load a kernel for
    rows = select._KERNEL_FROM
    assert select._by_kernel(pa.chunked_array([pa.array(["x" * 50] * rows)]))
    assert not select._by_kernel(pa.chunked_array([pa.array(["x" * 50] * (rows - 1) + [None])]))  # nulls
    assert not select._by_kernel(pa.chunked_array([pa.array(["id"] * rows)]))  # short values
    assert not select._by_kernel(pa.chunked_array([pa.array(np.arange(rows))]))  # not text


def test_a_mask_of_the_wrong_length_is_refused():
    with pytest.raises(ValueError, match="3 values for 2 rows"):
        filter_table(pa.table({"a": ["x", "y"]}), np.ones(3, bool))


def test_a_big_column_through_the_kernel_on_threads():
    rng = np.random.default_rng(7)
    rows = select._KERNEL_FROM + 1000
    text = pa.array([f"{i:08d}" * 8 for i in range(rows)])
    table = pa.table({"t": pa.chunked_array([text.slice(0, 40_000), text.slice(40_000)]), "n": np.arange(rows)})
    keep = rng.random(rows) < 0.9
    assert select._by_kernel(table.column("t"))
    want = table.filter(pa.array(keep))
    for workers in (1, 2):
        got = filter_table(table, keep, workers)
        assert got.equals(want) and chunks_of(got.column("t")) == chunks_of(table.column("t").filter(pa.array(keep)))
