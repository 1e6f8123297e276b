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


# The counter reads 8 (or 16) bytes at a time while they are ASCII, treats bytes >= 0x80 as
# letters unless one is 0xC2, 0xE1, 0xE2 or 0xE3 (the lead bytes of every non-ASCII whitespace
# character), takes those characters one at a time, and ends each row in one masked window. The
# cases below put every kind of byte at every place in a window and a row.
_ASCII_SPACE_AND_CONTROL = [chr(c) for c in [*range(0x21), 0x7F]]
_LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789.,;-"
_LONG_ASCII = st.text(st.one_of(st.sampled_from(_LETTERS), st.sampled_from(_ASCII_SPACE_AND_CONTROL)),
                      min_size=0, max_size=300)
# Non-ASCII whitespace, and characters sharing its lead bytes that are not whitespace (U+00A1,
# U+1000, U+2010, U+2030, U+3041, U+3001), and other lead bytes (é, 中, Devanagari, emoji).
_NON_ASCII = st.sampled_from(list("\x85\xa0\u1680\u2000\u2001\u2005\u200a\u2028\u2029\u202f\u205f\u3000"
                                  "\xa1\xbf\u1000\u2010\u200b\u2030\u2060\u3041\u3001é中\u0915\U0001f600\U00010348"))


def _check(texts):
    """count_words on `texts` as string and large_string, against str.split()."""
    expected = [0 if t is None else len(t.split()) for t in texts]
    arr = pa.array(texts, pa.string())
    assert count_words(arr).tolist() == expected
    assert count_words(arr.cast(pa.large_string())).tolist() == expected


@given(st.lists(_LONG_ASCII, min_size=1, max_size=8))
def test_long_ascii_rows_with_every_space_and_control(texts):
    _check(texts)


@given(st.lists(st.text(st.sampled_from(list("ab \t\n\x1f\x00\x7f")), max_size=40), max_size=30))
def test_short_rows_around_the_8_byte_windows(texts):
    # Many rows of 0-40 bytes in one buffer: each starts and ends at every place in a window.
    _check(texts)


@given(st.lists(st.tuples(st.text(st.sampled_from(list("ab  \t")), max_size=40),
                          st.lists(_NON_ASCII, min_size=1, max_size=3),
                          st.text(st.one_of(st.sampled_from(list("ab  \n")), _NON_ASCII), max_size=40)),
                min_size=1, max_size=10))
def test_non_ascii_after_ascii_prefixes_of_every_length(parts):
    _check([prefix + "".join(middle) + suffix for prefix, middle, suffix in parts])


@given(st.lists(st.one_of(st.none(), _LONG_ASCII, st.text(st.one_of(_CHARS, _NON_ASCII), max_size=60)),
                max_size=25),
       st.data())
def test_slices_and_chunks_with_nulls(texts, data):
    arr = pa.array(texts, pa.string())
    lo = data.draw(st.integers(0, len(texts)))
    hi = data.draw(st.integers(lo, len(texts)))
    want = [0 if t is None else len(t.split()) for t in texts[lo:hi]]
    assert count_words(arr.slice(lo, hi - lo)).tolist() == want
    cuts = sorted(data.draw(st.lists(st.integers(lo, hi), max_size=4)))
    bounds = [lo, *cuts, hi]
    chunked = pa.chunked_array([arr.slice(a, b - a) for a, b in zip(bounds[:-1], bounds[1:])], pa.string())
    assert count_words(chunked).tolist() == want
    assert count_words(chunked.cast(pa.large_string())).tolist() == want


def test_a_buffer_shorter_than_one_window():
    _check(["a", " b", "", "c d"])  # 6 bytes of text in all
    _check(["\xa0x"])
    _check([" "])


def test_no_read_goes_past_the_text():
    """The text placed against a page the process may not read: a load past the last byte would
    end the process, rather than read the bytes that happen to follow a buffer."""
    import ctypes
    import mmap

    import pytest

    if not sys.platform.startswith("linux"):
        pytest.skip("mprotect through libc")
    libc = ctypes.CDLL(None, use_errno=True)
    libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    page = mmap.PAGESIZE
    texts = ["aaaaaa", "b", "c", "words  at\tthe end", "x", "", "\u3000y\xa0", "ab", "  é中 z", "abcdefghij k", "q"]
    for last in range(len(texts)):  # each row in turn the last, against the page
        rows = texts[: last + 1]
        encoded = [t.encode() for t in rows]
        blob = b"".join(encoded)
        if len(blob) < 8:
            continue  # count_words pads a buffer shorter than one window
        region = mmap.mmap(-1, 2 * page, prot=mmap.PROT_READ | mmap.PROT_WRITE)
        anchor = ctypes.c_char.from_buffer(region)
        address = ctypes.addressof(anchor)
        assert libc.mprotect(address + page, page, 0) == 0  # PROT_NONE
        region[page - len(blob): page] = blob
        data = pa.py_buffer(np.frombuffer(region, np.uint8, count=len(blob), offset=page - len(blob)))
        offsets = np.cumsum([0, *map(len, encoded)]).astype(np.int32)
        arr = pa.StringArray.from_buffers(len(rows), pa.py_buffer(offsets), data)
        assert count_words(arr).tolist() == [len(t.split()) for t in rows]
        del arr, data, anchor
        assert libc.mprotect(address + page, page, mmap.PROT_READ | mmap.PROT_WRITE) == 0
        region.close()
