"""The local engine: executes a Plan over Arrow tables (the format of Hugging Face `datasets`).

Stages are source → schema → clean rules in order. Each stage's result is cached under a key
that covers its parameters, everything upstream of it and the input fingerprints, so an
unchanged plan on unchanged data reruns from cache and a changed rule recomputes only from
that rule on. Every row that leaves the pipeline is written to the rejects with its reason.

Then the kept rows are split (a `_dsc_split` column from a stable hash of each row's key; a
later augmentation step copies it onto the rows it generates), the stats are gathered and the
gates judged from them, and the outputs — kept rows, rejects, one export per split, stats,
report, manifest last — are written. A declared split that receives no row is an error before
anything is written.
"""
from __future__ import annotations

import hashlib
import json
import os
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from dsc.annotation import apply_annotations
from dsc.engines import outputs
from dsc.engines.gates import GateResult
from dsc.engines.permissions import Permissions, enforce
from dsc.engines.progress import StageDone
from dsc.engines.rejects import empty_rejects, rejects_from_records, tag_removed
from dsc.engines.schema import declared, standardized, validate
from dsc.engines.splits import assign_splits
from dsc.engines.stats import build_stats
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops import OPERATORS
from dsc.ops.runtime import Outcome, RunContext, RunError
from dsc.plan import Plan
from dsc.reserved import ID, LINE, REASON, ROW, RULE, SPLIT, SRC

CACHE_DIR = ".dsc-cache"


@dataclass
class StageStats:
    id: str
    op: str
    line: int
    rows_in: int
    rows_out: int
    cached: bool = False
    flags: list[dict] = field(default_factory=list)
    decisions: list[dict] = field(default_factory=list)  # one per conflict group (conflicts rules)
    resolutions: list[dict] = field(default_factory=list)  # one per row (annotate blocks): labels.jsonl

    @property
    def removed(self) -> int:
        return self.rows_in - self.rows_out


@dataclass
class RunResult:
    kept: pa.Table
    rejects: pa.Table
    stages: list[StageStats]
    inputs: list[dict]
    manifest: dict = field(default_factory=dict)
    stats: dict = field(default_factory=dict)
    # Filled by the annotation step, {FIELD: its summary}, where summary["agreement"]["value"] is
    # the dataset coefficient that `agreement(FIELD)` gates judge; saved in stats.json.
    annotations: dict = field(default_factory=dict)
    # `below_threshold fail` verdicts: each names the field, the value and the threshold (exit 3).
    annotation_failures: list[str] = field(default_factory=list)
    # Filled by the augment step (a dsc.augment.AugmentOutcome): its generated rows are the last rows
    # of `kept`; its rejected generations and per-rule stats, counted apart from the input rows.
    augment: object | None = None

    @property
    def gates(self) -> list[GateResult]:
        """The gate verdicts, in plan order (from the stats, where they are saved)."""
        return [GateResult(**g) for g in self.stats.get("gates", [])]

    @property
    def failed(self) -> list[GateResult]:
        """Failed gates, errors and warnings alike."""
        return [g for g in self.gates if not g.passed]


def run_plan(plan: Plan, base_dir: Path, out_dir: Path, workers: int = 1,
             progress: Callable[[str], None] | None = None, permissions: Permissions | None = None,
             kept_jsonl: bool = False) -> RunResult:
    """Execute `plan` (paths relative to `base_dir`) and write its outputs to `out_dir`.

    `permissions`: what the operator lets the run reach (`dsc.engines.permissions`); none by default."""
    enforce(plan, base_dir, permissions or Permissions())
    with outputs.claim(out_dir, plan, base_dir, kept_jsonl=kept_jsonl) as folder:  # kept.jsonl on request
        return _run_claimed(plan, base_dir, folder, workers, progress or (lambda _msg: None))


