"""Exact duplicate grouping of rows over one or more Arrow columns.

:func:`duplicate_groups` labels every row with the smallest row index whose
values are identical in all key columns.  It is exact: two rows are merged
only once their real values compared equal, never on a hash alone.

How it works (numpy / pyarrow over whole columns, no Python loop over rows):

1. **Exact codes or a signature, per column.**  Every non-text column, and
   every text column whose values repeat a lot, is ``dictionary_encode``-d:
   Arrow's hash table compares full values, so its codes are exact and need
   no checking, and it stays small when there are few distinct values.
   Whether a text column repeats a lot is estimated from a seeded random
   sample of its rows (Chao1; short columns are not sampled).  The other
   text columns, mostly distinct values (where the hash table would hold
   every value), get a 64-bit signature per row instead: the byte length
   and the first and last 32 bytes, read with one 64-byte gather per row
   boundary (the tail of one value and the head of the next), so the cost
   is per row, not per byte.  Equal rows always get equal signatures.  From
   ``_JIT_FROM`` rows on a compiled loop reads the same words where they lie
   (no window copied and masked: a third of the time on 130-byte rows, a
   tenth less on 600-byte rows, where waiting for memory dominates).
   Nested lists, structs and maps, which Arrow cannot hash, are grouped by
   their Python values (correct but slow).
2. **Grouping.**  Codes of one column are the answer already: Arrow numbers
   values in order of first appearance, so the first row of each value is
   where the running maximum of the codes grows.  Codes of several columns
   are combined arithmetically (exactly) and renumbered the same way when
   the sample says few combinations are distinct.  Otherwise (and for
   signatures) the 64-bit keys go through a compiled hash table in row order
   (numba; a numpy sort for short inputs), which labels each row with the
   first row that had its key.
3. **Verification.**  A row grouped on a signature is compared with its
   group's first row: the codes mixed into it, then the full values of the
   signature columns (from ``_JIT_FROM`` rows on a compiled compare reading
   both values where they lie, through the address of each value's first
   byte, so a column in many chunks compares as one buffer does; below,
   ``pyarrow.compute.equal`` on copies of the two sides, which needs no
   compiled code).  A row
   that differs (same length and same first and last 32 bytes, or a
   signature collision) is alone or is regrouped, with the other
   such rows of its group, on exact ``dictionary_encode`` codes.

``workers`` > 1 spreads steps 1 to 3 over threads (the signature by row
ranges of the whole column, whatever its chunks, the hash table by
partitions of the keys, the compare by pairs):
each thread writes only its own rows, so the labels are the same bytes.

So only the duplicates of mostly-distinct text columns are read twice in
full; data whose rows share length, prefix and suffix but differ in the
middle degrades gracefully to the exact path for those rows.  The sample
only picks the faster route: every route gives the same labels.

Equality semantics: nulls equal nulls (and differ from empty strings).  In
float columns every NaN equals every NaN and ``0.0`` equals ``-0.0``, as in
pandas, but NaN is a value, not a null (pandas' ``duplicated`` would also
merge a NaN with a None).  Everything else compares as Arrow's hash kernels
compare it; dictionary columns compare by their decoded values.

Callers that want "ignore case / whitespace" normalise first with
:func:`dsc.kernels.text.normalize` and pass the normalised columns here.
"""

from __future__ import annotations

import functools
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.kernels.buffers import is_bytes, raw_buffers, take, utf8_buffers

__all__ = ["duplicate_groups"]

_WINDOW = 32  # bytes read from each end of a string value
_LANES = _WINDOW // 8  # uint64 lanes per window
# Random odd 64-bit multipliers: the signature is a multilinear hash of
# (length, 4 head lanes, 4 tail lanes); several columns' keys are combined with fmix64.
_MULS = np.array(
    [
        0x9E3779B97F4A7C15, 0xC2B2AE3D27D4EB4F, 0x165667B19E3779F9, 0xD6E8FEB86659FD93,
        0xFF51AFD7ED558CCD, 0xC4CEB9FE1A85EC53, 0xA0761D6478BD642F, 0xE7037ED1A0B428DB,
        0x8EBC6AF09C88C6E3,
    ],
    dtype=np.uint64,
)
_ROWS_PER_PASS = 1 << 20  # rows whose compared values are held at once
_SIGNATURE_ROWS = 1 << 16  # rows whose windows are held at once (4 MiB: they stay in cache)
_NULL_SIG = np.uint64(0x6E756C6C6E756C6C)  # any fixed value: nulls only need to agree
_COMBINE = np.uint64(0x9FB21C651E98DF25)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_LOW32 = np.uint64(0xFFFFFFFF)
# A text column of more than _SAMPLE_FROM rows is dictionary-encoded when a random sample
# of its rows suggests that at most _FEW_DISTINCT of them are distinct: below that, Arrow's
# hash table stays small and beats signatures plus verification.  The sample (at least
# _SAMPLE rows, at most an eighth) grows as 4 * sqrt(0.1 n), so that a sample without
# repeats tells "many distinct values" apart from "few".  Shorter text columns get
# signatures (sampling would cost more than a wrong guess), except that columns of at most
# _ENCODE_UP_TO rows are always encoded (one kernel call).
_SAMPLE = 512
_SAMPLE_FROM = 16384
_ENCODE_UP_TO = 256
_FEW_DISTINCT = 0.1
_SAMPLE_SEED = 0x5EED
# view types exist from pyarrow 16 on
_STRING_VIEW = pa.string_view() if hasattr(pa, "string_view") else None
_BINARY_VIEW = pa.binary_view() if hasattr(pa, "binary_view") else None


