"""Exact duplicate grouping of rows over one or more Arrow columns.

:func:`duplicate_groups` labels every row with the smallest row index whose
values are identical in all key columns.  It is exact: a hash only proposes
which rows *might* be equal, and every proposal is checked on the real
values before two rows are merged.

How it works (all steps are numpy / pyarrow over whole columns):

1. **Signature.**  Each row gets a 64-bit signature built from its key
   columns.  A string or binary value contributes its byte length and its
   first and last 32 bytes, read with one 64-byte gather per row boundary
   (the tail of one value and the head of the next), so the cost is per
   row, not per byte: a 5 kB row costs as much as a 50-byte one.  Any other
   column contributes its exact ``dictionary_encode`` code (nested lists,
   structs and maps, which Arrow cannot hash, are grouped by their Python
   values: correct but slow).  Equal rows always get equal signatures.
2. **Grouping.**  Signatures are sorted (numpy's SIMD sort) to find the
   repeated ones, and every row holding a repeated signature is pointed at
   the smallest index sharing it.
3. **Verification.**  Each row pointed elsewhere is compared with that row
   on the full values (``pyarrow.compute.equal``: a memcmp per pair).
   Signature groups in which some pair turns out different (rows that
   agree on length and on their first and last 32 bytes, or a true 64-bit
   collision) are regrouped from scratch with exact ``dictionary_encode``
   codes, so their rows are labelled correctly too.

Most rows of a real corpus are unique and differ within their first or last
32 bytes, so only the duplicates themselves are ever read in full; data whose
rows share length, prefix and suffix but differ in the middle degrades
gracefully to the exact dictionary-encode path for those rows.

Equality semantics: nulls equal nulls (and differ from empty strings).  In
float columns every NaN equals every NaN and ``0.0`` equals ``-0.0``, as in
pandas, but NaN is a value, not a null (pandas' ``duplicated`` would also
merge a NaN with a None).  Everything else compares as Arrow's hash kernels
compare it; dictionary columns compare by their decoded values.

Callers that want "ignore case / whitespace" normalise first with
:func:`dsc.kernels.text.normalize` and pass the normalised columns here.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

__all__ = ["duplicate_groups"]

_WINDOW = 32  # bytes read from each end of a string value
_LANES = _WINDOW // 8  # uint64 lanes per window
# Random odd 64-bit multipliers: the signature is a multilinear hash of
# (length, 4 head lanes, 4 tail lanes), finished with murmur3's fmix64.
_MULS = np.array(
    [
        0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB,
        0x8EBC6AF09C88C6E3,
    ],
    dtype=np.uint64,
)
_ROWS_PER_PASS = 1 << 20  # rows whose windows (or compared values) are held at once
_NULL_SIG = np.uint64(0x6E756C6C6E756C6C)  # any fixed value: nulls only need to agree
_COMBINE = np.uint64(0x9FB21C651E98DF25)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
# view types exist from pyarrow 16 on
_STRING_VIEW = pa.string_view() if hasattr(pa, "string_view") else None
_BINARY_VIEW = pa.binary_view() if hasattr(pa, "binary_view") else None


def duplicate_groups(columns: Sequence[pa.Array | pa.ChunkedArray]) -> np.ndarray:
    """Label each row with the smallest index of a row equal to it in every column.

    ``cluster[i] == i`` for a row's first occurrence (and for unique rows);
    otherwise ``cluster[i]`` is the index of that first occurrence.  Nulls
    equal nulls; see the module docstring for the other equality rules.

    >>> import pyarrow as pa
    >>> duplicate_groups([pa.array(["a", "b", "a", None, None])]).tolist()
    [0, 1, 0, 3, 3]
    >>> duplicate_groups([pa.array(["x", "x", "x"]), pa.array([1, 2, 1])]).tolist()
    [0, 1, 0]
    """
    cols = [_prepare(c) for c in columns]
    if not cols:
        raise ValueError("duplicate_groups needs at least one column")
    n = len(cols[0])
    if any(len(c) != n for c in cols):
        raise ValueError(f"columns differ in length: {[len(c) for c in cols]}")
    if n == 0:
        return np.empty(0, dtype=np.int64)

    keys = [_column_key(c) for c in cols]
    sig = keys[0]
    for key in keys[1:]:
        sig = _fmix64(sig.astype(np.uint64, copy=False) * _COMBINE + key.astype(np.uint64, copy=False))
    cluster = _first_of_groups(sig)

    cand = np.flatnonzero(cluster != np.arange(n))
    same = np.ones(cand.size, dtype=bool)
    for lo in range(0, cand.size, _ROWS_PER_PASS):  # batches bound the copied values
        part = slice(lo, lo + _ROWS_PER_PASS)
        for col, key in zip(cols, keys):
            same[part] &= _equal_rows(col, key, cand[part], cluster[cand[part]])
    if not same.all():
        _regroup_exactly(cols, cluster, cand[~same])
    return cluster


def _prepare(col: pa.Array | pa.ChunkedArray) -> pa.Array | pa.ChunkedArray:
    """Bring a column into a form whose values can be hashed and compared.

    Dictionary columns are decoded (their dictionaries may repeat values),
    string views become large strings (the signature reads offsets), and
    ``-0.0`` becomes ``0.0`` (Arrow hashes the two differently).
    """
    if not isinstance(col, (pa.Array, pa.ChunkedArray)):
        col = pa.array(col)
    t = col.type
    if pa.types.is_dictionary(t):
        col = col.cast(t.value_type)
        t = col.type
    if t == _STRING_VIEW:
        col = col.cast(pa.large_string())
    elif t == _BINARY_VIEW:
        col = col.cast(pa.large_binary())
    elif pa.types.is_floating(t):
        col = pc.add(col, pa.scalar(0, t))  # IEEE: -0.0 + 0.0 == +0.0, NaN stays NaN
    return col


def _is_bytes(t: pa.DataType) -> bool:
    return pa.types.is_string(t) or pa.types.is_large_string(t) or pa.types.is_binary(t) \
        or pa.types.is_large_binary(t)


def _chunks(col: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(col.chunks) if isinstance(col, pa.ChunkedArray) else [col]


def _column_key(col: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """Per-row key of one column: a signature for bytes, exact codes otherwise."""
    if _is_bytes(col.type):
        # slices bound the transient window buffer (64 bytes per row)
        parts = [_bytes_signature(c.slice(i, _ROWS_PER_PASS))
                 for c in _chunks(col) for i in range(0, len(c), _ROWS_PER_PASS)]
        return np.concatenate(parts) if parts else np.empty(0, dtype=np.uint64)
    return _exact_codes(col)


def _exact_codes(col: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """int64 codes, equal exactly when values are equal (nulls get their own code)."""
    if isinstance(col, pa.ChunkedArray):
        col = col.combine_chunks()  # one dictionary for all rows
    try:
        enc = pc.dictionary_encode(col, null_encoding="encode")
    except pa.ArrowNotImplementedError:
        # Nested types (lists, structs, maps) have no hash kernel: group their
        # Python values instead (slow, but such key columns are rare).
        seen: dict = {}
        return np.array([seen.setdefault(_freeze(v), len(seen)) for v in col.to_pylist()], dtype=np.int64)
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _freeze(value):
    """A hashable stand-in for a nested Python value (NaN equal to NaN, as in Arrow)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, float) and value != value:
        return ("nan",)
    return value