def execute(plan: Plan, base_dir: Path, work_dir: Path, workers: int = 1,
            progress: Callable[[str], None] | None = None, permissions: Permissions | None = None,
            sources: tuple | None = None) -> RunResult:
    """Execute `plan` as `run_plan` does, stats and gate verdicts included, but write no output (the
    result's manifest stays empty). Stage results and generations are cached in `work_dir/.dsc-cache`:
    plans executed with the same `work_dir` share the stages they have in common, so a second plan
    reruns only what follows its first change. Annotation task files go to `work_dir/.dsc-tasks`.
    `sources`: what `read_sources` gave for a plan with the same sources, schema and `base_dir`, read
    once for both. For `dsc diff --data` (`dsc.datadiff`)."""
    enforce(plan, base_dir, permissions or Permissions())
    work_dir = Path(work_dir)
    work_dir.mkdir(parents=True, exist_ok=True)
    return _execute(plan, base_dir, work_dir, work_dir / ".dsc-tasks", workers, progress or (lambda _msg: None),
                    sources)


def _run_claimed(plan: Plan, base_dir: Path, folder: outputs.RunFolder, workers: int,
                 note: Callable[[str], None]) -> RunResult:
    """The run itself, in its claimed output folder (`dsc.engines.outputs.claim`)."""
    result = _execute(plan, base_dir, folder.out_dir, folder.staging, workers, note)
    note(outputs.progress_note(plan))
    result.manifest = outputs.write(folder, plan, result, base_dir, workers=workers)
    return result


def _execute(plan: Plan, base_dir: Path, out_dir: Path, tasks_dir: Path, workers: int,
             note: Callable[[str], None], sources: tuple | None = None) -> RunResult:
    """Every stage up to the stats and gate verdicts, cached in `out_dir/.dsc-cache`; writes no output."""
    ctx = RunContext(base_dir=base_dir, seed=plan.dataset.seed, workers=workers, cache_dir=out_dir / CACHE_DIR)
    warming = _warm(plan)
    table, source_rejects, inputs, stages = sources or read_sources(plan, base_dir, note, workers)
    warming.join()  # before any stage: a process pool must not fork while a kernel is being loaded
    stages = list(stages)  # appended to below: `sources` may serve another plan too
    reject_tables = [source_rejects]

    cache = _Cache(out_dir / CACHE_DIR, _input_key(plan, inputs))
    if plan.columns:
        annotated = {a.field for a in plan.annotations}  # filled in by the annotate stage
        raw = standardized(plan)  # typed by their rule
        schema = json.dumps({"columns": [c.model_dump(mode="json", exclude={"line"}) for c in plan.columns],
                             "annotated": sorted(annotated), "raw": sorted(raw)}, sort_keys=True)
        table = _stage(cache, "schema", schema, table, lambda t: validate(t, plan.columns, annotated, raw),
                       reject_tables, stages, "schema", "schema", 0, note)
    for step in plan.steps:
        op = OPERATORS[step.op]
        op.require_columns(table.column_names, step.params, step.id, step.line)
        payload = json.dumps({"id": step.id, "op": step.op, "params": step.model_dump(mode="json")["params"]},
                             sort_keys=True)
        try:
            payload += _files_of(op, step.params, base_dir)
            table = _stage(cache, step.id, payload, table, lambda t, s=step, o=op: o.apply(t, s.params, ctx),
                           reject_tables, stages, step.id, step.op, step.line, note)
        except RunError as err:
            raise err.at_line(step.line)

    annotations, failures = {}, []
    for ann in plan.annotations:
        # Not cached: its stats and task files are outputs of every run.
        note(f"annotate {ann.field}")
        labels = next((c.labels for c in plan.columns if c.name == ann.field), None)
        done = apply_annotations(table, ann, base_dir, labels, tasks_dir=tasks_dir)
        outcome = done.as_outcome()
        reject_tables.append(tag_removed(outcome.removed, ann.id, ann.line))
        stages.append(StageStats(ann.id, "annotate", ann.line, table.num_rows, outcome.table.num_rows,
                                 flags=outcome.flags, resolutions=done.resolutions))
        note(StageDone(ann.id, table.num_rows, outcome.table.num_rows))
        annotations[ann.field] = done.stats
        if done.failed:
            failures.append(f"line {ann.line}: {done.failed}")
        table = outcome.table

    all_rejects = pa.concat_tables([t for t in reject_tables if t.num_rows], promote_options="permissive") \
        if any(t.num_rows for t in reject_tables) else empty_rejects()
    if plan.split is not None:
        note("splitting")
        table = assign_splits(table, plan.split)
        _check_splits(plan, table)
    augmented = None
    if plan.augment:
        # After the split: each generated row copies its source row's _dsc_split, so no generation
        # crosses splits. Not stage-cached: the generation cache makes a rerun cost no model call.
        from dsc.augment import AugmentContext, augment

        augmented = augment(table, plan.augment, AugmentContext(base_dir, plan.dataset.seed, plan.dataset.locale,
                                                                note), out_dir)
        table = pa.concat_tables([table, augmented.generated], promote_options="default")
    result = RunResult(table, all_rejects, stages, inputs, annotations=annotations, annotation_failures=failures,
                       augment=augmented)
    note("gathering stats and judging gates")
    result.stats = build_stats(plan, result, result.annotations)
    return result


