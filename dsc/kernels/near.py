"""Near-duplicate detection: shingling, MinHash, LSH banding, exact verification.

Pipeline (all heavy lifting is numpy / pyarrow on flat arrays, never a
Python loop per row or per shingle):

1. **Shingles.**  ``unit="word"`` splits on Unicode whitespace exactly like
   ``str.split()`` (``pyarrow.compute.utf8_split_whitespace``, or the faster
   ASCII splitter when a chunk is plain ASCII); ``unit="char"`` decodes the
   UTF-8 bytes to one value per code point.  Each token gets a 64-bit hash
   (words: xxh3-64 with a fixed seed, computed once per distinct token of a
   chunk via ``dictionary_encode``; chars: a fixed 64-bit mixer of the code
   point's bytes).  An n-gram's hash chains its token hashes with
   xor-multiply and finishes with the murmur3 ``fmix64`` avalanche, computed
   as ``ngram`` vectorised passes over the flat token array.  A row with
   fewer than ``ngram`` tokens yields one shingle covering all of them; a row
   with no tokens (or a null) yields none and can never match.
2. **MinHash.**  Permutation ``i`` is the multiply-add-shift hash
   ``h_i(x) = ((a_i * x + b_i) mod 2**64) >> 32`` of the shingle hash folded
   to 32 bits, with uniform 64-bit ``a_i``, ``b_i`` drawn from
   ``numpy.random.default_rng(seed)``.  For 32-bit ``x`` this family is
   strongly universal onto 32 bits (Dietzfelbinger 1996), like datasketch's
   ``(a*x + b) mod (2**61 - 1)``, but it needs no modulo and has no overflow
   to avoid: numpy's wrapping uint64 arithmetic *is* the mod 2**64.
   Because ``>> 32`` is monotone, the row minimum is taken over the full
   64-bit values and shifted once.  Rows are processed in cache-sized blocks
   of shingles (and blocks spread over threads; numpy releases the GIL),
   which is what makes 128 permutations cheap.
3. **LSH.**  Each band's ``rows`` signature values are chained into one
   64-bit bucket key; rows sharing a key in a band are found by sorting the
   key column and every pair inside a bucket becomes a candidate (a bucket of
   ``k`` rows gives ``k(k-1)/2`` pairs, so template-heavy data yields many:
   120M for toolformer repeated 20x).  Only these keys (and a has-shingles
   flag) are kept between chunks: ``8 * bands + 1`` bytes per row, 145 B at
   the defaults.  Candidates are never all held at once: they are generated
   band by band in slices of ``_CAND_CHUNK`` pairs and each slice is verified
   at once, a pair counting only in the first band it shares a bucket in (its
   earlier bands' keys are compared), so memory is bounded by the slice and
   not by the number of candidates (see :func:`candidate_pairs`).
4. **Verification.**  Pairs of byte-identical texts are accepted at once
   (J = 1).  For the others, shingle sets are computed once for the rows
   that share a bucket with another row (so verification memory scales with
   candidate rows, not with the input), deduplicated, and numbered by dense
   rank, one chunk of rows at a time.  Pairs
   failing the exact length filter ``min/max size < threshold`` are dropped;
   for the rest, 64 left rows at a time each own one bit of a per-rank mark
   word, and a pair's intersection is a count of marked ranks in the right
   row: gathers only, no per-pair Python.  Ranks are numbered rarest first,
   and the right row's first few (rarest) ranks are probed before the rest:
   a pair whose hits plus unprobed ranks cannot reach the threshold is
   dropped there (exact pruning; on template-heavy data, where most candidate
   pairs share the template but not the rare words, it skips most probes).
   Pairs are verified in slices, which bounds the per-pair arrays.  A pair is kept iff
   ``|A & B| / |A | B| >= threshold`` exactly (up to 64-bit shingle-hash
   collisions), so LSH only affects recall, never precision.
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
threading change nothing but speed and memory.
"""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

__all__ = ["NearResult", "SIMILARITY_EDGES", "SimilarPairs", "bucket_links", "candidate_pairs", "cluster_rows",
           "components_in_order", "lsh_params", "lsh_shape", "near_duplicates", "shingle_hashes", "signatures",
           "similar_pairs", "similarity_histogram", "star_clusters", "verify"]

