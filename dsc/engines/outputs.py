"""Writing a run's outputs: kept rows, rejects, flags, conflict decisions, annotation label
resolutions and task files, one export per split, the stats, the report and the manifest.

**The folder first.** Before a run reads anything it claims its output folder (`claim`): it
checks that every export and task file has a path of its own, clear of the run's own files
(`dsc.engines.layout`; `dsc check` says the same at the spec's line), and that neither the folder
nor the way to an export or task file is a symlink loop, nor leads out of the folder (exit 2);
that the folder neither is, holds nor lies inside anything the run reads, nor where a data
pattern would read an output back (exit 4);
then it locks the folder (`.dsc-lock`, `fcntl.flock`, held for the whole run: a second run on
the same folder stops at once, exit 4) and checks that everything the run would replace is dsc's:
listed by the previous `manifest.json` or by `.dsc-owned`, the list of paths dsc has written in
this folder (a listed folder is dsc's whole; an unlisted one counts when every file in it does). Anything else in the way stops the run,
naming each path (exit 4): a run never deletes or overwrites what it did not write. `.dsc-owned`
is updated before the first output is written (so a killed run's files stay dsc's) and trimmed
to what exists when the run ends.

**Then the outputs.** `kept.parquet` is the one full copy of the kept rows; `kept.jsonl`, the same
rows as JSON lines, is written only when the run asks for it (`dsc run --kept-jsonl`), as it
doubles what a run writes. Without it, a `kept.jsonl` an earlier run left goes with the other
replaced outputs, and the manifest lists only the files this run wrote; so does every other output
an earlier run wrote that this one does not (`RunFolder.retire`: the export of a split the spec no
longer has), so the folder holds one run's outputs, all listed in its manifest.

Exports and the report are rendered first. Every output is streamed, the kept rows and rejects
batch by batch, into the staging folder (`.dsc-staging`), each file hashed as it is written and
synced (the annotation stage writes its task files there too, the ray engine's workers their
shards); a failure there deletes the staging folder and leaves the output folder as it was. Only then are the files renamed into place (an `hf_disk` folder is swapped in
whole; what an output replaces is moved into the staging folder and goes with it), with the
manifest — which lists every output's hash — removed first and written last: a killed run leaves
either the old outputs or no manifest, never a half-written file that looks finished.
"""
from __future__ import annotations

import fcntl
import glob
import hashlib
import json
import os
import shutil
from contextlib import contextmanager
from pathlib import Path, PurePosixPath
from typing import Any, Callable, Iterable, Iterator

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc import __version__
from dsc.engines.export import write_parquet
from dsc.engines.layout import (AUGMENT_REJECTS, CACHE, INTERNAL, KEPT_JSONL, LOCK, OWNED, RUN_FILES, SHARDS, STAGING,
                                WHOLE, Output, normal, problems, task_files)
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.io import jsonscan
from dsc.ops.runtime import RunError
from dsc.paths import link_loop
from dsc.reserved import AUG_PREFIX, ID, RESERVED_PREFIX, ROW, SPLIT

MANIFEST = "manifest.json"
# Rows turned into Python objects at a time while writing jsonl: bounds the memory it takes.
BATCH_ROWS = 8192
# Where what an output replaces waits, inside the staging folder, until the staging folder goes.
_REPLACED = INTERNAL + "replaced"

# One encoder for every row: json.dumps with these options builds a new one per call, same output.
_ROW_ENCODER = json.JSONEncoder(sort_keys=True, ensure_ascii=False, default=str)


def row_json(row: dict[str, Any]) -> str:
    """One row as canonical JSON (sorted keys, UTF-8 kept, non-JSON values as text)."""
    return _ROW_ENCODER.encode(row)


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


