"""The pipeline of bench_pipeline written the way a user would with polars and numpy: the peer.

read jsonl → normalise (NFC, whitespace runs to one space, strip) → drop rows under 5 words →
exact dedupe → near dedupe (word 5-gram MinHash, 128 permutations, LSH 16 bands × 8 rows,
candidates verified by exact Jaccard ≥ 0.8, connected components, first row kept) → a 90/10 split
by a hash of the text → one parquet file per split. polars does the text work and the grouping
(its kernels are compiled Rust on every core), numpy the MinHash. No dsc code is used.

Run as a child of bench_pipeline (`--peers`), which times it and reads its peak RSS:

    python -m bench.peer_pipeline CORPUS.jsonl OUT_DIR
"""
from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import polars as pl

NGRAM, PERMS, BANDS, ROWS, THRESHOLD = 5, 128, 16, 8, 0.8
_MERSENNE = (1 << 61) - 1


def shingles(texts: list[str]) -> list[np.ndarray]:
    """Each text's distinct word 5-gram hashes (uint64; a shorter text is one shingle)."""
    out = []
    for text in texts:
        words = text.split()
        grams = {" ".join(words[i:i + NGRAM]) for i in range(max(1, len(words) - NGRAM + 1))}
        out.append(np.fromiter((hash(g) & _MERSENNE for g in grams), dtype=np.uint64, count=len(grams)))
    return out


def minhash(sets: list[np.ndarray], seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    a = rng.integers(1, _MERSENNE, PERMS, dtype=np.uint64)
    b = rng.integers(0, _MERSENNE, PERMS, dtype=np.uint64)
    sig = np.empty((len(sets), PERMS), dtype=np.uint64)
    for i, s in enumerate(sets):
        sig[i] = ((np.outer(s, a) + b) % np.uint64(_MERSENNE)).min(axis=0) if s.size else np.uint64(_MERSENNE)
    return sig


def near_duplicates(texts: list[str]) -> np.ndarray:
    """A bool per row: a later member of a near-duplicate component."""
    sets = shingles(texts)
    sig = minhash(sets)
    n = len(texts)
    parent = np.arange(n)

    def find(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    seen: set[tuple[int, int]] = set()
    for band in range(BANDS):
        keys = [hash(row.tobytes()) for row in sig[:, band * ROWS:(band + 1) * ROWS]]
        groups = pl.DataFrame({"k": keys, "i": np.arange(n)}).group_by("k").agg(pl.col("i")).filter(
            pl.col("i").list.len() > 1)
        for members in groups["i"].to_list():
            first = members[0]
            for other in members[1:]:
                pair = (min(first, other), max(first, other))
                if pair in seen:
                    continue
                seen.add(pair)
                x, y = set(sets[pair[0]].tolist()), set(sets[pair[1]].tolist())
                if len(x & y) / max(1, len(x | y)) >= THRESHOLD:
                    ra, rb = find(pair[0]), find(pair[1])
                    parent[max(ra, rb)] = min(ra, rb)
    roots = np.array([find(i) for i in range(n)])
    return roots != np.arange(n)


def main(corpus: str, out: str) -> None:
    frame = pl.read_ndjson(corpus)
    text = (pl.col("text").str.normalize("NFC").str.replace_all(r"\s+", " ").str.strip_chars())
    frame = frame.with_columns(text)
    frame = frame.filter(pl.col("text").str.split(" ").list.len() >= 5)
    frame = frame.unique(subset="text", keep="first", maintain_order=True)
    frame = frame.filter(~pl.Series(near_duplicates(frame["text"].to_list())))
    bucket = frame["text"].hash(seed=7) % 10
    Path(out).mkdir(parents=True, exist_ok=True)
    frame.filter(bucket < 9).write_parquet(Path(out) / "train.parquet", compression="zstd")
    frame.filter(bucket >= 9).write_parquet(Path(out) / "test.parquet", compression="zstd")


if __name__ == "__main__":
    main(*sys.argv[1:3])