# Fixed seeds: shingle hashes never depend on the caller's ``seed``, so the
# verified pairs (exact Jaccard) are the same for every MinHash seed.
_TOKEN_SEED = 0x5EED_D5C0
_CHAR_SALT = np.uint64(0x2545F4914F6CDD1D)
_CHAIN_MUL = np.uint64(0x9E3779B97F4A7C15)  # odd golden-ratio constant for chaining
_LEN_MUL = np.uint64(0xC2B2AE3D27D4EB4F)  # salts short-row shingles by their length
_FMIX_C1 = np.uint64(0xFF51AFD7ED558CCD)
_FMIX_C2 = np.uint64(0xC4CEB9FE1A85EC53)
_U32 = np.uint64(0xFFFFFFFF)
_trapezoid = getattr(np, "trapezoid", None) or np.trapz  # renamed in numpy 2.0; pyproject allows 1.26

_CHUNK_ROWS = 32_768  # rows shingled at once: bounds transient memory
_BLOCK_SHINGLES = 32_768  # MinHash block: big enough to amortise call overhead,
_PERM_GROUP = 16  # x 16 permutations = 4 MiB of uint64, small enough to stay in cache
_PAIR_BLOCK = 2_000_000  # max set elements probed per verification step
_VERIFY_PAIRS = 1 << 18  # candidate pairs verified per slice: bounds per-pair arrays
_CAND_CHUNK = 1 << 19  # candidate pairs generated (then verified) at once: bounds their memory
_EQUAL_PAIRS = 1 << 15  # equal-length pairs whose texts are copied and compared at once
_RADIX_MIN = 1 << 20  # argsorts at least this long bucket by top bits first
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


def _argsort_u64(x: np.ndarray) -> np.ndarray:
    """Indices sorting uint64 ``x`` (ties in any order).

    Large inputs are first bucketed by their top 10 bits with a stable radix
    pass on uint16, then each bucket is argsorted while it fits in cache:
    ~2.5x faster than one argsort over ~10M values, which would otherwise make
    verification grow faster than linearly with the input.
    """
    if x.size < _RADIX_MIN:
        return np.argsort(x)
    top = (x >> np.uint64(54)).astype(np.uint16)
    order = np.argsort(top, kind="stable")
    ends = np.cumsum(np.bincount(top, minlength=1 << 10))
    for lo, hi in zip(np.concatenate(([0], ends[:-1])).tolist(), ends.tolist()):
        if hi - lo > 1:
            seg = order[lo:hi]
            order[lo:hi] = seg[np.argsort(x[seg])]
    return order


