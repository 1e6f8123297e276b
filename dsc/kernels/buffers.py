"""Arrow arrays as the numpy buffers compiled kernels read, and rows taken from them.

No numba here: `dsc.kernels.exact` uses these on inputs too small to be worth loading a
compiled kernel for.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa

__all__ = ["is_bytes", "utf8_buffers", "raw_buffers", "take", "packed", "checked_texts"]


def is_bytes(t: pa.DataType) -> bool:
    """Whether arrays of type `t` hold offsets and one data buffer: (large) strings and binaries."""
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
        or pa.types.is_large_binary(t)


def utf8_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """int64 offsets starting at 0 and the UTF-8 bytes they index, without copying the bytes.

    >>> off, data = utf8_buffers(pa.array(["ab", None, "ü"]).slice(1))
    >>> off.tolist(), bytes(data)
    ([0, 0, 2], b'\\xc3\\xbc')
    """
    width = np.int32 if pa.types.is_string(arr.type) or pa.types.is_binary(arr.type) else np.int64
    _, obuf, dbuf = arr.buffers()
    if obuf is None:  # an empty array may have no buffers
        return np.zeros(len(arr) + 1, np.int64), np.empty(0, np.uint8)
    off = np.frombuffer(obuf, dtype=width)[arr.offset: arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.empty(0, np.uint8)
    return off - off[0], data[off[0]: off[-1]]


def raw_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """A string or binary array's offsets as Arrow stores them (int32, or int64 for the large
    types; this array's rows and one more, into the whole buffer) and its whole data buffer:
    views, where `utf8_buffers` converts the offsets to int64 from 0 (a pass over them).

    >>> off, data = raw_buffers(pa.array(["ab", "c"]).slice(1))
    >>> off.dtype.name, off.tolist(), bytes(data)
    ('int32', [2, 3], b'abc')
    """
    width = np.int64 if pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type) else np.int32
    _, obuf, dbuf = arr.buffers()
    off = np.frombuffer(obuf, dtype=width)[arr.offset : arr.offset + len(arr) + 1] if obuf is not None \
        else np.zeros(len(arr) + 1, dtype=width)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.empty(0, dtype=np.uint8)
    return off, data


def take(arr: pa.Array | pa.ChunkedArray, rows: np.ndarray) -> pa.Array:
    """`arr[rows]` as one array, with no copy of the rows not taken.

    A ChunkedArray's own `take` joins all its chunks first: 50 ms at 1M rows of 640 bytes for 8k
    rows taken, 20x an array's, and a column is chunked whenever N workers cut it into slices.
    Here each chunk gives its own rows, put back in the order asked.

    >>> take(pa.chunked_array([["a", "b"], ["c"]]), np.array([2, 0, 2])).to_pylist()
    ['c', 'a', 'c']
    """
    rows = np.asarray(rows, dtype=np.int64)
    if rows.size and (rows.min() < 0 or rows.max() >= len(arr)):
        raise IndexError(f"row index out of bounds for {len(arr)} rows")
    if isinstance(arr, pa.Array):
        return arr.take(pa.array(rows))
    if arr.num_chunks == 1:
        return arr.chunk(0).take(pa.array(rows))
    bounds = np.cumsum([0] + [len(c) for c in arr.chunks])
    which = np.searchsorted(bounds, rows, side="right") - 1
    order = np.argsort(which, kind="stable")
    cuts = np.searchsorted(which[order], np.arange(arr.num_chunks + 1))
    parts = [arr.chunk(k).take(pa.array(rows[order[cuts[k]:cuts[k + 1]]] - bounds[k]))
             for k in range(arr.num_chunks) if cuts[k + 1] > cuts[k]]
    joined = pa.concat_arrays(parts) if parts else pa.array([], arr.type)
    if np.all(order[1:] > order[:-1]):  # the rows came chunk by chunk (ascending, say)
        return joined
    back = np.empty_like(order)
    back[order] = np.arange(order.size)
    return joined.take(pa.array(back))


def packed(texts: list[bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Byte strings as (int64 offsets from 0, writable bytes), the form `utf8_buffers` gives.

    >>> off, data = packed([b"ab", b"", b"c"])
    >>> off.tolist(), bytes(data)
    ([0, 2, 2, 3], b'abc')
    """
    off = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=off[1:])
    return off, np.frombuffer(b"".join(texts), np.uint8).copy()


def checked_texts(off: np.ndarray, data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """`(off, data)` as contiguous int64 and uint8, once every text `data[off[i]:off[i + 1]]` lies
    inside `data`: for kernels that read them through C pointers, with no bounds check of their own.

    >>> checked_texts(np.array([0, 5]), np.zeros(3, np.uint8))
    Traceback (most recent call last):
    ...
    ValueError: offsets must rise from 0 or more to at most the 3 bytes, one more than the rows
    """
    off = np.ascontiguousarray(off, np.int64)
    data = np.ascontiguousarray(data, np.uint8)
    if off.ndim != 1 or data.ndim != 1 or off.size == 0 or off[0] < 0 or off[-1] > data.size \
            or np.any(off[1:] < off[:-1]):
        raise ValueError(f"offsets must rise from 0 or more to at most the {data.size} bytes, one more than the rows")
    return off, data
