"""Words of UTF-8 text as `str.split()` finds them, counted in one compiled pass over the bytes.

A word is a maximal run of characters that are not whitespace, and whitespace is what
`str.isspace` calls it (`dsc.kernels.jit.space_width`, which `dsc.kernels.near` splits words
with too).

Counting words with Arrow (`utf8_split_whitespace`, then list lengths) builds every word as a
string: at 1M rows of 640 bytes, 8.6 s and 1.7 GB, the run's peak memory (issue 22). Counting
needs no word at all, only the places where a word starts.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

from dsc.kernels.jit import kernel, space_width, utf8_buffers

__all__ = ["count_words"]


# By byte: an ASCII whitespace character (space_width's first line, as a table).
_ASCII_SPACE = np.array([chr(b).isspace() for b in range(0x80)])


@kernel
def _count(off: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    for row in range(off.size - 1):
        count, inside = 0, False
        i, end = off[row], off[row + 1]
        while i < end:
            b = data[i]
            if b < 0x80:  # ASCII, most bytes: one table lookup
                space, width = _ASCII_SPACE[b], 1
            else:
                width = space_width(data, i)
                space = width > 0
                if not space:
                    width = 2 if b < 0xE0 else (3 if b < 0xF0 else 4)
            if space:
                inside = False
            elif not inside:
                inside = True
                count += 1
            i += width
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
    out = np.empty(len(text), np.int64)
    _count(off, data, out)
    if text.null_count:
        out[text.is_null().to_numpy(zero_copy_only=False)] = 0
    return out
