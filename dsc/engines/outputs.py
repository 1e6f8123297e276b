"""Writing a run's outputs: kept rows, rejects, flags, conflict decisions and the manifest.

Every file is written to a temporary name and renamed into place, and the manifest — which
lists every output's hash — is removed first and written last: a killed run leaves either the
old outputs or no manifest, never a half-written file that looks finished.
"""
from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.parquet as pq

from dsc import __version__


def row_json(row: dict[str, Any]) -> str:
    """One row as canonical JSON (sorted keys, UTF-8 kept, non-JSON values as text)."""
    return json.dumps(row, sort_keys=True, ensure_ascii=False, default=str)


def _write_bytes(path: Path, data: bytes) -> str:
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


def write(out_dir: Path, plan, result) -> dict:
    """Write all outputs of a run and return the manifest."""
    out_dir.mkdir(parents=True, exist_ok=True)
    manifest_path = out_dir / "manifest.json"
    manifest_path.unlink(missing_ok=True)

    kept = result.kept
    data_cols = [c for c in kept.column_names if not c.startswith("_dsc_")] + ["_dsc_id"]
    kept_rows = kept.select(data_cols).to_pylist()
    rejects = result.rejects.to_pylist()
    for r in rejects:
        r["_dsc_row"] = _decoded(r["_dsc_row"])
    flags = [dict(f, rule=s.id, line=s.line) for s in result.stages for f in s.flags]
    decisions = [dict(d, rule=s.id, line=s.line) for s in result.stages for d in s.decisions]

    files = {
        "kept.jsonl": _jsonl(kept_rows),
        "kept.parquet": _parquet_bytes(kept.select(data_cols)),
        "rejects.jsonl": _jsonl(rejects),
        "flags.jsonl": _jsonl(flags),
        "conflicts.jsonl": _jsonl(decisions),
    }
    written = {name: {"sha256": _write_bytes(out_dir / name, data), "bytes": len(data)}
               for name, data in files.items()}
    written["kept.jsonl"]["rows"] = len(kept_rows)
    written["rejects.jsonl"]["rows"] = len(rejects)

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
    }
    _write_bytes(manifest_path, (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    return manifest
