"""`dedupe near` on a Ray cluster, with the local kernel's exact answer, in bounded memory.

The local kernel (`dsc.kernels.near`) finds candidate pairs with MinHash LSH, keeps the pairs
whose exact Jaccard reaches the threshold and forms star clusters in keep order. Here the same
steps are spread over the cluster through the kernel's public, staged API only:

1. **Band keys** (map): each batch goes through the kernel's `signatures` — the same seed, the
   same (bands, rows) from `lsh_shape` — and every row with shingles emits one record per band:
   (band, bucket key, input position).
2. **Candidate links** (shuffle): records are grouped by a hash of the bucket key, so a bucket
   lives in one group. Inside a group, every member of a shared bucket is linked to the bucket's
   first member (`bucket_links`: `k - 1` links for `k` members, never the `k(k-1)/2` pairs), and
   the group sends each linked position once, with the smallest position its links reach.
3. **Candidate components** (driver): those links are unioned into the connected components of
   the candidate graph (links connect exactly what a bucket's pairs connect). Only positions and
   labels travel: one pair of integers per position in some shared bucket and group, never one
   per candidate pair.
4. **Verify and resolve** (shuffle): rows are grouped by candidate component; in each group the
   rows of components go through `DedupeOperator.apply` — the operator the local engine runs,
   whose kernel recomputes their band keys (a row's keys do not depend on its neighbours),
   streams the candidate pairs band by band in bounded slices (a pair only in its first shared
   band), verifies them exactly and forms the clusters in keep order (stars, or with
   `cluster components` connected components) — the survivor choice, similarities and reject
   records of the local engine. Rows in no shared bucket are singletons: they pass unchanged.

So memory is the kernel's own bound in every task: one entry per (band, row) and one slice of
candidate pairs, however large a template-heavy bucket is.

Rows are named by their input position (`_dsc_pos`) throughout, and groups are sorted by it, so
the keep order inside a group (rule key, then source order) is the local keep order restricted
to the group. Every candidate pair lies inside one candidate component, and so inside one group,
and two rows of a group share a bucket only if they are a candidate pair of the whole input:
each group's verified pairs are the local verified pairs among its rows. Greedy stars (and
components labelled by their first row in keep order) depend only on those pairs and that
relative order, so each group's clusters are the local engine's.
"""
from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.engines.ray_ops import Rule, check_columns, reject_side, run_rule, task, with_side
from dsc.ops.runtime import RunContext
from dsc.reserved import BUCKET, POS


def lsh_shape(params: dict) -> tuple[int, int]:
    """(bands, rows per band) exactly as `near_duplicates` chooses them for a rule's parameters."""
    from dsc.kernels.near import lsh_shape as shape

    return shape(float(params["threshold"]), params["permutations"], params.get("bands"))


@task
def band_records(batch: pa.Table, rule: Rule, seed: int, parts: int) -> pa.Table:
    """One record per (row with shingles, band): band, bucket key, position, and shuffle bucket."""
    from dsc.kernels.near import signatures
    from dsc.ops.runtime import joined_text

    check_columns(batch, rule)
    params = rule.params
    bands, rows = lsh_shape(params)
    text = joined_text(batch, params["columns"])
    # One thread: Ray gives this task one CPU, and the keys do not depend on threads.
    keys, has = signatures(text, bands=bands, rows=rows, ngram=params["ngram"], unit=params["unit"][:-1],
                           seed=seed, threads=1)
    kept = np.flatnonzero(has)  # rows without shingles never enter a bucket
    key = keys[:, kept].ravel()
    return pa.table({
        "band": np.repeat(np.arange(bands, dtype=np.int32), kept.size),
        "key": key,
        "pos": np.tile(batch.column(POS).to_numpy()[kept], bands),
        BUCKET: (key % np.uint64(parts)).astype(np.int64),
    })


@task
def bucket_links(group: pa.Table) -> pa.Table:
    """The positions of one shuffle group that share a bucket, each with the smallest position it
    is linked to in the group (`pos`, `root`): at most one record per position, whatever the
    bucket sizes."""
    from dsc.kernels.near import bucket_links as links
    from dsc.kernels.unionfind import components

    band = group.column("band").to_numpy()
    key = group.column("key").to_numpy()
    pos = group.column("pos").to_numpy()
    edges = [links(key[band == j], pos[band == j]) for j in np.unique(band)]
    edges = np.concatenate(edges) if edges else np.zeros((0, 2), np.int64)
    linked = np.unique(edges)  # sorted positions in some shared bucket of this group
    label = linked[components(linked.size, np.searchsorted(linked, edges))]
    return pa.table({"pos": linked.astype(np.int64), "root": label.astype(np.int64)})


def candidate_components(links: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """From every group's (position, root) links: the positions in some candidate pair (sorted)
    and each one's candidate component label (its smallest position). Memory follows the links."""
    from dsc.kernels.unionfind import components

    links = np.asarray(links, dtype=np.int64).reshape(-1, 2)
    members = np.unique(links)
    local = np.searchsorted(members, links)
    return members, members[components(members.size, local)]


@task
def labelled_rows(batch: pa.Table, members: np.ndarray, label: np.ndarray, parts: int) -> pa.Table:
    """`batch` with its shuffle bucket: its candidate component's, or its own position's."""
    pos = batch.column(POS).to_numpy()
    group = pos.copy()
    if members.size:
        at = np.minimum(np.searchsorted(members, pos), members.size - 1)
        inside = members[at] == pos
        group[inside] = label[at[inside]]
    return batch.append_column(BUCKET, pa.array(group % parts, pa.int64()))


@task
def resolve_group(group: pa.Table, rule: Rule, ctx: RunContext, members: np.ndarray) -> pa.Table:
    """Resolve one group's candidate components with the operator itself (verification, clusters in
    keep order, survivors); the group's singletons (`members` lists every row that is not) stay."""
    table = group.drop_columns([BUCKET]).sort_by(POS)
    inside = np.isin(table.column(POS).to_numpy(), members)
    if not inside.any():
        return with_side(table, [])
    outcome = run_rule(table.filter(pa.array(inside)), rule, ctx)
    alone = table.filter(pa.array(~inside))
    kept = pa.concat_tables([outcome.table, alone]).sort_by(POS) if alone.num_rows else outcome.table
    return with_side(kept, reject_side(outcome.removed, rule))


def gathered(tables: list[pa.Table]) -> np.ndarray:
    """The (pos, root) links of every group as one (e, 2) array."""
    if not tables:
        return np.zeros((0, 2), np.int64)
    both = pa.concat_tables(tables)
    return np.stack((pc.cast(both.column("pos"), pa.int64()).to_numpy(),
                     pc.cast(both.column("root"), pa.int64()).to_numpy()), axis=1)