def _warm(plan: Plan) -> threading.Thread:
    """A started thread that loads the compiled kernels the plan's rules will run (`Operator.warm`)
    while the sources are read, which is mostly I/O and Arrow work that releases the GIL."""

    def warm() -> None:
        for step in plan.steps:
            try:
                OPERATORS[step.op].warm(step.params)
            except Exception:  # noqa: BLE001 - loading ahead is only a speed-up: the stage itself
                pass  # runs the same kernels and reports any error there, with its rule and line

    thread = threading.Thread(target=warm, name="dsc-warm", daemon=True)
    thread.start()
    return thread


def read_sources(plan: Plan, base_dir: Path, note: Callable[[str], None], workers: int = 1
                 ) -> tuple[pa.Table, pa.Table, list[dict], list[StageStats]]:
    """Every source of the plan, concatenated: (rows, rejected input rows, input files, stage stats).
    JSON files are read by the schema's declared types. Both engines read this way. `workers`
    threads hash the rows' content ids (the ids do not depend on it)."""
    from dsc.io import SourceError, SourceSpec, read_source

    if not plan.sources:
        raise RunError("the plan has no source", exit_code=EXIT_SPEC_ERROR, code="DSC310")
    tables, rejects, inputs, stages = [], [], [], []
    types = declared(plan)
    read_by: dict[str, str] = {}  # each input file, and the source that read it
    for src in plan.sources:
        note(f"reading source {src.name}")
        try:
            result = read_source(SourceSpec.from_plan(src, types), base_dir, workers=workers)
        except SourceError as err:
            raise RunError(str(err), code=err.code, hint=err.hint, line=src.line) from None
        for i in result.inputs:
            # A row's source is told by the file it was read from (`sample … from SOURCE`, the
            # report's inputs), and the same file twice would give every row of it twice.
            real = os.path.realpath(base_dir / i.path)  # however the patterns spell it
            if read_by.setdefault(real, src.name) != src.name:
                raise RunError(f"{i.path} is read by source '{read_by[real]}' and by source '{src.name}': its "
                               "rows would be read twice, and no rule could tell whose they are",
                               code="DSC302", line=src.line, hint="read each file in one source block")
        tables.append(result.table)
        rejects.extend({ID: r.row_id, RULE: r.rule, LINE: src.line, REASON: r.reason, SRC: r.source, ROW: r.row}
                       for r in result.rejects)
        inputs.extend({"path": i.path, "sha256": i.sha256, "bytes": i.bytes, "rows": i.rows} for i in result.inputs)
        stages.append(StageStats(f"source:{src.name}", "source", src.line,
                                 result.table.num_rows + len(result.rejects), result.table.num_rows))
        note(StageDone(f"source:{src.name}", result.table.num_rows + len(result.rejects), result.table.num_rows))
    table = pa.concat_tables(tables, promote_options="default") if len(tables) > 1 else tables[0]
    return table, rejects_from_records(rejects), inputs, stages