class RunFolder:
    """An output folder claimed for one run (see `claim`): locked, checked, its staging folder ready.

    `targets` are the paths the run writes, relative to the folder; `owned` those dsc wrote there
    before. `place` may replace only these: `claim` has checked that whatever is in their way is.
    `kept_jsonl`: whether the run writes `kept.jsonl` (a target either way, so an old one is replaced
    or removed)."""

    def __init__(self, out_dir: Path, targets: list[str], owned: set[str], kept_jsonl: bool = False):
        self.out_dir = out_dir
        self.staging = out_dir / STAGING
        self.targets = targets
        self.owned = owned
        self.kept_jsonl = kept_jsonl
        self._replaced = 0

    def stage(self, relative: str, fill: Callable[[_HashingFile], Any]) -> dict[str, Any]:
        """Create `relative` in the staging folder, let `fill(file)` write it, return its entry."""
        sink = _HashingFile(self.staging / relative)
        try:
            fill(sink)
        finally:
            sink.close()
        return sink.entry()

    def place(self, relative: str) -> None:
        """Rename the staged file or folder `relative` into place (a folder replaces the old one whole;
        with nothing staged, the old one goes). What it replaces — and a file where it needs a
        folder — is moved into the staging folder."""
        staged, target = self.staging / relative, self.out_dir / relative
        for parent in reversed(PurePosixPath(relative).parents[:-1]):
            if os.path.lexists(self.out_dir / parent) and not (self.out_dir / parent).is_dir():
                self._set_aside(self.out_dir / parent)
        target.parent.mkdir(parents=True, exist_ok=True)
        if os.path.lexists(target) and not (staged.is_file() and target.is_file() and not target.is_symlink()):
            self._set_aside(target)
        if os.path.lexists(staged):
            os.replace(staged, target)

    def retire(self, placed: list[str]) -> None:
        """Set aside what an earlier run wrote here that this one does not (the export of a split
        the spec no longer has, another spec's exports): a stale `test.jsonl` beside the new
        splits would hold rows that are now in `validation`, and the manifest would not list it.
        Only paths dsc wrote go (`owned`), never its bookkeeping (`.dsc-…`), nor a folder holding
        this run's outputs or a path inside one."""
        now = [PurePosixPath(p) for p in [*placed, MANIFEST]]
        for relative in sorted(self.owned):
            path = PurePosixPath(relative)
            if relative.startswith(INTERNAL) or not os.path.lexists(self.out_dir / relative) or any(
                    path == p or path in p.parents or p in path.parents for p in now):
                continue
            self._set_aside(self.out_dir / relative)

    def _set_aside(self, path: Path) -> None:
        self._replaced += 1
        aside = self.staging / _REPLACED / str(self._replaced)
        aside.parent.mkdir(parents=True, exist_ok=True)
        os.replace(path, aside)

    def _open(self) -> None:
        """Start the staging folder afresh and record, before anything is written, that the targets are dsc's."""
        _clear(self.staging)
        self.staging.mkdir()
        self._record({p for p in self.owned if os.path.lexists(self.out_dir / p)} | set(self.targets))

    def _close(self) -> None:
        """Trim the record to what exists, and remove the staging folder (with what the run replaced)."""
        self._record({p for p in self.owned | set(self.targets) if os.path.lexists(self.out_dir / p)})
        _clear(self.staging)

    def _record(self, paths: set[str]) -> None:
        text = json.dumps({"paths": sorted(paths)}, indent=1, ensure_ascii=False) + "\n"
        self.stage(OWNED, lambda sink: sink.write(text.encode("utf-8")))
        os.replace(self.staging / OWNED, self.out_dir / OWNED)


