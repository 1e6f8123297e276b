"""Table-level steps after reading: explode, renames and row ids.

All of these work on the whole Arrow table; the per-row Python is limited
to hashing (content ids, batch by batch) and key formatting, which need
each row's values.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.reserved import ID, RESERVED_PREFIX, SRC

from .model import Reject, SourceError, clip
from .rowids import content_hash, key_id, row_json, table_content_ids


def data_columns(table: pa.Table) -> list[str]:
    """The table's columns other than the ``_dsc_`` ones the reader adds."""
    return [n for n in table.column_names if n not in (ID, SRC)]


def check_reserved(names: list[str], source: str, set_aside: bool = False) -> list[str]:
    """Refuse data columns that would clash with the reader's own.

    With ``set_aside`` (a file dsc wrote, read back to be profiled) they are returned instead,
    for the caller to leave out: dsc's bookkeeping of an earlier run, not data.
    """
    found = [name for name in names if name.startswith(RESERVED_PREFIX)]
    if found and not set_aside:
        raise SourceError(
            f"source '{source}': column '{found[0]}' uses the reserved prefix '{RESERVED_PREFIX}'"
        )
    return found


def _row_reject(
    table: pa.Table, index: int, rule: str, reason: str, row_id: str | None = None
) -> Reject:
    row = table.slice(index, 1).select(data_columns(table)).to_pylist()[0]
    return Reject(
        row_id=row_id or content_hash(row),
        rule=rule,
        reason=reason,
        source=table[SRC][index].as_py(),
        row=clip(row_json(row)),
    )


def add_content_ids(table: pa.Table, workers: int = 1) -> pa.Table:
    """Append ``_dsc_id``: content hashes of the data columns (on ``workers`` threads), repeats ``~n``."""
    return table.append_column(ID, table_content_ids(table.select(data_columns(table)), workers))


def explode(table: pa.Table, column: str, rule: str) -> tuple[pa.Table, np.ndarray, list[Reject]]:
    """One row per element of the list column ``column``.

    Object elements become columns in place of ``column`` (a field that
    clashes with another column is a :class:`SourceError`); scalar elements
    keep the column's name.  A null or empty list, or a null element, is
    rejected.  Returns the table, each row's position in its parent's list,
    and the rejects.  ``_dsc_id``, if present, gets the suffix ``/position``.
    """
    if column not in table.column_names:
        raise SourceError(
            f"explode '{column}': no such column (columns: {', '.join(data_columns(table))})"
        )
    values = table[column].combine_chunks()
    if not (pa.types.is_list(values.type) or pa.types.is_large_list(values.type)):
        raise SourceError(f"explode '{column}': the column holds {values.type}, not lists")
    lengths = pc.list_value_length(values).to_numpy(zero_copy_only=False)
    rejects = []
    keep = np.ones(len(values), dtype=bool)
    for index in np.flatnonzero(values.is_null().to_numpy(zero_copy_only=False) | (lengths == 0)):
        what = "null list" if values[index].as_py() is None else "empty list"
        reason = f"explode '{column}': {what}"
        rejects.append(_row_reject(table, int(index), rule, reason, _id_at(table, index)))
        keep[index] = False
    table, values = table.filter(keep), values.filter(pa.array(keep))
    lengths = lengths[keep].astype(np.int64)
    parents = np.repeat(np.arange(len(values)), lengths)
    positions = np.arange(len(parents)) - np.repeat(np.cumsum(lengths) - lengths, lengths)
    elements = pc.list_flatten(values)

    out = table.take(pa.array(parents)).drop_columns([column])
    if ID in out.column_names:
        suffixes = pa.array(positions).cast(pa.string())
        suffixed = pc.binary_join_element_wise(out[ID], suffixes, "/")
        out = out.set_column(out.column_names.index(ID), ID, suffixed)
    at = table.column_names.index(column)
    if pa.types.is_struct(elements.type):
        for offset, (field, child) in enumerate(zip(elements.type, elements.flatten())):
            if field.name in out.column_names:
                raise SourceError(
                    f"explode '{column}': element field '{field.name}' clashes "
                    "with the column of that name"
                )
            out = out.add_column(at + offset, field.name, child)
    else:
        out = out.add_column(at, column, elements)

    null_elements = np.flatnonzero(elements.is_null().to_numpy(zero_copy_only=False))
    for index in null_elements:
        reason = f"explode '{column}': element {positions[index]} is null"
        rejects.append(_row_reject(out, int(index), rule, reason, _id_at(out, index)))
    if len(null_elements):
        keep = np.ones(out.num_rows, dtype=bool)
        keep[null_elements] = False
        out, positions = out.filter(keep), positions[keep]
    return out, positions, rejects


def _id_at(table: pa.Table, index: int) -> str | None:
    return table[ID][int(index)].as_py() if ID in table.column_names else None


def rename(table: pa.Table, renames: tuple[tuple[str, str], ...], source: str) -> pa.Table:
    """Apply ``(old, new)`` renames all at once (so a swap works)."""
    names = data_columns(table)
    mapping: dict[str, str] = {}
    for old, new in renames:
        if old not in names:
            raise SourceError(
                f"source '{source}': cannot rename '{old}': no such column "
                f"(columns: {', '.join(names)})"
            )
        if old in mapping:
            raise SourceError(f"source '{source}': column '{old}' is renamed twice")
        mapping[old] = new
    check_reserved(list(mapping.values()), source)
    result = [mapping.get(n, n) for n in table.column_names]
    clash = next((n for n in result if result.count(n) > 1), None)
    if clash is not None:
        raise SourceError(f"source '{source}': renames leave two columns named '{clash}'")
    return table.rename_columns(result)


def add_key_ids(
    table: pa.Table, key: tuple[str, ...], positions: np.ndarray | None, rule: str, source: str
) -> tuple[pa.Table, list[Reject]]:
    """Append ``_dsc_id`` from the key columns; reject null and repeated keys.

    The id is :func:`~dsc.io.rowids.key_id` of the key values, plus
    ``/position`` for exploded rows.  A repeated key is rejected rather than
    renamed, because two rows claiming one key is a data problem the spec
    author should see.
    """
    missing = [k for k in key if k not in data_columns(table)]
    if missing:
        raise SourceError(
            f"source '{source}': key column '{missing[0]}' is not in the data "
            f"(columns: {', '.join(data_columns(table))})"
        )
    keys = table.select(list(key)).to_pylist()
    sources = table[SRC].to_pylist()
    ids: list[str] = []
    keep = np.ones(table.num_rows, dtype=bool)
    first_seen: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for index, values in enumerate(keys):
        null = next((k for k in key if values[k] is None), None)
        if null is not None:
            problems.append((index, f"key column '{null}' is null"))
            continue
        row_id = key_id([values[k] for k in key])
        if positions is not None:
            row_id += f"/{positions[index]}"
        if row_id in first_seen:
            problems.append((index, f"duplicate key '{row_id}' (first at {first_seen[row_id]})"))
            continue
        first_seen[row_id] = sources[index]
        ids.append(row_id)
    rejects = [_row_reject(table, index, rule, reason) for index, reason in problems]
    for index, _ in problems:
        keep[index] = False
    table = table.filter(keep) if problems else table
    return table.append_column(ID, pa.array(ids, type=pa.string())), rejects
