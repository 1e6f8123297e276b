"""Compiled byte kernels: what every kernel that walks UTF-8 bytes in a loop shares.

Some text work has no Arrow compute kernel and costs a dozen numpy passes when written with
whole-array operations (counting words, collapsing whitespace on text with many non-ASCII
characters): one pass in compiled code is cheaper than any of them. Such loops are compiled
with numba (`kernel`): machine code built from the Python source on first use and cached on
disk beside it (`__pycache__`), so only the first run on a machine pays the compilation.

Every kernel releases the GIL (`nogil`), so `in_parts` can run one over several row ranges at
once in threads, with no copy of the data: `--workers N` spreads the compiled stages over N
cores. Each part writes only its own rows of the output, so the result is the same bytes with
one worker or many.

Strings come as Arrow buffers (`utf8_buffers`): int64 offsets from 0 and the UTF-8 bytes they
index. Arrow has validated them as UTF-8, which `decode` relies on.
"""
from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import numba
import numpy as np
import pyarrow as pa

__all__ = ["kernel", "decode", "space_width", "utf8_buffers", "in_parts", "part_bounds"]


def kernel(fn: Callable) -> Callable:
    """`fn` compiled: no Python objects inside, GIL released, machine code cached on disk."""
    return numba.njit(cache=True, nogil=True)(fn)


@numba.njit(cache=True, nogil=True, inline="always")
def decode(data: np.ndarray, i: int) -> tuple[int, int]:
    """The code point of the (valid) UTF-8 character starting at byte `i`, and its width in bytes."""
    b = np.int64(data[i])
    if b < 0x80:
        return b, 1
    if b < 0xE0:
        return ((b & 0x1F) << 6) | (np.int64(data[i + 1]) & 0x3F), 2
    if b < 0xF0:
        return ((b & 0x0F) << 12) | ((np.int64(data[i + 1]) & 0x3F) << 6) | (np.int64(data[i + 2]) & 0x3F), 3
    return (((b & 0x07) << 18) | ((np.int64(data[i + 1]) & 0x3F) << 12) | ((np.int64(data[i + 2]) & 0x3F) << 6)
            | (np.int64(data[i + 3]) & 0x3F)), 4


@numba.njit(cache=True, nogil=True, inline="always")
def space_width(data: np.ndarray, i: int) -> int:
    """The width in bytes of the whitespace character at byte `i`, or 0 when it is not one.

    Whitespace is what `str.isspace` (and `str.split()`) calls it, the same set as Arrow's
    `utf8_is_space`: `\\t \\n \\v \\f \\r`, `\\x1c`-`\\x1f`, space, U+0085, U+00A0, U+1680,
    U+2000-U+200A, U+2028, U+2029, U+202F, U+205F and U+3000, matched by their UTF-8 bytes (the
    text is valid UTF-8, so a lead byte's continuation bytes are there)."""
    b = data[i]
    if b < 0x80:
        return 1 if (b == 0x20 or 0x09 <= b <= 0x0D or 0x1C <= b <= 0x1F) else 0
    if b == 0xC2:
        c = data[i + 1]
        return 2 if (c == 0x85 or c == 0xA0) else 0
    if b == 0xE1:
        return 3 if (data[i + 1] == 0x9A and data[i + 2] == 0x80) else 0
    if b == 0xE2:
        c, d = data[i + 1], data[i + 2]
        if c == 0x80:
            return 3 if (d <= 0x8A or d == 0xA8 or d == 0xA9 or d == 0xAF) else 0
        return 3 if (c == 0x81 and d == 0x9F) else 0
    if b == 0xE3:
        return 3 if (data[i + 1] == 0x80 and data[i + 2] == 0x80) else 0
    return 0


def utf8_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """int64 offsets starting at 0 and the UTF-8 bytes they index, without copying the bytes.

    >>> off, data = utf8_buffers(pa.array(["ab", None, "ü"]).slice(1))
    >>> off.tolist(), bytes(data)
    ([0, 0, 2], b'\\xc3\\xbc')
    """
    width = np.int32 if pa.types.is_string(arr.type) else np.int64
    _, obuf, dbuf = arr.buffers()
    if obuf is None:  # an empty array may have no buffers
        return np.zeros(len(arr) + 1, np.int64), np.empty(0, np.uint8)
    off = np.frombuffer(obuf, dtype=width)[arr.offset: arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.empty(0, np.uint8)
    return off - off[0], data[off[0]: off[-1]]


def part_bounds(off: np.ndarray, parts: int) -> list[tuple[int, int]]:
    """`parts` consecutive row ranges of about equal bytes (fewer when there are fewer rows).

    >>> part_bounds(np.array([0, 10, 20, 30, 40]), 2)
    [(0, 2), (2, 4)]
    """
    rows = len(off) - 1
    parts = max(1, min(parts, rows))
    cuts = np.searchsorted(off, np.linspace(0, off[-1], parts + 1)[1:-1], side="left") if parts > 1 else []
    bounds = sorted({0, rows, *np.asarray(cuts, dtype=np.int64).tolist()})
    return list(zip(bounds[:-1], bounds[1:]))


def in_parts(fn: Callable[[int, int], object], off: np.ndarray, workers: int) -> list:
    """`fn(lo, hi)` over `workers` row ranges of about equal bytes, in threads; the results in row
    order. `fn` should spend its time in a `kernel` (which releases the GIL) and write only rows
    lo..hi of any shared output."""
    bounds = part_bounds(off, workers)
    if len(bounds) == 1:
        return [fn(*bounds[0])]
    with ThreadPoolExecutor(len(bounds)) as pool:
        return list(pool.map(lambda b: fn(*b), bounds))