@contextmanager
def claim(out_dir: Path, plan, base_dir: Path, engine: str = "local",
          kept_jsonl: bool = False) -> Iterator[RunFolder]:
    """Claim `out_dir` for a run of `plan` (paths relative to `base_dir`) on `engine`, for the `with`
    block: the checks, the lock and the record described above; RunError before any work.
    `kept_jsonl`: write `kept.jsonl` beside `kept.parquet` (`dsc run --kept-jsonl`)."""
    out_dir, base_dir = Path(out_dir), Path(base_dir)
    loop = link_loop(out_dir)
    if loop is not None:
        where = "is" if loop == out_dir else f"passes through '{loop}',"
        raise RunError(f"--out {out_dir} {where} a symlink loop; remove the link, or choose another --out", exit_code=EXIT_SPEC_ERROR,
                       code="DSC305")
    declared = _declared(plan)
    splits = [p.name for p in plan.split.parts] if plan.split is not None else [WHOLE]
    refused = [f"line {o.line}: {o.what} '{o.path}' is not allowed: {why}" for o, why in problems(declared, splits)]
    written = [(path, o) for o in declared for path, _ in o.files(splits)]
    if not refused:
        refused = [f"line {o.line}: {o.what} '{path}' {why}" for path, o in written if (why := _linked(out_dir, path))]
    if refused:
        raise RunError("\n".join(refused), exit_code=EXIT_SPEC_ERROR, code="DSC305")
    targets = [*RUN_FILES, *([AUGMENT_REJECTS] if plan.augment else []), *([SHARDS] if engine == "ray" else []),
               *(path for path, _ in written)]
    folders = {SHARDS, *(path for path, o in written if o.folder)}
    reached = reads_reached(out_dir, plan, base_dir, [(t, t in folders) for t in targets])
    if reached:
        raise RunError(f"--out {out_dir} meets what the run reads; nothing was read or written:\n  "
                       + "\n  ".join(reached) + "\nchoose an output folder apart from the spec's inputs", code="DSC305")
    fd, locked_before = _lock(out_dir)
    try:
        record, listed = _json_paths(out_dir / OWNED, "paths"), _json_paths(out_dir / MANIFEST, "outputs")
        owned = (record or set()) | ({*listed, MANIFEST} if listed is not None else set())
        mine = locked_before or record is not None or listed is not None
        in_way = _in_the_way(out_dir, targets, owned, mine, record is not None)
        if in_way:
            raise RunError(f"{out_dir}/ holds what this run would replace, which dsc did not write; nothing was "
                           "read or written:\n  " + "\n  ".join(in_way) + "\nmove them away, or choose another --out",
                           code="DSC305")
        folder = RunFolder(out_dir, targets, owned, kept_jsonl)
        folder._open()
        try:
            yield folder
        finally:
            folder._close()
    finally:
        os.close(fd)


def _linked(out_dir: Path, path: str) -> str | None:
    """Why the symlinks on the way to the folder of output `path` forbid it: one is in a loop, or
    they lead out of `out_dir` (itself no loop); None when neither."""
    folder = (out_dir / path).parent
    loop = link_loop(folder)
    if loop is not None:
        return f"passes through '{loop.relative_to(out_dir).as_posix()}', a symlink loop in the output directory"
    if not Path(os.path.realpath(folder)).is_relative_to(os.path.realpath(out_dir)):
        return "leads out of the output directory through a symbolic link"
    return None


def _declared(plan) -> list[Output]:
    """The task files and exports of `plan`, in the order `dsc check` meets them in the spec."""
    return [*(Output("task file", a.tasks, a.line) for a in plan.annotations if a.tasks),
            *(Output("export path", e.path, e.line, e.format == "hf_disk") for e in plan.exports)]


def reads_reached(out_dir: Path, plan, base_dir: Path, written: list[tuple[str, bool]]) -> list[str]:
    """How the output folder meets what the run reads: it is, holds or lies inside an input (a data
    file, a dataset or model folder, a pairs, annotation or template file), or a data pattern would
    read one of the run's outputs."""
    from dsc.engines.permissions import files_read

    out, base = Path(os.path.realpath(out_dir)), Path(os.path.realpath(base_dir))
    found = []
    for line, what, path in files_read(plan, base_dir):
        real = Path(os.path.realpath(path))  # a link loop stays as it is: its reader says so
        where = "is the output folder" if real == out else "is inside the output folder" \
            if real.is_relative_to(out) else "holds the output folder" if out.is_relative_to(real) else None
        if where:
            found.append(f"line {line}: {what} {os.path.relpath(path, base_dir)}, which {where}")
    for src in plan.sources:
        for pattern in src.files:
            parts = Path(os.path.normpath(os.path.join(glob.escape(str(base)), pattern))).parts
            hit = next((rel for rel, folder in written if _globbed(parts, (out / rel).parts, folder)), None)
            if hit is not None:
                found.append(f"line {src.line}: file pattern '{pattern}' would read the output {out_dir / hit}")
    return found


def _globbed(pattern: tuple[str, ...], parts: tuple[str, ...], folder: bool) -> bool:
    """True when glob `pattern` (as `glob.glob(recursive=True)` reads it, hidden names apart) matches
    the path `parts` — or, for a `folder`, may match something inside it."""
    from fnmatch import fnmatchcase

    if not parts:
        return all(p == "**" for p in pattern) or folder
    if not pattern:
        return False
    head, hidden = pattern[0], parts[0].startswith(".") and not pattern[0].startswith(".")
    if head == "**":
        return _globbed(pattern[1:], parts, folder) or (not hidden and _globbed(pattern, parts[1:], folder))
    return not hidden and fnmatchcase(parts[0], head) and _globbed(pattern[1:], parts[1:], folder)


