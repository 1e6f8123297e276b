"""Words of UTF-8 text as `str.split()` finds them, counted in one compiled pass over the bytes.

A word is a maximal run of characters that are not whitespace, and whitespace is what
`str.isspace` calls it (`dsc.kernels.jit.space_width`, which `dsc.kernels.near` splits words
with too).

Counting words with Arrow (`utf8_split_whitespace`, then list lengths) builds every word as a
string: at 1M rows of 640 bytes, 8.6 s and 1.7 GB, the run's peak memory (issue 22). Counting
needs no word at all, only the places where a word starts: a character that is not whitespace
after one that is (or at the start of a row).

Those are found 8 bytes at a time (SWAR; 16 while they are ASCII): a few subtractions mark the
whitespace bytes of a word exactly, one shift marks the bytes after them, and `jit.popcount`
counts the starts, with no branch per word. A byte >= 0x80 counts as a letter unless it is
0xC2, 0xE1, 0xE2 or 0xE3, the lead bytes of every non-ASCII whitespace character; only the
characters starting with those are taken one at a time (`space_width`). Each row ends in one
window of its last 8 bytes with the others masked off, so no load passes the end of the text.

At 1M rows of 640 bytes (best of 5, one core; `python -m bench.bench_quality --words-parquet`),
against the loop this replaced (skip each word with `jit.word_end`, then a branchy step per
space): English text 0.14 s against 0.84 s (4.8 GB/s); with every 10th space U+00A0, 0.27 s
against 0.94 s; with every letter a CJK ideograph (1.8 GB), 0.67 s against 8.2 s. Text full of
characters led by 0xE1-0xE3 (kana, typographic punctuation) goes a character at a time: every
letter led by 0xE3, 1.05 s against 1.77 s at 200k rows.
"""
from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa

from dsc.kernels.buffers import utf8_buffers
from dsc.kernels.jit import kernel, load8, popcount, space_width, trailing_zeros

__all__ = ["count_words"]

_HIGH = np.uint64(0x8080808080808080)
_LOW7 = np.uint64(0x7F7F7F7F7F7F7F7F)
_AFTER_SPACE = np.uint64(0x80)  # the mark of byte 0: its previous byte was whitespace
_NOT_AFTER = np.uint64(0)
_ONE, _EIGHT = np.uint64(1), np.uint64(8)


def _each(byte: int) -> np.uint64:
    return np.uint64(byte * 0x0101010101010101)


_B09, _B0E, _B1C, _B21 = _each(0x09), _each(0x0E), _each(0x1C), _each(0x21)
_B42, _B43, _B61, _B64 = _each(0x42), _each(0x43), _each(0x61), _each(0x64)


@numba.njit(cache=True, nogil=True, inline="always")
def _spaces(w: np.uint64, high: np.uint64) -> np.uint64:
    """The high bit of each byte of `w` that is ASCII whitespace: 0x09-0x0D, 0x1C-0x1F or 0x20,
    the ASCII part of `str.isspace`; `high` marks the bytes >= 0x80 (`w & _HIGH`), left unmarked.

    With the high bit set in every byte first, `byte - c` borrows from no other byte, and its high
    bit stays set exactly when the byte is >= c: three such range tests give the set, exact for
    every ASCII byte, with no branch and no lookup."""
    s = w | _HIGH
    return ~(s - _B21) & (((s - _B09) & ~(s - _B0E)) | (s - _B1C)) & _HIGH & ~high


@numba.njit(cache=True, nogil=True, inline="always")
def _space_leads(w: np.uint64, high: np.uint64) -> np.uint64:
    """The high bit of each byte of `w` that is 0xC2, 0xE1, 0xE2 or 0xE3: the lead bytes of every
    non-ASCII whitespace character (U+0085, U+00A0, U+1680, U+2000-U+3000), tested as `_spaces`
    tests ranges, on the low 7 bits of the bytes `high` marks.

    Any other byte >= 0x80 belongs to a character that is not whitespace: a window without these
    is counted as if such bytes were letters, which is exact (a continuation byte follows a byte
    of its own character, so it never starts a word)."""
    s = (w & _LOW7) | _HIGH
    return (((s - _B42) & ~(s - _B43)) | ((s - _B61) & ~(s - _B64))) & high


@numba.njit(cache=True, nogil=True, inline="always")
def _starts(sp: np.uint64, keep: np.uint64, after: np.uint64) -> int:
    """Words starting in the bytes `keep` marks: bytes not whitespace (`sp`) whose previous byte
    is, the one before the first kept byte being whitespace when `after` marks it."""
    return np.int64(popcount(~sp & keep & ((sp << _EIGHT) | after)))


