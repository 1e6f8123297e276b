"""The Ray engine's outputs: the workers' shards, then the local engine's outputs and the manifest.

The workers write the kept rows of every split as parquet shards, `shards/SPLIT/part-NNNNN.parquet`
— the form a later Ray job reads in parallel (`ray.data.read_parquet`). A shard holds the rows
of one split whose input positions fall in one block of `SHARD_ROWS`, in input order, so the
files and their bytes depend on the data alone, not on the cluster or its partitioning. Each
worker hashes what it wrote; the manifest lists every shard with its hash.

The shards go to the run's staging folder (`dsc.engines.outputs.RunFolder`); everything else —
kept rows, rejects, flags, decisions, exports, stats, report — is written by
`dsc.engines.outputs.write` from the rows gathered on the driver: the local engine's writer, so
the files are the local engine's, byte for byte. It puts the shards folder in place with the rest
(no stale shard survives a rerun) and writes the manifest, with the engine, the cluster and each
stage's placement, last.
"""
from __future__ import annotations

import pyarrow as pa

from dsc.engines.layout import SHARDS, WHOLE
from dsc.reserved import BUCKET

SHARD_ROWS = 100_000  # input positions per shard: a shard's rows depend on the data alone


def write_outputs(run, result) -> dict:
    """Write every output of a finished Ray run into its claimed folder; return its manifest."""
    from dsc.engines import outputs

    run.note("writing shards (workers)")
    shards = _write_shards(run, str((run.folder.staging / SHARDS).resolve()))
    run.note(outputs.progress_note(run.plan))
    return outputs.write(run.folder, run.plan, result, run.base_dir, engine="ray", placed=(SHARDS,),
                         finish=lambda manifest: _with_engine(manifest, run, shards))


def _write_shards(run, staging: str) -> list[dict]:
    """Have the workers write one parquet file per (split, block of input positions) under `staging`."""
    import ray

    from dsc.engines.ray_ops import shard_rows, write_shard

    # Augmented rows exist on the driver only; hand the final rows back to the cluster then.
    ds = run.distribute(run.kept_with_pos) if run.plan.augment else run.ds
    keyed = ds.map_batches(shard_rows, fn_kwargs={"whole": WHOLE, "size": SHARD_ROWS}, batch_format="pyarrow",
                           batch_size=None)
    written = keyed.groupby(BUCKET, num_partitions=run.parts).map_groups(
        write_shard, fn_kwargs={"out_dir": staging}, batch_format="pyarrow")
    tables = ray.get(written.to_arrow_refs())
    rows = pa.concat_tables(tables).to_pylist() if tables else []
    return sorted(rows, key=lambda r: r["name"])


def _with_engine(manifest: dict, run, shards: list[dict]) -> dict:
    """The local manifest plus what only a Ray run has: the cluster, the placement, the shards."""
    manifest = dict(manifest, cluster=run.cluster.manifest(), placement=run.placement)
    outputs = dict(manifest["outputs"])
    by_split: dict[str, list[str]] = {}
    for shard in shards:
        path = f"{SHARDS}/{shard['name']}"
        outputs[path] = {"sha256": shard["sha256"], "bytes": shard["bytes"], "rows": shard["rows"],
                         "split": shard["split"], "format": "parquet"}
        by_split.setdefault(shard["split"], []).append(path)
    manifest["outputs"] = outputs
    manifest["splits"] = [dict(s, outputs=s["outputs"] + by_split.get(s["name"], [])) for s in manifest["splits"]]
    return manifest
