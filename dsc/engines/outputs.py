"""Writing a run's outputs: kept rows, rejects, flags, conflict decisions, one export per split,
the stats, the report and the manifest.

Everything is rendered in memory first — a template error, a bad export path or any other
problem stops the run before a single file changes. Then every file is written to a temporary
name and renamed into place (an `hf_disk` folder is built beside its target and swapped in),
and the manifest — which lists every output's hash — is removed first and written last: a
killed run leaves either the old outputs or no manifest, never a half-written file that looks
finished.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dsc import __version__

# The run's own files at the top of the output directory; no export may take their names.
RUN_FILES = frozenset({"kept.jsonl", "kept.parquet", "rejects.jsonl", "flags.jsonl", "conflicts.jsonl",
                       "stats.json", "report.md", "report.html", "manifest.json", ".dsc-cache"})
# Without a split block every kept row is in this one split (the name `{split}` takes in paths).
WHOLE = "all"


def row_json(row: dict[str, Any]) -> str:
    """One row as canonical JSON (sorted keys, UTF-8 kept, non-JSON values as text)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def write_bytes(path: Path, data: bytes) -> str:
    """Write `data` atomically (temp file, fsync, rename) and return its sha256."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


def _decoded(row: str | None):
    """A rejected row as an object when its text is JSON; a malformed input line stays text."""
    if row is None or not row.startswith("{"):
        return row
    try:
        return json.loads(row)
    except ValueError:
        return row


def _jsonl(rows) -> bytes:
    return "".join(row_json(r) + "\n" for r in rows).encode("utf-8")


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    return sink.getvalue().to_pybytes()


def _split_tables(plan, kept: pa.Table) -> dict[str, pa.Table]:
    """The rows of each split (data columns and `_dsc_id`), in the plan's split order."""
    from dsc.engines.splits import SPLIT

    columns = [c for c in kept.column_names if not c.startswith("_dsc_")] + ["_dsc_id"]
    if plan.split is None or SPLIT not in kept.column_names:
        return {WHOLE: kept.select(columns)}
    split = kept.column(SPLIT)
    return {p.name: kept.filter(pc.equal(split, p.name)).select(columns) for p in plan.split.parts}


def _inside(out_dir: Path, relative: str, line: int) -> Path:
    """The export's target, refusing one that a symbolic link would carry out of the output directory."""
    from dsc.ops.runtime import RunError

    target = out_dir / relative
    if not target.resolve().is_relative_to(out_dir.resolve()):
        raise RunError(f"line {line}: export path '{relative}' leads out of the output directory through a "
                       "symbolic link", exit_code=2)
    return target


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _write_export(target: Path, files: dict[str, bytes]) -> dict[str, Any]:
    """Write one export (a file, or a folder of files swapped in whole) and return its hash entry."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if list(files) == [""]:
        if target.is_dir():
            _clear(target)
        return {"sha256": write_bytes(target, files[""]), "bytes": len(files[""])}
    staging = target.with_name(f".{target.name}.tmp-{os.getpid()}")
    _clear(staging)
    listing = []
    for name, data in sorted(files.items()):
        (staging / name).parent.mkdir(parents=True, exist_ok=True)
        listing.append(f"{write_bytes(staging / name, data)}  {name}\n")
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.is_dir() and not target.is_symlink():
        os.replace(target, old)  # moved aside, not deleted, until the new folder is in place
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.replace(staging, target)
    _clear(old)
    # A folder's hash is the hash of its sorted `sha256  name` listing (the format of sha256sum).
    return {"sha256": hashlib.sha256("".join(listing).encode()).hexdigest(),
            "bytes": sum(len(d) for d in files.values()), "files": len(files)}


def write(out_dir: Path, plan, result, base_dir: Path | None = None) -> dict:
    """Write all outputs of a run and return the manifest (paths in the plan resolve against `base_dir`)."""
    from dsc.engines.export import render_exports
    from dsc.engines.splits import SPLIT
    from dsc.report import render_report

    kept = result.kept
    data_cols = [c for c in kept.column_names if not c.startswith("_dsc_")] + ["_dsc_id"]
    data_cols += [SPLIT] if SPLIT in kept.column_names else []
    kept_rows = kept.select(data_cols).to_pylist()
    rejects = result.rejects.to_pylist()
    for r in rejects:
        r["_dsc_row"] = _decoded(r["_dsc_row"])
    flags = [dict(f, rule=s.id, line=s.line) for s in result.stages for f in s.flags]
    decisions = [dict(d, rule=s.id, line=s.line) for s in result.stages for d in s.decisions]
    splits = _split_tables(plan, kept)
    exports = render_exports(plan.exports, splits, Path(base_dir or "."), RUN_FILES)
    markdown, html = render_report(result.stats)

    files = {
        "kept.jsonl": _jsonl(kept_rows),
        "kept.parquet": _parquet_bytes(kept.select(data_cols)),
        "rejects.jsonl": _jsonl(rejects),
        "flags.jsonl": _jsonl(flags),
        "conflicts.jsonl": _jsonl(decisions),
        "stats.json": (json.dumps(result.stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode(),
        "report.md": markdown.encode("utf-8"),
        "report.html": html.encode("utf-8"),
    }
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [_inside(out_dir, e.path, e.line) for e in exports]

    manifest_path = out_dir / "manifest.json"
    manifest_path.unlink(missing_ok=True)
    written = {name: {"sha256": write_bytes(out_dir / name, data), "bytes": len(data)}
               for name, data in files.items()}
    written["kept.jsonl"]["rows"] = len(kept_rows)
    written["rejects.jsonl"]["rows"] = len(rejects)
    for export, target in zip(exports, targets):
        written[export.path] = dict(_write_export(target, export.files), rows=export.rows, split=export.split,
                                    format=export.format)

    read = sum(s.rows_in for s in result.stages if s.op == "source")
    manifest = {
        "dsc_version": __version__,
        "engine": "local",
        "plan_fingerprint": plan.fingerprint,
        "dataset": {"name": plan.dataset.name, "version": plan.dataset.version},
        "inputs": result.inputs,
        "outputs": written,
        "rules": [{"id": s.id, "op": s.op, "line": s.line, "rows_in": s.rows_in, "rows_out": s.rows_out,
                   "removed": s.removed, "flagged": len(s.flags)} for s in result.stages],
        "counts": {"input": read, "kept": len(kept_rows), "rejected": len(rejects)},
        "splits": [{"name": name, "rows": table.num_rows, "fraction": _fraction(plan, name),
                    "outputs": [e.path for e in exports if e.split == name]} for name, table in splits.items()],
        "gates": [{k: g[k] for k in ("id", "line", "severity", "passed", "measured", "op", "limit", "unit",
                                     "message")} for g in result.stats.get("gates", [])],
    }
    write_bytes(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return manifest


def _fraction(plan, name: str) -> str:
    """A split's declared fraction as canonical decimal text (as in the plan JSON)."""
    if plan.split is None:
        return "1"
    return next(format(p.fraction.normalize(), "f") for p in plan.split.parts if p.name == name)