def _offsets_and_data(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """int64 value offsets (starting at 0) and the byte buffer they index."""
    width = np.int32 if pa.types.is_string(arr.type) or pa.types.is_binary(arr.type) else np.int64
    _, obuf, dbuf = arr.buffers()[:3]
    off = np.frombuffer(obuf, dtype=width)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(dbuf, dtype=np.uint8) if dbuf is not None else np.empty(0, np.uint8)
    return off - off[0], data[off[0] : off[-1]]


def _bytes_signature(arr: pa.Array) -> np.ndarray:
    """uint64 per value from its length and its first and last 32 bytes."""
    if len(arr) == 0:
        return np.empty(0, dtype=np.uint64)
    off, data = _offsets_and_data(arr)
    length = np.diff(off)
    # Value i ends where value i+1 starts, so one 64-byte window centred on
    # each boundary holds the tail of one value and the head of the next:
    # one memory access per row instead of two.
    win = _windows(data, off - _WINDOW)
    head, tail = win[:-1, _LANES:], win[1:, :_LANES]
    short = np.flatnonzero(length < _WINDOW)
    if short.size:
        # Zero the bytes that belong to neighbouring values: a short value
        # fills the low bytes of its head window and the high bytes of its tail.
        lane = 8 * np.arange(_LANES)
        keep_low = np.clip(length[short, None] - lane, 0, 8).astype(np.uint64)
        drop_low = np.clip(_WINDOW - length[short, None] - lane, 0, 8).astype(np.uint64)
        head[short] &= _low_bytes(keep_low)
        tail[short] &= ~_low_bytes(drop_low)
    # uint64 matmul wraps mod 2**64, as a hash should (and beats summing lanes)
    sig = length.astype(np.uint64) * _MULS[0] + head @ _MULS[1 : 1 + _LANES] + tail @ _MULS[1 + _LANES :]
    sig = _fmix64(sig)
    if arr.null_count:
        sig[~_bools(arr.is_valid())] = _NULL_SIG
    return sig


def _low_bytes(count: np.ndarray) -> np.ndarray:
    """uint64 masks selecting the lowest ``count`` (0..8) bytes."""
    partial = (np.uint64(1) << (count * np.uint64(8) % np.uint64(64))) - np.uint64(1)
    return np.where(count >= 8, _ALL_ONES, partial)


def _windows(data: np.ndarray, pos: np.ndarray) -> np.ndarray:
    """``(len(pos), 8)`` uint64: bytes ``[p, p + 64)`` as little-endian lanes, zero outside ``data``."""
    k, width = len(data), 2 * _WINDOW
    if k >= width:
        # A stride-1 view of 64-byte records: one gather copies a whole window.
        view = np.ndarray(shape=(k - width + 1,), dtype=f"V{width}", buffer=data, strides=(1,))
        out = view[np.clip(pos, 0, k - width)].view("<u8").reshape(-1, width // 8)
    else:
        out = np.zeros((len(pos), width // 8), dtype=np.uint64)
    edge = np.flatnonzero((pos < 0) | (pos > k - width))
    if edge.size:  # the first and last few windows overhang the buffer: zero-padded copies
        lo = max(k - width, 0)
        front = np.zeros(3 * width, dtype=np.uint8)
        front[width : width + min(k, 2 * width)] = data[: 2 * width]
        back = np.zeros(2 * width, dtype=np.uint8)
        back[: k - lo] = data[lo:]
        p = pos[edge]
        neg = p < 0
        src = np.where(neg, p + width, p - lo + front.size)
        both = np.concatenate((front, back))
        records = np.ndarray(shape=(both.size - width + 1,), dtype=f"V{width}", buffer=both, strides=(1,))
        out[edge] = records[src].view("<u8").reshape(-1, width // 8)
    return out


def _fmix64(h: np.ndarray) -> np.ndarray:
    """murmur3's 64-bit finaliser: spreads every input bit over the output."""
    h = h ^ (h >> np.uint64(33))
    h *= np.uint64(0xFF51AFD7ED558CCD)
    h ^= h >> np.uint64(33)
    h *= np.uint64(0xC4CEB9FE1A85EC53)
    h ^= h >> np.uint64(33)
    return h


def _first_of_groups(keys: np.ndarray) -> np.ndarray:
    """For each position, the smallest position holding the same key.

    >>> _first_of_groups(np.array([7, 3, 7, 3, 9])).tolist()
    [0, 1, 0, 1, 4]
    """
    n = len(keys)
    first = np.arange(n, dtype=np.int64)
    # Sorting values is ~3x faster than argsort, and usually few keys repeat:
    # find the repeated values first, then argsort only the rows that might
    # hold one (a bitmap on the low key bits gives a small superset).
    ordered = np.sort(keys)
    repeated = ordered[1:][ordered[1:] == ordered[:-1]]
    if repeated.size == 0:
        return first
    bits = min(max(repeated.size.bit_length() + 3, 10), 26)  # ~8 slots per repeated key, <= 64 MiB
    low = np.asarray((1 << bits) - 1, dtype=keys.dtype)
    table = np.zeros(1 << bits, dtype=bool)
    table[repeated & low] = True
    cand = np.flatnonzero(table[keys & low])
    # Unstable argsort is fine: the group minimum is taken explicitly.
    order = np.argsort(keys[cand])
    members, gk = cand[order], keys[cand[order]]
    new = np.empty(members.size, dtype=bool)
    new[0] = True
    np.not_equal(gk[1:], gk[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, members.size))
    first[members] = np.repeat(np.minimum.reduceat(members, starts), sizes)
    return first


def _take(col: pa.Array | pa.ChunkedArray, idx: np.ndarray) -> pa.Array:
    out = col.take(pa.array(idx))
    return out.combine_chunks() if isinstance(out, pa.ChunkedArray) else out


def _equal_rows(col, key: np.ndarray, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether row ``a[i]`` equals row ``b[i]`` in ``col`` (nulls equal nulls)."""
    if not _is_bytes(col.type):
        return key[a] == key[b]  # exact codes
    both = _take(col, np.concatenate((a, b)))  # one gather for both sides
    left, right = both.slice(0, a.size), both.slice(a.size)
    eq = _bools(pc.equal(left, right))  # null (read as False) where a side is null
    if left.null_count or right.null_count:
        lnull, rnull = ~_bools(left.is_valid()), ~_bools(right.is_valid())
        return np.where(lnull | rnull, lnull & rnull, eq)
    return eq


def _bools(arr: pa.BooleanArray) -> np.ndarray:
    """A boolean array's values as numpy bools, nulls read as False (bitmaps unpacked by numpy)."""
    def bits(buf):
        return np.unpackbits(np.frombuffer(buf, np.uint8), count=arr.offset + len(arr),
                             bitorder="little")[arr.offset :].view(bool)

    values = bits(arr.buffers()[1])
    if arr.null_count:
        values &= bits(arr.buffers()[0])
    return values


def _regroup_exactly(cols, cluster: np.ndarray, mismatched: np.ndarray) -> None:
    """Relabel, in place and exactly, every signature group containing a mismatch."""
    groups = np.unique(cluster[mismatched])
    members = np.flatnonzero(np.isin(cluster, groups))  # ascending
    first = np.zeros(members.size, dtype=np.int64)
    for col in cols:
        codes = _exact_codes(_take(col, members))
        # both factors are < members.size < 2**31, so the product fits in int64
        first = _first_of_groups(first * (int(codes.max()) + 1) + codes)
    cluster[members] = members[first]
