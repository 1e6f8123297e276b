"""dsc.kernels.buffers: rows taken chunk by chunk equal Arrow's own take of the joined column."""
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc.kernels.buffers import take, utf8_buffers

values = st.lists(st.one_of(st.none(), st.text(max_size=5)), max_size=30)


@given(values, st.lists(st.integers(0, 30), max_size=4), st.data())
def test_take_equals_taking_from_the_joined_column(rows, cuts, data):
    bounds = sorted({0, len(rows), *[min(c, len(rows)) for c in cuts]})
    chunked = pa.chunked_array([pa.array(rows[a:b], pa.string()) for a, b in zip(bounds, bounds[1:])] or
                               [pa.array([], pa.string())], pa.string())
    picks = np.array(data.draw(st.lists(st.integers(0, len(rows) - 1), max_size=40)) if rows else [], np.int64)
    want = chunked.combine_chunks().take(pa.array(picks, pa.int64()))
    for arr in (chunked, chunked.combine_chunks()):
        got = take(arr, picks)
        assert isinstance(got, pa.Array) and got.equals(want)
    assert take(chunked, np.sort(picks)).to_pylist() == [rows[i] for i in np.sort(picks)]


@pytest.mark.parametrize("bad", [[-1], [3]])
def test_take_refuses_rows_out_of_range(bad):
    with pytest.raises(IndexError):
        take(pa.chunked_array([["a"], ["b", "c"]]), np.array(bad))


def test_utf8_buffers_read_binary_and_large_string_offsets():
    for arr in (pa.array([b"ab", b"", b"c"]), pa.array(["ab", "", "c"], pa.large_string())):
        off, data = utf8_buffers(arr.slice(1))
        assert off.tolist() == [0, 0, 1] and bytes(data) == b"c"
