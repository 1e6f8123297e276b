"""Leakage between two splits: near-duplicate pairs whose rows sit on opposite sides.

`leakage train, validation jaccard >= 0.8` asks that no row of one split be a near duplicate of
a row of the other. The rows of both splits are compared together with the near-duplicate
kernel's public `similar_pairs` (MinHash + LSH candidates streamed band by band, every
candidate verified by exact Jaccard of its shingle sets), and only verified pairs that cross the two splits count; pairs inside one split are
the dedupe rules' business. The text compared is a row's text columns joined by newlines:
what a model sees, so a question copied into both splits is caught whichever column holds it.
Shingles are word 5-grams (a shorter text is one shingle), the defaults of `dedupe near`.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.kernels.near import similar_pairs
from dsc.ops.dedupe_near import DedupeNear
from dsc.ops.runtime import joined_text
from dsc.reserved import ID, SPLIT

NGRAM = DedupeNear.Params.model_fields["ngram"].default  # the `dedupe near` defaults
PERMUTATIONS = DedupeNear.Params.model_fields["permutations"].default


@dataclass(frozen=True)
class Leakage:
    """The crossing pairs found: their count, the first few as (left id, right id), rows compared."""

    pairs: int
    examples: list[tuple[str, str]]
    compared: int


def cross_split_pairs(table: pa.Table, left: str, right: str, columns: list[str], threshold: float,
                      seed: int = 0, examples: int = 5) -> Leakage:
    """Near-duplicate pairs (Jaccard >= `threshold`) with one row in split `left`, one in `right`.

    >>> t = pa.table({"q": ["what is the capital of france", "what is the capital of france ?",
    ...                     "name a prime number", "how tall is everest"],
    ...               "_dsc_id": ["a", "b", "c", "d"], "_dsc_split": ["train", "test", "train", "test"]})
    >>> cross_split_pairs(t, "train", "test", ["q"], 0.5)
    Leakage(pairs=1, examples=[('a', 'b')], compared=4)
    """
    split = table.column(SPLIT)
    both = table.filter(pc.is_in(split, value_set=pa.array([left, right])))
    if both.num_rows < 2 or not columns:
        return Leakage(0, [], both.num_rows)
    # Pairs only: which rows survive a dedupe is not the gate's question, so nothing is clustered.
    found = similar_pairs(joined_text(both, columns), threshold=threshold, ngram=NGRAM, unit="word",
                          num_perm=PERMUTATIONS, seed=seed)
    sides = np.asarray(both.column(SPLIT).to_numpy(zero_copy_only=False) == left)
    pairs = found.pairs
    crossing = pairs[sides[pairs[:, 0]] != sides[pairs[:, 1]]] if pairs.size else pairs.reshape(0, 2)
    ids = np.asarray(both.column(ID).to_numpy(zero_copy_only=False), dtype=object)
    # The kernel's pairs are sorted by row position, so the first few are a deterministic sample;
    # each reads (row in `left`, row in `right`).
    named = [(ids[i], ids[j]) if sides[i] else (ids[j], ids[i]) for i, j in crossing[: max(examples, 0)]]
    return Leakage(int(crossing.shape[0]), [(str(a), str(b)) for a, b in named], both.num_rows)
