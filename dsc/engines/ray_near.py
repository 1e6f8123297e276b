"""`dedupe near` on a Ray cluster, with the local kernel's exact answer.

The local kernel (`dsc.kernels.near`) finds candidate pairs with MinHash LSH, keeps the pairs
whose exact Jaccard reaches the threshold and forms star clusters in keep order. Here the same
steps are spread over the cluster, each through the kernel's own functions:

1. **Band keys** (map): each batch is shingled and MinHashed with the kernel's permutations —
   the same seed, the same (bands, rows) — and every row with shingles emits one record per
   band: (band, bucket key, input position).
2. **Candidates** (shuffle): records are grouped by a hash of the bucket key; inside a group,
   rows sharing (band, key) are paired by the kernel's `_bucket_pairs`. The union over groups is
   exactly the local candidate set, because a bucket key lives in one group.
3. **Candidate components** (driver): the candidate pairs (two integers each) are gathered and
   their connected components labelled. Every verified pair is a candidate pair, so every
   connected component of verified pairs lies inside one candidate component.
4. **Verify and resolve** (shuffle): rows are grouped by candidate component; each group
   verifies its own candidate pairs with the kernel's exact-Jaccard `_verify` and goes through
   `DedupeOperator.apply`, whose keep order forms the clusters (the kernel's `cluster_rows`:
   stars, or with `cluster components` connected components) — the survivor choice,
   similarities and reject records of the local engine.

Rows are named by their input position (`_dsc_pos`) throughout, and groups are sorted by it, so
the keep order inside a group (rule key, then source order) is the local keep order restricted
to the group. Greedy stars (and components labelled by their first row in keep order) depend only
on the pairs and that relative order, and no verified pair leaves a group, so each group's clusters
are the local engine's.
"""
from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import numpy as np
import pyarrow as pa

from dsc.engines.ray_ops import Rule, check_columns, reject_side, task, with_side
from dsc.ops.runtime import RunContext
from dsc.reserved import BUCKET, POS

_CHUNK_ROWS = 32_768  # rows shingled at once, as in the kernel: bounds a worker's transient memory


def lsh_shape(params: dict) -> tuple[int, int]:
    """(bands, rows per band) exactly as `near_duplicates` chooses them for these parameters."""
    from dsc.kernels.near import lsh_params

    bands = params.get("bands")
    if bands is None:
        return lsh_params(min(float(params["threshold"]), 0.999), params["permutations"])
    return bands, params["permutations"] // bands


@task
def band_records(batch: pa.Table, rule: Rule, seed: int, parts: int) -> pa.Table:
    """One record per (row with shingles, band): band, bucket key, position, and shuffle bucket."""
    from dsc.kernels.near import _band_keys, _minhash, _permutations, shingle_hashes
    from dsc.ops.runtime import joined_text

    check_columns(batch, rule)
    params = rule.params
    bands, rows = lsh_shape(params)
    a, b = _permutations(bands * rows, seed)
    text = joined_text(batch, params["columns"])
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    positions = batch.column(POS).to_numpy()
    keys, pos, band = [], [], []
    # One thread: Ray gives this task one CPU, and the kernel's result does not depend on threads.
    with ThreadPoolExecutor(max_workers=1) as pool:
        for lo in range(0, batch.num_rows, _CHUNK_ROWS):
            part = text.slice(lo, _CHUNK_ROWS)
            sh, off = shingle_hashes(part, params["ngram"], params["unit"][:-1])
            has = np.flatnonzero(np.diff(off) > 0)  # rows without shingles never enter a bucket
            chunk = _band_keys(_minhash(sh, off, a, b, pool), bands, rows)[:, has]
            keys.append(chunk.ravel())
            pos.append(np.tile(positions[lo + has], bands))
            band.append(np.repeat(np.arange(bands, dtype=np.int32), has.size))
    keys_a = np.concatenate(keys) if keys else np.zeros(0, np.uint64)
    return pa.table({
        "band": np.concatenate(band) if band else np.zeros(0, np.int32),
        "key": keys_a,
        "pos": np.concatenate(pos) if pos else np.zeros(0, np.int64),
        BUCKET: (keys_a % np.uint64(parts)).astype(np.int64),
    })


@task
def bucket_pairs(group: pa.Table, n: int) -> pa.Table:
    """Candidate pairs of one shuffle group, as sorted unique codes `i * n + j` (i < j, positions)."""
    from dsc.kernels.near import _bucket_pairs, _sorted_unique

    band = group.column("band").to_numpy()
    key = group.column("key").to_numpy()
    pos = group.column("pos").to_numpy()
    codes = [_bucket_pairs(key[band == j], pos[band == j], n) for j in np.unique(band)]
    merged = _sorted_unique(np.concatenate(codes)) if codes else np.zeros(0, np.int64)
    return pa.table({"code": merged.astype(np.int64)})


def candidate_components(codes: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From all candidate codes: the positions in some candidate pair (sorted), each one's
    component label (its smallest position), and the pairs as an (e, 2) array sorted by row."""
    from dsc.kernels.near import _sorted_unique
    from dsc.kernels.unionfind import components

    codes = _sorted_unique(codes)
    pairs = np.stack((codes // n, codes % n), axis=1).astype(np.int64)
    members = _sorted_unique(pairs.ravel())
    local = np.searchsorted(members, pairs)  # components over members only: memory follows candidates
    label = members[components(members.size, local)]
    return members, label, pairs


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
def resolve_group(group: pa.Table, rule: Rule, ctx: RunContext, pairs: np.ndarray) -> pa.Table:
    """Verify one group's candidate pairs, cluster them and resolve clusters by the keep rule."""
    from dsc.kernels.near import _verify, cluster_rows
    from dsc.ops import OPERATORS
    from dsc.ops.runtime import joined_text

    params = rule.params
    table = group.drop_columns([BUCKET]).sort_by(POS)
    pos = table.column(POS).to_numpy()
    mine = pairs[np.isin(pairs[:, 0], pos)]  # both ends of a candidate pair share a component, so a group
    local = np.searchsorted(pos, mine)       # positions are sorted, so pairs stay sorted by their first row
    text = joined_text(table, params["columns"])
    text = text.combine_chunks() if isinstance(text, pa.ChunkedArray) else text
    passed, jac = _verify(text, local, float(params["threshold"]), params["ngram"], params["unit"][:-1])
    verified, jaccard = local[passed], jac[passed]

    def stars(cls, t, p, c, order):
        return cluster_rows(text, verified, jaccard, order, p.get("cluster", "star"), ngram=p["ngram"],
                            unit=p["unit"][:-1])

    op = OPERATORS[rule.op]
    # The operator's own keep order, survivor choice and reject records, over the pairs verified here.
    given = type(op.__name__, (op,), {"stars": classmethod(stars)})
    outcome = given.apply(table, params, ctx)
    return with_side(outcome.table, reject_side(outcome.removed, rule))
