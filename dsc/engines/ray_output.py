"""The Ray engine's outputs: the workers' shards, then the local engine's outputs, then the manifest.

The workers write the kept rows of every split as parquet shards, `shards/SPLIT/part-NNNNN.parquet`
— the form a later Ray job reads in parallel (`ray.data.read_parquet`). A shard holds the rows
of one split whose input positions fall in one block of `SHARD_ROWS`, in input order, so the
files and their bytes depend on the data alone, not on the cluster or its partitioning. Each
worker hashes what it wrote; the manifest lists every shard with its hash.

Everything else — kept rows, rejects, flags, decisions, exports, stats, report — is written by
`dsc.engines.outputs.write` from the rows gathered on the driver: the local engine's writer, so
the files are the local engine's, byte for byte. The order keeps outputs.write's promise: the
shards go to a staging folder first, the manifest is removed while the shards are swapped in,
and the manifest, with the engine, the cluster and each stage's placement, is written last.
"""
from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pyarrow as pa

from dsc.engines.ray import SHARD_ROWS, SHARDS


def write_outputs(run, result) -> dict:
    """Write every output of a finished Ray run; return its manifest."""
    from dsc.engines import outputs

    out_dir = run.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    staging = out_dir / f".{SHARDS}.tmp-{os.getpid()}"
    _clear(staging)
    try:
        run.note("writing shards (workers)")
        shards = _write_shards(run, staging)
        run.note(outputs.progress_note(run.plan))
        manifest = outputs.write(out_dir, run.plan, result, run.base_dir, engine="ray")
    except BaseException:
        _clear(staging)
        raise
    manifest_path = out_dir / "manifest.json"
    manifest_path.unlink(missing_ok=True)
    _swap(staging, out_dir / SHARDS)
    manifest = _with_engine(manifest, run, shards)
    outputs.write_bytes(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return manifest


def _write_shards(run, staging: Path) -> list[dict]:
    """Have the workers write one parquet file per (split, block of input positions)."""
    import ray

    from dsc.engines.outputs import WHOLE
    from dsc.engines.ray_ops import BUCKET, shard_rows, write_shard

    # Augmented rows exist on the driver only; hand the final rows back to the cluster then.
    ds = run.distribute(run.kept_with_pos) if run.plan.augment else run.ds
    keyed = ds.map_batches(shard_rows, fn_kwargs={"whole": WHOLE, "size": SHARD_ROWS}, batch_format="pyarrow",
                           batch_size=None)
    written = keyed.groupby(BUCKET, num_partitions=run.parts).map_groups(
        write_shard, fn_kwargs={"out_dir": str(staging.resolve())}, batch_format="pyarrow")
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


def _swap(staging: Path, target: Path) -> None:
    """Put the new shards folder in place of the old one (no stale shard survives a rerun)."""
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    _clear(old)
    if target.is_dir() and not target.is_symlink():
        os.replace(target, old)  # moved aside, not deleted, until the new folder is in place
    elif target.exists() or target.is_symlink():
        target.unlink()
    if staging.exists():
        os.replace(staging, target)
    _clear(old)


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()
