"""What the Ray engine's workers run, one Arrow batch (or one shuffle group) at a time.

Every function here calls the operator code the local engine calls — `Operator.apply`, the
schema's `validate`, `assign_splits` — on a piece of the data, so the two engines cannot drift
apart in what a rule means. The pieces are chosen so that running on pieces is the same as
running on the whole table:

- a row-wise rule decides each row on its own, so any batch will do;
- exact dedupe and conflicts need every row sharing a key in one piece: rows are bucketed by a
  stable hash of the key (the *same* normalised key the operator compares) and each bucket,
  sorted by the rows' input position, is resolved by the operator's own `apply`, whose
  survivor choice breaks ties by row id — the result cannot depend on how rows were partitioned.

Each piece's output is its kept rows plus *side records*: one row per removed row (its reject,
already in the rejects' written shape) and per flag or conflict decision, carried as JSON in
`_dsc_side` with null data columns. The driver separates the two after each stage: the side
records are small, and carrying them inside the dataset (rather than sending them to an actor)
keeps them exact when Ray retries a task.

Rows carry `_dsc_pos`, their position in the input. Every operator keeps rows in input order,
so "the smallest row index" the local engine names clusters by is the smallest `_dsc_pos`, and
sorting by it puts rejects, flags and the kept rows back in the local engine's order.
"""
from __future__ import annotations

import functools
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import xxhash

from dsc.ops.dedupe_exact import key_columns
from dsc.engines.rejects import tag_removed
from dsc.ops.runtime import Outcome, RunContext, RunError
from dsc.reserved import BUCKET, ID, POS, RESERVED_PREFIX, SIDE, SPLIT

if TYPE_CHECKING:
    from dsc.plan import SplitPlan

_HASH_SEED = 0xD5C_B0C7  # any fixed value: bucket hashes only need to agree across workers
_NULL = b"\xff"  # never valid UTF-8, so a null cannot hash like a text value
_MIX = np.uint64(0x9E3779B97F4A7C15)


def task(fn):
    """Mark a function the workers run: a RunError it raises keeps its exact message.

    Ray Data appends retry advice to an exception's message on its way to the driver; the
    message set aside here (pickled with the exception's other attributes) is what the driver
    reports, as the local engine would."""
    @functools.wraps(fn)
    def run(*args, **kwargs):
        try:
            return fn(*args, **kwargs)
        except RunError as err:
            err.message = str(err)
            raise
    return run


@dataclass(frozen=True)
class Rule:
    """One stage of the plan as the workers need it: the schema check or a clean rule."""

    id: str
    op: str  # an operator's plan name, or "schema"
    line: int
    params: dict[str, Any]


def check_columns(table: pa.Table, rule: Rule) -> None:
    """The local engine's check that a rule's columns exist, with its message."""
    from dsc.ops import OPERATORS

    if rule.op != "schema":
        OPERATORS[rule.op].require_columns(table.column_names, rule.params, rule.id, rule.line)


def run_rule(table: pa.Table, rule: Rule, ctx: RunContext) -> Outcome:
    """Run one rule over `table` exactly as the local engine does (the same checks, the same code)."""
    from dsc.engines.schema import validate
    from dsc.ops import OPERATORS

    if rule.op == "schema":
        p = rule.params
        return validate(table, p["columns"], set(p["annotated"]), set(p["raw"]))
    check_columns(table, rule)
    try:
        return OPERATORS[rule.op].apply(table, rule.params, ctx)
    except RunError as err:
        raise err.at_line(rule.line)


# --------------------------------------------------------------------------- side records


def reject_side(removed: pa.Table, rule: Rule) -> list[dict]:
    """One side record per removed row: the reject exactly as the local engine writes it."""
    if removed.num_rows == 0:
        return []
    records = tag_removed(removed, rule.id, rule.line).to_pylist()
    positions = removed.column(POS).to_pylist()
    return [{"kind": "reject", "rule": rule.id, "pos": p, "record": r} for p, r in zip(positions, records)]


