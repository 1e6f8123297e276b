"""Writing a run's outputs: kept rows, rejects, flags, conflict decisions, annotation label
resolutions, one export per split, the stats, the report and the manifest.

Exports and the report are rendered first — a template error or a bad export path stops the run
before anything is written. Then every output is streamed, the kept rows and rejects batch by
batch, into a staging folder inside the output directory (`.dsc-staging`), each file hashed as
it is written and synced; a failure there (a full disk, a row that cannot be written) deletes the
staging folder and leaves the output directory as it was. Only then are the files renamed into
place (an `hf_disk` folder is swapped in whole), with the manifest — which lists every output's
hash — removed first and written last: a killed run leaves either the old outputs or no
manifest, never a half-written file that looks finished.
"""
from __future__ import annotations

import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import Any, Iterable

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from dsc import __version__

# Where outputs are written before they are renamed into place; inside the output directory, so
# that the renames stay on one file system.
STAGING = ".dsc-staging"
# The run's own files at the top of the output directory; no export may take their names.
RUN_FILES = frozenset({"kept.jsonl", "kept.parquet", "rejects.jsonl", "augment_rejects.jsonl", "flags.jsonl", "conflicts.jsonl",
                       "labels.jsonl", "stats.json", "report.md", "report.html", "manifest.json", ".dsc-cache", STAGING})
# Without a split block every kept row is in this one split (the name `{split}` takes in paths).
WHOLE = "all"
# Rows turned into Python objects at a time while writing jsonl: bounds the memory it takes.
BATCH_ROWS = 8192

# One encoder for every row: json.dumps with these options builds a new one per call, same output.
_ROW_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def row_json(row: dict[str, Any]) -> str:
    """One row as canonical JSON (sorted keys, UTF-8 kept, non-JSON values as text)."""
    return _ROW_ENCODER.encode(row)


def write_bytes(path: Path, data: bytes) -> str:
    """Write `data` atomically (temp file, fsync, rename) and return its sha256."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    return hashlib.sha256(data).hexdigest()


class _HashingFile:
    """A new file that hashes and counts what is written to it; synced to disk on close.

    Also a file object for pyarrow's parquet writer, which only writes and flushes."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(path, "wb")
        self.digest = hashlib.sha256()
        self.size = 0

    @property
    def closed(self) -> bool:
        return self._fh.closed

    def write(self, data) -> int:
        self._fh.write(data)
        self.digest.update(data)
        self.size += len(data)
        return len(data)

    def flush(self) -> None:
        self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def entry(self) -> dict[str, Any]:
        """The file's manifest entry: its sha256 and size."""
        return {"sha256": self.digest.hexdigest(), "bytes": self.size}


class _Staging:
    """Files written under the staging folder, hashed, and renamed into place only on commit."""

    def __init__(self, out_dir: Path):
        self.root = out_dir / STAGING
        _clear(self.root)  # what a killed run left behind
        self.root.mkdir(parents=True)

    def write(self, relative: str, fill) -> dict[str, Any]:
        """Create `relative` in the staging folder, let `fill(file)` write it, return its entry."""
        sink = _HashingFile(self.root / relative)
        try:
            fill(sink)
        finally:
            sink.close()
        return sink.entry()

    def path(self, relative: str) -> Path:
        return self.root / relative

    def discard(self) -> None:
        _clear(self.root)


def _decoded(row: str | None):
    """A rejected row as an object when its text is JSON; a malformed input line stays text.

    So does text whose JSON holds a lone surrogate escape (`"\\ud800"`): decoded, it could not
    be written as UTF-8."""
    if row is None or not row.startswith("{"):
        return row
    try:
        value = json.loads(row)
    except ValueError:
        return row
    if "\\u" in row:
        try:
            row_json(value).encode("utf-8")
        except UnicodeEncodeError:
            return row
    return value


def _write_jsonl(sink, rows: Iterable[dict]) -> None:
    sink.write("".join(row_json(r) + "\n" for r in rows).encode("utf-8"))


def _write_table_jsonl(sink, table: pa.Table, decode_row: bool = False) -> None:
    """Each row of `table` as `row_json` writes it, one per line, a batch at a time.

    Built column by column rather than row by row: each value is written as JSON on its own (by
    orjson where it writes exactly what `row_json` would: strings, integers, booleans, nulls),
    then Arrow joins them into lines behind their keys. `decode_row` turns the rejects'
    `_dsc_row` text back into the object it was."""
    names = sorted(table.column_names)  # as sort_keys orders them
    keys = [json.dumps(n, ensure_ascii=False).encode("utf-8") + b": " for n in names]
    if keys:
        keys[0] = b"{" + keys[0]
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        if not names:
            sink.write(b"{}\n" * batch.num_rows)
            continue
        values = [_json_values(batch.column(name), decode_row and name == "_dsc_row") for name in names]
        fields = [pc.binary_join_element_wise(key, value, b"") for key, value in zip(keys, values)]
        lines = pc.binary_join_element_wise(pc.binary_join_element_wise(*fields, b", "), b"}\n", b"")
        sink.write(_joined_bytes(lines))


