"""What a format reader gives the column typer: parsed records, blocks of them, and a file's result.

The readers (:mod:`dsc.io.formats`, :mod:`dsc.io.jsonl`) make these and the column typer
(:mod:`dsc.io.columns`) reads them; both import them from here, below either of them.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any, Union

import pyarrow as pa

from .model import Reject, clip

# A shape is the Arrow-independent type of a JSON value: None (only nulls
# seen), "bool", "int", "bigint" (an int a float cannot hold exactly),
# "float", "string", ("list", element shape) or ("struct", ((field, shape), ...)).
Shape = Union[None, str, tuple]


@dataclass(slots=True)
class Record:
    """One parsed row, where it came from and the text to show if rejected.

    ``raw`` is the line as read (jsonl, csv); None for array records, whose
    JSON is only written when the record is rejected.
    """

    src: str
    raw: str | None
    value: dict[str, Any]

    def text(self) -> str:
        if self.raw is not None:
            return clip(self.raw)
        return clip(json.dumps(self.value, ensure_ascii=False, default=str))


def group_of(value: Any) -> str:
    """The top-level kind of a JSON value, with ints and floats together."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, (int, float)):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "list"
    return "object"


def count_kinds(records: Iterable[Record], counts: dict[str, dict[str, int]]) -> None:
    """Add each non-null value of ``records`` to ``counts`` (column → kind → count)."""
    for record in records:
        for column, value in record.value.items():
            if value is not None:
                kinds = counts.get(column)
                if kinds is None:
                    kinds = counts[column] = {}
                group = group_of(value)
                kinds[group] = kinds.get(group, 0) + 1


@dataclass
class RecordBlock:
    """Consecutive rows kept as parsed records, typed one by one."""

    records: list[Record]

    def count_kinds(self, counts: dict[str, dict[str, int]]) -> None:
        count_kinds(self.records, counts)


@dataclass
class ColumnBlock:
    """Consecutive rows already turned into Arrow columns, typed as a whole.

    A reader makes one when every row is an object of scalars and each
    column holds one kind (``shapes``: "string", "bool", "int" -- within
    2**53 --, "float", or None for only nulls), so the rows cannot conflict
    with each other.  If the block disagrees with the column majorities or
    with the rows typed before it, calling ``reread`` gives its rows as
    records for the row-by-row rule.
    """

    columns: dict[str, pa.Array | pa.ChunkedArray]
    shapes: dict[str, Shape]
    sources: pa.Array | pa.ChunkedArray
    reread: Callable[[], list[Record]] | None = None

    def count_kinds(self, counts: dict[str, dict[str, int]]) -> None:
        for column, shape in self.shapes.items():
            if shape is not None:
                kinds = counts.setdefault(column, {})
                group = "number" if shape in ("int", "float") else shape
                array = self.columns[column]
                kinds[group] = kinds.get(group, 0) + len(array) - array.null_count

    def take(self, name: str, type: pa.DataType) -> pa.Array | pa.ChunkedArray:
        """Column ``name`` in ``type`` (nulls if the block lacks it), dropped from the block
        so that assembling a file's table holds one copy of each column, not two."""
        array = self.columns.pop(name, None)
        if array is None:
            return pa.nulls(len(self.sources), type)
        # Exact: ints are within 2**53, so int64 -> float64 keeps every value.
        return array if array.type == type else array.cast(type)


@dataclass
class Parsed:
    """What one file gave: records (json, csv), blocks (jsonl) or a table (parquet).

    A ``table`` comes with its rows' ``sources`` (``label#row``, rejected rows
    left out).  ``sha256`` and ``bytes`` are set by a reader that hashed the
    file as it read it, so that it is not read a second time for its digest.
    """

    count: int
    records: list[Record] = field(default_factory=list)
    blocks: list[Union[RecordBlock, ColumnBlock]] | None = None
    table: pa.Table | None = None
    sources: pa.Array | None = None
    rejects: list[Reject] = field(default_factory=list)
    sha256: str | None = None
    bytes: int | None = None
