"""Readers for one file each: JSON Lines, JSON arrays, CSV and parquet.

Text formats yield :class:`~dsc.io.blocks.Record` objects (typed later, all
files of a source together) plus a reject for each record that could not be
parsed; JSON Lines, read in blocks (:mod:`dsc.io.jsonl`), yields blocks of
records or of ready Arrow columns.  Parquet yields an Arrow table, since it
is already typed.  Every reader takes ``verbatim``, the columns a
``standardize`` rule reads: the JSON readers read their values as the text
they are written as (:func:`~dsc.io.columns.as_text`); CSV values are text
already, and a parquet column keeps the type its file gives it.

A problem with a whole file (unreadable, empty, binary, not JSON at all) is
a :class:`SourceError`; a problem with one line or record is a
:class:`Reject` and the rest of the file still loads.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from .blocks import Parsed, Record
from .columns import record_as_text
from .jsonl import read_jsonl
from .jsonscan import JSON_SPACE, Scanner, Unbounded, invalid
from .model import Reject, SourceError, check_text, clip
from .rowids import bytes_hash

#: Format names and the file extensions they are guessed from.
EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
}
FORMATS = ("jsonl", "json", "csv", "parquet")

_BOM = b"\xef\xbb\xbf"
_BINARY_PROBE = 8192


def _read_text(path: Path, label: str, fmt: str) -> bytes:
    """The file's bytes, refusing empty and binary files; BOM removed."""
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SourceError(f"cannot read {label}: {exc.strerror or exc}", code="DSC301") from exc
    if data.startswith(_BOM):
        data = data[len(_BOM) :]
    if not data.strip():
        raise SourceError(f"{label} is empty")
    check_text(data[:_BINARY_PROBE], label, fmt)
    return data


def read_json(path: Path, label: str, rule: str, verbatim: frozenset[str] = frozenset()) -> Parsed:
    """A top-level JSON array of objects (the Alpaca layout).

    An element that is not an object, or is nested more than
    :data:`MAX_DEPTH` deep, is rejected with source ``label#index``
    (0-based); a file that is not JSON at all is a :class:`SourceError`.
    """
    data = _read_text(path, label, "json")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SourceError(f"{label} is not UTF-8 text (bad byte at offset {exc.start})") from exc
    scanner = Scanner()
    parsed = Parsed(count=0)
    try:
        if not text.lstrip(JSON_SPACE).startswith("["):
            value = scanner.loads(text)
            found = "an object" if isinstance(value, dict) else f"a JSON {type(value).__name__}"
            raise SourceError(f"{label}: expected a JSON array of records, found {found}")
        for index, (item, why) in enumerate(scanner.elements(text)):
            parsed.count += 1
            src = f"{label}#{index}"
            if why is not None:
                reason = f"record {index} is {why}"
            elif not isinstance(item, dict):
                reason = f"record {index} is not an object"
            elif scanner.flagged:
                reason = f"malformed JSON: {invalid(item)}"
            else:
                if verbatim:
                    record_as_text(item, verbatim, lambda span=scanner.span: text[slice(*span)])
                parsed.records.append(Record(src, None, item))
                continue
            raw = text[slice(*scanner.span)] if why is not None else json.dumps(item, ensure_ascii=False,
                                                                                   default=repr)
            row_id = bytes_hash(raw.encode("utf-8", "surrogatepass"))
            parsed.rejects.append(Reject(row_id, rule, reason, src, clip(raw)))
    except json.JSONDecodeError as exc:
        hint = ""
        if exc.msg == "Extra data" and text.lstrip().startswith("{"):
            hint = " (it looks like JSON Lines, one object per line: declare format jsonl)"
        where = f"{label}:{exc.lineno}:{exc.colno}"
        raise SourceError(f"{where}: not valid JSON: {exc.msg}{hint}") from exc
    except Unbounded as exc:
        raise SourceError(f"{label}: not readable JSON: {exc}") from exc
    return parsed


def read_csv(path: Path, label: str, rule: str, verbatim: frozenset[str] = frozenset()) -> Parsed:
    """A header row, then records; every value is read as a string (``verbatim`` too).

    No type guessing: ``"007"`` stays ``"007"`` (schema checks come later).
    A record with the wrong number of fields, or with bytes that are not
    UTF-8, is rejected with source ``label:line`` (the line it starts on).
    """
    data = _read_text(path, label, "csv")
    # surrogateescape keeps bad bytes as lone surrogates so that only the
    # records holding them are rejected, not the whole file.
    text = data.decode("utf-8", "surrogateescape")
    # newline="" splits lines exactly as the csv module counts them.
    lines = io.StringIO(text, newline="").readlines()
    reader = csv.reader(iter(lines))
    parsed = Parsed(count=0)
    header: list[str] | None = None
    end = 0
    try:
        for fields in reader:
            start, end = end + 1, reader.line_num
            if not fields:
                continue
            raw = "".join(lines[start - 1 : end]).rstrip("\r\n")
            if header is None:
                header = _check_header(fields, label, start)
                continue
            parsed.count += 1
            src = f"{label}:{start}"
            if len(fields) != len(header):
                reason = f"expected {len(header)} fields, got {len(fields)}"
            elif not _is_utf8(raw):
                reason = "invalid UTF-8 bytes in the record"
            else:
                parsed.records.append(Record(src, raw, dict(zip(header, fields))))
                continue
            raw_bytes = raw.encode("utf-8", "surrogateescape")
            shown = clip(raw_bytes.decode("utf-8", "replace"))
            parsed.rejects.append(Reject(bytes_hash(raw_bytes), rule, reason, src, shown))
    except csv.Error as exc:
        raise SourceError(f"{label}:{reader.line_num}: unreadable CSV: {exc}") from exc
    return parsed


