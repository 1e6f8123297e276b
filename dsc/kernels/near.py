"""Near-duplicate detection: shingling, MinHash, LSH banding, exact verification.

The loops over bytes, shingles and candidate pairs are compiled kernels (numba, through
:mod:`dsc.kernels.jit`: machine code cached on disk, GIL released), so ``workers`` threads run
them over row ranges of about equal bytes (``in_parts``) with no copy of the data; each part
writes only its own rows, and every result is the same bytes with one worker or many.  The
glue between stages is numpy on flat arrays, never a Python loop per row or per shingle.

1. **Shingles.**  ``unit="word"`` splits on Unicode whitespace exactly like
   ``str.split()`` (the 29 code points ``str.isspace`` accepts, found 8 bytes at a time by
   :func:`dsc.kernels.jit.word_end`); ``unit="char"`` takes each code point.
   Each token gets a 64-bit hash computed in the same pass over the UTF-8 bytes.  A word's
   hash: its bytes fill 8-byte little-endian words, each folded into a state seeded with
   ``_TOKEN_SEED`` by ``h = (h ^ w) * K; h ^= h >> 29`` (``K`` = the odd golden-ratio
   constant), then the last partial word and the byte length are folded in and murmur3's
   ``fmix64`` finishes (:func:`_row_tokens`).  A code point's hash: its 1-4 bytes packed
   little-endian, salted, ``fmix64``.  An n-gram's hash chains its token hashes with
   xor-multiply from a length salt and finishes with ``fmix64`` (:func:`_shingle_at`).  A row
   with fewer than ``ngram`` tokens yields one shingle covering all of them; a row with no
   tokens (or a null) yields none and can never match.
2. **MinHash.**  Permutation ``i`` is the multiply-add-shift hash
   ``h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32`` of the shingle hash folded
   to 32 bits, with uniform 64-bit ``a_i``, ``b_i`` drawn from
   ``numpy.random.default_rng(seed)``.  For 32-bit ``x`` this family is
   strongly universal onto 32 bits (Dietzfelbinger 1996), like datasketch's
   ``(a*x + b) mod (2**61 - 1)``, but it needs no modulo and has no overflow
   to avoid: wrapping uint64 arithmetic *is* the mod 2**64.
   Because ``>> 32`` is monotone, the row minimum is taken over the full
   64-bit values and shifted once.  Tokens, shingles, the minima and the band keys of a row
   are computed in one pass (:func:`_signature_rows`): no shingle array is ever stored, and
   the permutation loop is branch-free, so it compiles to vector instructions.
3. **LSH.**  Each band's ``rows`` signature values are chained into one
   64-bit bucket key; rows sharing a key in a band are found by sorting the
   key column and every pair inside a bucket is a candidate (a bucket of
   ``k`` rows gives ``k(k-1)/2`` pairs, so template-heavy data yields many:
   120M for toolformer repeated 20x).  Only these keys (and a has-shingles
   flag) are kept between chunks: ``8 * bands + 1`` bytes per row, 145 B at
   the defaults.  Candidates are never stored: a compiled loop walks each band's buckets and
   verifies every pair as it is made, a pair counting only in the first band it shares a
   bucket in (its earlier bands' keys are compared), so memory is bounded by the keys, the
   shingle sets and the passing pairs, never by the candidates (:func:`candidate_pairs`
   yields them in slices for callers that want them).
4. **Verification.**  Shingle sets are computed once for the rows that share a bucket with
   another row (so verification memory scales with candidate rows, not with the input), each
   sorted and deduplicated in place, with a 256-bit bitmap of its hashes' top bytes.  A pair
   is dropped by the exact length filter ``min/max size < threshold``, then by the bitmap
   bound (bits one set has and the other lacks are elements missing from the other), and
   otherwise its two sorted sets are merged, stopping as soon as the threshold is out of
   reach (:func:`_set_jaccard`).  A pair is kept iff ``|A & B| / |A | B| >= threshold``
   exactly (up to 64-bit shingle-hash collisions), so LSH only affects recall, never
   precision.  (:func:`verify`, for pairs a caller brings, first accepts pairs of
   byte-identical texts, J = 1, without shingling them.)
5. **Clusters.**  Verified pairs are the edges of a graph, and clusters are
   *stars* formed greedily in a given order of preference (the dedupe's keep
   order; default: row order): each row not yet in a cluster becomes a
   center and takes every row it is verified similar to that is not yet in a
   cluster.  So every member of a cluster has exact Jaccard >= threshold with
   its center (recorded as its ``similarity``), and the center is the
   cluster's most preferred row.  Connected components would instead chain
   A ~ B ~ C into one cluster although A and C may be far apart.

Because false positives cost only verification time while false negatives
are lost recall, the default (bands, rows) minimises a false-negative-heavy
weighting of the datasketch error areas (see :func:`lsh_params`).

The stages are public (:func:`lsh_shape`, :func:`signatures`, :func:`candidate_pairs`,
:func:`verify`, :func:`similar_pairs`, :func:`cluster_rows`, and :func:`bucket_links` for a
distributed grouping), so that other engines and gates compose them rather than its internals.

Output depends only on the texts and the parameters: hashes are seeded
constants, permutations come from a seeded generator, and every result array
is built by sorting, never by dict/set iteration order.  Chunking and
threads (``workers``) change nothing but speed and memory.
"""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

import numba

from dsc.kernels.buffers import take, utf8_buffers
from dsc.kernels.jit import in_parts, kernel, load8, popcount, space_width, word_end

__all__ = ["NearResult", "SIMILARITY_EDGES", "SimilarPairs", "bucket_links", "candidate_pairs", "cluster_rows",
           "components_in_order", "lsh_params", "lsh_shape", "near_duplicates", "shingle_hashes", "signatures",
           "similar_pairs", "similarity_histogram", "star_clusters", "verify"]

# Fixed seeds: shingle hashes never depend on the caller's ``seed``, so the
# verified pairs (exact Jaccard) are the same for every MinHash seed.
_TOKEN_SEED = np.uint64(0x5EED_D5C0)
_CHAR_SALT = np.uint64(0x2545F4914F6CDD1D)
_CHAIN_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd golden-ratio constant for chaining
_LEN_MUL = np.uint64(0xC2B2AE3D27D4EB4F)  # salts short-row shingles by their length
_FMIX_C1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_U32 = np.uint64(0xFFFFFFFF)
_ALL_ONES = np.uint64(0xFFFFFFFFFFFFFFFF)
_S29, _S32, _S33 = np.uint64(29), np.uint64(32), np.uint64(33)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # renamed in numpy 2.0; pyproject allows 1.26

_CHUNK_ROWS = 8_192  # rows whose shingle sets are built at once: bounds their text copies
_SIGNATURE_ROWS = 1 << 17  # rows signed at once: bounds a copy of their text (null filling, chunks)
_VERIFY_PAIRS = 1 << 18  # candidate pairs verified per slice: bounds per-pair arrays
_CAND_CHUNK = 1 << 19  # candidate pairs per slice that candidate_pairs yields: bounds their memory
_EQUAL_PAIRS = 1 << 15  # equal-length pairs whose texts are copied and compared at once
# Error weights for lsh_params.  Exact verification removes false positives,
# so they cost only time, while false negatives are lost recall.  Real data
# puts most true pairs just above the threshold (toolformer: median J 0.81),
# so P(candidate | J = t) must be high: 0.99 gives (18, 7) at t = 0.8 with
# P(0.8) = 0.986, against 0.40 for datasketch's equal weights (9, 13).
_FP_WEIGHT = 0.01
_FN_WEIGHT = 0.99