def _check_splits(plan: Plan, table: pa.Table) -> None:
    """Every declared split must receive rows: an empty one would export an empty training set."""
    import pyarrow.compute as pc

    present = set(pc.unique(table.column(SPLIT)).to_pylist())
    empty = [p for p in plan.split.parts if p.name not in present]
    if empty:
        names = ", ".join(f"'{p.name}' ({p.fraction})" for p in empty)
        one = len(empty) == 1
        raise RunError(f"split{'' if one else 's'} {names} {'has' if one else 'have'} no "
                       f"rows: none of the {table.num_rows} kept rows' keys ({plan.split.key}) hashed into "
                       f"{'it' if one else 'them'}; nothing was written (more data, a larger fraction or another "
                       "seed fills it)", code="DSC311", line=plan.split.line)


class _Cache:
    """Stage results on disk, keyed by a hash chain: input fingerprints → stage → stage → …

    Each entry is the kept and removed tables as zstd-compressed Arrow IPC files plus a JSON log of
    flags, decisions and how each table was stored. IPC keeps the schema exactly (parquet renames a
    list's item field) and zstd writes text at about the speed of the uncompressed file, a third of
    its size. Every stage is cached, cheap ones too: a rerun of an unchanged plan skips, and reports
    as cached, every stage.

    Most stages keep or remove rows of their input unchanged, or change one column of it: caching
    their tables whole wrote the input again at every stage (5 × the input text on a five-rule
    plan). So a table is stored as its difference from the stage's input (`_delta`): the input
    positions of its rows and the columns that are not those rows' input values, which the rerun —
    holding the same input, as the key covers everything upstream — takes back (`_undelta`). A
    stage that changed nothing stores no kept table at all.
    """

    def __init__(self, root: Path, seed_key: str):
        self.root = root
        self.key = seed_key

    def advance(self, payload: str) -> str:
        self.key = hashlib.sha256((self.key + "\n" + payload).encode()).hexdigest()
        return self.key

    def load(self, key: str, table: pa.Table):
        """The entry under `key` as (kept, removed, log), rebuilt over the stage's input `table`; None
        when there is none or it cannot be read whole."""
        path = self.root / f"{key}.log.json"
        if not path.exists():
            return None
        try:
            log = json.loads(path.read_text())
            kept, removed = (_undelta(table, log.get(name, {"stored": "table"}), self.root / f"{key}.{name}.arrow")
                             for name in ("kept", "removed"))
            return kept, removed, log
        except (OSError, pa.ArrowException, ValueError, KeyError, TypeError, AttributeError):
            return None  # a damaged cache entry is recomputed, never trusted

    def save(self, key: str, table: pa.Table, outcome: Outcome) -> None:
        """Store `outcome` of the stage whose input was `table`; the log, written last, makes it an entry."""
        self.root.mkdir(parents=True, exist_ok=True)
        log = {"flags": outcome.flags, "decisions": outcome.decisions}
        for k, (name, tbl) in enumerate((("kept", outcome.table), ("removed", outcome.removed))):
            log[name], stored = _delta(table, tbl, None if outcome.positions is None else outcome.positions[k],
                                       outcome.unchanged)
            target = self.root / f"{key}.{name}.arrow"
            if stored is None:
                target.unlink(missing_ok=True)
                continue
            tmp = self.root / f".{key}.{name}.tmp"
            with pa.OSFile(str(tmp), "wb") as sink, \
                    pa.ipc.new_file(sink, stored.schema, options=pa.ipc.IpcWriteOptions(compression="zstd")) as writer:
                writer.write_table(stored)
            tmp.replace(target)
        tmp = self.root / f".{key}.log.tmp"
        tmp.write_text(json.dumps(log))
        tmp.replace(self.root / f"{key}.log.json")