def _json_values(column: pa.Array, decode: bool) -> pa.Array:
    """Each value of `column` as JSON, exactly as it appears inside a `row_json` line."""
    values = column.to_pylist()
    if decode:
        values = map(_decoded, values)
    elif _orjson_exact(column.type):
        return pa.array(list(map(orjson.dumps, values)), pa.binary())
    return pa.array([_ROW_ENCODER.encode(v).encode("utf-8") for v in values], pa.binary())


def _orjson_exact(type_: pa.DataType) -> bool:
    """Types whose values orjson writes byte for byte as the json module does (floats differ)."""
    return (pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_integer(type_)
            or pa.types.is_boolean(type_) or pa.types.is_null(type_))


def _joined_bytes(lines: pa.Array) -> memoryview:
    """The text of a binary array's values, one after another, without a copy."""
    offsets = np.frombuffer(lines.buffers()[1], dtype=np.int32)[lines.offset:lines.offset + len(lines) + 1]
    return memoryview(lines.buffers()[2])[offsets[0]:offsets[-1]]


def _split_rows(plan, kept: pa.Table) -> dict[str, int]:
    """How many kept rows each split has, in the plan's split order."""
    from dsc.engines.splits import SPLIT

    if plan.split is None or SPLIT not in kept.column_names:
        return {WHOLE: kept.num_rows}
    counts = {c["values"]: c["counts"] for c in pc.value_counts(kept.column(SPLIT)).to_pylist()}
    return {p.name: counts.get(p.name, 0) for p in plan.split.parts}


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


def _stage_export(staging: _Staging, export) -> dict[str, Any]:
    """Write one rendered export (a file, or a folder of files) to the staging folder; its hash entry."""
    if list(export.files) == [""]:
        return staging.write(export.path, lambda sink: sink.write(export.files[""]))
    listing = []
    for name, data in sorted(export.files.items()):
        entry = staging.write(f"{export.path}/{name}", lambda sink, d=data: sink.write(d))
        listing.append(f"{entry['sha256']}  {name}\n")
    # A folder's hash is the hash of its sorted `sha256  name` listing (the format of sha256sum).
    return {"sha256": hashlib.sha256("".join(listing).encode()).hexdigest(),
            "bytes": sum(len(d) for d in export.files.values()), "files": len(export.files)}


def _place(staged: Path, target: Path) -> None:
    """Rename a staged file or folder onto `target`; a folder replaces the old one whole."""
    target.parent.mkdir(parents=True, exist_ok=True)
    if staged.is_file():
        if target.is_dir() and not target.is_symlink():
            _clear(target)
        os.replace(staged, target)
        return
    old = target.with_name(f".{target.name}.old-{os.getpid()}")
    if target.is_dir() and not target.is_symlink():
        os.replace(target, old)  # moved aside, not deleted, until the new folder is in place
    elif target.exists() or target.is_symlink():
        target.unlink()
    os.replace(staged, target)
    _clear(old)


def progress_note(plan) -> str:
    """What `write` is doing, for the spinner (the fine-tuning comparison can take seconds)."""
    return "writing outputs" + (" and comparing fine-tuning methods on the train split" if plan.finetune else "")


