"""The schema stage's cast to int, float and bool is one safe Arrow cast per block: a value that
does not fit is a rejected row with its reason (never wrapped, truncated or guessed), and every
other row gets exactly the value casting it on its own gives."""
import datetime

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.engines import schema
from dsc.engines.schema import validate
from dsc.plan import ColumnPlan
from hypothesis_budget import examples

TARGET = {"int": pa.int64(), "float": pa.float64(), "bool": pa.bool_()}


def run(values, arrow_type, kind):
    table = pa.table({"v": pa.array(values, arrow_type), "_dsc_id": [str(i) for i in range(len(values))]})
    out = validate(table, [ColumnPlan(name="v", type=kind)])
    return out.table, out.removed


def one_by_one(values, arrow_type, kind):
    """The definition: each value cast on its own, safely; (kept values, rejected row indices)."""
    kept, bad = [], []
    for i, v in enumerate(values):
        try:
            kept.append(pa.array([v], arrow_type).cast(TARGET[kind], safe=True)[0].as_py())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            bad.append(i)
    return kept, bad


@pytest.mark.parametrize("values, arrow_type, kind, kept, rejected", [
    ([1, -128, 127, None], pa.int8(), "int", [1, -128, 127, None], []),
    ([2**63, 5], pa.uint64(), "int", [5], [0]),  # does not fit int64: rejected, not wrapped
    ([1.0, 1.5, float("nan"), float("inf"), -3.0], pa.float64(), "int", [1, -3], [1, 2, 3]),
    ([0.1, None], pa.float32(), "float", [np.float32(0.1).item(), None], []),
    (["12", " 3", "1.0", "x", ""], pa.string(), "int", [12], [1, 2, 3, 4]),
    (["true", "0", "yes"], pa.large_string(), "bool", [True, False], [2]),
    ([0, 1, 2], pa.int64(), "bool", [False, True, True], []),
    ([2**53 + 1, 2**53], pa.int64(), "float", [2.0**53], [0]),  # not exactly a float: rejected
])
def test_a_value_that_does_not_fit_is_rejected_and_the_others_keep_their_exact_value(
        values, arrow_type, kind, kept, rejected):
    table, removed = run(values, arrow_type, kind)
    assert table.column("v").type == TARGET[kind]
    assert table.column("v").to_pylist() == kept
    assert [int(i) for i in removed.column("_dsc_id").to_pylist()] == rejected
    assert set(removed.column("_dsc_reason").to_pylist()) <= {f"column 'v': value is not of type {kind}"}
    # the rejected rows leave with the value as read
    assert removed.column("v").type == arrow_type


def test_dates_and_lists_are_not_numbers_even_where_arrow_could_cast_them():
    table, removed = run([datetime.date(2020, 1, 1), None], pa.date32(), "int")
    assert table.column("v").to_pylist() == [None] and removed.num_rows == 1
    table, removed = run([[1], None], pa.list_(pa.int64()), "float")
    assert table.column("v").to_pylist() == [None] and removed.num_rows == 1


@pytest.mark.parametrize("values, arrow_type, kind, text", [
    ([datetime.date(2020, 1, 1), None], pa.date32(), "date", ["2020-01-01", None]),
    ([datetime.date(1999, 12, 31)], pa.date64(), "date", ["1999-12-31"]),
    ([datetime.datetime(2020, 1, 1, 10), datetime.datetime(2021, 5, 6, 7, 8, 9, 123456), None],
     pa.timestamp("us"), "datetime", ["2020-01-01T10:00:00", "2021-05-06T07:08:09.123456", None]),
    ([datetime.datetime(2020, 1, 1, 10, tzinfo=datetime.timezone.utc)], pa.timestamp("s", tz="Europe/Paris"),
     "datetime", ["2020-01-01T11:00:00+01:00"]),  # the zone's own offset: the same instant
    ([1_600_000_000_123_456_789], pa.timestamp("ns"), "datetime", ["2020-09-13T12:26:40.123456789"]),
])
def test_native_dates_and_timestamps_become_their_iso_text(values, arrow_type, kind, text):
    """A parquet file's own dates and times pass a `date` / `datetime` declaration (every row was
    rejected), written as standardize writes them, to the last digit of their unit."""
    table, removed = run(values, arrow_type, kind)
    assert removed.num_rows == 0 and table.column("v").to_pylist() == text


def test_a_timestamp_is_not_a_date_nor_a_date_a_datetime():
    _, removed = run([datetime.datetime(2020, 1, 1, 10)], pa.timestamp("us"), "date")
    assert removed.column("_dsc_reason").to_pylist() == ["column 'v': value is not of type date"]
    _, removed = run([datetime.date(2020, 1, 1)], pa.date32(), "datetime")
    assert removed.column("_dsc_reason").to_pylist() == ["column 'v': value is not of type datetime"]


def test_bad_values_are_found_exactly_in_a_column_of_many_blocks(monkeypatch):
    monkeypatch.setattr(schema, "_CAST_BLOCK", 64)
    bad = [0, 63, 64, 299, 300, 500, 501, 999]  # block edges, chunk edges, neighbours
    text = [f"{i}x" if i in bad else str(i) for i in range(1000)]
    chunked = pa.chunked_array([pa.array(text[:300]), pa.array(text[300:])])
    table = pa.table({"v": chunked, "_dsc_id": [str(i) for i in range(1000)]})
    out = validate(table, [ColumnPlan(name="v", type="int")])
    assert [int(i) for i in out.removed.column("_dsc_id").to_pylist()] == bad
    assert out.table.column("v").to_pylist() == [i for i in range(1000) if i not in bad]


column_types = st.sampled_from([pa.int8(), pa.int64(), pa.uint64(), pa.float32(), pa.float64(), pa.string(),
                                pa.bool_()])


def values_for(t):
    if pa.types.is_boolean(t):
        return st.booleans()
    if pa.types.is_integer(t):
        info = np.iinfo(t.to_pandas_dtype())
        return st.integers(int(info.min), int(info.max))
    if pa.types.is_floating(t):
        return st.floats(width=t.bit_width, allow_nan=True, allow_infinity=True)
    return st.one_of(st.integers(-(2**64), 2**64).map(str), st.floats().map(str), st.text(max_size=4),
                     st.sampled_from(["true", "false", "1", "0", " 1"]))


@settings(max_examples=examples(), deadline=None)
@given(data=st.data(), arrow_type=column_types, kind=st.sampled_from(["int", "float", "bool"]))
def test_block_casts_equal_casting_each_value_on_its_own(data, arrow_type, kind):
    values = data.draw(st.lists(st.one_of(st.none(), values_for(arrow_type)), max_size=20))
    kept, bad = one_by_one(values, arrow_type, kind)
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(schema, "_CAST_BLOCK", 4)  # several blocks, some failing, in small examples
        table, removed = run(values, arrow_type, kind)
    assert _nan_marked(table.column("v").to_pylist()) == _nan_marked(kept)
    assert [int(i) for i in removed.column("_dsc_id").to_pylist()] == bad


def _nan_marked(values: list) -> list:
    """`values` with each NaN as a marker: two NaN objects compare unequal inside lists."""
    return ["NaN" if isinstance(v, float) and v != v else v for v in values]
