"""dsc.kernels.words: word counts equal `len(str.split())` on any text, whitespace is `str.isspace`."""
import sys

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from dsc.kernels.words import count_words, is_space

# Every kind of character the counter treats differently: ASCII and Unicode whitespace, controls
# that are not whitespace, zero-width characters, 2-, 3- and 4-byte letters.
_CHARS = st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
                              "a\x00\x7f\u200b\ufeffé中\U0001f600"))
_TEXT = st.one_of(st.none(), st.text(_CHARS, max_size=30), st.text(max_size=30))


def test_is_space_is_str_isspace_for_every_code_point():
    wrong = [cp for cp in range(sys.maxunicode + 1) if is_space(cp) != chr(cp).isspace()]
    assert wrong == []


@given(st.lists(_TEXT, max_size=20), st.integers(0, 3))
def test_counts_are_str_split_lengths(texts, offset):
    arr = pa.array(["x"] * offset + texts, pa.string()).slice(offset)  # a non-zero array offset too
    expected = [0 if t is None else len(t.split()) for t in texts]
    assert count_words(arr).tolist() == expected
    assert count_words(arr.cast(pa.large_string())).tolist() == expected


def test_chunked_arrays_count_per_chunk_in_order():
    col = pa.chunked_array([["a b", "c"], [], ["d e f"]])
    assert count_words(col).tolist() == [2, 1, 3]
    assert count_words(pa.chunked_array([], pa.string())).dtype == np.int64


def test_a_column_that_is_not_text_is_refused():
    import pytest

    with pytest.raises(TypeError, match="string column"):
        count_words(pa.array([1, 2]))
