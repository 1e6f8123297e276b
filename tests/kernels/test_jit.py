"""Tests for the intrinsics of dsc.kernels.jit that read memory by address (`bytes_at`), ask for
it ahead (`prefetch`) and count bits (`popcount`)."""

from __future__ import annotations

import numba
import numpy as np
import pyarrow as pa
import pytest
from numba.core.errors import TypingError

from dsc.kernels.buffers import raw_buffers
from dsc.kernels.jit import bytes_at, load8, popcount, prefetch


@numba.njit(nogil=True)
def _read_all(where, size, out):
    """Bytes at each (address, size), one after another into ``out``; the last word of each value
    of 8 bytes or more through load8 as well (summed into the return value)."""
    at, words = 0, np.uint64(0)
    for i in range(where.size):
        view = bytes_at(where[i], size[i])
        for k in range(view.size):
            out[at + k] = view[k]
        at += view.size
        if view.size >= 8:
            words += load8(view, view.size - 8)
    return words


def test_bytes_at_reads_values_lying_in_several_buffers():
    # Values of several Arrow arrays (both offset widths, a slice, an empty value) read through
    # one array of addresses: the same bytes as Arrow's, in the order asked.
    arrays = [pa.array(["héllo", "", "a" * 20]), pa.array(["xyz", "0123456789"], pa.large_string()).slice(1),
              pa.array([b"\x00\xff" * 5], pa.binary())]
    where, size, expected = [], [], []
    for arr in arrays:
        off, data = raw_buffers(arr)
        for r in range(len(arr)):
            where.append(data.ctypes.data + int(off[r]))
            size.append(int(off[r + 1] - off[r]))
            value = arr[r].as_py()
            expected.append(value.encode() if isinstance(value, str) else value)
    assert expected == [b"h\xc3\xa9llo", b"", b"a" * 20, b"0123456789", b"\x00\xff" * 5]
    order = [4, 0, 1, 3, 2]  # any order: each value is read where it lies
    where, size = np.array(where, np.int64)[order], np.array(size, np.int64)[order]
    out = np.zeros(int(size.sum()), np.uint8)
    words = _read_all(where, size, out)
    pieces, at = [], 0
    for s in size:
        pieces.append(bytes(out[at : at + s]))
        at += s
    assert pieces == [expected[i] for i in order]
    assert int(words) == sum(int.from_bytes(v[-8:], "little") for v in pieces if len(v) >= 8) % (1 << 64)


def test_bytes_at_is_a_read_only_view():
    @numba.njit
    def write(where):
        bytes_at(where, 1)[0] = 1

    data = np.zeros(4, np.uint8)
    with pytest.raises(TypingError):
        write(data.ctypes.data)
    assert not data.any()


def test_bytes_at_takes_integer_addresses_only():
    @numba.njit
    def read(where):
        return bytes_at(where, 1)[0]

    with pytest.raises(TypingError):
        read(1.5)


@numba.njit(nogil=True)
def _sum_gathered(values, rows, ahead):
    """sum(values[rows]), asking for the value ``ahead`` rows on before each read."""
    total = 0
    for j in range(rows.size):
        if ahead and j + ahead < rows.size:
            prefetch(values, rows[j + ahead])
        total += values[rows[j]]
    return total


@pytest.mark.parametrize("dtype", [np.uint8, np.int64, np.uint64])
def test_prefetch_changes_no_result(dtype):
    rng = np.random.default_rng(4)
    values = rng.integers(0, 100, 5_000).astype(dtype)
    rows = rng.integers(0, values.size, 20_000)
    expected = int(values[rows].astype(np.int64).sum())
    for ahead in (0, 1, 16, 19_999, 40_000):
        assert int(_sum_gathered(values, rows, ahead)) == expected


def test_prefetch_emits_a_prefetch_instruction():
    # The hint must reach the machine code (llvm.prefetch lowered), or the loops that use it only
    # pay for the address arithmetic.
    values, rows = np.arange(10, dtype=np.int64), np.arange(10, dtype=np.int64)
    _sum_gathered(values, rows, 1)
    asm = "\n".join(_sum_gathered.inspect_asm().values()).lower()
    assert "prefetch" in asm or "prfm" in asm  # x86-64 prefetcht0; AArch64 prfm


@numba.njit(nogil=True)
def _popcounts(words, out):
    for k in range(words.size):
        out[k] = popcount(words[k])


def test_popcount_counts_the_set_bits_of_every_kind_of_word():
    rng = np.random.default_rng(5)
    words = np.concatenate([np.array([0, 1, 0x80, 0x8080808080808080, 2**63, 2**64 - 1], np.uint64),
                            np.uint64(1) << np.arange(64, dtype=np.uint64),
                            rng.integers(0, 2**64 - 1, 1000, dtype=np.uint64, endpoint=True)])
    out = np.empty(words.size, np.uint64)
    _popcounts(words, out)
    assert out.tolist() == [bin(int(w)).count("1") for w in words]