def duplicate_groups(columns: Sequence[pa.Array | pa.ChunkedArray], workers: int = 1) -> np.ndarray:
    """Label each row with the smallest index of a row equal to it in every column.

    ``cluster[i] == i`` for a row's first occurrence (and for unique rows);
    otherwise ``cluster[i]`` is the index of that first occurrence.  Nulls
    equal nulls; see the module docstring for the other equality rules.

    ``workers`` threads share the signature, hash table and verification work
    of inputs from ``_JIT_FROM`` rows on (numpy, Arrow and the compiled kernels
    release the GIL); every part writes only its own rows or keys, so the
    labels are the same with any number of workers.

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

    if len(cols) == 1 and n >= _JIT_FROM and _integer_keys(cols[0]):
        # The values are their own exact keys: the compiled hash table, no encoding (1M distinct
        # 64-bit integers: 15 ms where Arrow's dictionary_encode took 80 ms), nothing to verify.
        parts = [c.to_numpy() for c in _chunks(cols[0])]
        return _first_of_keys(parts[0] if len(parts) == 1 else np.concatenate(parts), workers)[0]

    encoded, hashed = [], []  # (codes, count) of exactly encoded columns; the others
    for col in cols:
        if is_bytes(col.type) and not _few_distinct(col):
            hashed.append(col)
        else:
            encoded.append(_exact_codes(col))
    codes = _combine_codes(encoded) if encoded else None
    if not hashed:  # exact codes only: no value is read again
        if len(encoded) == 1:
            return _labels_of_codes(*codes)
        if _few_distinct_codes(codes[0]):  # Arrow's hash table stays small: renumber, no sort
            return _labels_of_codes(*_exact_codes(pa.array(codes[0])))
        return _first_of_keys(codes[0])[0]  # combined codes are exact keys

    workers = max(1, int(workers)) if n >= _JIT_FROM else 1  # below, threads cost more than they save
    sig = None
    for col in hashed:
        key = _column_key(col, workers)
        sig = key if sig is None else _fmix64(sig * _COMBINE + key)
    if codes is not None:
        sig = _fmix64(sig * _COMBINE + codes[0].astype(np.uint64))
    cluster, moved = _first_of_keys(sig, workers)  # moved rows come in row order: good locality

    same = np.ones(moved.size, dtype=bool)
    if codes is not None:  # signatures mixed with codes may collide
        same &= codes[0][moved] == codes[0][cluster[moved]]
    for col in hashed:
        if n >= _JIT_FROM:  # the compiled kernels are loaded: compare in place, no copy
            same &= _equal_rows_in_place(col, moved, cluster[moved], workers)
            continue
        for lo in range(0, moved.size, _ROWS_PER_PASS):  # batches bound the copied values
            part = slice(lo, lo + _ROWS_PER_PASS)
            same[part] &= _equal_rows(col, moved[part], cluster[moved[part]])
    if not same.all():
        _regroup_exactly(hashed, codes, cluster, moved[~same])
    return cluster


def _integer_keys(col: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a column's values can key the hash table as they are: integers without nulls."""
    return pa.types.is_integer(col.type) and col.null_count == 0


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


def _chunks(col: pa.Array | pa.ChunkedArray) -> list[pa.Array]:
    return list(col.chunks) if isinstance(col, pa.ChunkedArray) else [col]


def _few_distinct(col: pa.Array | pa.ChunkedArray) -> bool:
    """Whether a text column looks worth dictionary-encoding (few distinct values).

    A seeded random sample of rows is encoded and the number of distinct
    values in the whole column estimated from it.  The guess only picks the
    faster route; both give the same labels.
    """
    n = len(col)
    if n <= _SAMPLE_FROM:
        return n <= _ENCODE_UP_TO
    codes, distinct = _exact_codes(take(col, _sample_rows(n)))  # a chunked column's own take joins its chunks
    return _estimate_distinct(np.bincount(codes, minlength=distinct)) <= _FEW_DISTINCT * n


def _few_distinct_codes(codes: np.ndarray) -> bool:
    """Whether combined codes look worth encoding again (as :func:`_few_distinct`; short
    columns always are: a hash table of a few thousand integers is cheap)."""
    n = len(codes)
    if n <= _SAMPLE_FROM:
        return True
    sample = codes[_sample_rows(n).to_numpy()]
    return _estimate_distinct(np.unique(sample, return_counts=True)[1]) <= _FEW_DISTINCT * n


def _estimate_distinct(counts: np.ndarray) -> float:
    """Chao1: distinct values in a population, from how often a sample saw each.

    The values seen once and twice tell how many were not seen at all.
    """
    once, twice = int(np.count_nonzero(counts == 1)), int(np.count_nonzero(counts == 2))
    return np.count_nonzero(counts) + once * (once - 1) / (2 * (twice + 1))


