"""Seeded synthetic text corpus with injected exact and near duplicates.

Used by the dedupe benchmarks (exact and near) and by tests that need a
corpus whose duplicate structure is known in advance.

Rows are sequences of pseudo-words drawn from a fixed 20k-word vocabulary
with a Zipf-like frequency profile, joined by single spaces.  A fraction of
rows are then overwritten:

* **exact duplicates** copy an original row verbatim;
* **near duplicates** copy an original row and apply one contiguous edit of
  ``m`` interior words (substitution, deletion or insertion).  ``m`` is
  chosen from the row length so that the Jaccard similarity of the word
  5-gram sets lands in roughly 0.85-0.95 (for ``words`` >= ~60; very short
  rows cannot be edited that gently, and fall lower).

Originals are always drawn from the untouched ("pristine") rows, so every
duplicate group is a star around one original.  Two random pristine rows
essentially never share a 5-gram run long enough to look similar, so the
injected groups are the only similar pairs in practice (the benchmark still
measures, rather than assumes, this).

Everything is vectorised except the near-duplicate edits (one short loop
iteration per near-dup row), so 1M rows take a few seconds plus the cost of
materialising the Python strings.

>>> c = make_corpus(200, seed=1)
>>> len(c["text"]), int((c["exact_of"] >= 0).sum()), int((c["near_of"] >= 0).sum())
(200, 10, 10)
>>> i = int(np.flatnonzero(c["exact_of"] >= 0)[0])
>>> c["text"][i] == c["text"][c["exact_of"][i]]
True
>>> make_corpus(50, seed=3)["text"] == make_corpus(50, seed=3)["text"]
True
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

VOCAB_SIZE = 20_000
_ZIPF_EXPONENT = 1.05
_ZIPF_SHIFT = 10.0  # flattens the head so the top words are common, not overwhelming
_STRING_CHUNK = 100_000  # rows materialised to Python strings per step (bounds peak memory)
_ALPHABET = np.frombuffer(b"abcdefghijklmnopqrstuvwxyz", dtype=np.uint8)


def _vocabulary(rng: np.random.Generator, size: int = VOCAB_SIZE) -> list[str]:
    """``size`` distinct lowercase pseudo-words of 2-9 letters."""
    words: list[str] = []
    seen: set[str] = set()
    while len(words) < size:
        k = size - len(words)
        lens = rng.integers(2, 10, size=k)
        letters = _ALPHABET[rng.integers(0, 26, size=(k, 9))]
        for row, ln in zip(letters, lens):
            w = row[:ln].tobytes().decode("ascii")
            if w not in seen:  # keep first-seen order: deterministic
                seen.add(w)
                words.append(w)
    return words


def _zipf_table(size: int, bits: int = 22) -> np.ndarray:
    """Inverse-CDF lookup table: uniform ``bits``-bit integers -> Zipf word ids.

    A table lookup is ~10x faster than ``searchsorted`` on the CDF for 100M
    draws; quantising the CDF to 2**22 steps only distorts words rarer than
    ~2.4e-7, which is irrelevant for a synthetic corpus.
    """
    weights = 1.0 / (np.arange(size, dtype=np.float64) + _ZIPF_SHIFT) ** _ZIPF_EXPONENT
    cdf = np.cumsum(weights)
    cdf /= cdf[-1]
    grid = (np.arange(1 << bits, dtype=np.float64) + 0.5) / (1 << bits)
    return np.minimum(np.searchsorted(cdf, grid, side="right"), size - 1).astype(np.uint16)


def _draw_words(rng: np.random.Generator, table: np.ndarray, count: int) -> np.ndarray:
    """``count`` Zipf-distributed word ids as uint16."""
    return table[rng.integers(0, table.size, size=count, dtype=np.uint32)]


def _ragged_gather(src_off: np.ndarray, src_rows: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Flat positions taking ``lengths[i]`` items starting at ``src_off[src_rows[i]]``."""
    out_off = np.concatenate(([0], np.cumsum(lengths)))
    shift = np.repeat(src_off[src_rows] - out_off[:-1], lengths)
    return shift + np.arange(out_off[-1], dtype=np.int64)


def _edit_width(n_shingles: int) -> int:
    """Largest contiguous edit keeping word-5-gram Jaccard >= ~0.85 (at least 1).

    Substituting ``m`` interior words touches ``m + 4`` of the ``S`` shingles,
    giving J = (S - m - 4) / (S + m + 4); J >= 0.85 needs m + 4 <= 0.081 * S.
    Capped at 3 so long rows still get visible edits rather than near-copies.
    """
    return int(min(3, max(1, int(0.081 * n_shingles) - 4)))


