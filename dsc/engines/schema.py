"""Schema validation: required, types, labels, unique. A violating row is rejected with its reason,
and with its values as read: a value that is not of its column's type is not lost to the cast.
Also the types JSON sources are read by (`declared`)."""
from __future__ import annotations

import re
from collections.abc import Collection

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.io import Declared
from dsc.ops.runtime import Outcome, RunError, split_rows
from dsc.plan import ColumnPlan, Plan
from dsc.reserved import ID, RESERVED_PREFIX

_NUMERIC = {"int": pa.int64(), "float": pa.float64()}
# Raw text until a `standardize` rule turns it into its typed form.
_TEXTUAL = {"text", "string", "date", "datetime", "money", "quantity"}
# The JSON kind of each type's values, as a JSON source holds them.
_JSON_KINDS = {"int": "number", "float": "number", "bool": "bool", "label": "string",
               **dict.fromkeys(_TEXTUAL, "string")}
# A label JSON can write as a number or a bool: the label check compares the value's text.
_JSON_LITERAL = re.compile(r"-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?|true|false")


def standardized(plan: Plan) -> dict[str, str]:
    """The columns a `standardize` rule reads, each with the kind it reads: the rule types them,
    and the schema check leaves them to it."""
    return {s.params["column"]: s.params["kind"] for s in plan.steps if s.op == "standardize"}


def declared(plan: Plan) -> tuple[Declared, ...]:
    """The types JSON sources are read by (`dsc.io.columns`), so that a value is rejected as it
    is read only when it does not fit its declared type: the schema's, in its order, and then
    the other columns a `standardize` rule reads.

    A column a `standardize` rule reads is read as the text of each value as written (kind
    `text`, named by the rule's kind), whatever the schema says: the rule reads the text and
    gives the column its type. Left to the data's own types: label columns with a label JSON may
    write as a number or a bool (`label {1, 2, 3}`)."""
    rules = standardized(plan)
    schema = tuple(
        Declared(c.name, rules[c.name], "text") if c.name in rules else Declared(c.name, c.type, _JSON_KINDS[c.type])
        for c in plan.columns
        if not (c.type == "label" and any(_JSON_LITERAL.fullmatch(v) for v in c.labels))
    )
    named = {c.name for c in plan.columns}
    return schema + tuple(Declared(column, kind, "text") for column, kind in rules.items() if column not in named)


def validate(table: pa.Table, columns: list[ColumnPlan], filled_later: set[str] = frozenset(),
             raw: Collection[str] = frozenset()) -> Outcome:
    """Check every row against the schema; the first violation found for a row is its reason.

    Columns in `filled_later` (label fields an `annotate` block fills) may be absent from the
    data; they are added as nulls and checked here only where the data has them. Columns in
    `raw` are read by a `standardize` rule, which gives them their type and says why a value is
    not of its kind: here only `required` and `unique` are checked. Kept rows leave with their
    columns cast to the schema's types; rejected rows with the values as read."""
    for name in sorted(filled_later - set(table.column_names)):
        table = table.append_column(name, pa.nulls(table.num_rows, pa.string()))
    read = table
    columns = [c if c.name not in filled_later else c.model_copy(update={"required": False}) for c in columns]
    missing = [c.name for c in columns if c.name not in table.column_names]
    if missing:
        present = ", ".join(n for n in table.column_names if not n.startswith(RESERVED_PREFIX))
        raise RunError(f"the data has no column {', '.join(repr(m) for m in missing)} that the schema names "
                       f"(columns present: {present})", code="DSC308")
    n = table.num_rows
    reason = np.full(n, None, dtype=object)

    def mark(mask, text):
        mask = np.asarray(mask, dtype=bool) & (reason == None)  # noqa: E711 — object array compare
        reason[mask] = text

    for col in columns:
        column = table.column(col.name)
        nulls = pc.is_null(column).to_numpy(zero_copy_only=False)
        if col.required:
            empty = nulls
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                empty = empty | pc.fill_null(pc.equal(pc.utf8_trim_whitespace(column), ""), False).to_numpy(
                    zero_copy_only=False)
            mark(empty, f"required column '{col.name}' is empty")
        if col.name in raw:
            continue
        table, bad = _coerce(table, col)
        mark(bad & ~nulls, f"column '{col.name}': value is not of type {col.type}")
        if col.labels is not None:
            text = pc.cast(table.column(col.name), pa.string())
            outside = pc.invert(pc.fill_null(pc.is_in(text, value_set=pa.array(col.labels)), True))
            mark(outside.to_numpy(zero_copy_only=False) & ~nulls,
                 f"column '{col.name}': value is not one of {{{', '.join(col.labels)}}}")
    for col in columns:
        if col.unique:
            mark(_repeats(table, col.name, reason), f"column '{col.name}' must be unique: value repeats an "
                                                    "earlier row (by row id)")
    drop = reason != None  # noqa: E711
    return split_rows(read, drop, [str(r) for r in reason[drop]], kept=table)


