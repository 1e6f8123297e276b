"""Choosing which row of each duplicate cluster survives.

Dedupe kernels (exact, near, fuzzy) label every row with a cluster label
(for exact and fuzzy, the smallest row index of its cluster; for near, the
row its star was formed around).  :func:`survivors` turns those labels into
a decision per row, following a ``keep`` rule; :func:`keep_order` lists the
rows in the order the rule prefers them (``dedupe near`` forms its clusters
in that order, so that each one's first row is its survivor).

**Source order.**  Rows arrive in the order they were read: the sources in
the spec's order, each source's files in sorted order, each file's rows from
its first line (or record) to its last.  Every stage keeps that order, and
the Ray engine sorts each group it resolves by the rows' input position, so
a row's index in the table handed to a dedupe *is* its place in source order
(``position`` says otherwise where it is not, e.g. in tests).  ``first`` and
``last`` mean first and last in source order, as pandas'
``drop_duplicates(keep="first")`` does, and every other rule breaks its ties
by source order (the earlier row wins).  The choice never depends on how
rows were partitioned or which worker saw them.

**Content order.**  ``hash`` keeps the row with the smallest row id
(``_dsc_id``: the content hash of the row's data, or its source key), the
rule dsc used for ``first`` before source order: it does not depend on the
order of the inputs at all, so shuffled or re-sharded copies of the same
rows keep the same survivors.  Use it where file order means nothing.

Only rows of clusters with two or more members are looked at.  All rules
are one ``numpy.lexsort`` of those rows over (cluster, rule key, source
position), after which the first row of each cluster in sorted order is its
survivor.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.vocabulary import KEEP_RULES

__all__ = ["KEEP_RULES", "keep_order", "survivors"]


def keep_order(
    keep: str,
    n: int,
    *,
    lengths: np.ndarray | None = None,
    by: pa.Array | pa.ChunkedArray | None = None,
    descending: bool = True,
    position: np.ndarray | None = None,
    row_ids: pa.Array | pa.ChunkedArray | None = None,
) -> np.ndarray:
    """The indices of ``n`` rows in the order ``keep`` prefers them, most preferred first.

    The rule's key, then source order: ``first`` (and ``none``: no row is
    preferred, rows go in source order) by position, ``last`` by position
    descending, ``longest`` / ``shortest`` by length then position, ``by`` by
    the value (nulls and NaN last) then position, ``hash`` by ``row_ids``
    (compared as Arrow sorts them: strings by UTF-8 bytes) then position.  The
    first row of any cluster in this order is the row :func:`survivors` keeps
    for it.

    >>> keep_order("longest", 4, lengths=np.array([3, 5, 5, 1])).tolist()
    [1, 2, 0, 3]
    >>> keep_order("last", 3).tolist()
    [2, 1, 0]
    >>> keep_order("hash", 3, row_ids=pa.array(["c9", "a1", "b7"])).tolist()
    [1, 2, 0]
    """
    lengths, by, pos = _checked(keep, n, lengths, by, position, row_ids)
    return np.lexsort(_rule_keys(keep, np.arange(n), pos, lengths, by, descending)).astype(np.int64)


def survivors(
    cluster: np.ndarray,
    keep: str,
    *,
    lengths: np.ndarray | None = None,
    by: pa.Array | pa.ChunkedArray | None = None,
    descending: bool = True,
    position: np.ndarray | None = None,
    row_ids: pa.Array | pa.ChunkedArray | None = None,
) -> np.ndarray:
    """Index of the row kept for each row's cluster (``-1``: the cluster is dropped).

    ``survivor[i] == i`` for a kept row.  Rules:

    * ``first`` / ``last``: the first / last row in source order.
    * ``longest`` / ``shortest``: largest / smallest ``lengths[i]``.
    * ``by``: largest (``descending=True``) or smallest value of ``by``.
      Nulls never win, and NaN never beats a number; a cluster whose values
      are all null keeps its first row.
    * ``none``: every member of a cluster of two or more rows gets ``-1``.
    * ``hash``: the smallest ``row_ids`` value (the content hash): the same
      survivor however the input rows are ordered.

    Ties always go to the row first in source order.  Singletons always
    survive.  ``position`` is each row's place in source order (distinct
    integers; default: the row index, which is what the engines hand over).
    Cluster labels may be any integers; only equality matters.

    >>> cl = np.array([0, 0, 2, 0, 2])
    >>> survivors(cl, "first").tolist(), survivors(cl, "last").tolist()
    ([0, 0, 2, 0, 2], [3, 3, 4, 3, 4])
    >>> survivors(cl, "longest", lengths=np.array([5, 1, 7, 5, 2])).tolist()
    [0, 0, 2, 0, 2]
    >>> survivors(cl, "first", position=np.array([30, 10, 99, 20, 0])).tolist()
    [1, 1, 4, 1, 4]
    >>> survivors(cl, "none").tolist()
    [-1, -1, -1, -1, -1]
    >>> survivors(cl, "hash", row_ids=["r3", "r1", "r9", "r2", "r0"]).tolist()
    [1, 1, 4, 1, 4]
    """
    cluster = np.asarray(cluster, dtype=np.int64)
    n = cluster.shape[0]
    lengths, by, pos = _checked(keep, n, lengths, by, position, row_ids)

    if keep == "first" and position is None and _first_row_labels(cluster):
        return cluster.copy()  # each row's label is its cluster's first row: nothing to rank
    out = np.arange(n, dtype=np.int64)
    # Singletons keep themselves; only members of real clusters are ranked.
    members = np.flatnonzero(_cluster_sizes(cluster) >= 2)
    if members.size == 0:
        return out
    if keep == "none":
        out[members] = -1
        return out
    cl = cluster[members]
    # lexsort sorts by the last key first: cluster, then the rule, then source order.
    order = np.lexsort((*_rule_keys(keep, members, pos, lengths, by, descending), cl))
    sorted_cl = cl[order]
    starts = np.flatnonzero(np.r_[True, sorted_cl[1:] != sorted_cl[:-1]])
    sizes = np.diff(np.append(starts, members.size))
    out[members[order]] = np.repeat(members[order[starts]], sizes)
    return out


def _first_row_labels(cluster: np.ndarray) -> bool:
    """Whether every row's label is the smallest row of its cluster (what exact and fuzzy
    dedupe hand over): a label at or before its row that labels itself.  Three passes over the
    labels, where ranking the members is a sort.

    >>> _first_row_labels(np.array([0, 1, 0, 1])), _first_row_labels(np.array([2, 1, 2]))
    (True, False)
    """
    return bool((cluster >= 0).all() and (cluster <= np.arange(cluster.shape[0])).all()
                and (cluster[cluster] == cluster).all())


def _checked(keep, n, lengths, by, position, row_ids=None):
    """The rule's inputs as arrays of ``n`` entries: (lengths, by, position); for ``hash`` the
    row ids travel as ``by`` (smallest first), which is what the rule sorts by."""
    if keep not in KEEP_RULES:
        raise ValueError(f"unknown keep rule {keep!r}; expected one of {KEEP_RULES}")
    if keep in ("longest", "shortest"):
        if lengths is None:
            raise ValueError(f"keep={keep!r} needs lengths")
        lengths = np.asarray(lengths, dtype=np.int64)
        _check_len("lengths", lengths.shape[0], n)
    if keep == "by":
        if by is None:
            raise ValueError("keep='by' needs a by column")
        by = _as_array(by, n, "by")
    if keep == "hash":
        if row_ids is None:
            raise ValueError("keep='hash' needs the row ids")
        by = _as_array(row_ids, n, "row_ids")
        if by.null_count:
            raise ValueError("keep='hash' needs a row id on every row")
    if position is None:
        return lengths, by, np.arange(n, dtype=np.int64)
    position = np.asarray(position, dtype=np.int64)
    _check_len("position", position.shape[0], n)
    if np.unique(position).size != n:
        raise ValueError("positions must be distinct: they are the rows' places in source order")
    return lengths, by, position


def _rule_keys(keep, rows, pos, lengths, by, descending) -> tuple:
    """``numpy.lexsort`` keys (last = primary) ordering ``rows`` as ``keep`` prefers them."""
    at = pos[rows]
    if keep in ("first", "none"):
        return (at,)
    if keep == "last":
        return (-at,)
    if keep in ("longest", "shortest"):
        size = lengths[rows]
        return (at, -size if keep == "longest" else size)
    if keep == "hash":
        return (at, _value_rank(by.take(pa.array(rows)), False))  # smallest id first
    return (at, _value_rank(by.take(pa.array(rows)), descending))  # by


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


def _value_rank(values: pa.Array, descending: bool) -> np.ndarray:
    """Dense rank where smaller is better; nulls (and NaNs) rank after every value."""
    order = "descending" if descending else "ascending"
    # Arrow places NaN after all numbers in both directions and nulls last.
    rank = pc.rank(values, sort_keys=[("", order, "at_end")], tiebreaker="dense")
    return rank.to_numpy().astype(np.int64)
