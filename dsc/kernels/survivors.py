"""Choosing which row of each duplicate cluster survives.

Dedupe kernels (exact, near, fuzzy) label every row with a cluster label
(the smallest row index of its cluster).  :func:`survivors` turns those
labels into a decision per row, following a ``keep`` rule.

The decision never depends on the order rows were processed in: every rule
is resolved by values of the rows themselves and, last, by the stable row id
(smallest id wins a tie).  Shuffling the input and mapping back gives the
same surviving row ids.

Only rows of clusters with two or more members are looked at.  All rules
are one ``numpy.lexsort`` of those rows over (cluster, rule key, row-id
rank), after which the first row of each cluster in sorted order is its
survivor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.vocabulary import KEEP_RULES

__all__ = ["KEEP_RULES", "survivors"]



def survivors(
    cluster: np.ndarray,
    keep: str,
    *,
    row_ids: Sequence[str] | pa.Array | pa.ChunkedArray,
    lengths: np.ndarray | None = None,
    by: pa.Array | pa.ChunkedArray | None = None,
    descending: bool = True,
) -> np.ndarray:
    """Index of the row kept for each row's cluster (``-1``: the cluster is dropped).

    ``survivor[i] == i`` for a kept row.  Rules:

    * ``first`` / ``last``: smallest / largest row id (not row index: the
      result must not depend on processing order).
    * ``longest`` / ``shortest``: largest / smallest ``lengths[i]``.
    * ``by``: largest (``descending=True``) or smallest value of ``by``.
      Nulls never win, and NaN never beats a number; a cluster whose values
      are all null keeps its smallest row id.
    * ``none``: every member of a cluster of two or more rows gets ``-1``.

    Ties always go to the smallest row id.  Singletons always survive.  Row
    ids must be non-null and unique within clusters of two or more rows
    (they are what makes the choice reproducible); they are compared as
    Arrow sorts them (strings: by UTF-8 bytes, i.e. code point order).
    Cluster labels may be any integers; only equality matters.

    >>> cl = np.array([0, 0, 2, 0, 2])
    >>> ids = ["r3", "r1", "r9", "r2", "r0"]
    >>> survivors(cl, "first", row_ids=ids).tolist()
    [1, 1, 4, 1, 4]
    >>> survivors(cl, "longest", row_ids=ids, lengths=np.array([5, 1, 7, 5, 2])).tolist()
    [3, 3, 2, 3, 2]
    >>> survivors(cl, "none", row_ids=ids).tolist()
    [-1, -1, -1, -1, -1]
    """
    if keep not in KEEP_RULES:
        raise ValueError(f"unknown keep rule {keep!r}; expected one of {KEEP_RULES}")
    cluster = np.asarray(cluster, dtype=np.int64)
    n = cluster.shape[0]
    ids = _as_array(row_ids, n, "row_ids")
    if keep in ("longest", "shortest"):
        if lengths is None:
            raise ValueError(f"keep={keep!r} needs lengths")
        lengths = np.asarray(lengths, dtype=np.int64)
        _check_len("lengths", lengths.shape[0], n)
    if keep == "by":
        if by is None:
            raise ValueError("keep='by' needs a by column")
        by = _as_array(by, n, "by")

    out = np.arange(n, dtype=np.int64)
    # Singletons keep themselves; only members of real clusters are ranked.
    members = np.flatnonzero(_cluster_sizes(cluster) >= 2)
    if members.size == 0:
        return out
    if keep == "none":
        out[members] = -1
        return out
    take = pa.array(members)
    cl = cluster[members]
    id_rank = _row_id_rank(ids.take(take))

    # lexsort sorts by the last key first: cluster, then the rule, then row id.
    if keep == "first":
        keys = (id_rank, cl)
    elif keep == "last":
        keys = (-id_rank, cl)
    elif keep in ("longest", "shortest"):
        size = lengths[members]
        keys = (id_rank, -size if keep == "longest" else size, cl)
    else:  # by
        keys = (id_rank, _value_rank(by.take(take), descending), cl)

    order = np.lexsort(keys)
    sorted_cl = cl[order]
    starts = np.flatnonzero(np.r_[True, sorted_cl[1:] != sorted_cl[:-1]])
    sizes = np.diff(np.append(starts, members.size))
    out[members[order]] = np.repeat(members[order[starts]], sizes)
    return out


def _cluster_sizes(cluster: np.ndarray) -> np.ndarray:
    """Size of each row's cluster."""
    n = cluster.shape[0]
    if n and 0 <= cluster.min() and cluster.max() < n:  # labels are row indices: count directly
        return np.bincount(cluster, minlength=n)[cluster]
    _, inverse, counts = np.unique(cluster, return_inverse=True, return_counts=True)
    return counts[inverse]


def _check_len(name: str, got: int, n: int) -> None:
    if got != n:
        raise ValueError(f"{name} has {got} entries for {n} rows")


def _as_array(values, n: int, name: str) -> pa.Array:
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    elif not isinstance(values, pa.Array):
        values = pa.array(values)
    _check_len(name, len(values), n)
    return values


def _row_id_rank(ids: pa.Array) -> np.ndarray:
    """0-based rank of each row id; raises if ids repeat or are missing."""
    if ids.null_count:
        raise ValueError("row_ids must not contain nulls")
    rank = pc.rank(ids, sort_keys="ascending", tiebreaker="dense").to_numpy().astype(np.int64) - 1
    if rank.max() != len(ids) - 1:
        raise ValueError("row_ids must be unique: survivors are chosen by row id")
    return rank


def _value_rank(values: pa.Array, descending: bool) -> np.ndarray:
    """Dense rank where smaller is better; nulls (and NaNs) rank after every value."""
    order = "descending" if descending else "ascending"
    # Arrow places NaN after all numbers in both directions and nulls last.
    rank = pc.rank(values, sort_keys=[("", order, "at_end")], tiebreaker="dense")
    return rank.to_numpy().astype(np.int64)