def _coerce(table: pa.Table, col: ColumnPlan) -> tuple[pa.Table, np.ndarray]:
    """Cast a column to its schema type exactly; rows whose value cannot be cast are marked bad.

    Numbers, booleans, text and binary are cast by Arrow over whole blocks with a *safe* cast
    (no overflow, no truncation: 300 is not an int8, 1.5 is not an int, "1.0" is not an int),
    which is what casting each value on its own did, without a Python object per row. Only a
    block holding a value that does not fit is cut in halves until the bad rows are found, so
    the cost of bad values is their number times log(block), never a per-row loop. Values of
    other types (dates, times, lists, structs) are not of a numeric or bool type: reading a
    date as a day count would be a guess, so they are rejected. A native date declared `date`
    and a native timestamp declared `datetime` become their ISO text.
    """
    column = table.column(col.name)
    n = table.num_rows
    if col.type in _TEXTUAL or col.type == "label":
        if pa.types.is_string(column.type) or pa.types.is_large_string(column.type) or col.type == "label":
            return table, np.zeros(n, dtype=bool)
        if (col.type, _moment_kind(column.type)) in (("date", "date"), ("datetime", "datetime")):
            index = table.column_names.index(col.name)
            return table.set_column(index, col.name, _iso_text(column)), np.zeros(n, dtype=bool)
        return table, np.ones(n, dtype=bool)
    target = _NUMERIC.get(col.type, pa.bool_())
    if column.type == target:
        return table, np.zeros(n, dtype=bool)
    bad = np.zeros(n, dtype=bool)
    if not _castable(column.type):
        pieces = [pa.nulls(len(c), target) for c in column.chunks]
        bad[:] = True
    else:
        pieces, at = [], 0
        for chunk in column.chunks:
            for lo in range(0, len(chunk), _CAST_BLOCK):
                part = chunk.slice(lo, _CAST_BLOCK)
                pieces.append(_safe_cast(part, target, bad[at + lo : at + lo + len(part)]))
            at += len(chunk)
    index = table.column_names.index(col.name)
    # one chunk, as before: later stages and the stage cache see the same layout
    values = pa.concat_arrays(pieces) if pieces else pa.array([], type=target)
    return table.set_column(index, col.name, values), bad


_CAST_BLOCK = 1 << 16  # rows cast at once; a block with a bad value is halved until it is found


def _moment_kind(t: pa.DataType) -> str | None:
    """`date` for Arrow's date types, `datetime` for its timestamps (a parquet file's native
    dates and times), None for the others."""
    return "date" if pa.types.is_date(t) else "datetime" if pa.types.is_timestamp(t) else None


def _iso_text(column: pa.ChunkedArray) -> pa.ChunkedArray | pa.Array:
    """Native dates and timestamps as the ISO 8601 text a `date` or `datetime` column holds
    (`2020-01-01`, `2020-01-01T10:00:00`, with the offset when the timestamp has a zone and the
    fraction when it has one): the same instant, written as `standardize` writes one, never a
    day count. Dates by Arrow's cast (`YYYY-MM-DD`, as isoformat); timestamps a value at a
    time, as Python's isoformat writes them (Arrow's text puts a space for the `T` and always
    prints the fraction)."""
    if pa.types.is_date(column.type):
        return pc.cast(column, pa.string())
    return pa.array([None if v is None else v.isoformat() for v in column.to_pylist()], pa.string())


def _castable(t: pa.DataType) -> bool:
    """Source types whose Arrow cast to int, float or bool reads the value itself, not a
    representation of it (a timestamp's cast to int would be its epoch count)."""
    return (pa.types.is_integer(t) or pa.types.is_floating(t) or pa.types.is_decimal(t)
            or pa.types.is_boolean(t) or pa.types.is_null(t) or pa.types.is_string(t)
            or pa.types.is_large_string(t) or pa.types.is_binary(t) or pa.types.is_large_binary(t))


def _safe_cast(part: pa.Array, target: pa.DataType, bad: np.ndarray) -> pa.Array:
    """``part`` cast safely to ``target``; rows that do not fit are null and set in ``bad`` (a
    view of the caller's mask for these rows)."""
    try:
        return pc.cast(part, target, safe=True)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(part) == 1:
            bad[0] = True
            return pa.nulls(1, target)
    half = len(part) // 2
    return pa.concat_arrays([_safe_cast(part.slice(0, half), target, bad[:half]),
                             _safe_cast(part.slice(half), target, bad[half:])])


def _repeats(table: pa.Table, name: str, reason: np.ndarray) -> np.ndarray:
    """Rows whose value repeats the value of a row with a smaller row id (nulls never repeat)."""
    from dsc.kernels.exact import duplicate_groups

    group = duplicate_groups([table.column(name)])
    ids = np.array(table.column(ID).to_pylist(), dtype=object)
    order = np.argsort(ids, kind="stable")
    seen: set[int] = set()
    repeat = np.zeros(table.num_rows, dtype=bool)
    nulls = pc.is_null(table.column(name)).to_numpy(zero_copy_only=False)
    for i in order:
        if nulls[i]:
            continue
        if group[i] in seen:
            repeat[i] = True
        seen.add(int(group[i]))
    return repeat