def _dense_rank(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(sorted distinct values, rank of each element among them) for uint64 ``x``.

    Same as ``np.unique(x, return_inverse=True)`` but several times faster:
    numpy's version uses a stable argsort, which ranking does not need.
    """
    order = _argsort_u64(x)
    s = x[order]
    new = np.empty(s.size, dtype=bool)
    new[:1] = True
    np.not_equal(s[1:], s[:-1], out=new[1:])
    rank = np.empty(s.size, dtype=np.int64)
    rank[order] = np.cumsum(new) - 1
    return s[new], rank


def _fmix64(x: np.ndarray) -> np.ndarray:
    """murmur3 64-bit finaliser, in place; a bijection with full avalanche."""
    x ^= x >> np.uint64(33)
    x *= _FMIX_C1
    x ^= x >> np.uint64(33)
    x *= _FMIX_C2
    x ^= x >> np.uint64(33)
    return x


def _utf8_buffers(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """(uint8 data, int64 byte offsets of len+1) of a string array; zero-copy.

    Byte ranges of null slots are whatever Arrow stored (normally empty);
    callers that need nulls as '' fill them first.
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    _, off_buf, data_buf = arr.buffers()
    width = np.int64 if pa.types.is_large_string(arr.type) else np.int32
    offsets = np.frombuffer(off_buf, dtype=width)[arr.offset : arr.offset + len(arr) + 1].astype(np.int64)
    data = np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None else np.zeros(0, np.uint8)
    return data, offsets


def _plain_ascii(arr: pa.Array) -> bool:
    """True if every byte is ASCII and none is 0x1C-0x1F.

    Then ``ascii_split_whitespace`` (~1.7x faster) splits exactly like
    ``utf8_split_whitespace``; the two disagree only on those four separator
    controls, which Unicode (and ``str.split``) count as whitespace.
    """
    data, off = _utf8_buffers(arr)
    data = data[off[0] : off[-1]]
    return data.size == 0 or (data.max() < 0x80 and not ((data - np.uint8(0x1C)) < 4).any())


def _word_tokens(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Whitespace tokens of each row as (uint64 hashes, int64 row offsets)."""
    split = pc.ascii_split_whitespace if _plain_ascii(arr) else pc.utf8_split_whitespace
    lists = split(arr)
    offsets = lists.offsets.to_numpy().astype(np.int64)  # null rows have empty ranges
    flat = lists.values.slice(int(offsets[0]), int(offsets[-1] - offsets[0]))
    offsets -= offsets[0]
    # Arrow emits '' for leading/trailing whitespace and for '' itself; str.split does not.
    nonempty = pc.binary_length(flat).to_numpy() > 0
    if not nonempty.all():
        kept = np.zeros(nonempty.size + 1, dtype=np.int64)
        np.cumsum(nonempty, out=kept[1:])
        offsets = kept[offsets]
        flat = flat.filter(pa.array(nonempty))
    if len(flat) == 0:
        return np.zeros(0, dtype=np.uint64), offsets
    # Hash each distinct token once; real text repeats tokens heavily.
    enc = pc.dictionary_encode(flat)
    vocab = enc.dictionary.cast(pa.large_binary()).to_pylist()
    vocab_hash = np.fromiter(
        (xxhash.xxh3_64_intdigest(tok, _TOKEN_SEED) for tok in vocab), dtype=np.uint64, count=len(vocab)
    )
    return vocab_hash[enc.indices.to_numpy()], offsets


def _char_tokens(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Code points of each row as (uint64 hashes, int64 row offsets).

    A code point's value is its 1-4 UTF-8 bytes packed little-endian into a
    uint32 (unique per code point; no decoding tables needed), then mixed.
    """
    if arr.null_count:
        arr = pc.fill_null(arr, "")
    data, byte_off = _utf8_buffers(arr)
    lo, hi = int(byte_off[0]), int(byte_off[-1])
    data = data[lo:hi]
    lead = (data & 0xC0) != 0x80  # first byte of each code point
    starts = np.flatnonzero(lead)
    clen = np.diff(np.append(starts, data.size))
    value = data[starts].astype(np.uint64)
    for k in range(1, 4):
        more = clen > k
        value[more] |= data[starts[more] + k].astype(np.uint64) << np.uint64(8 * k)
    lead_before = np.zeros(data.size + 1, dtype=np.int64)
    np.cumsum(lead, out=lead_before[1:])
    offsets = lead_before[byte_off - lo]
    return _fmix64(value ^ _CHAR_SALT), offsets


def _ngrams(tok: np.ndarray, tok_off: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Chain ``n`` consecutive token hashes into one shingle hash per position.

    Returns (uint64 shingle hashes, int64 per-row shingle offsets).  Rows with
    ``0 < L < n`` tokens get a single shingle over all ``L`` tokens (salted by
    ``L`` so it cannot equal a full n-gram); rows with no tokens get none.
    """
    lengths = np.diff(tok_off)
    per_row = np.where(lengths >= n, lengths - n + 1, (lengths > 0).astype(np.int64))
    sh_off = np.zeros(lengths.size + 1, dtype=np.int64)
    np.cumsum(per_row, out=sh_off[1:])
    if sh_off[-1] == 0:
        return np.zeros(0, dtype=np.uint64), sh_off
    # Chain over every flat position with contiguous shifted slices (no gathers);
    # windows that run past their row's end are dropped by ``keep`` below.
    padded = np.concatenate((tok, np.zeros(n - 1, dtype=np.uint64)))
    acc = np.full(tok.size, n, dtype=np.uint64)
    acc *= _LEN_MUL
    for k in range(n):
        acc ^= padded[k : k + tok.size]
        acc *= _CHAIN_MUL
    # Keep window p iff [p, p+n) lies inside its row: drop each row's last n-1 starts.
    keep = np.ones(tok.size, dtype=bool)
    for k in range(1, n):
        tail = tok_off[1:] - k
        keep[tail[tail >= tok_off[:-1]]] = False
    short = np.flatnonzero((lengths > 0) & (lengths < n))
    if short.size:
        # One shingle per short row, at its first token, over all its tokens.
        first, span = tok_off[short], lengths[short]
        sacc = span.astype(np.uint64) * _LEN_MUL
        for k in range(int(span.max())):
            step = (sacc ^ tok[np.minimum(first + k, tok.size - 1)]) * _CHAIN_MUL
            sacc = np.where(k < span, step, sacc)
        acc[first] = sacc
        keep[first] = True
    return _fmix64(acc[keep]), sh_off


def shingle_hashes(arr: pa.Array, ngram: int, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """64-bit shingle hashes of every row: (uint64 flat hashes, int64 offsets).

    Row ``i``'s shingles are ``hashes[offsets[i]:offsets[i+1]]`` (with repeats,
    in text order).  Nulls and token-less rows have none.

    >>> h, off = shingle_hashes(pa.array(["a b c", None, "a b c", "x"]), 2, "word")
    >>> off.tolist(), bool(h[0] == h[2]), bool(h[0] == h[1])
    ([0, 2, 2, 4, 5], True, False)
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    if unit == "word":
        tok, tok_off = _word_tokens(arr)
    elif unit == "char":
        tok, tok_off = _char_tokens(arr)
    else:
        raise ValueError(f"unit must be 'word' or 'char', not {unit!r}")
    return _ngrams(tok, tok_off, ngram)


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


def _minhash(sh: np.ndarray, sh_off: np.ndarray, a: np.ndarray, b: np.ndarray, pool) -> np.ndarray:
    """uint32 signatures ``(rows, num_perm)``; rows without shingles are all-ones."""
    rows = sh_off.size - 1
    sig = np.full((rows, a.size), np.uint32(0xFFFFFFFF), dtype=np.uint32)
    x = (sh ^ (sh >> np.uint64(32))) & _U32  # fold to 32 bits so a*x+b is the universal family
    # Block boundaries on row edges, ~_BLOCK_SHINGLES shingles each.
    cuts = np.searchsorted(sh_off, np.arange(0, int(sh_off[-1]), _BLOCK_SHINGLES), side="right") - 1
    edges = _sorted_unique(np.concatenate((cuts, [rows])))

    def block(lo: int, hi: int) -> None:
        off = sh_off[lo : hi + 1]
        nonempty = np.flatnonzero(np.diff(off) > 0)
        if nonempty.size == 0:
            return
        xb = x[off[0] : off[-1]]
        starts = off[nonempty] - off[0]
        for p in range(0, a.size, _PERM_GROUP):
            y = np.multiply.outer(a[p : p + _PERM_GROUP], xb)
            y += b[p : p + _PERM_GROUP, None]
            mins = np.minimum.reduceat(y, starts, axis=1)
            sig[lo + nonempty, p : p + _PERM_GROUP] = (mins >> np.uint64(32)).T

    list(pool.map(lambda i: block(int(edges[i]), int(edges[i + 1])), range(edges.size - 1)))
    return sig


def _band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """uint64 bucket keys ``(bands, rows)``: each band's signature values chained."""
    keys = np.empty((bands, sig.shape[0]), dtype=np.uint64)
    for j in range(bands):
        acc = np.full(sig.shape[0], j + 1, dtype=np.uint64)
        acc *= _LEN_MUL  # array ops wrap mod 2**64 silently; scalar ops would warn
        for c in range(j * rows, (j + 1) * rows):
            acc ^= sig[:, c]
            acc *= _CHAIN_MUL
        keys[j] = _fmix64(acc)
    return keys


# --------------------------------------------------------------------------- verification


def _ragged_arange(starts: np.ndarray, counts: np.ndarray) -> np.ndarray:
    """Concatenation of ``arange(s, s + c)`` for each (s, c), all ``c >= 1``.

    One scatter and one cumsum: cheaper than the repeat/arange formulation.
    """
    steps = np.ones(int(counts.sum()), dtype=np.int64)
    heads = np.cumsum(counts) - counts
    steps[0] = starts[0]
    steps[heads[1:]] = starts[1:] - (starts[:-1] + counts[:-1] - 1)
    return np.cumsum(steps)


def _row_sets(arr, rows: np.ndarray, ngram: int, unit: str) -> tuple[np.ndarray, np.ndarray, int]:
    """Shingle sets of ``rows`` as CSR over dense ranks: (offsets, ranks, U).

    Ranks number the distinct shingles 0..U-1 rarest first (by how many of
    ``rows`` hold them, ties by hash value), and each row lists its ranks in
    increasing order, so a row's rarest shingles come first: the ones most
    likely to be missing from a dissimilar row (see :func:`_verify`).  Ranks
    are int32 when U allows (it always does below 2**31 distinct shingles).

    Every step but the global numbering works on one chunk of rows at a
    time, replacing its hashes by ranks in place: the peak is the deduplicated
    shingles of all rows (8 bytes each) plus one chunk's sorting, not several
    full-size sort buffers (this runs on every row of a template-heavy input).
    """
    sets, offs, distinct = [], [np.zeros(1, dtype=np.int64)], []
    for lo in range(0, rows.size, _CHUNK_ROWS):
        h, off = shingle_hashes(arr.take(pa.array(rows[lo : lo + _CHUNK_ROWS])), ngram, unit)
        # Each row's distinct shingles, numbered within the chunk: (row, local rank) as one
        # int64 sorts and dedupes every row's set in one pass.
        uniq_c, local = _dense_rank(h)
        del h
        u_c = np.int64(max(uniq_c.size, 1))
        local += np.repeat(np.arange(off.size - 1, dtype=np.int64) * u_c, np.diff(off))
        local = _sorted_unique(local)
        offs.append(np.searchsorted(local, np.arange(1, off.size, dtype=np.int64) * u_c) + offs[-1][-1])
        local %= u_c
        sets.append(local)
        distinct.append(uniq_c)
    seg = np.concatenate(offs)  # row i's set is ranks[seg[i]:seg[i+1]]
    uniq = _sorted_unique(np.concatenate(distinct)) if distinct else np.zeros(0, dtype=np.uint64)
    u = max(uniq.size, 1)
    small = np.int32 if u < 2**31 else np.int64
    freq = np.zeros(u, dtype=np.int64)
    for c, local in enumerate(sets):  # chunk ranks -> dense ranks over all rows (hash order)
        r = np.searchsorted(uniq, distinct[c]).astype(small)[local]
        distinct[c] = None
        freq += np.bincount(r, minlength=u)
        sets[c] = r
    del uniq, distinct
    # Renumber rarest first (stable: ties keep hash order) and re-sort each row's ranks.
    rare = np.empty(u, dtype=small)
    rare[np.argsort(freq, kind="stable")] = np.arange(u, dtype=small)
    del freq
    for c, r in enumerate(sets):
        lo = c * _CHUNK_ROWS
        sizes = np.diff(seg[lo : lo + _CHUNK_ROWS + 1])
        keys = rare[r].astype(np.int64)
        keys += np.repeat(np.arange(sizes.size, dtype=np.int64) * np.int64(u), sizes)
        keys.sort()
        keys %= np.int64(u)
        sets[c] = keys.astype(small)
    ranks = np.concatenate(sets) if sets else np.zeros(0, dtype=small)
    return seg, ranks, u


def _intersections(
    seg: np.ndarray, ranks: np.ndarray, u: int, i: np.ndarray, start: np.ndarray, count: np.ndarray
) -> np.ndarray:
    """For each pair, how many of ``ranks[start:start + count]`` lie in row ``i``'s set.

    Pairs must be sorted by ``i`` (a row of the sets); ``start``/``count`` pick
    a slice of the other row's ranks (``count`` may be 0).  Left rows are taken
    64 at a time; each owns one bit of a uint64 mark per shingle rank.  A
    pair's count is then how many probed ranks carry the left row's bit: plain
    gathers, no per-pair search or merge.
    """
    mark = np.zeros(u, dtype=np.uint64)
    size = np.diff(seg)
    inter = np.zeros(i.size, dtype=np.int64)
    left = _sorted_unique(i)
    if left.size == 0:
        return inter
    slot_of = np.zeros(size.size, dtype=np.uint64)  # left row -> its bit within its block of 64
    slot_of[left] = np.arange(left.size, dtype=np.uint64) & np.uint64(63)
    edges = np.append(np.searchsorted(i, left[::64]), i.size).tolist()
    bit = np.uint64(1) << np.arange(64, dtype=np.uint64)
    for blk, lo in enumerate(range(0, left.size, 64)):
        block = left[lo : lo + 64]
        p_lo, p_hi = edges[blk], edges[blk + 1]
        own = ranks[_ragged_arange(seg[block], size[block])]
        np.bitwise_or.at(mark, own, np.repeat(bit[: block.size], size[block]))
        # Slices of the block's pairs, each probing at most _PAIR_BLOCK elements.
        probes = np.cumsum(count[p_lo:p_hi])
        cut = p_lo
        while cut < p_hi:
            base = probes[cut - p_lo - 1] if cut > p_lo else 0
            end = max(cut + 1, p_lo + int(np.searchsorted(probes, base + _PAIR_BLOCK, side="right")))
            idx = cut + np.flatnonzero(count[cut:end])  # empty slices count 0 (reduceat cannot do them)
            if idx.size:
                cnt = count[idx]
                hits = mark[ranks[_ragged_arange(start[idx], cnt)]] >> np.repeat(slot_of[i[idx]], cnt)
                hits &= np.uint64(1)
                inter[idx] = np.add.reduceat(hits, np.cumsum(cnt) - cnt)
            cut = end
        mark[own] = 0
    return inter


def _verify(arr, pairs: np.ndarray, threshold: float, ngram: int, unit: str) -> tuple[np.ndarray, np.ndarray]:
    """(boolean mask over ``pairs`` (sorted by first column): exact Jaccard >= threshold,
    float64 exact Jaccard of each pair the mask keeps, NaN elsewhere)."""
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
    _verify_sets(pairs, todo, number, _row_sets(arr, rows, ngram, unit), threshold, keep, jac)
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
        a, b = (arr.take(pa.array(pairs[part, c])) for c in (0, 1))
        keep[part] = np.asarray(pc.equal(a, b).to_numpy(zero_copy_only=False), dtype=bool)
    jac[keep] = 1.0
    return keep, jac


def _verify_sets(pairs: np.ndarray, todo: np.ndarray, number: np.ndarray, sets: tuple, threshold: float,
                 keep: np.ndarray, jac: np.ndarray) -> None:
    """Exact-Jaccard check of ``pairs[todo]`` against shingle ``sets`` (see :func:`_row_sets`;
    ``number`` maps a row to its place there); sets ``keep`` and ``jac`` of the passing pairs."""
    seg, ranks, u = sets
    size = np.diff(seg)
    # Pairs go in slices (still sorted by first row), so the per-pair arrays below stay small.
    for lo in range(0, todo.size, _VERIFY_PAIRS):
        part = todo[lo : lo + _VERIFY_PAIRS]
        i, j = number[pairs[part, 0]], number[pairs[part, 1]]
        si, sj = size[i], size[j]
        # Length filter (exact): J <= min(|A|,|B|) / max(|A|,|B|), so skip pairs below t.
        # An empty set (a row without shingles, only ever given by a `verify` caller) matches nothing.
        small = np.minimum(si, sj)
        fits = np.flatnonzero((small > 0) & (small / np.maximum(np.maximum(si, sj), 1) >= threshold))
        part, i, j, si, sj = part[fits], i[fits], j[fits], si[fits], sj[fits]
        total = si + sj
        # Two passes over B's ranks (rarest first).  Pass 1 probes a prefix of B one
        # longer than the misses a passing pair can afford (|A & B| >= t(|A|+|B|)/(1+t));
        # pairs whose upper bound  hits + unprobed  cannot reach t are dropped, which
        # is exact (x / (total - x) is monotone in x, also in floating point), and
        # only the rest probe the remainder.  The prefix length only affects speed.
        head = np.clip(sj - np.ceil(threshold * total / (1.0 + threshold)).astype(np.int64) + 1, 1, sj)
        inter = _intersections(seg, ranks, u, i, seg[j], head)
        bound = inter + (sj - head)
        alive = np.flatnonzero(bound / (total - bound) >= threshold)
        del bound
        inter = inter[alive]
        inter += _intersections(seg, ranks, u, i[alive], seg[j[alive]] + head[alive], sj[alive] - head[alive])
        # Division (not inter >= t * union) so exact ratios like 4/5 compare equal to 0.8.
        ratio = inter / (total[alive] - inter)
        passed = ratio >= threshold
        keep[part[alive[passed]]] = True
        jac[part[alive[passed]]] = ratio[passed]


def _bucket_groups(keys: np.ndarray, ids: np.ndarray) -> tuple[list, np.ndarray]:
    """Each band's buckets of two or more rows, and the rows in any of them.

    Returns ``(groups, rows)``: ``groups[j]`` is band ``j``'s (members bucket by bucket, how many
    members follow each in its bucket) or None, ``rows`` the sorted rows sharing a bucket with
    another row in some band.  Memory is one entry per (band, row), never one per pair.
    """
    n = keys.shape[1]
    groups: list[tuple[np.ndarray, np.ndarray] | None] = []
    in_bucket = np.zeros(n, dtype=bool)
    for j in range(keys.shape[0]):
        k = keys[j, ids]
        order = np.argsort(k, kind="stable")
        k = k[order]
        starts = np.flatnonzero(np.concatenate(([True], k[1:] != k[:-1])))
        sizes = np.diff(np.append(starts, k.size))
        multi = sizes >= 2
        del k
        if not multi.any():
            groups.append(None)
            continue
        g_start, g_size = starts[multi], sizes[multi]
        members = ids[order[_ragged_arange(g_start, g_size)]]  # bucket by bucket
        heads = np.cumsum(g_size) - g_size
        # How many members come after each one in its bucket: the pairs it starts.
        after = np.repeat(heads + g_size - 1, g_size) - np.arange(members.size, dtype=np.int64)
        in_bucket[members] = True
        groups.append((members, after))
    return groups, np.flatnonzero(in_bucket)


def _verified_candidates(arr, keys: np.ndarray, ids: np.ndarray, threshold: float, ngram: int,
                         unit: str) -> tuple[np.ndarray, np.ndarray, int]:
    """(verified pairs sorted lexicographically, their exact Jaccard, number of candidate pairs).

    The candidates are every pair of rows (``ids``: the rows with shingles) sharing a bucket
    key in some band, but never all at once: a bucket of ``k`` rows holds ``k(k-1)/2`` pairs,
    and template-heavy data has buckets of thousands of rows, whose pairs took gigabytes.
    Instead pairs are generated band by band in slices of at most ``_CAND_CHUNK`` (see
    :func:`candidate_pairs`), and each slice is verified at once, keeping only the pairs that
    pass.  A pair sharing keys in several bands is a candidate only in the first of them, so no
    candidate is verified twice and none is kept in a set of pairs seen.  Memory is bounded by
    the slice, the band keys and the shingle sets of the rows in some shared bucket (computed
    once), never by the number of candidate pairs.
    """
    n = len(arr)
    groups, rows = _bucket_groups(keys, ids)
    if rows.size == 0:
        return np.zeros((0, 2), dtype=np.int64), np.zeros(0), 0
    slices = _candidate_slices(groups, keys, n, _CAND_CHUNK)
    if sum(int(g[1].sum()) for g in groups if g is not None) <= _CAND_CHUNK:
        # Few candidates (the common case): verify them in one go, which shingles only the rows
        # of pairs that are not byte-identical copies.
        codes = np.sort(np.concatenate([*slices, np.zeros(0, dtype=np.int64)]))
        pairs = np.stack((codes // n, codes % n), axis=1)
        keep, jac = _verify(arr, pairs, threshold, ngram, unit)
        return pairs[keep], jac[keep], int(codes.size)
    number = np.zeros(n, dtype=np.int64)
    number[rows] = np.arange(rows.size, dtype=np.int64)
    sets = _row_sets(arr, rows, ngram, unit)
    nbytes = pc.binary_length(arr).to_numpy(zero_copy_only=False)
    found, similar, candidates = [], [], 0
    for codes in slices:
        codes.sort()  # _verify_sets wants pairs sorted by their first row
        candidates += codes.size
        pairs = np.stack((codes // n, codes % n), axis=1)
        keep, jac = _identical(arr, pairs, nbytes)
        _verify_sets(pairs, np.flatnonzero(~keep), number, sets, threshold, keep, jac)
        found.append(codes[keep])
        similar.append(jac[keep])
        del pairs, codes, keep, jac
    codes = np.concatenate(found) if found else np.zeros(0, dtype=np.int64)
    jaccard = np.concatenate(similar) if similar else np.zeros(0)
    order = np.argsort(codes)
    codes, jaccard = codes[order], jaccard[order]
    return np.stack((codes // max(n, 1), codes % max(n, 1)), axis=1).astype(np.int64), jaccard, candidates


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
    texts, *, bands: int, rows: int, ngram: int = 5, unit: str = "word", seed: int = 0, threads: int | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """(LSH band keys, has-shingles mask) of every row: ``(bands, n)`` uint64 and ``(n,)`` bool.

    Each row is shingled (:func:`shingle_hashes`), MinHashed with ``bands * rows`` seeded
    permutations and each band's ``rows`` values chained into one 64-bit key.  A row's keys
    depend only on its text and the parameters, so any subset of the rows (a Ray batch, a
    shuffle group) gets the keys it would get among all rows.  Rows are processed
    ``_CHUNK_ROWS`` at a time (bounded transient memory) on up to ``threads`` threads (default:
    up to 4); neither changes the result.  A row without shingles (null, no tokens) has
    ``has[i] == False`` and must never be paired.

    >>> keys, has = signatures(["a b c d", None, "a b c d", "e f"], bands=4, rows=2, ngram=2)
    >>> keys.shape, has.tolist(), bool((keys[:, 0] == keys[:, 2]).all()), bool((keys[:, 0] == keys[:, 3]).any())
    ((4, 4), [True, False, True, True], True, False)
    """
    arr = _as_arrow(texts)
    n = len(arr)
    a, b = _permutations(bands * rows, seed)
    keys = np.empty((bands, n), dtype=np.uint64)
    has = np.zeros(n, dtype=bool)
    workers = threads if threads is not None else max(1, min(4, os.cpu_count() or 1))
    with ThreadPoolExecutor(max_workers=max(1, workers)) as pool:
        for lo in range(0, n, _CHUNK_ROWS):
            hi = min(n, lo + _CHUNK_ROWS)
            sh, sh_off = shingle_hashes(_slice(arr, lo, hi), ngram, unit)
            has[lo:hi] = np.diff(sh_off) > 0
            keys[:, lo:hi] = _band_keys(_minhash(sh, sh_off, a, b, pool), bands, rows)
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


def verify(texts, pairs: np.ndarray, *, threshold: float, ngram: int = 5, unit: str = "word"
           ) -> tuple[np.ndarray, np.ndarray]:
    """(mask of the ``pairs`` whose exact Jaccard is >= ``threshold``, each pair's Jaccard: NaN where it fails).

    ``pairs`` is an ``(m, 2)`` array of row indices into ``texts``, in any order.  Shingle sets
    are built once for the rows in a pair (byte-identical texts are accepted without them), and
    the comparison is exact (up to 64-bit shingle-hash collisions), so verification decides
    precision alone.  ``threshold=0`` gives every pair's Jaccard.

    >>> verify(["a b c d", "a b c e", "a b c d"], np.array([[2, 0], [0, 1]]), threshold=0.6, ngram=2)
    (array([ True, False]), array([ 1., nan]))
    """
    arr = _as_arrow(texts)
    pairs = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if pairs.size and (pairs.min() < 0 or pairs.max() >= len(arr)):
        raise ValueError("pair indices must lie in [0, len(texts))")
    order = np.argsort(pairs[:, 0], kind="stable")  # _verify wants pairs sorted by their first row
    keep, jac = _verify(arr, pairs[order], float(threshold), ngram, unit)
    if keep.any():  # byte-identical texts pass unshingled: those without shingles ('', blank) must not
        rows = _sorted_unique(pairs[order][keep].ravel())
        _, off = shingle_hashes(arr.take(pa.array(rows)), ngram, unit)
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
    # Both directions of every pair, grouped by row: row ``nodes[k]``'s partners are
    # ``partner[starts[k]:ends[k]]``.
    row = np.concatenate((edges[:, 0], edges[:, 1]))
    partner = np.concatenate((edges[:, 1], edges[:, 0]))
    by_row = np.argsort(row, kind="stable")
    row, partner = row[by_row], partner[by_row]
    nodes = _sorted_unique(row)
    starts = np.searchsorted(row, nodes)
    ends = np.searchsorted(row, nodes, side="right")
    taken = np.zeros(n, dtype=bool)
    # Sequential by nature (whether a row is a center depends on earlier centers), but
    # only centers do any work: a member is skipped by one lookup.
    for k in np.argsort(rank[nodes], kind="stable").tolist():
        r = int(nodes[k])
        if taken[r]:
            continue
        taken[r] = True
        mine = partner[starts[k] : ends[k]]
        mine = mine[~taken[mine]]
        taken[mine] = True
        center[mine] = r
    return center


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
) -> SimilarPairs:
    """Every pair of rows LSH proposes whose exact Jaccard is at least ``threshold``, unclustered.

    The stages :func:`signatures`, :func:`candidate_pairs` (streamed, so a huge bucket never has
    all its pairs in memory) and exact verification, which is what a caller needs that only asks
    *which* rows are similar (the leakage gate: pairs across two splits) and not which survive.
    Arguments as :func:`near_duplicates`.

    >>> r = similar_pairs(["one two three four five six", "one two three four five seven",
    ...                    "one two three four five six", "nothing alike"], threshold=0.5, ngram=2)
    >>> r.pairs.tolist(), [round(j, 3) for j in r.jaccard.tolist()]
    ([[0, 1], [0, 2], [1, 2]], [0.667, 1.0, 0.667])
    """
    bands, rows = _checked(threshold, ngram, unit, num_perm, bands)
    arr = _as_arrow(texts)
    keys, has = signatures(arr, bands=bands, rows=rows, ngram=ngram, unit=unit, seed=seed)
    pairs, jaccard, candidates = _verified_candidates(arr, keys, np.flatnonzero(has), threshold, ngram, unit)
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
    first row (:func:`components_in_order`).

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
                          bands=bands)
    cluster, similarity = cluster_rows(arr, found.pairs, found.jaccard, order, clustering, ngram=ngram, unit=unit)
    return NearResult(
        cluster=cluster,
        candidate_pairs=found.candidate_pairs,
        verified_pairs=int(found.pairs.shape[0]),
        pairs=found.pairs,
        similarity=similarity,
        jaccard=found.jaccard,
    )