def make_corpus(
    n: int,
    seed: int = 0,
    *,
    exact_dup_rate: float = 0.05,
    near_dup_rate: float = 0.05,
    words: int = 100,
) -> dict:
    """Generate ``n`` rows of ~``words`` words with injected duplicates.

    Returns ``{"text": list[str], "exact_of": int64[n], "near_of": int64[n]}``
    where ``exact_of[i]`` / ``near_of[i]`` is the index of the row that row
    ``i`` was copied / edited from, or -1.  Identical arguments give identical
    output (a single seeded ``numpy.random.Generator`` drives everything).
    """
    if n < 0:
        raise ValueError("n must be >= 0")
    if not (0 <= exact_dup_rate and 0 <= near_dup_rate and exact_dup_rate + near_dup_rate < 1):
        raise ValueError("dup rates must be >= 0 and sum to < 1")
    rng = np.random.default_rng(seed)
    vocab = pa.array(_vocabulary(rng), type=pa.string())
    table = _zipf_table(len(vocab))

    # Base rows: lengths within +-20% of `words` so one edit has a predictable effect.
    lo, hi = max(1, int(words * 0.8)), max(1, int(words * 1.2))
    base_len = rng.integers(lo, hi + 1, size=n).astype(np.int64)
    base_off = np.concatenate(([0], np.cumsum(base_len)))
    base_tok = _draw_words(rng, table, int(base_off[-1]))

    # Assign roles: a random disjoint set of exact-dup rows and near-dup rows;
    # each picks its original uniformly from the remaining (pristine) rows.
    n_exact = int(round(exact_dup_rate * n))
    n_near = int(round(near_dup_rate * n))
    perm = rng.permutation(n)
    exact_rows = np.sort(perm[:n_exact])
    near_rows = np.sort(perm[n_exact : n_exact + n_near])
    pristine = perm[n_exact + n_near :]
    exact_of = np.full(n, -1, dtype=np.int64)
    near_of = np.full(n, -1, dtype=np.int64)
    if pristine.size:
        exact_of[exact_rows] = rng.choice(pristine, size=n_exact)
        near_of[near_rows] = rng.choice(pristine, size=n_near)

    # Near-dup edits: (kind, start, width) per near row; kind 0=sub, 1=del, 2=ins.
    orig_len = base_len[near_of[near_rows]] if n_near else np.zeros(0, np.int64)
    kinds = rng.choice(3, size=n_near, p=[0.6, 0.2, 0.2])
    widths = np.array([_edit_width(int(L) - 4) for L in orig_len], dtype=np.int64)
    # Interior start keeps all m+4 affected shingles inside the row (J is predictable).
    max_start = np.maximum(orig_len - widths - 4, 5)
    starts = (rng.random(n_near) * (max_start - 4)).astype(np.int64) + 4
    starts = np.minimum(starts, np.maximum(orig_len - widths, 0))
    fresh = _draw_words(rng, table, int(widths.sum()))
    fresh_off = np.concatenate(([0], np.cumsum(widths)))

    # Output lengths, then one vectorised gather for pristine and exact rows.
    src = np.arange(n, dtype=np.int64)
    src[exact_rows] = exact_of[exact_rows]
    out_len = base_len[src].copy()
    delta = np.where(kinds == 1, -widths, np.where(kinds == 2, widths, 0))
    out_len[near_rows] = np.maximum(orig_len + delta, 0)
    out_off = np.concatenate(([0], np.cumsum(out_len)))
    out_tok = np.empty(int(out_off[-1]), dtype=np.uint16)
    plain = np.ones(n, dtype=bool)
    plain[near_rows] = False
    plain_rows = np.flatnonzero(plain)
    dst = _ragged_gather(out_off, plain_rows, out_len[plain_rows])
    out_tok[dst] = base_tok[_ragged_gather(base_off, src[plain_rows], out_len[plain_rows])]

    for j, r in enumerate(near_rows.tolist()):
        o = base_tok[base_off[near_of[r]] : base_off[near_of[r] + 1]]
        s, m = int(starts[j]), int(widths[j])
        new = fresh[fresh_off[j] : fresh_off[j + 1]]
        if kinds[j] == 0:
            row = np.concatenate((o[:s], new, o[s + m :]))
        elif kinds[j] == 1:
            row = np.concatenate((o[:s], o[s + m :]))
        else:
            row = np.concatenate((o[:s], new, o[s:]))
        out_tok[out_off[r] : out_off[r + 1]] = row

    # Strings via Arrow: take words, wrap as list<string>, join with spaces.
    text: list[str] = []
    for a in range(0, n, _STRING_CHUNK):
        b = min(n, a + _STRING_CHUNK)
        toks = vocab.take(pa.array(out_tok[out_off[a] : out_off[b]]))
        offs = pa.array((out_off[a : b + 1] - out_off[a]).astype(np.int32))
        text.extend(pc.binary_join(pa.ListArray.from_arrays(offs, toks), " ").to_pylist())
    return {"text": text, "exact_of": exact_of, "near_of": near_of}
