"""Duplicate and conflict figures, from the engine's own kernels (no per-row Python).

With N rows:

``exact_duplicate_rows``           N − distinct whole rows (every data column; null equals null)
``key_duplicate_rows``             N − distinct keys
``normalized_key_duplicate_rows``  the same after case folding and whitespace collapsing (and
                                   trimming) of each text key column -- what ``dedupe exact on
                                   KEY ignoring case, whitespace`` would remove
``conflict_groups``                keys with two or more distinct targets (a null target is a
                                   value); a key with a null part belongs to no group, as in the
                                   ``conflicts`` rule
``conflict_rows``                  rows whose key is in such a group
near duplicates                    N − clusters of rows linked by MinHash/LSH pairs whose exact
                                   Jaccard passes the threshold -- what ``dedupe near … keep
                                   first`` would remove
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.kernels.exact import duplicate_groups
from dsc.kernels.near import near_duplicates
from dsc.kernels.text import normalize
from dsc.ops.dedupe_near import DedupeNear
from dsc.profile.columns import is_text

#: `ignoring case, whitespace`, as the dedupe rule spells it in normalisation steps.
KEY_STEPS = ("collapse_whitespace", "strip", "casefold")

#: The near-duplicate estimate uses the `dedupe near` defaults (the operator's Params).
NEAR = {key: (float(f.default) if key == "threshold" else f.default)
        for key, f in DedupeNear.Params.model_fields.items() if key in ("threshold", "ngram", "unit", "permutations")}


def repeats(columns: list) -> int:
    """Rows equal, in every given column, to an earlier row: N − distinct.

    >>> repeats([pa.array(["a", "b", "a", None, None])])
    2
    """
    if not columns or len(columns[0]) == 0:
        return 0
    cluster = duplicate_groups(columns)
    return int(len(cluster) - np.count_nonzero(cluster == np.arange(len(cluster))))


def normalized(col):
    """A key column with case folded and whitespace collapsed and trimmed (text columns only).

    >>> normalized(pa.array(["  Hello\\n World ", "x"])).to_pylist()
    ['hello world', 'x']
    """
    return normalize(col, list(KEY_STEPS)) if is_text(col.type) else col


def conflicts(table: pa.Table, key: list[str], target: str) -> tuple[int, int]:
    """(conflict groups, conflict rows): keys whose rows disagree on ``target``.

    >>> t = pa.table({"k": ["a", "a", "b", "b", None, None], "v": [1, 2, 3, 3, 4, 5]})
    >>> conflicts(t, ["k"], "v")
    (1, 2)
    """
    n = table.num_rows
    if n == 0:
        return 0, 0
    group = duplicate_groups([table.column(c) for c in key])
    value = duplicate_groups([table.column(target)])
    keyed = np.ones(n, dtype=bool)
    for c in key:
        keyed &= ~_bools(pc.is_null(table.column(c)))
    # Distinct (group, value) pairs, counted per group: both are row indices < n, so the
    # combined code fits in int64 for any table that fits in memory.
    pairs = np.unique(group[keyed] * np.int64(n) + value[keyed])
    distinct = np.bincount(pairs // n, minlength=n)
    in_conflict = keyed & (distinct[group] > 1)
    return int(np.count_nonzero(distinct > 1)), int(np.count_nonzero(in_conflict))


def near_estimate(text: pa.Array | pa.ChunkedArray, seed: int = 0) -> dict:
    """The MinHash near-duplicate estimate over one text per row.

    ``rows``: rows a ``dedupe near … keep first`` with the default settings would remove;
    ``exact_rows``: how many of those are byte-identical copies; ``clusters``: groups of two or
    more rows; ``pairs``: verified pairs (candidate pairs are what LSH proposed). LSH may miss a
    pair (rarely, near the threshold), never invent one: every pair is checked exactly.

    >>> r = near_estimate(pa.array(["the cat sat on the mat today", "the cat sat on the mat today",
    ...                             "a dog", None, "", ""]))
    >>> r["rows"], r["exact_rows"], r["clusters"]
    (1, 1, 1)
    """
    result = near_duplicates(text, threshold=NEAR["threshold"], ngram=NEAR["ngram"], unit="word",
                             num_perm=NEAR["permutations"], seed=seed)
    cluster = result.cluster
    heads = cluster == np.arange(len(cluster))
    sizes = np.bincount(cluster, minlength=len(cluster))
    return {
        **NEAR,
        "rows": int(len(cluster) - np.count_nonzero(heads)),
        "exact_rows": repeats([_with_words(text)]),
        "clusters": int(np.count_nonzero(sizes > 1)),
        "pairs": int(result.verified_pairs),
        "candidate_pairs": int(result.candidate_pairs),
    }


def _with_words(text):
    """The texts holding a word: the rest (null, empty, blank) can never be near duplicates."""
    return pc.filter(text, pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(text), ""), False))


def _bools(arr) -> np.ndarray:
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return arr.to_numpy(zero_copy_only=False).astype(bool)