def flag_side(table: pa.Table, flags: list[dict], rule: Rule) -> list[dict]:
    """One side record per flag, ordered by its row's position (the local engine's flag order)."""
    if not flags:
        return []
    where = dict(zip(table.column(ID).to_pylist(), table.column(POS).to_pylist()))
    return [{"kind": "log", "rule": rule.id, "pos": where[f["row_id"]], "order": where[f["row_id"]],
             "flags": [f], "decisions": []} for f in flags]


def decision_side(table: pa.Table, outcome: Outcome, rule: Rule) -> list[dict]:
    """Side records for a conflicts outcome: one per key group, with the group's flags.

    The local engine lists groups by the row id of the group's first row (its smallest input
    position), so that id is the record's sort key; each flag belongs to the group holding its row."""
    where = dict(zip(table.column(ID).to_pylist(), table.column(POS).to_pylist()))
    records, placed = [], 0
    for decision in outcome.decisions:
        members = set(decision["rows"])
        head = min(decision["rows"], key=where.__getitem__)
        flags = [f for f in outcome.flags if f["row_id"] in members]
        placed += len(flags)
        records.append({"kind": "log", "rule": rule.id, "pos": where[head], "order": head,
                        "flags": flags, "decisions": [decision]})
    if placed != len(outcome.flags):
        raise AssertionError(f"{rule.id}: {len(outcome.flags) - placed} flags belong to no conflict group")
    return records


def with_side(kept: pa.Table, side: list[dict]) -> pa.Table:
    """The kept rows followed by the side records, in one table (`_dsc_side` null on kept rows)."""
    live = kept.append_column(SIDE, pa.nulls(kept.num_rows, pa.string()))
    if not side:
        return live
    n = len(side)
    columns = [pa.array([s["pos"] for s in side], pa.int64()) if f.name == POS else pa.nulls(n, f.type)
               for f in kept.schema]
    columns.append(pa.array([_dumps(s) for s in side], pa.string()))
    return pa.concat_tables([live, pa.Table.from_arrays(columns, schema=live.schema)])


def _dumps(record: dict) -> str:
    # `default=str` is what the outputs' row_json does with values JSON lacks, so nothing changes.
    return json.dumps(record, ensure_ascii=False, sort_keys=True, default=str)


def live_part(batch: pa.Table) -> pa.Table:
    """The rows still in the pipeline."""
    return batch.filter(pc.is_null(batch.column(SIDE))).drop_columns([SIDE])


def side_part(batch: pa.Table) -> pa.Table:
    """The side records only."""
    return batch.filter(pc.is_valid(batch.column(SIDE))).select([SIDE])


# --------------------------------------------------------------------------- row-wise stages


@task
def row_stage(batch: pa.Table, rules: list[Rule], ctx: RunContext) -> pa.Table:
    """Consecutive row-wise rules over one batch, each rule's rejects and flags kept apart."""
    side: list[dict] = []
    for rule in rules:
        outcome = run_rule(batch, rule, ctx)
        side += reject_side(outcome.removed, rule) + flag_side(batch, outcome.flags, rule)
        batch = outcome.table
    return with_side(batch, side)


@task
def split_rows(batch: pa.Table, split: SplitPlan) -> pa.Table:
    """The split assignment: a pure function of each row's key, so any batch will do."""
    from dsc.engines.splits import assign_splits

    return assign_splits(batch, split)


# --------------------------------------------------------------------------- keyed stages


def value_hashes(column: pa.Array | pa.ChunkedArray) -> np.ndarray:
    """A stable 64-bit hash per value: equal values (as `duplicate_groups` compares them) hash
    equal in every process; unequal values may collide, which only puts them in one bucket."""
    col = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(col.type):
        col = col.dictionary_decode()
    if pa.types.is_floating(col.type):
        # duplicate_groups: -0.0 equals 0.0 and every NaN equals every NaN.
        col = pc.add(col, pa.scalar(0, col.type))
        col = pc.if_else(pc.is_nan(col), pa.scalar(math.nan, col.type), col)
    if pa.types.is_binary(col.type) or pa.types.is_large_binary(col.type) or pa.types.is_string(col.type) \
            or pa.types.is_large_string(col.type):
        data = col.cast(pa.large_binary())
    else:
        try:
            data = pc.cast(col, pa.large_string()).cast(pa.large_binary())
        except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
            # Nested values have no text cast: their canonical JSON stands in.
            data = pa.array([None if v is None else json.dumps(_canonical(v), sort_keys=True, default=str).encode()
                             for v in col.to_pylist()], pa.large_binary())
    encoded = pc.dictionary_encode(data, null_encoding="encode")
    vocab = encoded.dictionary.to_pylist()
    hashes = np.fromiter((xxhash.xxh3_64_intdigest(_NULL if v is None else b"\x00" + v, _HASH_SEED) for v in vocab),
                         dtype=np.uint64, count=len(vocab))
    return hashes[encoded.indices.to_numpy(zero_copy_only=False)]