def _lock(out_dir: Path) -> tuple[int, bool]:
    """Lock `out_dir` (created if need be) for this run: (the lock's descriptor, whether the folder
    held a lock file already, i.e. dsc has run here before); RunError when another run holds it."""
    path = out_dir / LOCK
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise RunError(f"cannot make the output folder {out_dir}: {err.strerror or err}", code="DSC305") from None
    existed = os.path.lexists(path)
    try:
        fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
    except OSError as err:
        raise RunError(f"cannot use {path} to lock the output folder: {err.strerror or err}", code="DSC305") from None
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise RunError(f"{out_dir}/ is in use by another dsc run, which holds {path}; wait for it to end, or "
                       "choose another --out", code="DSC305") from None
    return fd, existed


def _json_paths(path: Path, key: str) -> set[str] | None:
    """The names under `key` in a JSON object file (a list, or a dict's keys); None when it is not one."""
    try:
        value = json.loads(path.read_bytes()).get(key)
    except (OSError, ValueError, AttributeError):
        return None
    return {p for p in value if isinstance(p, str)} if isinstance(value, (list, dict)) else None


def _in_the_way(out_dir: Path, targets: list[str], owned: set[str], mine: bool, recorded: bool) -> list[str]:
    """What stands where the run would write and is not dsc's, each with why. `mine`: something shows
    that dsc has written in this folder (its lock, record or manifest); `recorded`: its record is readable."""
    found = []
    if os.path.lexists(out_dir / OWNED) and not recorded:
        found.append(f"{OWNED}: not dsc's record of the paths it wrote")
    if not mine:
        found += [f"{name}: dsc keeps this name for itself, but nothing shows that dsc wrote this folder"
                  for name in (STAGING, CACHE) if os.path.lexists(out_dir / name)]
    if os.path.lexists(out_dir / CACHE) and not (out_dir / CACHE).is_dir():
        found.append(f"{CACHE}: not a folder")
    for target in targets:
        for parent in reversed(PurePosixPath(target).parents[:-1]):
            path = out_dir / parent
            if os.path.lexists(path) and not path.is_dir() and not _owned(out_dir, parent.as_posix(), owned):
                found.append(f"{parent}: a file where {target} needs a folder, and dsc did not write it")
        if os.path.lexists(out_dir / target) and not _owned(out_dir, target, owned):
            found.append(f"{target}: dsc did not write it")
    return list(dict.fromkeys(found))


def _owned(out_dir: Path, relative: str, owned: set[str]) -> bool:
    """True when dsc wrote `relative`: it is listed, or it is a folder (not a link) whose every entry is."""
    if relative in owned:
        return True
    path = out_dir / relative
    if path.is_symlink() or not path.is_dir():
        return False
    entries = os.listdir(path)
    return bool(entries) and all(_owned(out_dir, f"{relative}/{name}", owned) for name in entries)


def _write_jsonl(sink, rows: Iterable[dict]) -> None:
    sink.write("".join(row_json(r) + "\n" for r in rows).encode("utf-8"))


def _write_table_jsonl(sink, table: pa.Table, decode_row: bool = False) -> None:
    """Each row of `table` as `row_json` writes it, one per line, a batch at a time (`_json_rows`)."""
    for _, text in _json_rows(table, decode_row, b"}\n"):
        sink.write(memoryview(text))  # the batch's lines, without a copy


def rows_json(table: pa.Table) -> pa.ChunkedArray:
    """`row_json` of every row of `table`, as text (a rejects table's `_dsc_row`), built as
    `_write_table_jsonl` builds its lines: 10 us a row in Python, a few hundred ns here."""
    chunks = []
    for off, text in _json_rows(table, False, b"}"):
        if off[-1] < 2**31:
            chunks.append(pa.StringArray.from_buffers(len(off) - 1, pa.py_buffer(off.astype(np.int32)),
                                                      pa.py_buffer(text)))
        else:  # one batch's rows past 2 GiB: Arrow cuts them into arrays that fit
            chunks.extend(pa.chunked_array([bytes(text[a:b]).decode() for a, b in zip(off[:-1], off[1:])],
                                           pa.string()).chunks)
    return pa.chunked_array(chunks, pa.string())