@dataclass(frozen=True)
class NearResult:
    """Outcome of :func:`near_duplicates`.

    ``cluster[i]`` is the center of row ``i``'s star cluster (``i`` itself
    for a center and for a row similar to none), see :func:`star_clusters`,
    or with ``clustering="components"`` its component's first row in keep
    order; ``similarity[i]`` is the exact Jaccard of row ``i`` with that row
    (NaN where ``cluster[i] == i``).  ``pairs`` holds the verified ``(i, j)``
    pairs, ``i < j``, sorted lexicographically, and ``jaccard`` the exact
    Jaccard of each.
    """

    cluster: np.ndarray
    candidate_pairs: int
    verified_pairs: int
    pairs: np.ndarray
    similarity: np.ndarray
    jaccard: np.ndarray


# --------------------------------------------------------------------------- hashing


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    """Sorted distinct values.  ``np.unique`` in numpy >= 2.3 hashes first,
    which is tens of times slower than a plain sort on large int arrays."""
    s = np.sort(x)
    if s.size == 0:
        return s
    keep = np.empty(s.size, dtype=bool)
    keep[0] = True
    np.not_equal(s[1:], s[:-1], out=keep[1:])
    return s[keep]


def _inline(fn):
    """A helper of the kernels below, compiled into each of them (no call per byte)."""
    return numba.njit(cache=True, nogil=True, inline="always")(fn)


@_inline
def _fmix(x):
    """murmur3 64-bit finaliser of one uint64: a bijection with full avalanche."""
    x ^= x >> _S33
    x *= _FMIX_C1
    x ^= x >> _S33
    x *= _FMIX_C2
    x ^= x >> _S33
    return x


@_inline
def _word_end(h, w, length):
    """The hash of a word from its running state: see :func:`_row_tokens`."""
    return _fmix(((h ^ w) * _CHAIN_MUL) ^ np.uint64(length))


@kernel
def _row_tokens(data, s, e, chars, tok):
    """Token hashes of the row ``data[s:e]`` into ``tok`` (room for ``(e - s + 1) // 2 + 1``
    words, ``e - s`` characters); returns how many.

    Words are runs of non-whitespace (as ``str.split()``).  A word's hash is computed from its
    bytes read 8 at a time: they fill 8-byte little-endian words, each xor-multiplied into a seeded
    state (``h = (h ^ w) * K; h ^= h >> 29``); the last, partial word and the byte length are
    folded in the same way and ``fmix64`` finishes.  Characters are code points: their 1-4
    UTF-8 bytes packed little-endian, salted and mixed with ``fmix64``."""
    count = 0
    i = s
    if chars:
        while i < e:
            b = data[i]
            width = 1 if b < 0xC0 else (2 if b < 0xE0 else (3 if b < 0xF0 else 4))
            v = np.uint64(0)
            for k in range(width):
                v |= np.uint64(data[i + k]) << np.uint64(8 * k)
            tok[count] = _fmix(v ^ _CHAR_SALT)
            count += 1
            i += width
        return count
    last = data.size - 8  # a word's bytes are read 8 at a time up to here, then one by one
    while i < e:
        if data[i] == 0x20:  # the usual separator, first: 1.3x faster than space_width alone
            i += 1
            continue
        width = space_width(data, i)
        if width:
            i += width
            continue
        j = word_end(data, i + 1, e)  # the word is data[i:j]
        h = _TOKEN_SEED
        p = i
        while p + 8 <= j:
            h = (h ^ load8(data, p)) * _CHAIN_MUL
            h ^= h >> _S29
            p += 8
        w = np.uint64(0)
        if p < j:
            if p <= last:
                w = load8(data, p) & (_ALL_ONES >> np.uint64(8 * (8 - (j - p))))
            else:
                for k in range(j - p):
                    w |= np.uint64(data[p + k]) << np.uint64(8 * k)
        tok[count] = _word_end(h, w, j - i)
        count += 1
        i = j
    return count


@_inline
def _shingle_at(tok, first, span):
    """Hash of the shingle of ``span`` tokens from ``tok[first]``: chained from a length salt
    (so a short row's one shingle never equals a full n-gram), then ``fmix64``."""
    acc = np.uint64(span) * _LEN_MUL
    for k in range(first, first + span):
        acc ^= tok[k]
        acc *= _CHAIN_MUL
    return _fmix(acc)


@kernel
def _token_room(off, lo, hi, chars):
    """Size of a token buffer that holds any row of ``lo..hi``."""
    widest = 0
    for r in range(lo, hi):
        widest = max(widest, off[r + 1] - off[r])
    return widest + 1 if chars else widest // 2 + 2


@kernel
def _count_shingles(data, off, lo, hi, n, chars, counts):
    """Shingles of each row ``lo..hi`` (``max(L - n + 1, 1)``, 0 for no tokens) into ``counts``."""
    tok = np.empty(_token_room(off, lo, hi, chars), dtype=np.uint64)
    for r in range(lo, hi):
        length = _row_tokens(data, off[r], off[r + 1], chars, tok)
        counts[r] = length - n + 1 if length >= n else (1 if length > 0 else 0)


@kernel
def _fill_shingles(data, off, lo, hi, n, chars, sh_off, out, as_sets, sizes):
    """Each row's shingle hashes into ``out[sh_off[r]:]``, in text order; with ``as_sets``
    sorted and deduplicated in place instead, the set's size in ``sizes[r]``."""
    tok = np.empty(_token_room(off, lo, hi, chars), dtype=np.uint64)
    for r in range(lo, hi):
        length = _row_tokens(data, off[r], off[r + 1], chars, tok)
        at = sh_off[r]
        if length >= n:
            for s in range(length - n + 1):
                out[at + s] = _shingle_at(tok, s, n)
        elif length > 0:
            out[at] = _shingle_at(tok, 0, length)
        if as_sets:
            end = sh_off[r + 1]
            if end > at:
                out[at:end] = np.sort(out[at:end])
                u = at + 1
                for p in range(at + 1, end):
                    if out[p] != out[u - 1]:
                        out[u] = out[p]
                        u += 1
                sizes[r] = u - at
            else:
                sizes[r] = 0


@kernel
def _signature_rows(data, off, lo, hi, n, chars, a, b, bands, rows, keys, has, base):
    """Band keys of rows ``lo..hi`` (columns ``base + r`` of ``keys``) straight from their bytes:
    tokens, shingles, MinHash and banding in one pass per row, with no shingle array (see
    :func:`signatures`)."""
    tok = np.empty(_token_room(off, lo, hi, chars), dtype=np.uint64)
    perms = a.size
    mins = np.empty(perms, dtype=np.uint64)
    for r in range(lo, hi):
        length = _row_tokens(data, off[r], off[r + 1], chars, tok)
        mins[:] = _ALL_ONES
        has[base + r] = length > 0
        count = length - n + 1 if length >= n else (1 if length > 0 else 0)
        for s in range(count):
            h = _shingle_at(tok, s, n) if length >= n else _shingle_at(tok, 0, length)
            x = (h ^ (h >> _S32)) & _U32  # folded to 32 bits: a*x+b is then strongly universal
            for p in range(perms):  # branch-free, so it compiles to vector min instructions
                mins[p] = min(mins[p], a[p] * x + b[p])
        for j in range(bands):
            acc = np.uint64(j + 1) * _LEN_MUL
            for c in range(j * rows, (j + 1) * rows):
                acc ^= mins[c] >> _S32  # the signature value: high 32 bits of the minimum
                acc *= _CHAIN_MUL
            keys[j, base + r] = _fmix(acc)


def _text_buffers(arr) -> tuple[np.ndarray, np.ndarray]:
    """(int64 row offsets from 0, UTF-8 bytes) of a string array; nulls have empty ranges."""
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if arr.null_count:
        arr = pc.fill_null(arr, "")  # Arrow may leave bytes under a null slot
    return utf8_buffers(arr)


