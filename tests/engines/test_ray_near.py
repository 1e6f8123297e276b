"""The Ray engine's near-duplicate tasks, called directly (no Ray needed): they use only the
kernel's public API, and what they send grows with the rows, never with the candidate pairs."""
import ast
from pathlib import Path

import numpy as np
import pyarrow as pa

from dsc.engines import ray_near
from dsc.engines.ray_ops import Rule
from dsc.kernels.near import near_duplicates
from dsc.ops.runtime import RunContext
from dsc.reserved import BUCKET, ID, POS, SRC


def test_a_huge_bucket_sends_one_link_per_row_not_its_pairs():
    n, bands = 3000, 18
    group = pa.table({"band": np.repeat(np.arange(bands, dtype=np.int32), n),
                      "key": np.full(bands * n, 42, dtype=np.uint64),  # every row in one bucket of every band
                      "pos": np.tile(np.arange(n, dtype=np.int64) * 7, bands)})
    out = ray_near.bucket_links(group)
    assert out.num_rows == n  # not n(n-1)/2 = 4.5M pairs
    assert set(out.column("root").to_pylist()) == {0}


def test_links_from_several_groups_give_the_candidate_components():
    a = pa.table({"pos": [3, 5, 9], "root": [3, 3, 3]})
    b = pa.table({"pos": [9, 20], "root": [9, 9]})
    c = pa.table({"pos": [40, 41], "root": [40, 40]})
    members, label = ray_near.candidate_components(ray_near.gathered([a, b, c]))
    assert members.tolist() == [3, 5, 9, 20, 40, 41]
    assert label.tolist() == [3, 3, 3, 3, 40, 40]
    empty, none = ray_near.candidate_components(ray_near.gathered([]))
    assert empty.size == none.size == 0


def _texts(n=300, seed=4):
    rng = np.random.default_rng(seed)
    pre = " ".join(f"t{i}" for i in range(30))
    tails = [" ".join(f"w{v}" for v in rng.integers(0, 300, 8)) for _ in range(n // 3)]
    return [f"{pre} {tails[i % len(tails)]}{' extra' * (i // len(tails))}" for i in range(n)]


def test_the_tasks_chained_on_slices_give_the_kernels_clusters():
    """band_records on two batches → bucket_links on hash groups → components → resolve_group per
    component group: the local kernel's star clusters, row for row."""
    texts = _texts()
    n = len(texts)
    table = pa.table({"q": texts, ID: [f"r{i}" for i in range(n)], SRC: [f"rows.jsonl:{i + 1}" for i in range(n)],
                      POS: np.arange(n, dtype=np.int64)})
    rule = Rule("dedupe_near[q]", "dedupe_near", 3, {"columns": ["q"], "threshold": "0.8", "ngram": 5,
                                                      "unit": "words", "permutations": 128, "keep": "first"})
    ctx = RunContext(base_dir=Path("."), seed=0)
    parts = 3
    records = pa.concat_tables([ray_near.band_records(table.slice(0, 170), rule, 0, parts),
                                ray_near.band_records(table.slice(170), rule, 0, parts)])
    links = [ray_near.bucket_links(records.filter(pa.compute.equal(records.column(BUCKET), b))) for b in range(parts)]
    members, label = ray_near.candidate_components(ray_near.gathered(links))
    labelled = ray_near.labelled_rows(table, members, label, parts)
    kept, removed = [], {}
    for b in range(parts):
        out = ray_near.resolve_group(labelled.filter(pa.compute.equal(labelled.column(BUCKET), b)), rule, ctx,
                                     members)
        live = out.filter(pa.compute.is_null(out.column("_dsc_side")))
        kept += live.column(POS).to_pylist()
        assert live.column(POS).to_pylist() == sorted(live.column(POS).to_pylist())
        removed.update({int(p): None for p in out.filter(pa.compute.is_valid(out.column("_dsc_side")))
                        .column(POS).to_pylist()})
    local = near_duplicates(texts, threshold=0.8)
    assert sorted(kept) == np.flatnonzero(local.cluster == np.arange(n)).tolist()
    assert sorted(removed) == np.flatnonzero(local.cluster != np.arange(n)).tolist()
    assert removed  # the case has duplicates


def test_ray_near_uses_the_kernels_public_api_only():
    tree = ast.parse(Path(ray_near.__file__).read_text(encoding="utf-8"))
    names = [a.name for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)
             and (node.module or "").startswith("dsc.kernels") for a in node.names]
    assert names and not [n for n in names if n.startswith("_")]
