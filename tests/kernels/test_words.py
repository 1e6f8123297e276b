"""dsc.kernels.words: word counts equal `len(str.split())` on any text; dsc.kernels.jit.space_width,
which both word splitters use, is `str.isspace`."""
import sys

import numpy as np
import pyarrow as pa
from hypothesis import given
from hypothesis import strategies as st

from dsc.kernels.jit import space_width
from dsc.kernels.words import count_words

# Every kind of character the counter treats differently: ASCII and Unicode whitespace, controls
# that are not whitespace, zero-width characters, 2-, 3- and 4-byte letters.
_CHARS = st.sampled_from(list(" \t\n\r\x0b\x0c\x1c\x1f\x85\xa0\u1680\u2000\u200a\u2028\u2029\u202f\u205f\u3000"
                              "a\x00\x7f\u200b\ufeffé中\U0001f600"))
_TEXT = st.one_of(st.none(), st.text(_CHARS, max_size=30), st.text(max_size=30))


def test_space_width_is_str_isspace_for_every_code_point():
    """Each code point (surrogates have no UTF-8) alone, followed by padding a lead byte reads past."""
    wrong = []
    for cp in [*range(0xD800), *range(0xE000, sys.maxunicode + 1)]:
        encoded = chr(cp).encode()
        width = space_width(np.frombuffer(encoded + b"xxx", np.uint8), 0)
        if width != (len(encoded) if chr(cp).isspace() else 0):
            wrong.append(cp)
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