def write(out_dir: Path, plan, result, base_dir: Path | None = None, engine: str = "local") -> dict:
    """Write all outputs of a run and return the manifest (paths in the plan resolve against `base_dir`)."""
    from dsc.engines.export import render_exports
    from dsc.report import render_report

    # Split tables are copies of the kept rows: made only when an export needs them.
    exports = render_exports(plan.exports, _split_tables(plan, result.kept), Path(base_dir or "."), RUN_FILES) \
        if plan.exports else []
    out_dir.mkdir(parents=True, exist_ok=True)
    targets = [_inside(out_dir, e.path, e.line) for e in exports]

    staging = _Staging(out_dir)
    try:
        staged_exports = [dict(_stage_export(staging, e), rows=e.rows, split=e.split, format=e.format)
                          for e in exports]
        if plan.finetune:
            result.stats["finetune"] = _finetune(plan, staging, Path(base_dir or "."))
        written = _stage_run_files(staging, result, render_report(result.stats))
    except BaseException:
        staging.discard()
        raise

    manifest_path = out_dir / "manifest.json"
    manifest_path.unlink(missing_ok=True)
    for name in written:
        os.replace(staging.path(name), out_dir / name)
    for export, target, entry in zip(exports, targets, staged_exports):
        _place(staging.path(export.path), target)
        written[export.path] = entry
    manifest = _manifest(plan, result, written, exports, engine)
    # Written in staging and renamed into place, so a kill leaves no stray temp file beside it.
    write_bytes(staging.path("manifest.json"), (json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode("utf-8"))
    os.replace(staging.path("manifest.json"), manifest_path)
    staging.discard()
    return manifest


def _finetune(plan, staging: _Staging, base_dir: Path) -> dict:
    """The fine-tuning methods compared on this run's train split, as `dsc finetune compare --json`
    gives them (the split's path relative to the output folder) with their table as text, or
    why they could not be."""
    from dsc.finetune import jsontext
    from dsc.finetune.compare import as_text, compare_plan
    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.inputs import train_export

    try:
        relative = train_export(plan)
        # With the train file given, only the spec's folder is read from its path.
        comparison = compare_plan(plan, base_dir / "spec.dspec", train=staging.path(relative))
    except FinetuneError as err:
        return {"error": str(err) + (f"; {err.hint}" if err.hint else "")}
    comparison["train"]["path"] = relative
    return {**json.loads(jsontext.dumps(comparison)), "table": as_text(comparison)}


def _stage_run_files(staging: _Staging, result, report: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """Write the run's own files (all but the manifest) to the staging folder; their hash entries."""
    from dsc.engines.splits import SPLIT

    kept = result.kept
    data_cols = [c for c in kept.column_names if not c.startswith("_dsc_")] + ["_dsc_id"]
    data_cols += [SPLIT] if SPLIT in kept.column_names else []
    # Where each generated row came from (dsc.augment.rows.PROVENANCE; null on input rows).
    data_cols += [c for c in kept.column_names if c.startswith("_dsc_aug_")]
    # One chunk per column: parquet bytes depend on chunking, which the worker count must not change.
    kept = kept.select(data_cols).combine_chunks()
    augmented = getattr(result, "augment", None)
    flags = [dict(f, rule=s.id, line=s.line) for s in result.stages for f in s.flags]
    decisions = [dict(d, rule=s.id, line=s.line) for s in result.stages for d in s.decisions]
    labels = [dict(r, rule=s.id, line=s.line) for s in result.stages for r in s.resolutions]
    markdown, html = report
    stats = (json.dumps(result.stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    written = {
        "kept.jsonl": staging.write("kept.jsonl", lambda sink: _write_table_jsonl(sink, kept)),
        "kept.parquet": staging.write("kept.parquet", lambda sink: pq.write_table(kept, sink)),
        "rejects.jsonl": staging.write("rejects.jsonl",
                                       lambda sink: _write_table_jsonl(sink, result.rejects, decode_row=True)),
        "flags.jsonl": staging.write("flags.jsonl", lambda sink: _write_jsonl(sink, flags)),
        "conflicts.jsonl": staging.write("conflicts.jsonl", lambda sink: _write_jsonl(sink, decisions)),
        "labels.jsonl": staging.write("labels.jsonl", lambda sink: _write_jsonl(sink, labels)),
        "stats.json": staging.write("stats.json", lambda sink: sink.write(stats)),
        "report.md": staging.write("report.md", lambda sink: sink.write(markdown.encode("utf-8"))),
        "report.html": staging.write("report.html", lambda sink: sink.write(html.encode("utf-8"))),
    }
    if augmented is not None:  # rejected generations: apart from rejects.jsonl, which holds input rows only
        written["augment_rejects.jsonl"] = staging.write(
            "augment_rejects.jsonl", lambda sink: _write_table_jsonl(sink, augmented.rejected, decode_row=True))
        written["augment_rejects.jsonl"]["rows"] = augmented.rejected.num_rows
    written["kept.jsonl"]["rows"] = kept.num_rows
    written["rejects.jsonl"]["rows"] = result.rejects.num_rows
    return written


def _manifest(plan, result, written: dict[str, dict[str, Any]], exports, engine: str) -> dict:
    from dsc.environment import environment, used_by

    read = sum(s.rows_in for s in result.stages if s.op == "source")
    return {
        "dsc_version": __version__,
        "engine": engine,
        "environment": environment(used_by(plan, engine)),
        "plan_fingerprint": plan.fingerprint,
        "dataset": {"name": plan.dataset.name, "version": plan.dataset.version},
        "inputs": result.inputs,
        "outputs": written,
        "rules": [{"id": s.id, "op": s.op, "line": s.line, "rows_in": s.rows_in, "rows_out": s.rows_out,
                   "removed": s.removed, "flagged": len(s.flags)} for s in result.stages],
        "counts": _counts(read, result.kept, result.rejects, getattr(result, "augment", None)),
        "splits": [{"name": name, "rows": rows, "fraction": _fraction(plan, name),
                    "outputs": [e.path for e in exports if e.split == name]}
                   for name, rows in _split_rows(plan, result.kept).items()],
        "gates": [{k: g[k] for k in ("id", "line", "severity", "passed", "measured", "op", "limit", "unit",
                                     "message")} for g in result.stats.get("gates", [])],
    }


def _counts(read: int, kept: pa.Table, rejects: pa.Table, augmented) -> dict[str, int]:
    """Input rows read, kept and rejected (kept + rejected == input); generated rows apart."""
    if augmented is None:
        return {"input": read, "kept": kept.num_rows, "rejected": rejects.num_rows}
    generated = augmented.generated.num_rows
    return {"input": read, "kept": kept.num_rows - generated, "rejected": rejects.num_rows, "generated": generated}


def _fraction(plan, name: str) -> str:
    """A split's declared fraction as canonical decimal text (as in the plan JSON)."""
    if plan.split is None:
        return "1"
    return next(format(p.fraction.normalize(), "f") for p in plan.split.parts if p.name == name)
