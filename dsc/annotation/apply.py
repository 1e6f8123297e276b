"""Applying an `annotate FIELD { … }` block to the rows: join, measure, decide, resolve.

**Join.** An annotation's item is a row's `_dsc_id`: the source's `key` value when it
declares one (`key ticket_id` → item `T-1042`), otherwise the row's content id. Annotations
of items that are not in the data are reported, not used.

**Each row**, in order:

1. *Floors.* A row with no annotations, fewer than `annotators` annotators, fewer than
   `experts` annotators of the experts' role, or an item agreement under `item_agreement`
   falls short. `below_threshold` decides: `drop` removes it with the reason; `flag` keeps it
   (flagged; a label is still written when one resolves, and a row nobody annotated keeps
   FIELD as it was); `fail` keeps it flagged and fails the run. Rows short of annotators or
   experts are also written to the task file, whatever the policy.
2. *Resolution.* The label is resolved by `resolve` (see `dsc.annotation.resolve`). When it
   stays open, the tie policy drops the row, flags it (kept, field unchanged), or takes the
   first candidate in label order.
3. The resolved label is written into FIELD (a string column, created when missing); a row
   whose label did not resolve keeps the value it had (null when it had none).

**The dataset** gets one coefficient (`agreement METRIC [LEVEL]`; percent agreement when the
block names none) over every data item with two or more labels. Under the threshold,
`below_threshold fail` fails the run; `drop` and `flag` have no single item to act on, so the
shortfall is recorded (`passed: false` and a warning) for the report and for gates.

Nothing is lost: every input row is either in `table` or in `removed`, with its reason.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.annotation.ingest import Annotation, AnnotationFileError, Problem, read_annotations
from dsc.annotation.metrics import (Agreement, ItemScorer, MetricError, agreement, kind_of, label_pairs,
                                    make_scale, natural_order)
from dsc.annotation.resolve import Resolution, Vote, resolve
from dsc.annotation.summary import Facts, summarize
from dsc.annotation.tasks import Task, write_tasks
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.ops.runtime import Outcome, RunError, removed_rows
from dsc.reserved import ID, RESERVED_PREFIX

if TYPE_CHECKING:
    from dsc.plan import AnnotationPlan


@dataclass
class AnnotationOutcome:
    """What applying one annotate block gives the engine.

    `table`: the rows kept, FIELD holding the resolved labels. `removed`: the rows dropped, in
    the shape `dsc.ops.runtime.removed_rows` makes, each with its reason. `flags`: one
    `{"row_id", "reason"}` per flagged row. `stats`: JSON-ready figures for the report and
    gates. `failed`: None, or why the run must fail (`below_threshold fail`).
    `resolutions`: one record per row, in row order — its votes, item agreement, and how its
    label was resolved or why not (see `_resolution`); the engines write them to `labels.jsonl`.
    `tasks`: the items short of annotators or experts (also written to the task files)."""

    table: pa.Table
    removed: pa.Table
    flags: list[dict[str, Any]]
    stats: dict[str, Any]
    failed: str | None = None
    resolutions: list[dict[str, Any]] = field(default_factory=list)
    tasks: list[Task] = field(default_factory=list)

    def as_outcome(self) -> Outcome:
        """The engine's stage outcome: rows kept and removed, and flags. (Label resolutions are
        not conflict decisions; the engines keep them apart.)"""
        return Outcome(self.table, self.removed, self.flags)


@dataclass
class _Row:
    """The decision for one row, built up as the rules are applied."""

    label: str | None = None
    removed: str | None = None
    flags: list[str] = field(default_factory=list)
    short_annotators: bool = False
    short_experts: bool = False
    low: bool = False  # item agreement under the item floor
    annotated: bool = False
    # resolved / first / drop / flag (how resolution went), below_floor (removed by a floor
    # before resolution), unannotated (kept with nothing to resolve)
    status: str = ""
    method: str | None = None  # how a `resolved` label was reached (Resolution.method)

    @property
    def short(self) -> bool:
        return self.short_annotators or self.short_experts

    @property
    def breach(self) -> bool:
        return self.short or self.low


def apply_annotations(table: pa.Table, plan: AnnotationPlan, base_dir: Path,
                      labels: list[str] | None = None, *, tasks_dir: Path | None = None) -> AnnotationOutcome:
    """Apply `plan` (one annotate block) to `table`; `labels` are the schema's allowed labels.

    Reads the annotation file relative to `base_dir` (the spec's folder). When the block
    names a task file, writes it relative to `tasks_dir` — the run's staging folder, whence it is
    put in place with the exports, and which it may not leave — or `base_dir` when none is given. Raises
    `RunError` for a file that cannot be read or a metric that cannot apply to these labels
    (exit 2 when the schema's labels contradict the metric, else 4).

    >>> import tempfile, pyarrow as pa
    >>> from dsc.plan import AnnotationPlan
    >>> d = Path(tempfile.mkdtemp())
    >>> _ = (d / "a.jsonl").write_text("".join(
    ...     f'{{"item": "{i}", "annotator": "{a}", "label": "{l}"}}\\n'
    ...     for i, a, l in [("1", "x", "bug"), ("1", "y", "bug"), ("2", "x", "bug"), ("2", "y", "ask")]))
    >>> rows = pa.table({"_dsc_id": ["1", "2", "3"], "text": ["a", "b", "c"]})
    >>> plan = AnnotationPlan(id="annotate[kind]", field="kind", source="a.jsonl", min_annotators=2)
    >>> out = apply_annotations(rows, plan, d)
    >>> out.table.column("kind").to_pylist(), out.removed.column("_dsc_reason").to_pylist()
    (['bug'], ['tie between ask and bug (1 vote each)', 'short of annotations: no annotations for item'])
    """
    where = f"annotate {plan.field}"
    if not plan.source:
        raise RunError(f"{where}: no 'from' file names the annotations", exit_code=EXIT_SPEC_ERROR, code="DSC310",
                       line=plan.line)
    try:
        ingested = read_annotations(base_dir / plan.source, plan.format, plan.field, labels)
    except AnnotationFileError as err:
        raise RunError(f"{where}: {err}", code=err.code, line=plan.line) from None

    ids = [str(x) for x in table.column(ID).to_pylist()]
    known = set(ids)
    by_item: dict[str, list[Annotation]] = {}
    outside: list[Problem] = []
    for ann in ingested.annotations:
        if ann.item in known:
            by_item.setdefault(ann.item, []).append(ann)
        else:
            outside.append(Problem(ann.source, f"item '{ann.item}' is not in the data", ann.item))
    units = {item: {a.annotator: a.label for a in anns} for item, anns in sorted(by_item.items())}
    order = list(labels) if labels is not None else natural_order([a.label for a in ingested.annotations])
    metric = plan.metric or "percent"
    try:
        overall = agreement(units, metric, plan.level, order)
        scorer = ItemScorer(make_scale(kind_of(metric, plan.level), order), units)
    except MetricError as err:
        raise RunError(f"{where}: {err}", exit_code=EXIT_SPEC_ERROR if labels is not None else EXIT_INPUT_ERROR,
                       code=err.code, line=plan.line) from None

    rows: list[_Row] = []
    resolutions: list[dict[str, Any]] = []
    scores: list[float] = []
    resolved_of: dict[str, str] = {}
    for item in ids:
        anns = by_item.get(item, [])
        row, score, resolution = _decide(anns, plan, scorer, order)
        rows.append(row)
        resolutions.append(_resolution(plan.field, item, anns, score, resolution, row, order))
        if score is not None:
            scores.append(score)
        if anns and resolution.label is not None:
            resolved_of[item] = resolution.label

    short = [i for i, r in enumerate(rows) if r.short]
    tasks = [_task(ids[i], by_item.get(ids[i], []), plan, data)
             for i, data in zip(short, _data_rows(table.take(pa.array(short, pa.int64()))))]
    written = _write_task_files(tasks, plan, where, base_dir if tasks_dir is None else tasks_dir,
                                tasks_dir is not None)
    drop = np.array([r.removed is not None for r in rows], dtype=bool)
    removed = removed_rows(table, drop, [r.removed for r in rows if r.removed is not None])
    kept = _write_labels(table, plan.field, rows).filter(pa.array(~drop))
    flags = [{"row_id": item, "reason": "; ".join(r.flags)} for item, r in zip(ids, rows)
             if r.flags and r.removed is None]
    stats = summarize(Facts(
        plan=plan, ingested=ingested, outside=outside, overall=overall, passed=_passed(plan, overall),
        scores=scores, rows=rows, by_item=by_item, order=order, resolved=resolved_of, tasks=len(tasks),
        task_files=written, flagged=len(flags),
        pairs=label_pairs(units, order)))
    return AnnotationOutcome(kept, removed, flags, stats, _failure(plan, overall, rows), resolutions, tasks)


def _decide(anns: list[Annotation], plan: AnnotationPlan, scorer: ItemScorer,
            order: list[str]) -> tuple[_Row, float | None, Resolution]:
    row = _Row()
    annotators = {a.annotator for a in anns}
    experts = {a.annotator for a in anns if plan.expert_role and a.role == plan.expert_role}
    row.short_annotators = not anns or len(annotators) < plan.min_annotators
    row.short_experts = plan.min_experts > 0 and len(experts) < plan.min_experts
    score = scorer([a.label for a in anns])
    row.low = plan.item_threshold is not None and score is not None and Decimal(str(score)) < plan.item_threshold
    floors = []
    if row.short:
        floors.append("short of annotations: " + _shortfall(len(annotators), len(experts), plan))
    if row.low:
        floors.append(f"item agreement {score:g} is below {plan.item_threshold}")
    resolution = resolve([Vote(a.annotator, a.label, a.role) for a in anns], plan.resolve, plan.tie,
                         expert_role=plan.expert_role, prefer=plan.prefer, order=order)
    row.annotated = bool(anns)
    if floors:
        if plan.below_threshold == "drop":
            row.removed = "; ".join(floors)
            row.status = "below_floor"
            return row, score, resolution
        row.flags += floors
    if not anns:
        row.status = "unannotated"
        return row, score, resolution  # nothing to resolve: kept flagged, FIELD as it was
    row.status, row.method = resolution.status, resolution.method
    if resolution.status == "drop":
        row.removed = "; ".join(row.flags + [resolution.reason or "no label resolved"])
    elif resolution.status == "flag":
        row.flags.append(resolution.reason or "no label resolved")
    row.label = resolution.label
    return row, score, resolution


def _shortfall(annotators: int, experts: int, plan: AnnotationPlan) -> str:
    """Why an item is short, e.g. '1 of 3 annotators, 0 of 1 domain_expert annotators'."""
    if annotators == 0:
        return "no annotations for item"
    parts = []
    if annotators < plan.min_annotators:
        parts.append(f"{annotators} of {plan.min_annotators} annotators")
    if plan.min_experts > 0 and experts < plan.min_experts:
        parts.append(f"{experts} of {plan.min_experts} {plan.expert_role} annotators")
    return ", ".join(parts)


def _task(item: str, anns: list[Annotation], plan: AnnotationPlan, data: dict[str, Any]) -> Task:
    experts = len({a.annotator for a in anns if plan.expert_role and a.role == plan.expert_role})
    return Task(item, plan.field, len({a.annotator for a in anns}), plan.min_annotators, experts,
                plan.min_experts, plan.expert_role, tuple(sorted({a.annotator for a in anns})), data)


def _resolution(name: str, item: str, anns: list[Annotation], score: float | None, resolution: Resolution,
                row: _Row, order: list[str]) -> dict[str, Any]:
    """One row's label resolution: `votes` (label → count, in label order), `item_agreement`,
    `status` and `method` (as in `_Row`), `label` (the label written, else null), `kept`, and
    `reason`: why the row was removed, else its flags and a tie settled by label order (null
    when there is nothing to say)."""
    counts: dict[str, int] = {}
    for a in anns:
        counts[a.label] = counts.get(a.label, 0) + 1
    rank = {label: i for i, label in enumerate(order)}
    votes = {label: counts[label] for label in sorted(counts, key=lambda x: (rank.get(x, len(rank)), x))}
    notes = row.flags + ([resolution.reason] if row.status == "first" else [])
    return {"field": name, "row_id": item, "votes": votes, "item_agreement": score, "status": row.status,
            "method": row.method, "label": row.label, "kept": row.removed is None,
            "reason": row.removed or "; ".join(notes) or None}


def _write_task_files(tasks: list[Task], plan: AnnotationPlan, where: str, folder: Path, confined: bool) -> list[str]:
    """Write the task files under `folder`; an output folder (`confined`) may not be left."""
    if not plan.tasks:
        return []
    target = folder / plan.tasks
    if confined and not target.resolve().is_relative_to(folder.resolve()):
        raise RunError(f"{where}: task path '{plan.tasks}' leads out of the output folder", exit_code=EXIT_SPEC_ERROR,
                       code="DSC305", line=plan.line)
    return [p.relative_to(folder).as_posix() for p in write_tasks(tasks, target)]


def _data_rows(table: pa.Table) -> list[dict[str, Any]]:
    columns = [c for c in table.column_names if not c.startswith(RESERVED_PREFIX)]
    return table.select(columns).to_pylist()


def _write_labels(table: pa.Table, name: str, rows: list[_Row]) -> pa.Table:
    """FIELD as strings: the resolved label, else the value the row had."""
    if name in table.column_names:
        old = table.column(name)
        try:
            before = (old if pa.types.is_string(old.type) else pc.cast(old, pa.string())).to_pylist()
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            raise RunError(f"annotate {name}: column '{name}' holds {old.type}, which cannot hold labels",
                           code="DSC303") from None
    else:
        before = [None] * table.num_rows
    values = pa.array([r.label if r.label is not None else b for r, b in zip(rows, before)], pa.string())
    if name in table.column_names:
        return table.set_column(table.column_names.index(name), name, values)
    return table.append_column(name, values)


def _passed(plan: AnnotationPlan, overall: Agreement) -> bool | None:
    if plan.threshold is None:
        return None
    return overall.rounded is not None and Decimal(str(overall.rounded)) >= plan.threshold


def _failure(plan: AnnotationPlan, overall: Agreement, rows: list[_Row]) -> str | None:
    """Why the run fails under `below_threshold fail`, naming the field, value and threshold."""
    if plan.below_threshold != "fail":
        return None
    messages = []
    if _passed(plan, overall) is False:
        how = f"{overall.metric}{' ' + overall.level if overall.level else ''}"
        if overall.value is None:
            messages.append(f"agreement for '{plan.field}' ({how}) is undefined: {overall.reason}; it cannot "
                            f"reach the threshold {plan.threshold}")
        else:
            messages.append(f"agreement for '{plan.field}' is {overall.rounded:g} ({how}), below the threshold "
                            f"{plan.threshold}")
    breaches = sum(r.breach for r in rows)
    if breaches:
        short, low = sum(r.short for r in rows), sum(r.low for r in rows)
        parts = ([f"{short} short of annotators or experts"] if short else []) + \
                ([f"{low} below item agreement {plan.item_threshold}"] if low else [])
        messages.append(f"{breaches} item{'s' if breaches != 1 else ''} of '{plan.field}' fall short "
                        f"({', '.join(parts)})")
    return "; ".join(messages) or None