def _is_utf8(text: str) -> bool:
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _check_header(fields: list[str], label: str, line: int) -> list[str]:
    where = f"{label}:{line}: CSV header"
    if not _is_utf8("".join(fields)):
        raise SourceError(f"{where} is not UTF-8 text")
    seen: set[str] = set()
    for position, name in enumerate(fields, start=1):
        if not name:
            raise SourceError(f"{where} column {position} has no name")
        if name in seen:
            raise SourceError(f"{where} names column '{name}' twice")
        seen.add(name)
    return fields


def index_sources(label: str, count: int) -> pa.Array:
    """``label#0``, ``label#1``... built in Arrow, not per row in Python."""
    numbers = pa.array(np.arange(count, dtype=np.int64)).cast(pa.string())
    return pc.binary_join_element_wise(f"{label}#", numbers, "")


def read_parquet(path: Path, label: str, rule: str, verbatim: frozenset[str] = frozenset()) -> Parsed:
    """A parquet file, read as it is typed (``verbatim`` too); sources are ``label#row``.

    The parquet reader does not check that text is UTF-8: a row holding
    text that is not (at any depth) is rejected, naming its column; a
    column name that is not, or a file that is not parquet, is a
    :class:`SourceError`.
    """
    try:
        table = pq.read_table(path)
    except (pa.ArrowException, OSError) as exc:
        raise SourceError(f"{label} is not a readable parquet file: {exc}") from exc
    sources = index_sources(label, table.num_rows)
    bad = rows_not_text(table, label)
    if not bad:
        return Parsed(count=table.num_rows, table=table, sources=sources)
    rejects = []
    for row, name in sorted(bad.items()):
        src = f"{label}#{row}"
        reason = f"column '{name}' holds text that is not UTF-8"
        rejects.append(Reject(bytes_hash(src.encode()), rule, reason, src, None))
    keep = np.ones(table.num_rows, dtype=bool)
    keep[list(bad)] = False
    keep = pa.array(keep)
    return Parsed(count=table.num_rows, table=table.filter(keep), sources=sources.filter(keep), rejects=rejects)


def rows_not_text(table: pa.Table, label: str) -> dict[int, str]:
    """The rows of ``table`` holding text that is not UTF-8 (at any depth), each with the first
    column that does; a column name that is not UTF-8 is a :class:`SourceError` naming ``label``.
    For tables read without checking their text: parquet files, and ``datasets`` (:mod:`dsc.io.hub`).
    """
    if not _names_are_text(table.schema):
        raise SourceError(f"{label}: a column name is not UTF-8 text")
    return _bad_rows(table)


def _names_are_text(schema: pa.Schema) -> bool:
    """Whether every field name, nested ones too, is UTF-8 (pyarrow decodes one only when asked)."""
    fields = list(schema)
    while fields:
        field = fields.pop()
        try:
            field.name
        except UnicodeDecodeError:
            return False
        fields += [field.type.field(i) for i in range(field.type.num_fields)]
    return True


def _bad_rows(table: pa.Table) -> dict[int, str]:
    """The rows holding text that is not UTF-8, each with the first column that does.

    Arrow's full validation finds such text; halving the runs of rows that
    fail finds its rows without validating row by row.  A run is copied
    before it is validated: a slice of a nested array validates its whole
    child array.  (The parquet reader checks dictionaries itself.)
    """
    bad: dict[int, str] = {}
    try:
        table.validate(full=True)
        return bad
    except pa.ArrowInvalid:
        pass
    for name, column in zip(table.column_names, table.columns):
        offset = 0
        for chunk in column.chunks:
            pending = [(0, len(chunk))]
            while pending:
                start, length = pending.pop()
                try:
                    pa.concat_arrays([chunk.slice(start, length)]).validate(full=True)
                    continue
                except pa.ArrowInvalid:
                    pass
                if length == 1:
                    bad.setdefault(offset + start, name)
                else:
                    half = length // 2
                    pending += [(start + half, length - half), (start, half)]
            offset += len(chunk)
    return bad


READERS = {"jsonl": read_jsonl, "json": read_json, "csv": read_csv, "parquet": read_parquet}