def _canonical(value):
    """A nested value with the float spellings duplicate_groups treats as equal made equal."""
    if isinstance(value, list):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {k: _canonical(v) for k, v in value.items()}
    if isinstance(value, float):
        return "NaN" if value != value else value + 0.0
    return value


def key_buckets(columns: list, parts: int) -> np.ndarray:
    """The bucket (0 … parts-1) of each row's key over `columns`."""
    acc = np.zeros(len(columns[0]), dtype=np.uint64)
    for column in columns:
        acc = acc * _MIX + value_hashes(column)
        acc ^= acc >> np.uint64(29)  # spread high bits down before the next column and the modulo
    return (acc % np.uint64(parts)).astype(np.int64)


@task
def keyed_rows(batch: pa.Table, rule: Rule, parts: int) -> pa.Table:
    """`batch` with its shuffle bucket: the hash of the key the rule groups rows by."""
    check_columns(batch, rule)
    if batch.num_rows == 0:
        return batch.append_column(BUCKET, pa.array([], pa.int64()))
    if rule.op == "dedupe_exact":
        columns = key_columns(batch, rule.params)
    else:  # conflicts: rows sharing the key columns' raw values
        columns = [batch.column(name) for name in rule.params["columns"]]
    return batch.append_column(BUCKET, pa.array(key_buckets(columns, parts)))


@task
def resolve_group(group: pa.Table, rule: Rule, ctx: RunContext) -> pa.Table:
    """One bucket of a keyed stage, resolved by the operator itself over rows in input order."""
    table = group.drop_columns([BUCKET]).sort_by(POS)
    outcome = run_rule(table, rule, ctx)
    side = reject_side(outcome.removed, rule)
    side += decision_side(table, outcome, rule) if rule.op == "conflicts" else flag_side(table, outcome.flags, rule)
    return with_side(outcome.table, side)


# --------------------------------------------------------------------------- worker-written shards


@task
def shard_rows(batch: pa.Table, whole: str, size: int) -> pa.Table:
    """`batch` with its shard: (split, input position // size), fixed by the data alone, so the
    files and their bytes are the same on every cluster (`whole` names the split of a plan without one)."""
    split = batch.column(SPLIT) if SPLIT in batch.column_names else pa.array([whole] * batch.num_rows, pa.string())
    shard = pc.divide(batch.column(POS), pa.scalar(size, pa.int64()))
    key = pc.binary_join_element_wise(split, pc.cast(shard, pa.string()), "\x00")
    return batch.append_column(BUCKET, key)


@task
def write_shard(group: pa.Table, out_dir: str) -> pa.Table:
    """Write one shard (its rows in input order, the columns of a split export) and describe it."""
    import hashlib

    import pyarrow.parquet as pq

    from dsc.atomic import replace_bytes

    table = group.sort_by(POS)
    split, shard = table.column(BUCKET)[0].as_py().split("\x00")
    columns = [c for c in table.column_names if not c.startswith(RESERVED_PREFIX)] + [ID]
    sink = pa.BufferOutputStream()
    pq.write_table(table.select(columns), sink)
    data = sink.getvalue().to_pybytes()
    name = f"{split}/part-{int(shard):05d}.parquet"
    path = Path(out_dir) / name
    path.parent.mkdir(parents=True, exist_ok=True)
    replace_bytes(path, data)  # a retried task rewrites the same bytes under the same name
    return pa.table({"name": [name], "split": [split], "rows": [table.num_rows], "bytes": [len(data)],
                     "sha256": [hashlib.sha256(data).hexdigest()]})