def _json_rows(table: pa.Table, decode_row: bool, close: bytes) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """(offsets, bytes) of each batch's rows as `row_json` writes them, each followed by `close`'s
    tail (the `}` and what follows it).

    Built column by column rather than row by row: each value is written as JSON on its own, by
    compiled loops where their bytes are proven to be `row_json`'s (`dsc.kernels.jsonout`:
    strings, integers, booleans, nulls), then joined into rows behind their keys in one buffer.
    `decode_row` turns the rejects' `_dsc_row` text back into the object it was
    (`dsc.io.jsonscan.decode_row`); a text that `row_json` writes back unchanged is copied as it
    is, without the round trip."""
    from dsc.kernels import jsonout  # compiled code: loaded when a run writes rows

    names = sorted(table.column_names)  # as sort_keys orders them
    for batch in table.to_batches(max_chunksize=BATCH_ROWS):
        if not names:
            row = b"{" + close  # rows without columns
            yield np.arange(batch.num_rows + 1, dtype=np.int64) * len(row), np.frombuffer(row * batch.num_rows, np.uint8)
            continue
        values = [_json_values(batch.column(name), decode_row and name == ROW) for name in names]
        yield jsonout.join_rows(batch.num_rows, names, values, sep=b", ", colon=b": ", drop_nulls=False,
                                close=close)