# The column of a stored difference that holds each row's position in the stage's input.
_POSITION = "position"
_COMPARE_ROWS = 65_536  # rows taken from the input at a time to compare: bounds the memory it takes


def _delta(source: pa.Table, table: pa.Table, positions=None, unchanged: bool = False) -> tuple[dict, pa.Table | None]:
    """How to store `table`, a result of the stage whose input was `source`: (its log entry, the
    table to write, None for nothing). `positions`: where the stage says `table`'s rows are in
    `source` (`Outcome.positions`), which saves searching for them; checked like a found guess,
    unless `unchanged` (`Outcome.unchanged`: `split_rows` filtered the input's own rows, so their
    values are the input's by construction).

    `{"stored": "input"}`: it is `source` itself. `{"stored": "rows", "columns": [...]}`: its rows
    are `source` rows (found by `_dsc_id`, or by position when no row was removed), and the file
    holds their positions plus each column whose values differ from those rows' — checked value by
    value here, so the rebuilt table equals `table` whatever the ids are. `{"stored": "table"}`:
    the whole table (no id to match rows by, or most columns changed)."""
    whole = {"stored": "table"}, table
    if table.schema.metadata != source.schema.metadata or len(set(table.column_names)) < table.num_columns \
            or len(set(source.column_names)) < source.num_columns:
        return whole
    if positions is None or len(positions) != table.num_rows:
        positions, unchanged = _positions(source, table), False
    if positions is None:
        return whole
    same = [f.name for f in table.schema if f.name in source.schema.names
            and source.schema.field(f.name).equals(f, check_metadata=True)
            and (unchanged or _same_values(source.column(f.name), positions, table.column(f.name)))]
    if not same:
        return whole
    if len(same) == table.num_columns and table.num_rows == source.num_rows and len(source.schema) == len(same) \
            and source.schema.names == same and _is_range(positions):
        return {"stored": "input"}, None
    changed = [name for name in table.column_names if name not in same]
    stored = pa.table([pa.array(positions, pa.int64()), *(table.column(n) for n in changed)],
                      schema=pa.schema([pa.field(_POSITION, pa.int64()), *(table.schema.field(n) for n in changed)]))
    return {"stored": "rows", "columns": table.column_names, "from_input": same}, stored


def _undelta(source: pa.Table, entry: dict, path: Path) -> pa.Table:
    """The table that `_delta(source, table)` stored as `entry` (its file at `path`): `table` again."""
    if entry["stored"] == "input":
        return source
    stored = _read_ipc(path)
    if entry["stored"] == "table":
        return stored
    if entry["stored"] != "rows":
        raise ValueError(f"unknown cache entry {entry['stored']!r}")
    taken = source.take(stored.column(_POSITION)) if stored.num_rows != source.num_rows or not _is_range(
        stored.column(_POSITION).to_numpy()) else source
    fields = [source.schema.field(n) if n in entry["from_input"] else stored.schema.field(n) for n in entry["columns"]]
    columns = [taken.column(n) if n in entry["from_input"] else stored.column(n) for n in entry["columns"]]
    return pa.table(columns, schema=pa.schema(fields, metadata=source.schema.metadata))


def _positions(source: pa.Table, table: pa.Table):
    """For each row of `table`, the position of a `source` row that may be it (by `_dsc_id`; by
    position when both have the same rows count and no usable id), as a numpy array; None when
    some row has none. Only a guess: `_delta` compares the values."""
    import numpy as np
    import pyarrow.compute as pc

    if ID in source.column_names and ID in table.column_names:
        try:
            found = pc.index_in(table.column(ID), value_set=source.column(ID).combine_chunks())
        except pa.ArrowException:
            found = None
        if found is not None and found.null_count == 0:
            return found.to_numpy()
    if table.num_rows == source.num_rows:
        return np.arange(table.num_rows, dtype=np.int64)
    return None


