"""The rows of a table that a mask keeps, with text columns copied by a compiled kernel.

Removing rows (a filter, a dedupe) copies every kept value into new buffers. For text, Arrow's
`filter` copies value by value: 28-30 ms for the 118 MB kept of 1M rows of 130 bytes, where a
plain copy of those bytes takes 11 ms. Kept rows mostly come in runs (a dedupe drops one row in
ten or fewer), so `filter_table` copies each run of kept values with one `memcpy`
(`jit.copy_bytes`) and shifts their offsets: 18 ms for the same rows on one thread. With
`workers` threads each copies the runs of its own row range into its own place in the same
output buffers, found from the kept bytes before it, so the arrays are the same with any number
of workers, and each chunk of the input that keeps a row gives one chunk of the output, as
Arrow's filter does.

Other columns, text columns with nulls (their validity bitmap must be filtered too), short
values (copied faster one by one) and short columns (where loading the kernel does not pay) go
through Arrow's filter; numba is loaded only when a column is copied by the kernel (see
`dsc.kernels.exact._hash_table`).
"""
from __future__ import annotations

import functools

import numpy as np
import pyarrow as pa

from dsc.kernels.buffers import is_bytes, raw_buffers

__all__ = ["filter_table"]

_KERNEL_FROM = 1 << 16  # rows from which a text column is copied by the kernel
# dsc.kernels.jit.copy_bytes once the kernels are made (`_kernels`): numba is imported only then.
copy_bytes = None
_KERNEL_BYTES = 40  # and the bytes a value from which it is (offsets included): 1M ids of 16 bytes
# took 4.5 ms by the kernel and 3.3 ms by Arrow, 1M texts of 130 bytes 18 ms and 29 ms


def filter_table(table: pa.Table, keep: np.ndarray, workers: int = 1) -> pa.Table:
    """`table.filter(keep)` for a numpy bool mask `keep`: the same values and types, and each
    column cut into chunks as `column.filter(keep)` cuts it.

    >>> t = pa.table({"a": ["x", "y", "z"], "b": [1, 2, 3]})
    >>> filter_table(t, np.array([True, False, True])).to_pydict()
    {'a': ['x', 'z'], 'b': [1, 3]}
    """
    keep = np.ascontiguousarray(keep, dtype=np.bool_)
    if keep.size != table.num_rows:
        raise ValueError(f"a mask of {keep.size} values for {table.num_rows} rows")
    mask = None  # Arrow's form of `keep`, made once for the columns that need it
    columns = []
    for column in table.columns:
        if _by_kernel(column):
            columns.append(_filter_text(column, keep, workers))
        else:
            mask = pa.array(keep) if mask is None else mask
            columns.append(column.filter(mask))
    return pa.Table.from_arrays(columns, schema=table.schema)


def _by_kernel(column: pa.ChunkedArray) -> bool:
    # Values of a few bytes (ids, labels) are copied faster value by value, as Arrow does.
    return is_bytes(column.type) and column.null_count == 0 and len(column) >= _KERNEL_FROM \
        and column.nbytes >= _KERNEL_BYTES * len(column)


def _filter_text(column: pa.ChunkedArray, keep: np.ndarray, workers: int) -> pa.ChunkedArray:
    chunks, start = [], 0
    for chunk in column.chunks:
        part = keep[start:start + len(chunk)]
        start += len(chunk)
        if part.any():  # as Arrow's filter, no empty chunks
            chunks.append(_filter_array(chunk, part, workers))
    return pa.chunked_array(chunks, column.type)


def _filter_array(arr: pa.Array, keep: np.ndarray, workers: int) -> pa.Array:
    from dsc.kernels.jit import in_parts, part_bounds

    kept, copy_runs = _kernels()
    wide = pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)
    # The offsets as Arrow holds them: converting them to int64 from 0 (`utf8_buffers`) cost a
    # tenth of the copy.
    off, data = raw_buffers(arr)
    # Each part's kept rows and bytes, so each knows where its output starts.
    counts = in_parts(lambda lo, hi: kept(off, keep, lo, hi), off, workers)
    starts, rows, total = {}, 0, 0
    for (lo, _), (n, size) in zip(part_bounds(off, workers), counts):
        starts[lo] = (rows, total)
        rows, total = rows + n, total + size
    if total >= 2**31 and not wide:
        return arr.filter(pa.array(keep))  # cannot happen from a valid input; Arrow says why
    values = pa.allocate_buffer(total)
    offsets = pa.allocate_buffer((rows + 1) * (8 if wide else 4))
    out = np.frombuffer(values, np.uint8)
    out_off = np.frombuffer(offsets, np.int64 if wide else np.int32)
    out_off[0] = 0
    in_parts(lambda lo, hi: copy_runs(off, data, keep, out_off, out, lo, hi, *starts[lo]), off, workers)
    return pa.Array.from_buffers(arr.type, rows, [None, offsets, values])


def _kept(off, keep, lo, hi):  # pragma: no cover - compiled
    """(rows, bytes) that rows lo..hi keep."""
    rows = 0
    size = 0
    for i in range(lo, hi):  # no branch: the mask is as good as random
        rows += keep[i]
        size += (off[i + 1] - off[i]) * keep[i]
    return rows, size


def _copy_runs(off, data, keep, out_off, out, lo, hi, k, at):  # pragma: no cover - compiled
    """Rows lo..hi, whose output starts after `k` kept rows and `at` kept bytes: each run of kept
    rows copied with one memcpy, and its offsets (after each row) shifted there."""
    i = lo
    while i < hi:
        if not keep[i]:
            i += 1
            continue
        j = i
        shift = off[i] - at
        while j < hi and keep[j]:
            k += 1
            out_off[k] = off[j + 1] - shift
            j += 1
        copy_bytes(out, at, data, off[i], off[j] - off[i])
        at += off[j] - off[i]
        i = j


@functools.cache
def _kernels():
    """`_kept` and `_copy_runs` compiled, on first use. `copy_bytes` is a module global that numba
    resolves when it compiles, so it is bound here."""
    global copy_bytes
    from dsc.kernels.jit import copy_bytes, kernel

    return kernel(_kept), kernel(_copy_runs)