def _json_values(column: pa.Array, decode: bool) -> pa.Array | tuple[np.ndarray, np.ndarray]:
    """Each value of `column` as JSON, exactly as it appears inside a `row_json` line: (int64
    offsets from 0, bytes), or the column itself where `jsonout.join_rows` writes it (`jsonout.plain`)."""
    from dsc.kernels import jsonout

    if decode and (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
        return jsonout.row_values(column, lambda text: _ROW_ENCODER.encode(jsonscan.decode_row(text)).encode())
    if not decode and jsonout.plain(column.type):
        return column
    if not decode and column.null_count == len(column):
        return np.arange(0, 4 * len(column) + 1, 4, dtype=np.int64), np.frombuffer(b"null" * len(column), np.uint8)
    values = column.to_pylist()
    if decode:
        values = map(jsonscan.decode_row, values)
    texts = [_ROW_ENCODER.encode(v).encode("utf-8") for v in values]
    offsets = np.zeros(len(texts) + 1, np.int64)
    np.cumsum([len(t) for t in texts], out=offsets[1:])
    return offsets, np.frombuffer(b"".join(texts), np.uint8)


def _split_rows(plan, kept: pa.Table) -> dict[str, int]:
    """How many kept rows each split has, in the plan's split order."""
    if plan.split is None or SPLIT not in kept.column_names:
        return {WHOLE: kept.num_rows}
    counts = {c["values"]: c["counts"] for c in pc.value_counts(kept.column(SPLIT)).to_pylist()}
    return {p.name: counts.get(p.name, 0) for p in plan.split.parts}


def _split_tables(plan, kept: pa.Table, workers: int = 1) -> dict[str, pa.Table]:
    """The rows of each split (data columns and `_dsc_id`), in the plan's split order.

    Only those columns are copied (the split column and the other reserved ones are not), by
    `filter_table` on `workers` threads: 1M rows of 640 bytes into a 90/10 split took 0.52 s of
    Arrow's `filter` in the run's one thread. The arrays are the same with any number of workers."""
    from dsc.kernels.select import filter_table

    data = kept.select([c for c in kept.column_names if not c.startswith(RESERVED_PREFIX)] + [ID])
    if plan.split is None or SPLIT not in kept.column_names:
        return {WHOLE: data}
    split = kept.column(SPLIT)
    return {p.name: filter_table(data, pc.fill_null(pc.equal(split, p.name), False).to_numpy(zero_copy_only=False),
                                 workers)
            for p in plan.split.parts}


def _clear(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    elif path.exists() or path.is_symlink():
        path.unlink()


def _stage_export(folder: RunFolder, export) -> dict[str, Any]:
    """Write one rendered export (a file, or a folder of files) to the staging folder; its hash entry."""
    if list(export.writers) == [""]:
        return folder.stage(export.path, export.writers[""])
    listing, size = [], 0
    for name, writer in sorted(export.writers.items()):
        entry = folder.stage(f"{export.path}/{name}", writer)
        listing.append(f"{entry['sha256']}  {name}\n")
        size += entry["bytes"]
    # A folder's hash is the hash of its sorted `sha256  name` listing (the format of sha256sum).
    return {"sha256": hashlib.sha256("".join(listing).encode()).hexdigest(), "bytes": size,
            "files": len(export.writers)}


def _staged_entry(path: Path) -> dict[str, Any]:
    """The manifest entry of a file another stage wrote into the staging folder."""
    data = path.read_bytes()
    return {"sha256": hashlib.sha256(data).hexdigest(), "bytes": len(data)}


def progress_note(plan) -> str:
    """What `write` is doing, for the spinner (the fine-tuning comparison can take seconds)."""
    return "writing outputs" + (" and comparing fine-tuning methods on the train split" if plan.finetune else "")


def write(folder: RunFolder, plan, result, base_dir: Path | None = None, engine: str = "local",
          placed: tuple[str, ...] = (), finish: Callable[[dict], dict] | None = None, workers: int = 1) -> dict:
    """Write all outputs of a run into its claimed `folder` and return the manifest (paths in the
    plan resolve against `base_dir`). `placed`: folders the engine has staged itself (the ray
    engine's shards), put in place with the rest; `finish` adds the engine's part to the manifest.
    `workers`: the files of rows (exports, kept rows, rejects) are written on that many threads at
    once (parquet's encoder and zstd release the GIL); each is the same bytes either way."""
    from dsc.engines.export import render_exports
    from dsc.report import render_report

    # Split tables are copies of the kept rows: made only when an export needs them.
    exports = render_exports(plan.exports, _split_tables(plan, result.kept, workers), Path(base_dir or ".")) \
        if plan.exports else []
    jobs = [(e.rows, lambda e=e: dict(_stage_export(folder, e), rows=e.rows, split=e.split, format=e.format))
            for e in exports]
    rows = _row_files(folder, result)
    done = _in_threads([*jobs, *((size, job) for _, size, job in rows)], workers)
    staged_exports, row_files = done[:len(jobs)], {name: entry for (name, _, _), entry in zip(rows, done[len(jobs):])}
    if plan.finetune:
        result.stats["finetune"] = _finetune(plan, folder, Path(base_dir or "."))
        result.stats["tokens"] = _token_lengths(plan, folder, Path(base_dir or "."), exports)
    run_files = {**row_files, **_stage_run_files(folder, result, render_report(result.stats))}
    tasks = {p: _staged_entry(folder.staging / p) for a in plan.annotations if a.tasks
             for p in task_files(normal(a.tasks)) if (folder.staging / p).is_file()}  # the annotation stage's

    (folder.out_dir / MANIFEST).unlink(missing_ok=True)
    # KEPT_JSONL is placed even when not written: with nothing staged, an earlier run's copy goes.
    names = [*dict.fromkeys([*run_files, KEPT_JSONL]), *tasks, *placed, *(e.path for e in exports)]
    for name in names:
        folder.place(name)
    folder.retire(names)
    written = {**run_files, **tasks, **{e.path: entry for e, entry in zip(exports, staged_exports)}}
    manifest = _manifest(plan, result, written, exports, engine)
    manifest = finish(manifest) if finish is not None else manifest
    # Written in staging and renamed into place, so a kill leaves no stray temp file beside it.
    folder.stage(MANIFEST, lambda sink: sink.write((json.dumps(manifest, indent=2, sort_keys=True) + "\n").encode()))
    folder.place(MANIFEST)
    return manifest


def _finetune(plan, folder: RunFolder, base_dir: Path) -> dict:
    """The fine-tuning methods compared on this run's train split, as `dsc finetune compare --json`
    gives them (the split's path relative to the output folder) with their table as text, or
    why they could not be."""
    from dsc.extras import missing
    from dsc.finetune import jsontext
    from dsc.finetune.compare import as_text, compare_plan
    from dsc.finetune.errors import FinetuneError
    from dsc.finetune.inputs import train_export

    lacking = missing("finetune")  # `dsc check` warned (DSC221); the data is written all the same
    if lacking:
        return {"error": "; ".join(lacking)}
    try:
        relative = train_export(plan)
        # With the train file given, only the spec's folder is read from its path.
        comparison = compare_plan(plan, base_dir / "spec.dspec", train=folder.staging / relative)
    except FinetuneError as err:
        return {"error": str(err) + (f"; {err.hint}" if err.hint else "")}
    comparison["train"]["path"] = relative
    return {**json.loads(jsontext.dumps(comparison)), "table": as_text(comparison)}


def _token_lengths(plan, folder: RunFolder, base_dir: Path, exports) -> dict:
    """The token lengths of each split as the first export wrote it (the file train.py reads),
    counted with the finetune block's base tokenizer (`dsc.finetune.lengths`), or why they are not."""
    from dsc.engines.layout import export_path
    from dsc.finetune.lengths import token_lengths

    if not plan.exports:
        return {"error": "the spec has no export, so there are no training rows to count"}
    first = plan.exports[0].path
    files = {e.split: folder.staging / e.path for e in exports if e.path == export_path(first, e.split)}
    return token_lengths(plan, base_dir, files, first)


def _in_threads(jobs: list[tuple[int, Callable[[], Any]]], workers: int) -> list:
    """Each `(size, job)`'s result, in order, run on up to `workers` threads, the largest first:
    the files take time by their rows, so no thread is left writing a large file alone at the
    end while the others are idle (kept.parquet after the exports did that: 3.1 s for files
    whose writes add up to about 2.3 s a thread)."""
    if workers <= 1 or len(jobs) <= 1:
        return [job() for _, job in jobs]
    from concurrent.futures import ThreadPoolExecutor

    with ThreadPoolExecutor(min(workers, len(jobs))) as pool:
        futures = {i: pool.submit(jobs[i][1]) for i in sorted(range(len(jobs)), key=lambda i: -jobs[i][0])}
        return [futures[i].result() for i in range(len(jobs))]


def _row_files(folder: RunFolder, result) -> list[tuple[str, int, Callable[[], dict[str, Any]]]]:
    """The run's files of rows (kept rows, rejects), as `(name, rows, job)`: each job writes its
    file to the staging folder and gives its hash entry, with its rows."""
    kept = result.kept
    data_cols = [c for c in kept.column_names if not c.startswith(RESERVED_PREFIX)] + [ID]
    data_cols += [SPLIT] if SPLIT in kept.column_names else []
    # Where each generated row came from (dsc.reserved.AUG_PROVENANCE; null on input rows).
    data_cols += [c for c in kept.column_names if c.startswith(AUG_PREFIX)]
    kept = kept.select(data_cols)
    augmented = getattr(result, "augment", None)

    def staged(name: str, write: Callable[[Any], Any], rows: int) -> tuple[str, int, Callable[[], dict[str, Any]]]:
        return name, rows, lambda: dict(folder.stage(name, write), rows=rows)

    files = [staged("kept.parquet", lambda sink: write_parquet(kept, sink), kept.num_rows),
             staged("rejects.jsonl", lambda sink: _write_table_jsonl(sink, result.rejects, decode_row=True),
                    result.rejects.num_rows)]
    if augmented is not None:  # rejected generations: apart from rejects.jsonl, which holds input rows only
        files.append(staged(AUGMENT_REJECTS, lambda sink: _write_table_jsonl(sink, augmented.rejected, decode_row=True),
                            augmented.rejected.num_rows))
    if folder.kept_jsonl:  # on request only: the same rows as kept.parquet, as JSON lines
        files.append(staged(KEPT_JSONL, lambda sink: _write_table_jsonl(sink, kept), kept.num_rows))
    return files


def _stage_run_files(folder: RunFolder, result, report: tuple[str, str]) -> dict[str, dict[str, Any]]:
    """Write the run's other files (flags, decisions, labels, stats, report; not the manifest) to
    the staging folder; their hash entries."""
    flags = [dict(f, rule=s.id, line=s.line) for s in result.stages for f in s.flags]
    decisions = [dict(d, rule=s.id, line=s.line) for s in result.stages for d in s.decisions]
    labels = [dict(r, rule=s.id, line=s.line) for s in result.stages for r in s.resolutions]
    markdown, html = report
    stats = (json.dumps(result.stats, indent=2, sort_keys=True, ensure_ascii=False) + "\n").encode()
    return {
        "flags.jsonl": folder.stage("flags.jsonl", lambda sink: _write_jsonl(sink, flags)),
        "conflicts.jsonl": folder.stage("conflicts.jsonl", lambda sink: _write_jsonl(sink, decisions)),
        "labels.jsonl": folder.stage("labels.jsonl", lambda sink: _write_jsonl(sink, labels)),
        "stats.json": folder.stage("stats.json", lambda sink: sink.write(stats)),
        "report.md": folder.stage("report.md", lambda sink: sink.write(markdown.encode("utf-8"))),
        "report.html": folder.stage("report.html", lambda sink: sink.write(html.encode("utf-8"))),
    }


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