def _is_range(positions) -> bool:
    import numpy as np

    return bool(np.array_equal(positions, np.arange(len(positions))))


def _same_values(column: pa.ChunkedArray, positions, values: pa.ChunkedArray) -> bool:
    """True when `column` taken at `positions` equals `values`, compared a slice of rows at a time."""
    if _is_range(positions) and len(column) == len(values):
        return column.equals(values)
    for start in range(0, len(positions), _COMPARE_ROWS):
        part = positions[start:start + _COMPARE_ROWS]
        if not column.take(part).equals(values.slice(start, len(part))):
            return False
    return True


def _read_ipc(path: Path) -> pa.Table:
    # Safe to map: entries are only ever replaced by rename, never rewritten in place.
    with pa.memory_map(str(path)) as source:
        return pa.ipc.open_file(source).read_all()


def _stage(cache: _Cache, name: str, payload: str, table: pa.Table, run, reject_tables, stages,
           stage_id: str, op: str, line: int, note) -> pa.Table:
    key = cache.advance(payload)
    hit = cache.load(key, table)
    rows_in = table.num_rows
    if hit is not None:
        note(f"{stage_id}: from cache")
        kept, removed, log = hit
        outcome = Outcome(kept, removed, log["flags"], log["decisions"])
    else:
        note(f"{stage_id}: {rows_in} rows")
        outcome = run(table)
        cache.save(key, table, outcome)
    outcome = _handed_on(table, outcome)
    reject_tables.append(tag_removed(outcome.removed, stage_id, line))
    stages.append(StageStats(stage_id, op, line, rows_in, outcome.table.num_rows, hit is not None,
                             outcome.flags, outcome.decisions))
    note(StageDone(stage_id, rows_in, outcome.table.num_rows, hit is not None))
    if outcome.removed.num_rows + outcome.table.num_rows != rows_in:
        raise AssertionError(f"stage {stage_id} lost rows: {rows_in} in, {outcome.table.num_rows} kept, "
                             f"{outcome.removed.num_rows} removed")
    return outcome.table


def _handed_on(table: pa.Table, outcome: Outcome) -> Outcome:
    """The outcome, with the stage's input itself as its kept rows when the stage changed nothing.

    A stage that removes no row and changes no value (a schema check that passes, a filter that
    matches nothing) may still return a copy of its input. Handing the input on instead lets the
    copy go, so memory holds one table rather than two while the next stages run — the input
    may be held elsewhere too. Only an exact match is handed on: same schema, same values and
    the same chunks (how a column is cut shows in the bytes of the parquet files written)."""
    kept = outcome.table
    if kept is table or outcome.removed.num_rows or kept.num_rows != table.num_rows:
        return outcome
    if not kept.schema.equals(table.schema, check_metadata=True):
        return outcome
    if any([len(c) for c in a.chunks] != [len(c) for c in b.chunks] for a, b in zip(kept.columns, table.columns)):
        return outcome
    if not kept.equals(table):
        return outcome
    return Outcome(table, outcome.removed, outcome.flags, outcome.decisions)


def _files_of(op, params: dict, base_dir: Path) -> str:
    """The content of the files a rule reads besides the rows (decontaminate's eval sets: its
    `input_files`), for its stage's cache key: an edited file reruns the rule. '' for other rules."""
    files = op.input_files(params, base_dir)
    return "\n" + json.dumps(files, sort_keys=True) if files else ""


def _input_key(plan: Plan, inputs: list[dict]) -> str:
    body = json.dumps({"seed": plan.dataset.seed, "inputs": inputs, "sources": [s.model_dump(mode="json", exclude={"line"})
                                                     for s in plan.sources]}, sort_keys=True)
    return hashlib.sha256(body.encode()).hexdigest()
