"""Connected components of an undirected graph given as an edge list.

Vectorised hook-and-compress (a numpy rendering of the Shiloach-Vishkin
idea): every round hooks the larger of the two root labels of each edge
onto the smaller one, then compresses paths by pointer jumping until every
node points straight at its root.  Labels only ever decrease and a node's
label never exceeds its own index, so the final root of each component is
its smallest member.  Rounds are needed roughly logarithmically in the
component diameter on the graphs dedupe produces (stars and cliques), and
each round is a handful of O(n + e) numpy passes, so there is no per-edge
Python work.
"""

from __future__ import annotations

import numpy as np


def components(n: int, pairs: np.ndarray) -> np.ndarray:
    """Label each of ``n`` nodes with the smallest node index in its component.

    ``pairs`` is an ``(e, 2)`` integer array of undirected edges between nodes
    ``0 .. n-1`` (order within a pair and duplicate edges do not matter).
    Isolated nodes are labelled with their own index.  Returns int64 ``(n,)``.

    >>> components(6, np.array([[4, 1], [1, 3], [5, 5]])).tolist()
    [0, 1, 2, 1, 1, 5]
    """
    parent = np.arange(n, dtype=np.int64)
    edges = np.asarray(pairs, dtype=np.int64).reshape(-1, 2)
    if edges.size == 0:
        return parent
    if edges.min() < 0 or edges.max() >= n:
        raise ValueError("pair indices must lie in [0, n)")
    u, v = edges[:, 0], edges[:, 1]
    while True:
        ru, rv = parent[u], parent[v]
        differ = ru != rv
        if not differ.any():
            return parent
        ru, rv = ru[differ], rv[differ]
        # Hook: each root keeps the smallest label offered by any of its edges.
        # ``minimum.at`` makes concurrent hooks onto one root order-independent.
        np.minimum.at(parent, np.maximum(ru, rv), np.minimum(ru, rv))
        # Compress: jump pointers until parent[parent] == parent (all point at roots).
        while True:
            grand = parent[parent]
            if np.array_equal(grand, parent):
                break
            parent = grand
        # Only edges whose endpoints still disagree matter next round.
        keep = parent[u] != parent[v]
        u, v = u[keep], v[keep]
