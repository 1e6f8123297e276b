"""The rejects table: one row per removed row, with the fields of `dsc.reserved.REJECT_FIELDS`.

Every rejects table is built here: both engines' from a stage's removed rows (`tag_removed`) and
from the source readers' rejects (`rejects_from_records`), the empty one (`empty_rejects`), the
Ray engine's from its side records (`REJECT_SCHEMA`) and augmentation's rejected generations
(`reject_table`). So `rejects.jsonl`, `augment_rejects.jsonl` and the stage caches all have the
same columns, in the same order, with the same types.
"""
from __future__ import annotations

from typing import Any

import pyarrow as pa

from dsc.reserved import (CLUSTER, DUPLICATE_OF, ID, LINE, REASON, REJECT_FIELDS, RESERVED_PREFIX, ROW, RULE,
                          SIMILARITY, SRC)

#: The rejects' Arrow schema: every field is text but the spec line (int64) and the similarity (float64).
_TYPES = {LINE: pa.int64(), SIMILARITY: pa.float64()}
REJECT_SCHEMA = pa.schema([(name, _TYPES.get(name, pa.string())) for name in REJECT_FIELDS])
# Fields that are null unless given: only a dedupe sets them (the similarity: only `dedupe near`).
_NULL_UNLESS_GIVEN = (CLUSTER, DUPLICATE_OF, SIMILARITY)


def reject_table(n: int, columns: dict[str, Any]) -> pa.Table:
    """A rejects table of `n` rows from its columns by field name, in `REJECT_FIELDS` order.

    Arrow arrays are taken as they are, lists are typed by `REJECT_SCHEMA`; `CLUSTER`,
    `DUPLICATE_OF` and `SIMILARITY` are null where left out.

    >>> t = reject_table(1, {ID: ["r1"], RULE: ["drop[q]"], LINE: [3], REASON: ["q is empty"],
    ...                      SRC: ["f:2"], ROW: ['{"q": ""}']})
    >>> t.schema.equals(REJECT_SCHEMA), t.column(CLUSTER).to_pylist()
    (True, [None])
    """
    unknown = sorted(set(columns) - set(REJECT_FIELDS))
    missing = [name for name in REJECT_FIELDS if name not in columns and name not in _NULL_UNLESS_GIVEN]
    if unknown or missing:
        raise ValueError(f"a reject has the fields {', '.join(REJECT_FIELDS)}: "
                         f"unknown {unknown or 'none'}, missing {missing or 'none'}")
    return pa.table({f.name: _column(columns.get(f.name), f.type, n) for f in REJECT_SCHEMA})


def _column(values: Any, type_: pa.DataType, n: int) -> pa.Array | pa.ChunkedArray:
    if values is None:
        return pa.array([None] * n, type_)
    if isinstance(values, (pa.Array, pa.ChunkedArray)):
        return values
    return pa.array(values, type_)


def tag_removed(removed: pa.Table, rule: str, line: int) -> pa.Table:
    """A stage's removed rows (`Outcome.removed`: the rows, their id, source and `REMOVED_FIELDS`)
    as rejects of `rule`, at spec line `line`; the row's data columns become the `ROW` JSON."""
    from dsc.engines.outputs import rows_json

    data_cols = [c for c in removed.column_names if not c.startswith(RESERVED_PREFIX)]
    n = removed.num_rows
    rows = rows_json(removed.select(data_cols)) if n else []
    dedupe = {name: removed.column(name) for name in _NULL_UNLESS_GIVEN if name in removed.column_names}
    return reject_table(n, {ID: removed.column(ID), RULE: pa.repeat(pa.scalar(rule, pa.string()), n),
                            LINE: pa.repeat(pa.scalar(line, pa.int64()), n),
                            REASON: removed.column(REASON), **dedupe, SRC: removed.column(SRC), ROW: rows})


def rejects_from_records(records: list[dict[str, Any]]) -> pa.Table:
    """Rejects from records keyed by field name (the source readers' rejects); `CLUSTER`,
    `DUPLICATE_OF` and `SIMILARITY` may be left out."""
    return reject_table(len(records), {
        name: [r.get(name) if name in _NULL_UNLESS_GIVEN else r[name] for r in records] for name in REJECT_FIELDS})


def empty_rejects() -> pa.Table:
    """The rejects of a run that rejected nothing."""
    return rejects_from_records([])
