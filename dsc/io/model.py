"""The value types shared by the source readers.

They live in their own module so that the format readers, the column typer
and the orchestrator in :mod:`dsc.io.sources` can all use them without
importing each other; what one file gives (records, blocks) is in :mod:`dsc.io.blocks`.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyarrow as pa

from dsc.errors import DscError

#: Deepest nesting of lists/objects a record may have.  Deeper records are
#: rejected as they are read, which keeps every later step's recursion safe.
#: 48, not more: a list takes two levels of a parquet schema, and pyarrow (so pandas, polars'
#: pyarrow path and Hugging Face ``datasets``) refuses by default to read a schema more than 100
#: levels deep, so a value nested 50 lists deep made a ``kept.parquet`` users could not open.
MAX_DEPTH = 48

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
class Declared:
    """A column's type as the spec declares it, for the JSON readers.

    ``name`` is the column's name in the schema (after renames), ``type``
    the schema's type (named in reasons) and ``kind`` the JSON kind its
    values must have: ``"number"``, ``"bool"`` or ``"string"``.  Or ``kind``
    is ``"text"`` for a column a ``standardize`` rule reads, and ``type`` the
    rule's kind (``"number"``, ``"date"``...): each value is read as the text
    it is written as (:func:`dsc.io.columns.as_text`), for the rule to type.
    """

    name: str
    type: str
    kind: str


@dataclass(frozen=True)
class SourceSpec:
    """A declared source: files matched by globs, or a hub dataset.

    ``declared`` are the schema's column types that JSON and JSON Lines
    files are read by (see :mod:`dsc.io.columns`).
    """

    name: str
    files: tuple[str, ...] = ()
    format: str | None = None
    hub: HubRef | None = None
    key: tuple[str, ...] = ()
    renames: tuple[tuple[str, str], ...] = ()
    explode: str | None = None
    declared: tuple[Declared, ...] = ()

    @classmethod
    def from_plan(cls, src, declared: tuple[Declared, ...] = ()) -> "SourceSpec":
        """The reader's view of a compiled plan's source (a `dsc.plan.SourcePlan`)."""
        hub = HubRef(src.hub.id, src.hub.split, src.hub.revision, src.hub.config) if src.hub else None
        return cls(name=src.name, files=tuple(src.files), format=src.format, hub=hub, key=tuple(src.key),
                   renames=tuple(tuple(r) for r in src.renames), explode=src.explode, declared=declared)


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
    """The loaded rows, the rows that were rejected, and what was read.

    ``set_aside`` names the ``_dsc_`` columns left out of a file dsc wrote (only when the
    reader was asked to set them aside rather than refuse them).
    """

    table: pa.Table
    rejects: list[Reject]
    inputs: list[InputFile]
    set_aside: list[str] = field(default_factory=list)


class SourceError(DscError):
    """The input as a whole cannot be read; the message names the path (code DSC302 unless given:
    DSC301 for a file that is missing or cannot be read)."""

    default_code = "DSC302"


_BINARY_SHARE = 0.1
# Bytes that text may hold: everything but the C0 controls other than
# tab, newline, vertical tab, form feed and carriage return.
_TEXT_BYTES = bytes(b for b in range(256) if b >= 32 or b in b"\t\n\x0b\x0c\r")


def check_text(probe: bytes, label: str, fmt: str) -> None:
    """Refuse a file whose first bytes (``probe``) show it is not UTF-8 text."""
    odd = len(probe.translate(None, _TEXT_BYTES)) + probe.decode("utf-8", "replace").count("\ufffd")
    # A few odd bytes are bad lines, rejected one by one; this many means
    # the whole file is something else (parquet, gzip, UTF-16...).
    if odd > _BINARY_SHARE * len(probe):
        utf16 = _utf16(probe)
        if utf16:  # text, in an encoding dsc does not read: say which, and how to convert it
            raise SourceError(f"{label} is {utf16} text, not UTF-8; convert it first, e.g. "
                              f"iconv -f {utf16} -t UTF-8 IN > OUT")
        raise SourceError(
            f"{label} looks like a binary file ({odd} of its first {len(probe)} bytes "
            f"are not UTF-8 text), not {fmt} text"
        )


def _utf16(probe: bytes) -> str | None:
    """`UTF-16` when the first bytes are a UTF-16 byte-order mark (Windows tools write one, e.g.
    Excel's "Unicode text" and PowerShell's `>`); then `iconv -f UTF-16` reads the order from it."""
    return "UTF-16" if probe[:2] in (b"\xff\xfe", b"\xfe\xff") else None


def clip(text: str) -> str:
    """Cut ``text`` to the length kept on a :class:`Reject`."""
    return text if len(text) <= MAX_REJECT_TEXT else text[:MAX_REJECT_TEXT]