def _sample_rows(n: int) -> pa.Array:
    """Distinct row indices in ``range(n)`` to estimate from, ascending, the same every time."""
    return _draw_rows(n, min(n // 8, max(_SAMPLE, int(4 * (max(_FEW_DISTINCT, 0.0) * n) ** 0.5))))


@functools.lru_cache(maxsize=8)
def _draw_rows(n: int, size: int) -> pa.Array:
    rows = np.sort(np.random.default_rng(_SAMPLE_SEED).integers(0, n, size))
    return pa.array(rows[np.r_[True, rows[1:] != rows[:-1]][: rows.size]])


def _column_key(col: pa.Array | pa.ChunkedArray, workers: int = 1) -> np.ndarray:
    """Per-row signature of a text or binary column (by the compiled kernel from ``_JIT_FROM``
    rows on, where the hash table loads compiled code anyway).

    The rows are cut into ``workers`` ranges of the whole column, whatever its chunks, and each
    thread signs the pieces of the chunks in its range: a column read in one chunk per source
    block (80 for 1M rows of 640 bytes) costs one thread pool, not one per chunk (which spent
    more time waiting on its locks than it saved).  Every piece writes only its own rows.
    """
    compiled = len(col) >= _JIT_FROM
    chunks = _chunks(col)
    if len(chunks) == 1 and workers <= 1:
        return _bytes_signature(chunks[0], compiled)
    sig = np.empty(len(col), dtype=np.uint64)
    bounds = np.cumsum([0] + [len(c) for c in chunks])

    def sign(rows: tuple[int, int]) -> None:
        lo, hi = rows
        k = int(np.searchsorted(bounds, lo, side="right")) - 1
        while lo < hi:
            stop = min(hi, int(bounds[k + 1]))
            if stop > lo:
                _bytes_signature(chunks[k].slice(lo - bounds[k], stop - lo), compiled, sig[lo:stop])
            lo, k = stop, k + 1

    _in_threads(sign, _ranges(len(col), workers), workers)
    return sig


def _in_threads(fn, items: list, workers: int) -> list:
    """``[fn(x) for x in items]``, on ``workers`` threads when there are several (``fn`` spends its
    time in numpy, Arrow or a compiled kernel, all of which release the GIL)."""
    if workers <= 1 or len(items) <= 1:
        return [fn(x) for x in items]
    with ThreadPoolExecutor(min(workers, len(items))) as pool:
        return list(pool.map(fn, items))


def _ranges(n: int, parts: int, step: int = 1) -> list[tuple[int, int]]:
    """``range(n)`` cut into at most ``parts`` consecutive ``(lo, hi)`` ranges whose inner bounds
    are multiples of ``step``.

    >>> _ranges(10, 3), _ranges(10, 2, step=4), _ranges(0, 2)
    ([(0, 4), (4, 8), (8, 10)], [(0, 8), (8, 10)], [])
    """
    size = -(-n // max(1, parts))  # ceil
    size = max(step, -(-size // step) * step)
    return [(lo, min(lo + size, n)) for lo in range(0, n, size)]


def _exact_codes(col: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, int]:
    """Integer codes, equal exactly when values are equal (nulls get their own code), and
    how many there are.  Codes are numbered in order of first appearance (Arrow's hash
    table numbers values as it meets them; the nested fallback does the same)."""
    try:
        enc = pc.dictionary_encode(col, null_encoding="encode")
    except pa.ArrowNotImplementedError:
        # Nested types (lists, structs, maps) have no hash kernel: group their
        # Python values instead (slow, but such key columns are rare).
        seen: dict = {}
        codes = [seen.setdefault(_freeze(v), len(seen)) for v in col.to_pylist()]
        return np.array(codes, dtype=np.int64), len(seen)
    # A chunked input is encoded with one hash table: every chunk gets the final dictionary.
    chunks = _chunks(enc)
    if not chunks:
        return np.empty(0, dtype=np.int64), 0
    codes = [c.indices.to_numpy(zero_copy_only=False) for c in chunks]  # int32, read-only
    return codes[0] if len(codes) == 1 else np.concatenate(codes), len(chunks[-1].dictionary)


def _freeze(value):
    """A hashable stand-in for a nested Python value (NaN equal to NaN, as in Arrow)."""
    if isinstance(value, (list, tuple)):
        return tuple(_freeze(v) for v in value)
    if isinstance(value, dict):
        return tuple((k, _freeze(v)) for k, v in value.items())
    if isinstance(value, float) and value != value:
        return ("nan",)
    return value


def _combine_codes(encoded: list[tuple[np.ndarray, int]]) -> tuple[np.ndarray, int]:
    """One exact int64 code per row for several columns' codes (and an upper bound on it)."""
    codes, count = encoded[0]
    for more, more_count in encoded[1:]:
        if count * more_count >= 1 << 63:  # would overflow: renumber densely first
            codes, count = _exact_codes(pa.array(codes))
        codes = codes.astype(np.int64)
        codes *= more_count
        codes += more
        count *= more_count
    return codes, count


def _labels_of_codes(codes: np.ndarray, count: int) -> np.ndarray:
    """Cluster labels from codes numbered in order of first appearance: no sort needed.

    The first occurrences are where the running maximum of the codes grows.
    If the codes turn out not to be numbered that way, fall back to sorting.

    >>> _labels_of_codes(np.array([0, 1, 0, 2, 1]), 3).tolist()
    [0, 1, 0, 3, 1]
    """
    top = np.maximum.accumulate(codes)
    new = np.empty(codes.size, dtype=bool)
    new[:1] = True
    np.greater(top[1:], top[:-1], out=new[1:])
    first = np.flatnonzero(new)
    if first.size != count or not np.array_equal(codes[first], np.arange(count)):
        return _first_of_groups(codes)
    return first[codes]


def _low_bytes(count: np.ndarray) -> np.ndarray:
    """uint64 masks selecting the lowest ``count`` (0..8) bytes."""
    count = np.asarray(count, dtype=np.uint64)
    partial = (np.uint64(1) << (count * np.uint64(8) % np.uint64(64))) - np.uint64(1)
    return np.where(count >= 8, _ALL_ONES, partial)


def _window_masks() -> tuple[np.ndarray, np.ndarray]:
    """Lane masks for short values, indexed by the value's length capped at 32.

    A value of length ``l < 32`` fills only the low ``l`` bytes of its head
    window and the high ``l`` bytes of its tail window; the rest belongs to
    its neighbours and is zeroed.
    """
    length = np.arange(_WINDOW + 1)[:, None]
    lane = 8 * np.arange(_LANES)[None, :]
    return _low_bytes(np.clip(length - lane, 0, 8)), ~_low_bytes(np.clip(_WINDOW - length - lane, 0, 8))


_HEAD_MASK, _TAIL_MASK = _window_masks()
# Both masks of a whole window at once: window r holds the tail of value r - 1 (lanes 0-3)
# and the head of value r (lanes 4-7); index (capped length of r - 1) * 33 + (that of r).
_PAIR_MASK = np.concatenate(np.broadcast_arrays(_TAIL_MASK[:, None, :], _HEAD_MASK[None, :, :]), axis=2) \
    .reshape((_WINDOW + 1) ** 2, 2 * _LANES)


def _bytes_signature(arr: pa.Array, compiled: bool = False, out: np.ndarray | None = None) -> np.ndarray:
    """uint64 per value from its length and its first and last 32 bytes, written into ``out``
    (a new array when None) and returned (threads: :func:`_column_key`).

    ``compiled``: by :func:`_signature_loop`, which reads each value's words where they lie (a
    third of the time of the numpy route's windows, which must copy and mask them, on 130-byte
    rows; a tenth less on 600-byte rows).  The two
    routes give different signatures, each equal for equal values, which is all the grouping
    needs: labels do not depend on the route.
    """
    sig = np.empty(len(arr), dtype=np.uint64) if out is None else out
    if len(arr) == 0:
        return sig
    if compiled:
        off, data = raw_buffers(arr)
        _signature_kernel()(off, data, sig, _MULS)
    else:
        off, data = utf8_buffers(arr)
        _signature_rows(off, data, sig, 0, len(arr))
    # No finaliser: the high half, which the grouping sorts on, already depends on every
    # input byte (a product's high bits depend on all of a factor's lower bits).
    if arr.null_count:
        sig[~_bools(arr.is_valid())] = _NULL_SIG
    return sig


def _signature_rows(off: np.ndarray, data: np.ndarray, sig: np.ndarray, start: int, stop: int) -> None:
    """Rows ``start:stop`` of :func:`_bytes_signature`, written into ``sig``."""
    # Blocks of rows keep each block's windows (64 bytes a row) in cache.
    for lo in range(start, stop, _SIGNATURE_ROWS):
        block = off[lo : min(lo + _SIGNATURE_ROWS, stop) + 1]
        length = np.diff(block)
        # Value i ends where value i+1 starts, so one 64-byte window centred on
        # each boundary holds the tail of one value and the head of the next:
        # one memory access per row instead of two.
        win = _windows(data, block)
        short = np.count_nonzero(length < _WINDOW)
        if short:  # zero the bytes that belong to neighbouring values
            capped = np.minimum(length, _WINDOW)
            if short * 16 > len(length):  # many short values: mask every window at once
                pair = np.full(len(win), _WINDOW * (_WINDOW + 1) + _WINDOW, dtype=np.int64)
                pair[1:] += (capped - _WINDOW) * (_WINDOW + 1)  # the value before the boundary
                pair[:-1] += capped - _WINDOW  # the value after it
                win &= _PAIR_MASK.take(pair, axis=0)
            else:
                rows = np.flatnonzero(length < _WINDOW)
                win[rows, _LANES:] &= _HEAD_MASK.take(capped[rows], axis=0)
                win[rows + 1, :_LANES] &= _TAIL_MASK.take(capped[rows], axis=0)
        # uint64 matmul wraps mod 2**64, as a hash should (and beats summing lanes)
        out = sig[lo : lo + len(length)]
        np.matmul(win[:-1, _LANES:], _MULS[1 : 1 + _LANES], out=out)
        out += win[1:, :_LANES] @ _MULS[1 + _LANES :]
        out += length.view(np.uint64) * _MULS[0]


def _signature_loop(off, data, out, muls):  # pragma: no cover - runs compiled
    """``out[i]``: the signature of value ``i`` (offsets ``off`` into ``data``), compiled by
    :func:`_signature_kernel`: its length and its first and last four 8-byte words (which
    overlap in values shorter than 64 bytes), each times its own odd multiplier, summed mod
    2**64 as :func:`_signature_rows` sums its lanes.  A value shorter than 32 bytes gives its
    words once, the last one partial (only its own bytes, zero above).  Loads never pass a
    value's end, so never its buffer's.

    Rows go a batch at a time, the last word of each value loaded for the whole batch first:
    in long values (hundreds of bytes) the words read lie far apart, and loads that do not wait
    for one another let the processor wait for their memory at once (a fifth less time on
    600-byte rows; a value's first words share a cache line with the previous value's last).
    """
    last = np.zeros(_BATCH, dtype=np.uint64)
    for lo in range(0, out.size, _BATCH):
        m = min(_BATCH, out.size - lo)
        for j in range(m):
            end = np.int64(off[lo + j + 1])
            if end - np.int64(off[lo + j]) >= 32:
                last[j] = load8(data, end - 8)
        for j in range(m):
            start, end = np.int64(off[lo + j]), np.int64(off[lo + j + 1])
            size = end - start
            h = np.uint64(size) * muls[0]
            if size >= 32:
                h += load8(data, start) * muls[1] + load8(data, start + 8) * muls[2] \
                    + load8(data, start + 16) * muls[3] + load8(data, start + 24) * muls[4]
                h += load8(data, end - 32) * muls[5] + load8(data, end - 24) * muls[6] \
                    + load8(data, end - 16) * muls[7] + last[j] * muls[8]
            else:
                k, lane = 0, 1
                while k + 8 <= size:
                    h += load8(data, start + k) * muls[lane]
                    k += 8
                    lane += 1
                word, shift = np.uint64(0), np.uint64(0)
                while k < size:
                    word |= np.uint64(data[start + k]) << shift
                    shift += np.uint64(8)
                    k += 1
                h += word * muls[lane]
            out[lo + j] = h


@functools.cache
def _signature_kernel():
    """:func:`_signature_loop` compiled, on first use (see :func:`_hash_table`)."""
    return _compiled(_signature_loop)


def _compiled(loop):
    """``loop`` compiled by :func:`dsc.kernels.jit.kernel`, with the intrinsics the loops call
    (``load8``, ``bytes_at``, ``prefetch``) bound first as this module's globals: numba resolves
    a loop's globals when it compiles it, and importing numba is left until a kernel is needed."""
    global load8, bytes_at, prefetch
    from dsc.kernels.jit import bytes_at, kernel, load8, prefetch

    return kernel(loop)


def _windows(data: np.ndarray, off: np.ndarray) -> np.ndarray:
    """``(len(off), 8)`` uint64: bytes ``[o - 32, o + 32)`` as little-endian lanes, zero outside ``data``.

    ``off`` is ascending, so only a prefix and a suffix of the windows can overhang the buffer.
    """
    k, width = len(data), 2 * _WINDOW
    pos = off - _WINDOW
    if k >= width:  # windows [start, stop) lie inside the buffer
        start, stop = np.searchsorted(pos, 0), np.searchsorted(pos, k - width, side="right")
        edge = np.r_[0:start, stop : len(pos)]
        # A stride-1 view of 64-byte records: one gather copies a whole window.
        view = np.ndarray(shape=(k - width + 1,), dtype=f"V{width}", buffer=data, strides=(1,))
        pos[:start] = 0
        pos[stop:] = k - width
        out = view[pos].view("<u8").reshape(-1, width // 8)
    else:
        out = np.zeros((len(pos), width // 8), dtype=np.uint64)
        edge = np.arange(len(pos))
    if edge.size:  # the first and last few windows overhang the buffer: zero-padded copies
        lo = max(k - width, 0)
        front = np.zeros(3 * width, dtype=np.uint8)
        front[width : width + min(k, 2 * width)] = data[: 2 * width]
        back = np.zeros(2 * width, dtype=np.uint8)
        back[: k - lo] = data[lo:]
        p = off[edge] - _WINDOW
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


def _first_of_keys(keys: np.ndarray, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """Label each row with the smallest row whose (64-bit integer) key is equal; and the rows
    so labelled with another row, ascending.

    Exact on the whole key: rows share a label exactly when their keys are equal (callers still
    compare the values behind equal signatures).  From ``_JIT_FROM`` rows on, one pass of a
    compiled open-addressing hash table in row order, so the first row to reach a key is its
    smallest (a sort costs ``n log n`` and a second pass to find the groups' first rows; the
    table touches each row once: 15-35 ms for 1M keys where the sort took 45-95 ms).  Shorter
    inputs are sorted with numpy (see :func:`_hash_table` for why); both routes give the same
    labels.

    With several ``workers`` the keys are partitioned by the top bits of their mixed value
    (``key * _MIX``): each thread scans every key in row order but handles only its own
    partition, in a table of its own.  Equal keys share a partition, so the first row to reach
    a key in its partition is still its smallest: the labels are the same with any number of
    workers.

    >>> first, moved = _first_of_keys(np.array([7, 3, 7, 3, 9]))
    >>> first.tolist(), moved.tolist()
    ([0, 1, 0, 1, 4], [2, 3])
    """
    n = len(keys)
    keys = np.ascontiguousarray(keys).view(np.uint64) if keys.dtype.itemsize == 8 \
        else keys.astype(np.uint64)
    if n >= _LOW32:  # row numbers do not fit beside a tag or a digest
        first = _first_of_groups(keys)
        return first, np.flatnonzero(first != np.arange(n))
    if n < _JIT_FROM:
        return _sort_first_of_keys(keys)
    first = np.empty(n, dtype=np.int64)
    part_bits = min(max(1, workers), _MAX_PARTS).bit_length() - 1  # 2**part_bits partitions
    loop = _hash_table()
    moved = _in_threads(lambda part: loop(keys, first, np.uint64(part), np.uint64(part_bits)),
                        list(range(1 << part_bits)), workers)
    # each partition's rows come in row order; together they must too
    return first, moved[0] if len(moved) == 1 else np.sort(np.concatenate(moved))


_JIT_FROM = 1 << 16  # rows from which the compiled kernels sign, group and compare
# dsc.kernels.jit's intrinsics once a compiled kernel is made (:func:`_compiled`): numba is
# imported only then, and resolves the loops' globals when it compiles them.
load8 = bytes_at = prefetch = None
_AHEAD = 32  # keys ahead whose hash table slot the compiled loop asks for (prefetch)
_MAX_PARTS = 64  # hash table partitions at most (each thread scans every key)
_BATCH = 16  # rows (pairs) whose scattered first loads the compiled loops issue together
_MIX = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: odd, so a bijection on 64 bits


def _sort_first_of_keys(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_first_of_keys` by one numpy sort of ``digest << 32 | row``, with a 32-bit digest
    of the key: the sort both puts equal digests together and orders each group by row, so its
    first entry is its smallest row (twice as fast as an argsort of the keys).  Rows whose key
    differs from their group's first key (digests that merely collide) are regrouped, with the
    rest of their group, on the whole keys.

    >>> _sort_first_of_keys(np.array([7, 3, 7, 3, 9], dtype=np.uint64))[0].tolist()
    [0, 1, 0, 1, 4]
    """
    n = len(keys)
    packed = _fmix64(keys) >> np.uint64(32)
    packed <<= np.uint64(32)
    packed |= np.arange(n, dtype=np.uint64)
    packed.sort()  # numpy's SIMD sort: several times faster than an argsort
    digest = packed >> np.uint64(32)
    pos = np.flatnonzero(digest[1:] == digest[:-1])
    first = np.arange(n, dtype=np.int64)
    if pos.size == 0:
        return first, first[:0]
    pos += 1  # sorted positions of the rows that are not first in their group
    # Each run of consecutive such positions belongs to the group starting just before it.
    start = np.empty(pos.size, dtype=bool)
    start[0] = True
    np.not_equal(pos[1:], pos[:-1] + 1, out=start[1:])
    head = np.where(start, pos - 1, 0)
    np.maximum.accumulate(head, out=head)
    moved = (packed[pos] & _LOW32).astype(np.int64)
    first[moved] = (packed[head] & _LOW32).astype(np.int64)
    wrong = keys[moved] != keys[first[moved]]
    if wrong.any():
        rows = np.flatnonzero(np.isin(first, first[moved[wrong]]))
        first[rows] = rows[_first_of_groups(keys[rows])]
    moved = np.flatnonzero(first != np.arange(n))
    return first, moved


def _hash_table_loop(keys, first, part, part_bits):  # pragma: no cover - runs compiled
    """The loop of :func:`_first_of_keys` over the keys of partition ``part`` (those whose mixed
    value starts with the ``part_bits`` bits of ``part``; all keys when ``part_bits`` is 0),
    compiled by :func:`_hash_table`.  Writes ``first`` for those rows only; returns the rows
    labelled with another row, ascending.

    A slot holds a 32-bit tag of its key (the low half of ``key * _MIX``: distinct keys below
    2**32, such as codes, never share one) above the row number; ``~0`` is an empty slot (no
    row number is ``2**32 - 1``).  The slot index is the bits of the same product below the
    partition's, so a slot's tag is independent of where it sits.  Equal tags are confirmed on
    the whole key.  The table is sized from the partition's own row count (about twice as many
    slots as rows: short probe runs, 8 bytes a slot), counted first, so a partition that gets
    more than its share of distinct keys still has room for all of them.

    The slots a key lands in are random, so each insert would wait for its slot's memory; the
    slot of the key ``_AHEAD`` rows on is prefetched instead, so that wait overlaps the inserts
    between (1M keys: 12.5 ms to 9 ms in a standalone copy of this loop).
    """
    empty = np.uint64(0xFFFFFFFFFFFFFFFF)
    low = np.uint64(0xFFFFFFFF)
    half = np.uint64(32)
    part_shift = np.uint64(64) - part_bits
    rows = keys.size
    if part_bits > 0:  # the partition's rows, in row order, gathered without a branch per key
        mine = np.empty(keys.size, dtype=np.int64)
        rows = 0
        for i in range(keys.size):
            mine[rows] = i
            rows += (keys[i] * _MIX) >> part_shift == part
    else:
        mine = np.empty(0, dtype=np.int64)
    bits = np.uint64(1)
    while (np.uint64(1) << bits) < np.uint64(2 * rows):
        bits += np.uint64(1)
    slots = np.full(np.int64(1) << np.int64(bits), empty, dtype=np.uint64)
    shift = np.uint64(64) - bits
    mask = np.uint64(slots.size - 1)
    moved = np.empty(rows, dtype=np.int64)
    count = 0
    for j in range(rows):
        if j + _AHEAD < rows:  # ask for a later key's slot now: its memory comes while we work
            ahead = mine[j + _AHEAD] if part_bits > 0 else j + _AHEAD
            prefetch(slots, ((keys[ahead] * _MIX) << part_bits) >> shift)
        i = mine[j] if part_bits > 0 else j
        key = keys[i]
        mixed = key * _MIX
        tag = mixed & low
        mixed = mixed << part_bits  # the bits below the partition's
        at = mixed >> shift
        while True:
            slot = slots[at]
            if slot == empty:
                slots[at] = (tag << half) | np.uint64(i)
                first[i] = i
                break
            if slot >> half == tag:
                row = np.int64(slot & low)
                if keys[row] == key:
                    first[i] = row
                    moved[count] = i
                    count += 1
                    break
            at = (at + np.uint64(1)) & mask
    return moved[:count]


@functools.cache
def _hash_table():
    """:func:`_hash_table_loop` compiled, on first use.  The first compiled kernel a process
    runs starts numba's code generator (0.3 s to 1 s, once per process, shared with the
    normalise and near-dedupe kernels; this one's machine code then loads from the disk cache
    in milliseconds), so tables below ``_JIT_FROM`` rows, where a sort costs a few milliseconds,
    never start it (schema checks, profiles, small runs)."""
    return _compiled(_hash_table_loop)


def _first_of_groups(keys: np.ndarray) -> np.ndarray:
    """For each position, the smallest position holding the same key (exact, any keys).

    >>> _first_of_groups(np.array([7, 3, 7, 3, 9])).tolist()
    [0, 1, 0, 1, 4]
    """
    n = len(keys)
    first = np.arange(n, dtype=np.int64)
    if n < 2:
        return first
    # Unstable argsort is fine: the group minimum is taken explicitly.
    order = np.argsort(keys)
    gk = keys[order]
    new = np.empty(n, dtype=bool)
    new[0] = True
    np.not_equal(gk[1:], gk[:-1], out=new[1:])
    starts = np.flatnonzero(new)
    sizes = np.diff(np.append(starts, n))
    first[order] = np.repeat(np.minimum.reduceat(order, starts), sizes)
    return first


def _equal_rows(col, a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Whether row ``a[i]`` equals row ``b[i]`` in a text or binary ``col`` (nulls equal nulls)."""
    both = take(col, np.concatenate((a, b)))  # one gather for both sides
    left, right = both.slice(0, a.size), both.slice(a.size)
    eq = _bools(pc.equal(left, right))  # null (read as False) where a side is null
    if left.null_count or right.null_count:
        lnull, rnull = ~_bools(left.is_valid()), ~_bools(right.is_valid())
        return np.where(lnull | rnull, lnull & rnull, eq)
    return eq


def _equal_rows_in_place(col, a: np.ndarray, b: np.ndarray, workers: int = 1) -> np.ndarray:
    """:func:`_equal_rows` by a compiled kernel reading both rows where they lie in ``col``'s
    buffers: no value is copied (Arrow's ``take`` copied both sides of every pair before its
    compare, most of the verification's time).

    Each compared row is first given the address of its value's first byte and its length
    (:func:`_value_addresses`), so the kernel reads values in any chunk alike: a column cut into
    one chunk per source block (80 for 1M rows of 640 bytes) compares as fast as one buffer,
    where grouping the pairs by (chunk, chunk) had to go back to Arrow's copies past a few
    hundred groups.  Pairs are split over ``workers`` threads (the kernel releases the GIL),
    each writing its own part of the answer.
    """
    same = np.empty(a.size, dtype=bool)
    if a.size == 0:
        return same
    chunks = _chunks(col)
    bounds = np.cumsum([0] + [len(c) for c in chunks])
    where_a, size_a, valid_a = _value_addresses(chunks, bounds, a)
    where_b, size_b, valid_b = _value_addresses(chunks, bounds, b)
    kernel = _equal_kernel()
    _in_threads(lambda r: kernel(where_a[r[0] : r[1]], size_a[r[0] : r[1]], where_b[r[0] : r[1]],
                                 size_b[r[0] : r[1]], same[r[0] : r[1]]),
                _ranges(a.size, workers), workers)
    if valid_a is not None or valid_b is not None:  # a null equals a null only
        va = valid_a if valid_a is not None else np.ones(a.size, dtype=bool)
        vb = valid_b if valid_b is not None else np.ones(b.size, dtype=bool)
        same = np.where(va & vb, same, va == vb)
    return same


def _value_addresses(chunks: list[pa.Array], bounds: np.ndarray, rows: np.ndarray
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None]:
    """For each of ``rows`` (row numbers in the whole column, whose chunks start at ``bounds``):
    the address of its value's first byte (the chunk's data buffer plus its start offset), its
    length in bytes (0 for a null, so that a null's slot, whatever its offsets, is never read),
    and whether it is valid (None when no row is null).

    Only the rows asked for are looked up, a chunk at a time (rows grouped by chunk with one
    stable sort of their chunk numbers): no pass over the other rows.  The addresses stay valid
    while ``chunks`` are alive (the caller holds the column).
    """
    where = np.empty(rows.size, dtype=np.int64)
    size = np.empty(rows.size, dtype=np.int64)
    valid = None
    if len(chunks) == 1:
        parts = [(0, slice(None), rows)]
    else:
        which = np.searchsorted(bounds, rows, side="right") - 1
        order = np.argsort(which, kind="stable")
        cuts = np.searchsorted(which[order], np.arange(len(chunks) + 1))
        parts = [(k, order[cuts[k] : cuts[k + 1]], None) for k in range(len(chunks)) if cuts[k + 1] > cuts[k]]
    for k, at, local in parts:
        if local is None:
            local = rows[at] - bounds[k]
        off, data = raw_buffers(chunks[k])
        start = off[local].astype(np.int64)
        length = off[local + 1] - start
        if chunks[k].null_count:
            ok = _bools(chunks[k].is_valid())[local]
            length[~ok] = 0
            if valid is None:
                valid = np.ones(rows.size, dtype=bool)
            valid[at] = ok
        start += data.ctypes.data
        where[at] = start
        size[at] = length
    return where, size, valid


def _equal_loop(where_a, size_a, where_b, size_b, out):  # pragma: no cover - runs compiled
    """``out[i]``: whether the ``size_a[i]`` bytes at address ``where_a[i]`` are the
    ``size_b[i]`` bytes at ``where_b[i]`` (compiled by :func:`_equal_kernel`; the addresses
    come from :func:`_value_addresses`).

    The rows ``b[i]`` lie anywhere in the column, so the time goes in waiting for memory, not in
    comparing: pairs are taken a batch at a time, first the lengths (pairs of different lengths
    are told apart without a read) and the first bytes of all of them (loads that do not wait on
    each other, so the processor waits for them at once), then the whole values.  Prefetching the
    next batch's first bytes as well measured no faster (130-byte rows: 8.0 ms against 7.2 for
    91k pairs; 640-byte: 14.5 against 14.8), so it is not done.  The comparisons go eight bytes
    a step, the last eight of a value read once more (overlapping) rather than byte by byte.
    Loads never pass a value's end, so never its buffer's."""
    head = np.zeros(_BATCH, dtype=np.bool_)
    n = out.size
    for lo in range(0, n, _BATCH):
        m = min(_BATCH, n - lo)
        for j in range(m):  # do the lengths or the first bytes differ
            size = size_a[lo + j]
            head[j] = size != size_b[lo + j] or (
                size > 0 and bytes_at(where_a[lo + j], 1)[0] != bytes_at(where_b[lo + j], 1)[0])
        for j in range(m):
            same = not head[j]
            size = size_a[lo + j]
            if same and size > 1:
                va, vb = bytes_at(where_a[lo + j], size), bytes_at(where_b[lo + j], size)
                if size >= 8:
                    k = 0
                    while k < size - 8:
                        if load8(va, k) != load8(vb, k):
                            same = False
                            break
                        k += 8
                    if same:
                        same = load8(va, size - 8) == load8(vb, size - 8)
                else:
                    for k in range(1, size):
                        if va[k] != vb[k]:
                            same = False
                            break
            out[lo + j] = same


@functools.cache
def _equal_kernel():
    """:func:`_equal_loop` compiled, on first use (see :func:`_hash_table`)."""
    return _compiled(_equal_loop)


def _bools(arr: pa.BooleanArray) -> np.ndarray:
    """A boolean array's values as numpy bools, nulls read as False (bitmaps unpacked by numpy)."""
    def bits(buf):
        return np.unpackbits(np.frombuffer(buf, np.uint8), count=arr.offset + len(arr),
                             bitorder="little")[arr.offset :].view(bool)

    values = bits(arr.buffers()[1])
    if arr.null_count:
        values &= bits(arr.buffers()[0])
    return values


def _regroup_exactly(hashed, codes, cluster: np.ndarray, mismatched: np.ndarray) -> None:
    """Relabel, in place and exactly, the rows found to differ from their group's first row.

    Such a row differs from every row that matched the first one, and equals
    no row outside its group (equal rows share a digest), so it can only
    equal other mismatched rows of its group: one that is the only mismatch
    of its group is a first occurrence itself; the others are grouped again
    on exact codes of their values.
    """
    _, at, count = np.unique(cluster[mismatched], return_inverse=True, return_counts=True)
    alone = count[at] == 1
    cluster[mismatched[alone]] = mismatched[alone]
    rest = np.sort(mismatched[~alone])
    if rest.size:
        encoded = [_exact_codes(take(col, rest)) for col in hashed]
        if codes is not None:
            encoded.append(_exact_codes(pa.array(codes[0][rest])))
        cluster[rest] = rest[_first_of_groups(_combine_codes(encoded)[0])]
