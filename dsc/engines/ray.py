"""The Ray engine: the same Plan as the local engine, executed on a Ray Data cluster.

`dsc run SPEC --engine ray [--address auto|HOST:PORT]` — without an address a
local Ray instance is started for the run and shut down after it.

What runs where (docs/ray.md has the whole story):

- **Sources** are read on the driver by the local engine's readers (the same row ids, the same
  source rejects, the same input fingerprints) and handed to the cluster as Arrow blocks.
- **On the cluster**: the schema check and every row-wise rule (`drop`, `normalize`,
  `standardize`) as `map_batches` stages, consecutive ones fused into one pass; `dedupe exact`
  and `conflicts` as a shuffle on a stable hash of the key, each group resolved by the operator
  itself; `dedupe near` as MinHash band keys grouped across the cluster, then candidate
  components verified and resolved group by group (`ray_near`); the split assignment; and the
  per-split parquet shards under `shards/`, written by the workers.
- **On the driver**, over the rows gathered from the cluster, with the local engine's code:
  `dedupe fuzzy` (the `dedupe` library trains one model over all rows), a schema with `unique`
  columns (a value repeats an earlier row of the whole table), annotations (they join files in
  the spec's folder to the rows), augmentation, the stats and gates, and every output but the
  shards. The manifest lists each stage's placement and why a stage ran on the driver.

The engine guarantees the local engine's rows: the same kept rows in the same order, the same
rejects (row, rule, reason, cluster, survivor), flags, conflict decisions, label resolutions and
split of every row — and so the same output files, apart from the manifest's engine section and
the shards. How it keeps that promise: `dsc/engines/ray_ops.py`.
"""
from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import pyarrow as pa

from dsc.engines import outputs
from dsc.engines.local import RunResult, StageStats, _check_splits, read_sources
from dsc.engines.permissions import Permissions, enforce
from dsc.engines.ray_cluster import Cluster
from dsc.engines.ray_ops import Rule
from dsc.engines.rejects import REJECT_SCHEMA, empty_rejects, tag_removed
from dsc.exitcodes import EXIT_SPEC_ERROR
from dsc.ops.runtime import RunContext, RunError
from dsc.plan import Plan
from dsc.reserved import POS

ROWS_PER_PART = 200_000  # rows per shuffle group at most, so a group fits a worker's memory


def run_plan(plan: Plan, base_dir: Path, out_dir: Path, address: str | None = None,
             progress: Callable[[str], None] | None = None, *, num_cpus: int | None = None,
             partitions: int | None = None, permissions: Permissions | None = None,
             kept_jsonl: bool = False) -> RunResult:
    """Execute `plan` on Ray (paths relative to `base_dir`) and write its outputs to `out_dir`.

    `address` is that of an existing cluster (`auto` or the head's `HOST:PORT`; Ray Client's
    `ray://` is refused, Ray Data cannot run through it); without one a local instance with
    `num_cpus` CPUs (default: all) runs for this call. When Ray is already initialised in this
    process, that session is used and left running. `partitions` fixes the number of shuffle
    groups (default: from the cluster and the data); it changes nothing in the result, only how
    the work is cut. `permissions`: what the operator lets the run reach (`dsc.engines.permissions`).
    `kept_jsonl`: write `kept.jsonl` too, as the local engine does (`dsc run --kept-jsonl`).
    """
    from dsc.engines.ray_cluster import connect, original_error

    note = progress or (lambda _msg: None)
    if not plan.sources:
        raise RunError("the plan has no source", exit_code=EXIT_SPEC_ERROR, code="DSC310")
    enforce(plan, base_dir, permissions or Permissions())
    with outputs.claim(out_dir, plan, base_dir, engine="ray", kept_jsonl=kept_jsonl) as folder, \
            connect(address, num_cpus, note) as cluster:
        try:
            return _Run(plan, Path(base_dir), folder, cluster, note, partitions).execute()
        except Exception as err:  # a RunError raised inside a Ray task arrives wrapped
            cause = original_error(err)
            if cause is None or cause is err:
                raise
            raise RunError(getattr(cause, "message", str(cause)), cause.exit_code, code=cause.code, hint=cause.hint,
                           location=cause.location) from None