def _shingles(arr, ngram: int, unit: str, workers: int = 1, as_sets: bool = False):
    """(uint64 shingle hashes, int64 row offsets) of every row, computed in ``workers`` threads;
    with ``as_sets`` each row's distinct hashes in increasing order (its shingle set)."""
    off, data = _text_buffers(arr)
    rows = off.size - 1
    chars = unit == "char"
    counts = np.zeros(rows, dtype=np.int64)
    in_parts(lambda lo, hi: _count_shingles(data, off, lo, hi, ngram, chars, counts), off, workers)
    sh_off = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(counts, out=sh_off[1:])
    out = np.empty(int(sh_off[-1]), dtype=np.uint64)
    sizes = np.zeros(rows, dtype=np.int64)
    in_parts(lambda lo, hi: _fill_shingles(data, off, lo, hi, ngram, chars, sh_off, out, as_sets, sizes),
             off, workers)
    if not as_sets or np.array_equal(sizes, counts):
        return out, sh_off
    set_off = np.zeros(rows + 1, dtype=np.int64)
    np.cumsum(sizes, out=set_off[1:])
    return out[_ragged_arange(sh_off[:-1], sizes)] if set_off[-1] else out[:0], set_off


def shingle_hashes(arr: pa.Array, ngram: int, unit: str, *, workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """64-bit shingle hashes of every row: (uint64 flat hashes, int64 offsets).

    Row ``i``'s shingles are ``hashes[offsets[i]:offsets[i+1]]`` (with repeats,
    in text order).  Nulls and token-less rows have none.

    >>> h, off = shingle_hashes(pa.array(["a b c", None, "a b c", "x"]), 2, "word")
    >>> off.tolist(), bool(h[0] == h[2]), bool(h[0] == h[1])
    ([0, 2, 2, 4, 5], True, False)
    """
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    return _shingles(arr, ngram, unit, workers)


# --------------------------------------------------------------------------- MinHash + LSH


@lru_cache(maxsize=64)
def lsh_params(
    threshold: float, num_perm: int, fp_weight: float = _FP_WEIGHT, fn_weight: float = _FN_WEIGHT
) -> tuple[int, int]:
    """(bands, rows) with ``bands * rows <= num_perm`` minimising weighted LSH error.

    Same objective as datasketch's ``_optimal_param``: the false-positive area
    ``integral_0^t P(s) ds`` and false-negative area ``integral_t^1 1 - P(s) ds``
    of the candidate curve ``P(s) = 1 - (1 - s**rows)**bands``, weighted and
    summed.  The default weights favour recall because every candidate is
    verified exactly afterwards.  Integrals use a fixed 2001-point trapezoid
    rule, so the choice is deterministic.

    >>> lsh_params(0.8, 128, 0.5, 0.5)
    (9, 13)
    >>> lsh_params(0.8, 128)
    (18, 7)
    """
    if not 0.0 < threshold < 1.0:
        raise ValueError("threshold must be in (0, 1)")
    s = np.linspace(0.0, 1.0, 2001)
    below, above = s <= threshold, s >= threshold
    best, best_err = (1, 1), np.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - s**r) ** b
            fp = _trapezoid(p[below], s[below])
            fn = _trapezoid(1.0 - p[above], s[above])
            err = fp_weight * fp + fn_weight * fn
            if err < best_err:
                best, best_err = (b, r), err
    return best


def _permutations(num_perm: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    a = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64)
    b = rng.integers(0, 2**64, size=num_perm, dtype=np.uint64)
    return a, b


# --------------------------------------------------------------------------- verification