@numba.njit(cache=True, nogil=True, inline="always")
def _char(data: np.ndarray, i: int, count: int, after: np.uint64) -> tuple[int, int, np.uint64]:
    """The character starting at byte `i` taken exactly (`space_width`): the byte after it, the
    count with a word it starts, and whether it is whitespace."""
    width = space_width(data, i)
    if width:
        return i + width, count, _AFTER_SPACE
    b = data[i]
    width = 1 if b < 0x80 else (2 if b < 0xE0 else (3 if b < 0xF0 else 4))
    return i + width, count + (1 if after else 0), _NOT_AFTER


@kernel
def _count(off: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    """Words of each row (`out[row]`). Every load stays within `data`, whose rows `off` indexes and
    which holds 8 bytes at least (`count_words` pads a shorter one)."""
    for row in range(off.size - 1):
        i, end = off[row], off[row + 1]
        count, after = 0, _AFTER_SPACE
        while i + 8 <= end:
            if i + 16 <= end:
                w = load8(data, i)
                v = load8(data, i + 8)
                if not ((w | v) & _HIGH):
                    sp = _spaces(w, _NOT_AFTER)
                    sq = _spaces(v, _NOT_AFTER)
                    count += _starts(sp, _HIGH, after) + _starts(sq, _HIGH, sp >> np.uint64(56))
                    after = sq >> np.uint64(56)
                    i += 16
                    continue
            w = load8(data, i)
            high = w & _HIGH
            if high and _space_leads(w, high):
                # The bytes before the first such lead byte (always a character boundary) as
                # below, then its character exactly, and on from the byte after it.
                lead = trailing_zeros(_space_leads(w, high)) >> np.uint64(3)
                sp = _spaces(w, high)
                if lead:
                    before = (_ONE << (lead * _EIGHT)) - _ONE
                    count += _starts(sp & before, _HIGH & before, after)
                    after = (sp >> (lead * _EIGHT - _EIGHT)) & _AFTER_SPACE
                i, count, after = _char(data, i + np.int64(lead), count, after)
                continue
            sp = _spaces(w, high)
            count += _starts(sp, _HIGH, after)
            after = sp >> np.uint64(56)
            i += 8
        while i < end:
            # The last 1-7 bytes in one window, its other bytes masked off: the 8 bytes ending the
            # row (which may start in earlier rows), or for a row ending within the first 8
            # bytes of `data`, those 8.
            at = max(end - 8, 0)
            first = np.uint64(i - at)
            keep = (_HIGH >> np.uint64(8 * (at + 8 - end))) & ~((_ONE << (first * _EIGHT)) - _ONE)
            w = load8(data, at)
            high = w & keep
            sp = _spaces(w, high) & keep
            leads = _space_leads(w, high) if high else _NOT_AFTER
            if not leads:
                count += _starts(sp, keep, after << (first * _EIGHT))
                break
            lead = trailing_zeros(leads) >> np.uint64(3)
            if lead > first:
                before = keep & ((_ONE << (lead * _EIGHT)) - _ONE)
                count += _starts(sp & before, before, after << (first * _EIGHT))
                after = (sp >> (lead * _EIGHT - _EIGHT)) & _AFTER_SPACE
            i, count, after = _char(data, at + np.int64(lead), count, after)
        out[row] = count


def count_words(text: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Words per row (int64; 0 for a null or a row of only whitespace).

    >>> count_words(pa.array(["two words", "", "  padded  one ", "tab\\tand\\u00a0nbsp", None])).tolist()
    [2, 0, 2, 3, 0]
    """
    if isinstance(text, pa.ChunkedArray):
        return np.concatenate([count_words(chunk) for chunk in text.chunks]) if text.num_chunks \
            else np.zeros(0, np.int64)
    if pa.types.is_large_string(text.type) or pa.types.is_string(text.type):
        off, data = utf8_buffers(text)
    else:
        raise TypeError(f"count_words needs a string column, got {text.type}")
    if data.size < 8:  # the kernel reads 8 bytes at a time; zeros past the rows are never counted
        data = np.concatenate([data, np.zeros(8, np.uint8)])
    out = np.empty(len(text), np.int64)
    _count(off, data, out)
    if text.null_count:
        out[text.is_null().to_numpy(zero_copy_only=False)] = 0
    return out