@dataclass
class _Run:
    """One execution: the dataset of live rows on the cluster, and what the driver has learnt."""

    plan: Plan
    base_dir: Path
    folder: outputs.RunFolder  # the claimed output folder
    cluster: Cluster
    note: Callable[[str], None]
    partitions: int | None
    stages: list[StageStats] = field(default_factory=list)
    reject_tables: list[pa.Table] = field(default_factory=list)
    placement: list[dict] = field(default_factory=list)
    inputs: list[dict] = field(default_factory=list)
    ctx: RunContext | None = None  # what the rules may know: base folder, seed
    parts: int = 1  # shuffle groups per keyed stage
    ds: object = None  # the ray.data.Dataset of live rows
    live: int = 0  # how many rows it holds
    total: int = 0  # input rows: positions run 0 … total-1
    empty: pa.Table | None = None  # the live rows' columns, for a dataset left without blocks
    kept_with_pos: pa.Table | None = None  # the final rows on the driver, positions kept for the shards

    def execute(self) -> RunResult:
        from dsc.engines.ray_output import write_outputs
        from dsc.engines.ray_stages import STAGE_RUNNERS, plan_stages

        plan = self.plan
        self.ctx = RunContext(base_dir=self.base_dir, seed=plan.dataset.seed, workers=1)
        table = self._read_sources()
        self.parts = self.partitions or max(2 * self.cluster.cpus, -(-table.num_rows // ROWS_PER_PART))
        self.ds = self.distribute(table)
        for kind, rules, why in plan_stages(plan):
            if self.live == 0 or kind == "driver":
                self.on_driver(rules, why or "no rows left to distribute")
            else:
                STAGE_RUNNERS[kind](self, rules)
        annotations, failures = self._annotate()
        kept = self._split()
        result = self._result(kept, annotations, failures)
        result.manifest = write_outputs(self, result)
        return result

    # ------------------------------------------------------------------ moving rows

    def distribute(self, table: pa.Table):
        """`table` as a dataset of about `parts` blocks, cut in input order."""
        import ray.data

        size = max(1, -(-table.num_rows // self.parts))
        blocks = [table.slice(lo, size) for lo in range(0, table.num_rows, size)] or [table]
        self.live = table.num_rows
        self.empty = table.schema.empty_table()
        return ray.data.from_arrow(blocks)

    def collect(self) -> pa.Table:
        """The live rows on the driver, in input order."""
        import ray

        tables = ray.get(self.ds.to_arrow_refs())
        if not tables:  # a stage that kept no row may leave no block, and so no schema, behind
            schema = self.ds.schema()
            return schema.base_schema.empty_table() if schema is not None else self.empty
        return pa.concat_tables(tables, promote_options="default").sort_by(POS).combine_chunks()

    # ------------------------------------------------------------------ bookkeeping

    def record(self, rule: Rule, rejects: pa.Table, flags: list, decisions: list, where: str, why: str = "",
               resolutions: list | None = None) -> None:
        """Count one finished stage: its funnel row, its rejects, and where it ran."""
        removed = rejects.num_rows
        self.stages.append(StageStats(rule.id, rule.op, rule.line, self.live, self.live - removed, False, flags,
                                      decisions, resolutions or []))
        self.reject_tables.append(rejects)
        self.placement.append({"id": rule.id, "where": where, **({"why": why} if why else {})})
        self.live -= removed

    def absorb(self, out, rules: list[Rule]) -> None:
        """Take a stage's output apart: side records to the driver, live rows on as the next dataset."""
        import ray

        from dsc.engines.ray_ops import live_part, side_part

        out = out.materialize()
        refs = out.map_batches(side_part, batch_format="pyarrow", batch_size=None).to_arrow_refs()
        side = [json.loads(s) for t in ray.get(refs) for s in t.column(0).to_pylist()]
        self.ds = out.map_batches(live_part, batch_format="pyarrow", batch_size=None)
        # The local engine's `kept + removed == input`, counted on what the cluster really holds.
        rows_in, kept = self.live, out.count() - len(side)
        removed = sum(r["kind"] == "reject" for r in side)
        if kept + removed != rows_in:
            raise AssertionError(f"stage {', '.join(r.id for r in rules)} lost rows: {rows_in} in, {kept} kept, "
                                 f"{removed} removed")
        by_rule: dict[str, list[dict]] = defaultdict(list)
        for record in side:
            by_rule[record["rule"]].append(record)
        for rule in rules:
            records = by_rule.pop(rule.id, [])
            rejects = sorted((r for r in records if r["kind"] == "reject"), key=lambda r: r["pos"])
            logs = sorted((r for r in records if r["kind"] == "log"), key=lambda r: r["order"])
            self.record(rule, pa.Table.from_pylist([r["record"] for r in rejects], schema=REJECT_SCHEMA),
                        [f for r in logs for f in r["flags"]], [d for r in logs for d in r["decisions"]], "cluster")
        if by_rule:
            raise AssertionError(f"side records of unknown rules: {sorted(by_rule)}")

    def on_driver(self, rules: list[Rule], why: str) -> None:
        """Run rules on the driver, over the gathered rows, exactly as the local engine does."""
        from dsc.engines.ray_ops import run_rule

        table = self.collect()
        for rule in rules:
            self.note(f"{rule.id}: {table.num_rows} rows (on the driver)")
            outcome = run_rule(table, rule, self.ctx)
            if outcome.table.num_rows + outcome.removed.num_rows != table.num_rows:
                raise AssertionError(f"stage {rule.id} lost rows: {table.num_rows} in, {outcome.table.num_rows} "
                                     f"kept, {outcome.removed.num_rows} removed")
            self.record(rule, tag_removed(outcome.removed, rule.id, rule.line), outcome.flags, outcome.decisions,
                        "driver", why)
            table = outcome.table
        self.ds = self.distribute(table)

    # ------------------------------------------------------------------ the stages around the rules

    def _read_sources(self) -> pa.Table:
        """Every source through the local engine's reader; rows numbered in input order."""
        table, rejects, inputs, stages = read_sources(self.plan, self.base_dir, self.note)
        self.inputs.extend(inputs)
        self.stages.extend(stages)
        self.reject_tables.append(rejects)
        self.total = table.num_rows
        return table.append_column(POS, pa.array(range(table.num_rows), pa.int64()))

    def _annotate(self) -> tuple[dict, list[str]]:
        """Annotation blocks, on the driver with the local engine's code (they read the spec's files)."""
        from dsc.annotation import apply_annotations

        annotations, failures = {}, []
        if not self.plan.annotations:
            return annotations, failures
        table = self.collect()
        for ann in self.plan.annotations:
            self.note(f"annotate {ann.field} (on the driver)")
            labels = next((c.labels for c in self.plan.columns if c.name == ann.field), None)
            done = apply_annotations(table, ann, self.base_dir, labels, tasks_dir=self.folder.staging)
            outcome = done.as_outcome()
            self.record(Rule(ann.id, "annotate", ann.line, {}), tag_removed(outcome.removed, ann.id, ann.line),
                        outcome.flags, [], "driver", "annotations join the spec's annotation files", done.resolutions)
            annotations[ann.field] = done.stats
            if done.failed:
                failures.append(f"line {ann.line}: {done.failed}")
            table = outcome.table
        self.ds = self.distribute(table)
        return annotations, failures

    def _split(self) -> pa.Table:
        """Assign splits on the cluster (the same stable hash), then gather the kept rows."""
        from dsc.engines.ray_ops import split_rows

        if self.plan.split is not None:
            self.note("splitting")
            self.ds = self.ds.map_batches(split_rows, fn_kwargs={"split": self.plan.split}, batch_format="pyarrow",
                                          batch_size=None)
            self.placement.append({"id": "split", "where": "cluster"})
        self.ds = self.ds.materialize()
        kept = self.collect()
        if self.plan.split is not None:
            _check_splits(self.plan, kept)
        return kept

    def _result(self, kept: pa.Table, annotations: dict, failures: list[str]) -> RunResult:
        """The run's result as the local engine builds it (augmentation, then the stats)."""
        from dsc.engines.stats import build_stats

        all_rejects = pa.concat_tables([t for t in self.reject_tables if t.num_rows], promote_options="permissive") \
            if any(t.num_rows for t in self.reject_tables) else empty_rejects()
        extra = {}
        if self.plan.augment:
            kept, extra["augment"] = self._augment(kept)
        result = RunResult(kept.drop_columns([POS]), all_rejects, self.stages, self.inputs, annotations=annotations,
                           annotation_failures=failures, **extra)
        self.kept_with_pos = kept
        self.note("gathering stats and judging gates")
        result.stats = build_stats(self.plan, result, result.annotations)
        return result

    def _augment(self, kept: pa.Table):
        """Augmentation on the driver with the local engine's code; generated rows take the
        positions after the input's, so the shards stay a function of the data."""
        from dsc.augment import AugmentContext, augment

        plan = self.plan
        done = augment(kept.drop_columns([POS]), plan.augment,
                       AugmentContext(self.base_dir, plan.dataset.seed, plan.dataset.locale, self.note),
                       self.folder.out_dir)
        generated = done.generated
        generated = generated.append_column(POS, pa.array(range(self.total, self.total + generated.num_rows),
                                                          pa.int64()))
        for rule in plan.augment:
            self.placement.append({"id": rule.id, "where": "driver", "why": "generation calls a model backend"})
        return pa.concat_tables([kept, generated], promote_options="default"), done