def _ragged_arange(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each (s, c), ``c >= 0``.

    One scatter and one cumsum: cheaper than the repeat/arange formulation.
    """
    keep = counts > 0
    starts, counts = starts[keep], counts[keep]
    if counts.size == 0:
        return np.zeros(0, dtype=np.int64)
    steps = np.ones(int(counts.sum()), dtype=np.int64)
    heads = np.cumsum(counts) - counts
    steps[0] = starts[0]
    steps[heads[1:]] = starts[1:] - (starts[:-1] + counts[:-1] - 1)
    return np.cumsum(steps)


def _row_sets(arr, rows: np.ndarray, ngram: int, unit: str, workers: int = 1
              ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shingle sets of ``rows`` as CSR: (int64 offsets, uint64 hashes, bitmaps), each row's
    distinct shingle hashes in increasing order, so that two sets intersect by one merge, and
    its 256-bit bitmap filter (see :func:`_set_jaccard`).

    Rows are taken ``_CHUNK_ROWS`` at a time (bounded copies of their text), twice: once to
    count their shingles, then to write each row's set straight into one array sized by those
    counts, compacted in place at the end.  So the sets are never held twice (chunk parts and
    their concatenation), which on template-heavy input, where nearly every row shares a
    bucket, is the largest array of the run."""
    chars = unit == "char"
    chunks = [(lo, min(rows.size, lo + _CHUNK_ROWS)) for lo in range(0, rows.size, _CHUNK_ROWS)]
    counts = np.zeros(rows.size, dtype=np.int64)
    for lo, hi in chunks:
        off, data = _text_buffers(take(arr, rows[lo:hi]))
        part = counts[lo:hi]
        in_parts(lambda a, b: _count_shingles(data, off, a, b, ngram, chars, part), off, workers)
    room = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(counts, out=room[1:])
    del counts
    out = np.empty(int(room[-1]), dtype=np.uint64)
    sizes = np.zeros(rows.size, dtype=np.int64)
    for lo, hi in chunks:
        off, data = _text_buffers(take(arr, rows[lo:hi]))
        at, size = room[lo : hi + 1], sizes[lo:hi]
        in_parts(lambda a, b: _fill_shingles(data, off, a, b, ngram, chars, at, out, True, size), off, workers)
    seg = np.zeros(rows.size + 1, dtype=np.int64)
    np.cumsum(sizes, out=seg[1:])
    _compact_sets(out, room, seg)
    sets = out[: seg[-1]]
    bits = _set_bitmaps(seg)
    in_parts(lambda lo, hi: _fill_bitmaps(seg, sets, bits, lo, hi), seg, workers)
    return seg, sets, bits


@kernel
def _compact_sets(out, room, seg):
    """Move set ``r`` from ``out[room[r]:]`` to ``out[seg[r]:seg[r + 1]]``, in place: ``seg[r] <=
    room[r]`` and rows go in order, so nothing is overwritten before it is moved."""
    for r in range(seg.size - 1):
        src, dst = room[r], seg[r]
        if src != dst:
            for k in range(seg[r + 1] - dst):
                out[dst + k] = out[src + k]


_BITMAP_WORDS = 4  # a set's bitmap filter: 256 bits, one per value of a hash's top byte


@kernel
def _set_bitmaps(seg):
    """Zeroed bitmap filters, one row of ``_BITMAP_WORDS`` uint64 per set (see :func:`_fill_bitmaps`)."""
    return np.zeros((seg.size - 1, _BITMAP_WORDS), dtype=np.uint64)


@kernel
def _fill_bitmaps(seg, sets, bits, lo, hi):
    """Sets ``lo..hi``: bit ``h >> 56`` of each element ``h`` in the set's bitmap."""
    for r in range(lo, hi):
        for p in range(seg[r], seg[r + 1]):
            top = sets[p] >> np.uint64(56)
            bits[r, top >> np.uint64(6)] |= np.uint64(1) << (top & np.uint64(63))


@_inline
def _set_jaccard(seg, sets, bits, i, j, threshold):
    """Exact Jaccard of sets ``i`` and ``j`` (rows of ``seg``/``sets``) if it reaches ``threshold``,
    else -1.0, by merging the two sorted sets.  Empty sets match nothing.

    Two exact filters come first.  Every bit set in A's bitmap (``bits``) and not in B's
    stands for at least one element of A missing from B, so ``|A & B| <= |A| - popcount(a & ~b)``
    (and the same for B): a pair whose bound is below the fewest hits that pass is dropped
    without touching its sets (most candidates of template-heavy data).  The merge then stops
    as soon as the hits found plus the elements left in the smaller remainder cannot reach that
    fewest.  Both are exact because ``x / (|A| + |B| - x)`` grows with ``x``, and the fewest is
    found with the same floating-point test as the final one."""
    a0, a1, b0, b1 = seg[i], seg[i + 1], seg[j], seg[j + 1]
    sa, sb = a1 - a0, b1 - b0
    small = min(sa, sb)
    if small == 0 or small / max(sa, sb) < threshold:  # length filter: J <= min / max
        return -1.0
    total = sa + sb
    need = min(small, max(0, int(np.ceil(threshold * total / (1.0 + threshold)))))
    while need > 0 and (need - 1) / (total - need + 1) >= threshold:
        need -= 1
    while need <= small and need / (total - need) < threshold:
        need += 1
    if need > small:
        return -1.0
    only_a = 0
    only_b = 0
    for w in range(_BITMAP_WORDS):
        x, y = bits[i, w], bits[j, w]
        only_a += popcount(x & ~y)
        only_b += popcount(y & ~x)
    if min(sa - np.int64(only_a), sb - np.int64(only_b)) < need:
        return -1.0
    hits = 0
    p, q = a0, b0
    while p < a1 and q < b1:
        if hits + min(a1 - p, b1 - q) < need:
            return -1.0
        x, y = sets[p], sets[q]
        if x == y:
            hits += 1
            p += 1
            q += 1
        elif x < y:
            p += 1
        else:
            q += 1
    if hits < need:
        return -1.0
    ratio = hits / (total - hits)
    return ratio if ratio >= threshold else -1.0  # division, so exact ratios like 4/5 equal 0.8


@kernel
def _jaccard_pairs(seg, sets, bits, left, right, lo, hi, threshold, keep, jac):
    """:func:`_set_jaccard` of the pairs ``lo..hi`` (``left[k]``, ``right[k]``); sets ``keep[k]``
    and ``jac[k]`` where it reaches ``threshold``."""
    for k in range(lo, hi):
        ratio = _set_jaccard(seg, sets, bits, left[k], right[k], threshold)
        if ratio >= 0.0:
            keep[k] = True
            jac[k] = ratio


@kernel
def _bucket_pairs_verified(members, after, lo, hi, band, keys, number, seg, sets, bits, threshold):
    """Candidate pairs started by ``members[lo:hi]`` in one band, verified as they are made.

    Member ``p`` pairs with the ``after[p]`` members after it in its bucket; a pair that shares a
    key in an earlier band was that band's candidate and is skipped, so each candidate is
    verified once.  Returns (first rows, second rows, Jaccards) of the pairs that pass (first <
    second) and how many candidates were verified.  The earlier-band check reads ``keys``
    itself: a copy of the rows' keys side by side was no faster on template-heavy data and cost
    8 bytes per band and row.  No candidate is stored: memory follows the passing pairs,
    whatever the bucket sizes."""
    cap = 64
    out_a = np.empty(cap, dtype=np.int64)
    out_b = np.empty(cap, dtype=np.int64)
    out_j = np.empty(cap, dtype=np.float64)
    found = 0
    candidates = 0
    for p in range(lo, hi):
        x = members[p]
        for q in range(p + 1, p + 1 + after[p]):
            y = members[q]
            a, b = min(x, y), max(x, y)
            na, nb = number[a], number[b]
            seen = False
            for e in range(band):
                if keys[e, a] == keys[e, b]:
                    seen = True
                    break
            if seen:
                continue
            candidates += 1
            ratio = _set_jaccard(seg, sets, bits, na, nb, threshold)
            if ratio < 0.0:
                continue
            if found == cap:
                cap *= 2
                grown_a = np.empty(cap, dtype=np.int64)
                grown_b = np.empty(cap, dtype=np.int64)
                grown_j = np.empty(cap, dtype=np.float64)
                grown_a[:found] = out_a[:found]
                grown_b[:found] = out_b[:found]
                grown_j[:found] = out_j[:found]
                out_a, out_b, out_j = grown_a, grown_b, grown_j
            out_a[found], out_b[found], out_j[found] = a, b, ratio
            found += 1
    return out_a[:found].copy(), out_b[:found].copy(), out_j[:found].copy(), candidates  # not the spare room


def _verify(arr, pairs: np.ndarray, threshold: float, ngram: int, unit: str,
            workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(boolean mask over ``pairs``: exact Jaccard >= threshold, float64 exact Jaccard of each
    pair the mask keeps, NaN elsewhere)."""
    keep, jac = _identical(arr, pairs, pc.binary_length(arr).to_numpy(zero_copy_only=False))
    todo = np.flatnonzero(~keep)
    if todo.size == 0:
        return keep, jac
    # Dense numbering of the rows in a remaining pair (a lookup, not a search per pair).
    used = np.zeros(len(arr), dtype=bool)
    used[pairs[todo, 0]] = True
    used[pairs[todo, 1]] = True
    rows = np.flatnonzero(used)
    del used
    number = np.zeros(len(arr), dtype=np.int64)
    number[rows] = np.arange(rows.size, dtype=np.int64)
    _verify_sets(pairs, todo, number, _row_sets(arr, rows, ngram, unit, workers), threshold, keep, jac, workers)
    return keep, jac


def _identical(arr, pairs: np.ndarray, nbytes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the pairs whose texts are byte-identical, their Jaccard: 1.0, NaN elsewhere).

    Byte-identical texts have identical (non-empty: they are candidates) shingle sets, J = 1:
    accepted without shingling; exact duplicates are common.  Only equal-length pairs are
    compared (``nbytes``: each row's UTF-8 length), so template-heavy data (many candidates,
    few copies) does not pay for copying every candidate's text.
    """
    keep = np.zeros(pairs.shape[0], dtype=bool)
    jac = np.full(pairs.shape[0], np.nan)
    if pairs.shape[0] == 0:
        return keep, jac
    eq_len = np.flatnonzero(nbytes[pairs[:, 0]] == nbytes[pairs[:, 1]])
    # In slices: the texts are copied to be compared, and copies of one template share a length.
    for lo in range(0, eq_len.size, _EQUAL_PAIRS):
        part = eq_len[lo : lo + _EQUAL_PAIRS]
        a, b = (take(arr, pairs[part, c]) for c in (0, 1))
        keep[part] = np.asarray(pc.equal(a, b).to_numpy(zero_copy_only=False), dtype=bool)
    jac[keep] = 1.0
    return keep, jac


def _verify_sets(pairs: np.ndarray, todo: np.ndarray, number: np.ndarray, sets: tuple, threshold: float,
                 keep: np.ndarray, jac: np.ndarray, workers: int = 1) -> None:
    """Exact-Jaccard check of ``pairs[todo]`` against shingle ``sets`` (see :func:`_row_sets`;
    ``number`` maps a row to its place there), in ``workers`` threads over slices of the pairs
    of about equal merge work; sets ``keep`` and ``jac`` of the passing pairs."""
    seg, hashes, bits = sets
    size = np.diff(seg)
    for lo in range(0, todo.size, _VERIFY_PAIRS):  # slices bound the per-pair arrays
        part = todo[lo : lo + _VERIFY_PAIRS]
        left, right = number[pairs[part, 0]], number[pairs[part, 1]]
        ok = np.zeros(part.size, dtype=bool)
        ratio = np.full(part.size, np.nan)
        work = np.zeros(part.size + 1, dtype=np.int64)
        np.cumsum(size[left] + size[right] + 1, out=work[1:])
        in_parts(lambda a, b: _jaccard_pairs(seg, hashes, bits, left, right, a, b, float(threshold), ok, ratio),
                 work, workers)
        keep[part[ok]] = True
        jac[part[ok]] = ratio[ok]


def _bucket_groups(keys: np.ndarray, ids: np.ndarray, workers: int = 1) -> tuple[list, np.ndarray]:
    """Each band's buckets of two or more rows, and the rows in any of them.

    Returns ``(groups, rows)``: ``groups[j]`` is band ``j``'s (members bucket by bucket, how many
    members follow each in its bucket) or None, ``rows`` the sorted rows sharing a bucket with
    another row in some band.  Memory is one entry per (band, row), never one per pair.  Bands
    are grouped on ``workers`` threads (:func:`_band_buckets` releases the GIL); each band's
    groups depend on that band alone, so the result does not depend on the threads.
    """
    bits = int(min(20, max(1, ids.size.bit_length() - 3)))  # about 4-8 rows a partition

    def band(j: int) -> tuple[np.ndarray, np.ndarray] | None:
        members, after = _band_buckets(keys[j], ids, bits)
        return (members, after) if members.size else None

    if workers > 1 and keys.shape[0] > 1:
        with ThreadPoolExecutor(min(workers, keys.shape[0])) as pool:
            groups = list(pool.map(band, range(keys.shape[0])))
    else:
        groups = [band(j) for j in range(keys.shape[0])]
    in_bucket = np.zeros(keys.shape[1], dtype=bool)
    for group in groups:
        if group is not None:
            in_bucket[group[0]] = True
    return groups, np.flatnonzero(in_bucket)


@kernel
def _band_buckets(key, ids, bits):
    """One band's buckets of two or more of the rows ``ids`` (ascending): (members bucket by bucket
    in key order, each in row order, as int32; how many members follow each in its bucket).

    The keys are hashes, so their top ``bits`` bits spread the rows evenly: a counting sort on
    them (two passes, stable) leaves partitions of a few rows, each sorted by key in place (by
    insertion, or a stable merge sort when a template-heavy bucket makes one large).  The order
    is that of a stable sort of the keys, in linear time instead of ``n log n``; held for every
    band at once, the result is 4 bytes an entry (a row number, a count below the rows)."""
    m = ids.size
    shift = np.uint64(64 - bits)
    start = np.zeros((1 << bits) + 1, dtype=np.int64)
    for i in range(m):
        start[np.int64(key[ids[i]] >> shift) + 1] += 1
    for p in range(1 << bits):
        start[p + 1] += start[p]
    fill = start[:-1].copy()
    sk = np.empty(m, dtype=np.uint64)
    sr = np.empty(m, dtype=np.int32)
    for i in range(m):
        r = ids[i]
        k = key[r]
        p = np.int64(k >> shift)
        sk[fill[p]] = k
        sr[fill[p]] = r
        fill[p] += 1
    for p in range(1 << bits):
        s, e = start[p], start[p + 1]
        if e - s > 32:
            o = np.argsort(sk[s:e], kind="mergesort")
            sk[s:e] = sk[s:e][o]
            sr[s:e] = sr[s:e][o]
            continue
        for i in range(s + 1, e):
            k, r = sk[i], sr[i]
            j = i
            while j > s and sk[j - 1] > k:
                sk[j], sr[j] = sk[j - 1], sr[j - 1]
                j -= 1
            sk[j], sr[j] = k, r
    members = np.empty(m, dtype=np.int32)
    after = np.empty(m, dtype=np.int32)
    at = 0
    i = 0
    while i < m:
        j = i + 1
        while j < m and sk[j] == sk[i]:
            j += 1
        if j - i >= 2:
            for t in range(i, j):
                members[at] = sr[t]
                after[at] = j - 1 - t
                at += 1
        i = j
    return members[:at].copy(), after[:at].copy()  # not the spare room


def _verified_candidates(arr, keys: np.ndarray, ids: np.ndarray, threshold: float, ngram: int,
                         unit: str, workers: int = 1) -> tuple[np.ndarray, np.ndarray, int]:
    """(verified pairs sorted lexicographically, their exact Jaccard, number of candidate pairs).

    The candidates are every pair of rows (``ids``: the rows with shingles) sharing a bucket
    key in some band, but they are never stored: a bucket of ``k`` rows holds ``k(k-1)/2``
    pairs, and template-heavy data has buckets of thousands of rows, whose pairs took
    gigabytes.  Instead the shingle sets of the rows in some shared bucket are built once, and
    a compiled loop walks each band's buckets, verifying every pair as it is made
    (:func:`_bucket_pairs_verified`) on ``workers`` threads over slices of the members of
    about equal pair counts.  A pair sharing keys in several bands is a candidate only in the
    first of them, so none is verified twice.  Memory is the band keys, the bucket groups, the
    sets and the passing pairs, never the candidates; the result is sorted, so it does not
    depend on the threads.
    """
    n = len(arr)
    groups, rows = _bucket_groups(keys, ids, workers)
    if rows.size == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0), 0
    number = np.zeros(n, dtype=np.int64)
    number[rows] = np.arange(rows.size, dtype=np.int64)
    seg, sets, bits = _row_sets(arr, rows, ngram, unit, workers)
    found, similar, candidates = [], [], 0  # each pair held as one code, i * n + j
    for j, group in enumerate(groups):
        if group is None:
            continue
        members, after = group
        work = np.zeros(members.size + 1, dtype=np.int64)
        np.cumsum(after + 1, out=work[1:])
        parts = in_parts(lambda lo, hi: _bucket_pairs_verified(members, after, lo, hi, j, keys, number, seg, sets, bits,
                                                               float(threshold)), work, workers)
        for a, b, jac, count in parts:
            found.append(a * np.int64(n) + b)
            similar.append(jac)
            candidates += count
        del parts
        groups[j] = None
    # The sets go before the pairs are joined and sorted: the peak is one or the other.
    seg = sets = bits = number = groups = None
    codes = np.concatenate(found + [np.zeros(0, np.int64)])
    del found
    jaccard = np.concatenate(similar + [np.zeros(0)])
    del similar
    order = np.argsort(codes, kind="stable")
    codes = codes[order]
    jaccard = jaccard[order]
    del order
    pairs = np.empty((codes.size, 2), dtype=np.int64)
    np.floor_divide(codes, max(n, 1), out=pairs[:, 0])
    np.remainder(codes, max(n, 1), out=pairs[:, 1])
    return pairs, jaccard, candidates


def _candidate_slices(groups: list, keys: np.ndarray, n: int, chunk: int):
    """Yield the candidate pairs as ``i * n + j`` codes (``i < j``), at most ``chunk`` at a time
    (more only when one row alone starts more pairs than that in one bucket).

    ``groups[j]`` is band ``j``'s (members bucket by bucket, how many members follow each in its
    bucket), or None.  A pair is yielded only in the first band it shares a key in, so every
    candidate comes once.  Each band's groups are released once its pairs are out.
    """
    for j, group in enumerate(groups):
        if group is None:
            continue
        members, after = group
        ends = np.cumsum(after)
        p0 = 0
        while p0 < members.size:
            base = int(ends[p0 - 1]) if p0 else 0
            p1 = max(p0 + 1, int(np.searchsorted(ends, base + chunk, side="right")))
            cnt = after[p0:p1]
            total = int(ends[p1 - 1]) - base
            if total:
                left = np.repeat(np.arange(p0, p1, dtype=np.int64), cnt)
                right = left + 1 + (np.arange(total, dtype=np.int64) - np.repeat(np.cumsum(cnt) - cnt, cnt))
                a, b = members[left], members[right]
                del left, right
                lo, hi = np.minimum(a, b), np.maximum(a, b)
                del a, b
                for e in range(j):  # first band only: drop pairs an earlier band already proposed
                    fresh = keys[e, lo] != keys[e, hi]
                    if not fresh.all():
                        lo, hi = lo[fresh], hi[fresh]
                yield lo * np.int64(n) + hi
                del lo, hi
            p0 = p1
        groups[j] = None


# --------------------------------------------------------------------------- staged API
#
# The stages :func:`near_duplicates` runs, public so that the Ray engine, the leakage gate and
# ``dsc profile`` compose them without reaching into this module: signatures (band keys) ->
# candidate pairs (streamed) -> verification (exact Jaccard) -> clusters (:func:`cluster_rows`).


def lsh_shape(threshold: float, num_perm: int, bands: int | None = None) -> tuple[int, int]:
    """(bands, rows per band) for ``threshold`` and ``num_perm`` permutations, as every entry point uses them.

    ``bands`` given: ``num_perm // bands`` rows each.  Otherwise :func:`lsh_params`, with the
    threshold clipped to 0.999 (``jaccard >= 1`` asks for identical sets, and the error areas
    need ``t < 1``); the clip lives here alone, so all engines band alike.

    >>> lsh_shape(0.8, 128), lsh_shape(0.8, 128, bands=16), lsh_shape(1.0, 128) == lsh_params(0.999, 128)
    ((18, 7), (16, 8), True)
    """
    if bands is None:
        return lsh_params(min(float(threshold), 0.999), num_perm)
    if not 1 <= bands <= num_perm:
        raise ValueError("bands must be in [1, num_perm]")
    return bands, num_perm // bands


def signatures(
    texts, *, bands: int, rows: int, ngram: int = 5, unit: str = "word", seed: int = 0,
    threads: int | None = None, workers: int | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """(LSH band keys, has-shingles mask) of every row: ``(bands, n)`` uint64 and ``(n,)`` bool.

    Each row is shingled (:func:`shingle_hashes`), MinHashed with ``bands * rows`` seeded
    permutations and each band's ``rows`` values chained into one 64-bit key, all in one
    compiled pass over the row's bytes.  A row's keys depend only on its text and the
    parameters, so any subset of the rows (a Ray batch, a shuffle group) gets the keys it
    would get among all rows.  Rows are processed ``_SIGNATURE_ROWS`` at a time, each batch
    split into ``workers`` (``threads`` is its older name; default 1) ranges of about equal
    bytes signed in parallel threads; neither changes the result.  A row without shingles
    (null, no tokens) has ``has[i] == False`` and must never be paired.

    >>> keys, has = signatures(["a b c d", None, "a b c d", "e f"], bands=4, rows=2, ngram=2)
    >>> keys.shape, has.tolist(), bool((keys[:, 0] == keys[:, 2]).all()), bool((keys[:, 0] == keys[:, 3]).any())
    ((4, 4), [True, False, True, True], True, False)
    """
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    arr = _as_arrow(texts)
    n = len(arr)
    a, b = _permutations(bands * rows, seed)
    keys = np.empty((bands, n), dtype=np.uint64)
    has = np.zeros(n, dtype=bool)
    parts = max(1, int(workers if workers is not None else threads if threads is not None else 1))
    chars = unit == "char"
    for lo in range(0, n, _SIGNATURE_ROWS):
        off, data = _text_buffers(_slice(arr, lo, min(n, lo + _SIGNATURE_ROWS)))
        in_parts(lambda r0, r1: _signature_rows(data, off, r0, r1, ngram, chars, a, b, bands, rows, keys, has, lo),
                 off, parts)
    return keys, has


def candidate_pairs(keys: np.ndarray, rows: np.ndarray | None = None, *, chunk: int | None = None):
    """Yield the LSH candidate pairs of ``keys`` (from :func:`signatures`) in slices, never all at once.

    A candidate is a pair of ``rows`` (default: every row; pass ``np.flatnonzero(has)``)
    sharing a key in some band.  Each slice is an ``(m, 2)`` int64 array of ``(i, j)``, ``i < j``,
    sorted lexicographically, with ``m <= chunk`` (default ``_CAND_CHUNK``; more only when one row
    alone starts more pairs than that in one bucket).  A pair is yielded once, in the first band
    it shares a key in (its keys in earlier bands are compared), so no set of pairs seen is kept:
    memory is one entry per (band, row) plus one slice, whatever the bucket sizes (a bucket of
    ``k`` rows has ``k(k-1)/2`` pairs).

    >>> keys = np.array([[7, 7, 7, 9], [1, 2, 1, 2]], dtype=np.uint64)  # 2 bands, 4 rows
    >>> [p.tolist() for p in candidate_pairs(keys, chunk=2)]
    [[[0, 1], [0, 2]], [[1, 2]], [[1, 3]]]
    """
    keys = np.asarray(keys, dtype=np.uint64)
    n = keys.shape[1]
    ids = np.arange(n, dtype=np.int64) if rows is None else np.asarray(rows, dtype=np.int64)
    groups, _ = _bucket_groups(keys, ids)
    for codes in _candidate_slices(groups, keys, n, _CAND_CHUNK if chunk is None else max(1, int(chunk))):
        codes.sort()
        yield np.stack((codes // n, codes % n), axis=1)


def verify(texts, pairs: np.ndarray, *, threshold: float, ngram: int = 5, unit: str = "word",
           workers: int = 1) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the ``pairs`` whose exact Jaccard is >= ``threshold``, each pair's Jaccard: NaN where it fails).

    ``pairs`` is an ``(m, 2)`` array of row indices into ``texts``, in any order.  Shingle sets
    are built once for the rows in a pair (byte-identical texts are accepted without them), and
    the comparison is exact (up to 64-bit shingle-hash collisions), so verification decides
    precision alone.  ``threshold=0`` gives every pair's Jaccard.  ``workers`` threads share
    the shingling and the merges; the result does not depend on them.

    >>> verify(["a b c d", "a b c e", "a b c d"], np.array([[2, 0], [0, 1]]), threshold=0.6, ngram=2)
    (array([ True, False]), array([ 1., nan]))
    """
    arr = _as_arrow(texts)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= len(arr)):
        raise ValueError("pair indices must lie in [0, len(texts))")
    order = np.argsort(pairs[:, 0], kind="stable")  # _verify wants pairs sorted by their first row
    keep, jac = _verify(arr, pairs[order], float(threshold), ngram, unit, workers)
    if keep.any():  # byte-identical texts pass unshingled: those without shingles ('', blank) must not
        rows = _sorted_unique(pairs[order][keep].ravel())
        _, off = shingle_hashes(take(arr, rows), ngram, unit, workers=workers)
        empty = rows[np.diff(off) == 0]
        if empty.size:
            bad = keep & np.isin(pairs[order], empty).any(axis=1)
            keep[bad], jac[bad] = False, np.nan
    out_keep, out_jac = np.empty_like(keep), np.empty_like(jac)
    out_keep[order], out_jac[order] = keep, jac
    return out_keep, out_jac


def bucket_links(keys: np.ndarray, ids: np.ndarray) -> np.ndarray:
    """Edges ``(member, first member)`` linking each row of a shared bucket to the bucket's smallest id.

    ``keys`` are one band's bucket keys of the rows ``ids``.  These edges connect exactly the
    rows a bucket's ``k(k-1)/2`` candidate pairs connect, with ``k - 1`` edges: enough for the
    connected components of the candidate graph (how the Ray engine groups rows for
    verification) at memory linear in the rows.

    >>> bucket_links(np.array([5, 3, 5, 5, 8], dtype=np.uint64), np.array([10, 11, 12, 13, 14])).tolist()
    [[12, 10], [13, 10]]
    """
    keys = np.asarray(keys, dtype=np.uint64)
    ids = np.asarray(ids, dtype=np.int64)
    order = np.lexsort((ids, keys))  # by key, then id: each bucket's first member is its smallest id
    k, member = keys[order], ids[order]
    head = np.concatenate(([True], k[1:] != k[:-1])) if k.size else np.zeros(0, dtype=bool)
    first = member[np.flatnonzero(head)][np.cumsum(head) - 1]
    return np.stack((member[~head], first[~head]), axis=1)


# --------------------------------------------------------------------------- clusters


def star_clusters(n: int, pairs: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Greedy star clusters of ``n`` rows linked by ``pairs``, formed in ``order``.

    Rows are visited in ``order`` (indices, most preferred first; default
    ``0 .. n-1``).  A visited row not yet in a cluster becomes a center and
    takes every row it is paired with that is not yet in a cluster.  Returns
    each row's center: itself for a center and for a row in no pair.

    So every member is paired with its center, and comes after it in
    ``order``: the center is its cluster's first row in that order.  The
    result depends only on the pairs and the relative order of the rows
    they link, so clustering each connected component on its own (as the
    Ray engine does) gives the same stars.

    >>> star_clusters(4, np.array([[0, 1], [1, 2], [2, 3]])).tolist()  # a chain is not one cluster
    [0, 0, 2, 2]
    >>> star_clusters(4, np.array([[0, 1], [1, 2], [2, 3]]), order=np.array([1, 3, 0, 2])).tolist()
    [1, 1, 1, 3]
    """
    center = np.arange(n, dtype=np.int64)
    edges = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if edges.shape[0] == 0:
        return center
    rank = np.arange(n, dtype=np.int64)
    if order is not None:
        rank[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int64)
    # Both directions of every pair, grouped by row: row r's partners are
    # ``partner[start[r]:start[r + 1]]`` (a counting sort: no argsort of 2 × pairs).
    start, partner = _partners(np.ascontiguousarray(edges[:, 0]), np.ascontiguousarray(edges[:, 1]), n)
    nodes = np.flatnonzero(start[1:] > start[:-1])
    _stars(nodes[np.argsort(rank[nodes], kind="stable")], start, partner, center)
    return center


@kernel
def _stars(visit: np.ndarray, start: np.ndarray, partner: np.ndarray, center: np.ndarray) -> None:
    """The loop of :func:`star_clusters` over the paired rows in ``visit`` order, writing ``center``.
    Sequential by nature (whether a row is a center depends on earlier centers), so compiled:
    the Python loop took 0.2 s of the main thread on 1M rows while the workers waited."""
    taken = np.zeros(center.size, dtype=np.bool_)
    for r in visit:
        if taken[r]:
            continue
        taken[r] = True
        for k in range(start[r], start[r + 1]):
            m = partner[k]
            if not taken[m]:
                taken[m] = True
                center[m] = r


@kernel
def _partners(a: np.ndarray, b: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Each row's partners in the pairs ``(a[k], b[k])``, both directions, as CSR: (offsets by row,
    partners)."""
    start = np.zeros(n + 1, dtype=np.int64)
    for k in range(a.size):
        start[a[k] + 1] += 1
        start[b[k] + 1] += 1
    for r in range(n):
        start[r + 1] += start[r]
    fill = start[:-1].copy()
    partner = np.empty(2 * a.size, dtype=np.int64)
    for k in range(a.size):
        partner[fill[a[k]]] = b[k]
        fill[a[k]] += 1
        partner[fill[b[k]]] = a[k]
        fill[b[k]] += 1
    return start, partner


def components_in_order(n: int, pairs: np.ndarray, order: np.ndarray | None = None) -> np.ndarray:
    """Connected components of ``n`` rows linked by ``pairs``, each labelled by its first row in ``order``.

    The ``cluster components`` choice: a chain A ~ B ~ C is one cluster even where A and C are
    far apart.  Labelling a component by its most preferred row (not its smallest index) makes
    the label the survivor the keep rule picks, so the similarity recorded for a member is the
    one to the row its reject names, as with stars.

    >>> components_in_order(4, np.array([[0, 1], [1, 2]])).tolist()
    [0, 0, 0, 3]
    >>> components_in_order(4, np.array([[0, 1], [1, 2]]), order=np.array([2, 3, 1, 0])).tolist()
    [2, 2, 2, 3]
    """
    from dsc.kernels.unionfind import components

    label = components(n, np.asarray(pairs, dtype=np.int64).reshape(-1, 2))
    if order is None:
        return label
    rank = np.empty(n, dtype=np.int64)
    rank[np.asarray(order, dtype=np.int64)] = np.arange(n, dtype=np.int64)
    best = np.full(n, n, dtype=np.int64)
    np.minimum.at(best, label, rank)  # each component's best rank, at its smallest-index row
    first = np.empty(n, dtype=np.int64)
    first[rank] = np.arange(n, dtype=np.int64)  # rank -> row
    return first[best[label]]


def cluster_rows(
    texts, pairs: np.ndarray, jaccard: np.ndarray, order: np.ndarray | None = None, method: str = "star",
    *, ngram: int = 5, unit: str = "word",
) -> tuple[np.ndarray, np.ndarray]:
    """(each row's cluster label, its exact Jaccard with that row) from verified ``pairs``.

    ``method="star"`` (:func:`star_clusters`): the label is a center verified similar to the row.
    ``method="components"`` (:func:`components_in_order`): the label is the component's first
    row in ``order``, which a chained member may not be similar to; its Jaccard is computed
    exactly here (from ``texts``) so that a reviewer sees how far it is.  ``pairs`` are sorted
    lexicographically with ``i < j``, ``jaccard`` holds each pair's exact Jaccard; the
    similarity is NaN for a row labelled by itself.
    """
    n = len(texts)
    if method == "star":
        center = star_clusters(n, pairs, order)
    elif method == "components":
        center = components_in_order(n, pairs, order)
    else:
        raise ValueError(f"cluster method must be 'star' or 'components', not {method!r}")
    return center, _member_similarity(center, pairs, jaccard, texts, ngram, unit)


def _member_similarity(center: np.ndarray, pairs: np.ndarray, jaccard: np.ndarray,
                       texts=None, ngram: int = 5, unit: str = "word") -> np.ndarray:
    """Each row's Jaccard with its center (NaN for centers): looked up among the sorted pairs."""
    n = center.size
    sim = np.full(n, np.nan)
    member = np.flatnonzero(center != np.arange(n))
    if member.size == 0:
        return sim
    codes = pairs[:, 0] * np.int64(n) + pairs[:, 1]  # sorted: pairs are sorted lexicographically
    lo, hi = np.minimum(member, center[member]), np.maximum(member, center[member])
    want = lo * np.int64(n) + hi
    at = np.minimum(np.searchsorted(codes, want), max(codes.size - 1, 0))
    found = (at < codes.size) & (codes[at] == want) if codes.size else np.zeros(member.size, dtype=bool)
    sim[member[found]] = jaccard[at[found]]
    if not found.all():  # components only: a member linked through others; its Jaccard is computed
        if texts is None:
            raise ValueError("a member is not paired with its label row: pass the texts to compute its similarity")
        miss = np.flatnonzero(~found)
        order = np.argsort(want[miss], kind="stable")  # _verify wants pairs sorted by their first row
        miss = miss[order]
        _, jac = _verify(_as_arrow(texts), np.stack((lo[miss], hi[miss]), axis=1), 0.0, ngram, unit)
        sim[member[miss]] = jac  # threshold 0: every pair passes, jac is its exact Jaccard (0 included)
    return sim


# --------------------------------------------------------------------------- report


SIMILARITY_EDGES = (0.85, 0.9, 0.95, 0.99)  # fixed bin edges above the threshold, so runs compare


def similarity_histogram(similarity, threshold: float) -> dict:
    """How similar the removed rows were to the survivors they name: fixed bins and min / median.

    Bins: ``[0, t)`` (below the threshold: only ``cluster components`` has such rows), then
    ``[t, 0.85)``, ``[0.85, 0.9)``, ``[0.9, 0.95)``, ``[0.95, 0.99)``, ``[0.99, 1)`` (edges at or
    below ``t`` are left out) and ``= 1`` (same shingle set: copies up to whitespace, or texts
    shorter than the n-gram).  The edges never depend on the data, so two runs (or two rules)
    are read against the same scale.  NaN / None (a cluster's own row under ``keep none``) is
    not counted.  Values are rounded to 6 places: the figures are for reading, the exact
    Jaccard of every row is in the rejects.

    >>> h = similarity_histogram([0.8, 0.84, 0.9, 1.0, None], 0.8)
    >>> [(b["bin"], b["rows"]) for b in h["bins"]][1:4], h["rows"], h["min"], h["median"]
    ([('[0.8, 0.85)', 2), ('[0.85, 0.9)', 0), ('[0.9, 0.95)', 1)], 4, 0.8, 0.87)
    """
    sim = np.asarray([np.nan if v is None else v for v in similarity], dtype=np.float64)
    sim = np.sort(sim[~np.isnan(sim)])
    edges = [0.0, float(threshold), *(e for e in SIMILARITY_EDGES if e > threshold)]
    bins = []
    for lo, hi in zip(edges, [*edges[1:], 1.0]):
        if hi <= lo:
            continue
        rows = int(np.count_nonzero((sim >= lo) & (sim < hi)))
        bins.append({"bin": f"[{lo:g}, {hi:g})", "from": lo, "to": hi, "rows": rows})
    bins.append({"bin": "= 1", "from": 1.0, "to": 1.0, "rows": int(np.count_nonzero(sim >= 1.0))})
    stat = (lambda v: round(float(v), 6)) if sim.size else (lambda v: None)  # noqa: E731
    return {"rows": int(sim.size), "below_threshold": int(np.count_nonzero(sim < threshold)), "bins": bins,
            "min": stat(sim[0] if sim.size else 0), "median": stat(np.median(sim) if sim.size else 0)}


# --------------------------------------------------------------------------- entry point


def _as_arrow(texts) -> pa.Array | pa.ChunkedArray:
    if isinstance(texts, (pa.Array, pa.ChunkedArray)):
        if not (pa.types.is_string(texts.type) or pa.types.is_large_string(texts.type)):
            raise TypeError(f"expected a string array, got {texts.type}")
        return texts
    return pa.array(list(texts), type=pa.large_string())


def _slice(arr, lo: int, hi: int) -> pa.Array:
    part = arr.slice(lo, hi - lo)
    return part.combine_chunks() if isinstance(part, pa.ChunkedArray) else part


def _checked(threshold: float, ngram: int, unit: str, num_perm: int, bands: int | None) -> tuple[int, int]:
    """The shared argument checks of the entry points; returns (bands, rows per band)."""
    if not 0.0 < threshold <= 1.0:
        raise ValueError("threshold must be in (0, 1]")
    if ngram < 1 or num_perm < 1:
        raise ValueError("ngram and num_perm must be >= 1")
    if unit not in ("word", "char"):
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    return lsh_shape(threshold, num_perm, bands)


@dataclass(frozen=True)
class SimilarPairs:
    """Outcome of :func:`similar_pairs`: the verified ``(i, j)`` pairs (``i < j``, sorted
    lexicographically), the exact Jaccard of each, and how many candidate pairs LSH proposed."""

    pairs: np.ndarray
    jaccard: np.ndarray
    candidate_pairs: int


def similar_pairs(
    texts,
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    unit: str = "word",
    num_perm: int = 128,
    seed: int = 0,
    bands: int | None = None,
    workers: int = 1,
) -> SimilarPairs:
    """Every pair of rows LSH proposes whose exact Jaccard is at least ``threshold``, unclustered.

    The stages :func:`signatures`, :func:`candidate_pairs` (streamed, so a huge bucket never has
    all its pairs in memory) and exact verification, which is what a caller needs that only asks
    *which* rows are similar (the leakage gate: pairs across two splits) and not which survive.
    Arguments as :func:`near_duplicates`; ``workers`` threads run the compiled stages (the
    result does not depend on them).

    >>> r = similar_pairs(["one two three four five six", "one two three four five seven",
    ...                    "one two three four five six", "nothing alike"], threshold=0.5, ngram=2)
    >>> r.pairs.tolist(), [round(j, 3) for j in r.jaccard.tolist()]
    ([[0, 1], [0, 2], [1, 2]], [0.667, 1.0, 0.667])
    """
    bands, rows = _checked(threshold, ngram, unit, num_perm, bands)
    arr = _as_arrow(texts)
    keys, has = signatures(arr, bands=bands, rows=rows, ngram=ngram, unit=unit, seed=seed, workers=workers)
    pairs, jaccard, candidates = _verified_candidates(arr, keys, np.flatnonzero(has), threshold, ngram, unit,
                                                      workers)
    return SimilarPairs(pairs, jaccard, int(candidates))


def near_duplicates(
    texts,
    *,
    threshold: float = 0.8,
    ngram: int = 5,
    unit: str = "word",
    num_perm: int = 128,
    seed: int = 0,
    bands: int | None = None,
    order: np.ndarray | None = None,
    clustering: str = "star",
    workers: int = 1,
) -> NearResult:
    """Find pairs of rows whose shingle sets have Jaccard similarity >= ``threshold``, and cluster them.

    ``texts`` is a pyarrow string array / ChunkedArray or a sequence of ``str``
    (``None`` is null and matches nothing; so does a row without tokens).
    Shingles are ``ngram``-grams of whitespace tokens (``unit="word"``) or of
    characters (``unit="char"``); rows shorter than ``ngram`` units form one
    shingle.  Candidates come from MinHash LSH with ``num_perm`` permutations
    split into ``bands`` bands (default: :func:`lsh_shape`); every candidate
    is then checked with the exact Jaccard of the two shingle sets
    (:func:`similar_pairs`).  The verified pairs are then clustered in
    ``order`` (row indices, most preferred first; default: row order) by
    :func:`cluster_rows`: into stars (:func:`star_clusters`) or, with
    ``clustering="components"``, into connected components labelled by their
    first row (:func:`components_in_order`).  ``workers`` threads share the shingling, MinHash
    and verification (compiled, GIL released); the result is the same with any number.

    >>> r = near_duplicates(["the quick brown fox jumps over the lazy dog",
    ...                      "a completely different sentence about cats",
    ...                      "the quick brown fox jumps over the lazy dog",
    ...                      None, ""], ngram=3)
    >>> r.cluster.tolist(), r.pairs.tolist(), r.verified_pairs, r.similarity.tolist()
    ([0, 1, 0, 3, 4], [[0, 2]], 1, [nan, nan, 1.0, nan, nan])
    """
    if clustering not in ("star", "components"):
        raise ValueError(f"clustering must be 'star' or 'components', not {clustering!r}")
    _checked(threshold, ngram, unit, num_perm, bands)
    arr = _as_arrow(texts)
    n = len(arr)
    if order is not None:
        order = np.asarray(order, dtype=np.int64)
        if order.shape != (n,) or not np.array_equal(np.sort(order), np.arange(n)):
            raise ValueError("order must list every row index once")
    found = similar_pairs(arr, threshold=threshold, ngram=ngram, unit=unit, num_perm=num_perm, seed=seed,
                          bands=bands, workers=workers)
    cluster, similarity = cluster_rows(arr, found.pairs, found.jaccard, order, clustering, ngram=ngram, unit=unit)
    return NearResult(
        cluster=cluster,
        candidate_pairs=found.candidate_pairs,
        verified_pairs=int(found.pairs.shape[0]),
        pairs=found.pairs,
        similarity=similarity,
        jaccard=found.jaccard,
    )
