"""The value types shared by the source readers.

They live in their own module so that the format readers, the column typer
and the orchestrator in :mod:`dsc.io.sources` can all use them without
importing each other.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

#: Columns the reader adds to every table; data may not use these names.
ID_COLUMN = "_dsc_id"
SRC_COLUMN = "_dsc_src"
RESERVED_PREFIX = "_dsc_"

#: Deepest nesting of lists/objects a record may have.  Deeper records are
#: rejected as they are read, which keeps every later step's recursion safe.
MAX_DEPTH = 64

#: Longest raw text kept on a :class:`Reject` (the rest is cut, not hidden:
#: the ``source`` field still points at the full line).
MAX_REJECT_TEXT = 2000


@dataclass(frozen=True)
class HubRef:
    """A dataset on the Hugging Face hub, or a local dataset folder."""

    id: str
    split: str = "train"
    revision: str | None = None
    config: str | None = None


@dataclass(frozen=True)
class SourceSpec:
    """A declared source: files matched by globs, or a hub dataset."""

    name: str
    files: tuple[str, ...] = ()
    format: str | None = None
    hub: HubRef | None = None
    key: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    explode: str | None = None


@dataclass(frozen=True)
class Reject:
    """One input row that was not loaded, and why.

    ``source`` is ``"path:line"`` (1-based line) for jsonl and csv, and
    ``"path#index"`` (0-based record index) for JSON arrays, parquet and hub
    rows.  ``row`` is the raw text of the line, or the JSON of the record,
    cut to :data:`MAX_REJECT_TEXT` characters.
    """

    row_id: str
    rule: str
    reason: str
    source: str
    row: str | None


@dataclass(frozen=True)
class InputFile:
    """One input that was read: its digest, size and record count.

    ``rows`` counts the file's records as read -- non-blank lines, array
    elements, CSV data records, parquet rows -- loaded or rejected, before
    any explode.  For a hub source ``path`` is its label (``hub:id:split``)
    and ``sha256``/``bytes`` are of the loaded table as an Arrow IPC stream.
    """

    path: str
    sha256: str
    bytes: int
    rows: int


@dataclass
class ReadResult:
    """The loaded rows, the rows that were rejected, and what was read."""

    table: pa.Table
    rejects: list[Reject]
    inputs: list[InputFile]


class SourceError(Exception):
    """The input as a whole cannot be read; the message names the path."""


def clip(text: str) -> str:
    """Cut ``text`` to the length kept on a :class:`Reject`."""
    return text if len(text) <= MAX_REJECT_TEXT else text[:MAX_REJECT_TEXT]
