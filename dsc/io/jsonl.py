"""JSON Lines, read block by block: fast parsing, and Arrow columns instead of Python rows.

:func:`read_jsonl` reads a file in blocks of whole lines (hashing the bytes as they go by, so
the file is read once) and holds at most one block's rows as Python values at a time:

* A block is first read whole by Arrow's JSON reader (:func:`_arrow_block`), which makes its
  columns without a Python value per row.  Arrow is laxer than JSON and than this module (it
  reads ``NaN``, an integer past 64 bits as a float, two objects on one line, one object over
  two lines, and it does not check UTF-8), so its table is kept only when cheap checks prove it
  is what the per-line path below would have made; any other block is read line by line.
* Every line is first parsed by ``orjson``.  A line it refuses, or whose value it may have read
  differently from the careful parser (see :func:`_key_count`), goes to the careful path --
  :class:`~dsc.io.jsonscan.Scanner`, which gives the exact reasons: malformed JSON, duplicate
  key, NaN, invalid UTF-8, nesting too deep.  A line both accept gets the same value from both.
* ``orjson`` keeps the last of two equal keys without saying so.  A key is a string followed by
  a colon, and in valid JSON a ``"`` followed by a colon can only end a key or sit, escaped,
  inside a string; so when the block holds as many of them as its parsed objects have keys, no
  object lost one.  Otherwise each line is checked the same way, and a line with more goes to
  the careful path.
* A block whose rows are all objects of scalars, one kind per column, becomes a
  :class:`~dsc.io.blocks.ColumnBlock` (Arrow arrays; it can be read again as records if the
  typing rule needs them row by row).  Any other block keeps its records
  (:class:`~dsc.io.blocks.RecordBlock`), as nested values are typed row by row.
* A column a ``standardize`` rule reads (``verbatim``) holds the text of each value as written
  (:func:`~dsc.io.columns.as_text`): in a block of Arrow columns, a column of ints or of bools
  becomes text in Arrow, and only a line with a float or a 0 there is parsed again, keeping
  its numbers' text; so is a record's line.
"""

from __future__ import annotations

import functools
import hashlib
import json
import os
import re
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.json as pa_json

from .blocks import ColumnBlock, Parsed, Record, RecordBlock, Shape
from .columns import as_text, record_as_text
from .jsonscan import Scanner, Unbounded, as_written, invalid
from .model import MAX_DEPTH, Reject, SourceError, check_text, clip
from .rowids import bytes_hash

#: Bytes read at a time; a block is the whole lines they hold.
BLOCK_BYTES = 8 << 20
#: Threads reading blocks with Arrow (:func:`_arrow_ahead`); Arrow's own threads stay off.
ARROW_THREADS = max(1, min(4, os.cpu_count() or 1))

_BOM = b"\xef\xbb\xbf"
_BINARY_PROBE = 8192
# The end of a key: a quote, JSON whitespace (no newline within a line), a colon.
_KEY_END = re.compile(rb'"[ \t\r]*:')
# orjson reads an integer beyond the 64-bit range as a float; every float this
# large is integral, so the careful parser settles what the line held.
_BIG = float(2**63)
_EXACT_INT = 2**53


def read_jsonl(path: Path, label: str, rule: str, verbatim: frozenset[str] = frozenset(),
               block_bytes: int | None = None) -> Parsed:
    """One JSON object per line; blank lines are skipped.

    A line that is not UTF-8, not JSON, or not an object is rejected with
    source ``label:line`` (1-based) and the other lines still load.  An
    empty or binary file is a :class:`SourceError`.  The columns in
    ``verbatim`` are read as the text of each value.  ``block_bytes``
    defaults to :data:`BLOCK_BYTES`.
    """
    parsed = Parsed(count=0, blocks=[])
    with _Digest() as digest:
        _read_blocks(path, label, rule, verbatim, block_bytes or BLOCK_BYTES, digest, parsed)
        parsed.sha256, parsed.bytes = digest.hexdigest(), digest.size
    if parsed.count == 0:
        raise SourceError(f"{label} is empty")
    return parsed


def _read_blocks(path: Path, label: str, rule: str, verbatim: frozenset[str], block_bytes: int,
                 digest: _Digest, parsed: Parsed) -> None:
    """:func:`read_jsonl`'s loop: every block's rows and rejects added to ``parsed``."""
    scanner = Scanner()
    for start, number, block, fast in _arrow_ahead(_line_blocks(path, label, digest, block_bytes), label, verbatim):
        reread = functools.partial(_reread, path, start, len(block), number, label, rule, verbatim)
        if fast is not None:
            fast.reread = reread
            parsed.count += len(fast.sources)
            parsed.blocks.append(fast)
            continue
        entries, rejects, count = _parse_block(block, number, label, rule, scanner)
        parsed.count += count
        parsed.rejects += rejects
        if entries:
            parsed.blocks.append(_columns(entries, label, reread, verbatim) or _records(entries, label, verbatim))


def _arrow_ahead(blocks, label: str, verbatim: frozenset[str]):
    """``blocks`` with each one's :func:`_arrow_block` added, read by :data:`ARROW_THREADS` threads
    while the next blocks are read and hashed.

    Arrow's reader, the file read and sha256 release the GIL, so they overlap; results come in
    block order, so the output is the same with any number of threads.  At most
    ``ARROW_THREADS + 1`` blocks are held beyond the one being handled.
    """
    with ThreadPoolExecutor(max_workers=ARROW_THREADS, thread_name_prefix="dsc-jsonl") as pool:
        ahead: deque = deque()
        for start, number, block in blocks:
            ahead.append((start, number, block, pool.submit(_arrow_block, block, number, label, verbatim)))
            if len(ahead) > ARROW_THREADS:
                start, number, block, future = ahead.popleft()
                yield start, number, block, future.result()
        while ahead:
            start, number, block, future = ahead.popleft()
            yield start, number, block, future.result()


class _Digest:
    """The sha256 and size of the bytes fed to it, hashed by a thread of its own (a context
    manager: the thread ends with the ``with`` block).

    One thread takes the updates in the order they were fed, so the digest is the file's.
    Hashing 680 MB took 0.56 s of the reading thread, which also splits the blocks and hands
    them to Arrow: hashlib releases the GIL, so the two overlap. At most :data:`_HASH_AHEAD`
    blocks wait to be hashed.
    """

    def __init__(self) -> None:
        self._sha256 = hashlib.sha256()
        self.size = 0
        self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="dsc-sha256")
        self._pending: deque = deque()

    def __enter__(self) -> _Digest:
        return self

    def __exit__(self, *exc: object) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)

    def update(self, data: bytes) -> None:
        self._pending.append(self._pool.submit(self._sha256.update, data))
        self.size += len(data)
        while len(self._pending) > _HASH_AHEAD:
            self._pending.popleft().result()

    def hexdigest(self) -> str:
        while self._pending:
            self._pending.popleft().result()
        return self._sha256.hexdigest()


_HASH_AHEAD = 4


def _line_blocks(path: Path, label: str, digest: _Digest, block_bytes: int):
    """Yield ``(offset, first line number, bytes)`` of consecutive runs of whole lines.

    The bytes of every run but the last end before a newline; the BOM is
    left out; every byte read is fed to ``digest``.  A binary file is a
    :class:`SourceError` as soon as its first block is read.
    """
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise SourceError(f"cannot read {label}: {exc.strerror or exc}", code="DSC301") from exc
    with handle:
        pending, offset, number, first = b"", 0, 1, True
        while True:
            try:
                # The first read covers the whole binary probe, whatever the block size.
                data = handle.read(max(block_bytes, len(_BOM) + _BINARY_PROBE) if first else block_bytes)
            except OSError as exc:
                raise SourceError(f"cannot read {label}: {exc.strerror or exc}", code="DSC301") from exc
            digest.update(data)
            if first:
                first = False
                if data.startswith(_BOM):
                    data, offset = data[len(_BOM) :], len(_BOM)
                check_text(data[:_BINARY_PROBE], label, "jsonl")
            if not data:
                yield offset, number, pending
                return
            cut = data.rfind(b"\n")
            if cut < 0:
                pending += data
                continue
            # One copy of the block's bytes (joining the pending line to the cut data).
            block = b"".join((pending, memoryview(data)[:cut])) if pending else data[:cut]
            pending = data[cut + 1 :]
            yield offset, number, block
            offset += len(block) + 1
            number += int(np.count_nonzero(np.frombuffer(block, dtype=np.uint8) == _NEWLINE)) + 1


# Arrow's types of a block of objects of scalars, as shapes; any other type sends it line by line.
_ARROW_SHAPES: dict[pa.DataType, Shape] = {
    pa.string(): "string", pa.bool_(): "bool", pa.int64(): "int", pa.float64(): "float", pa.null(): None,
}
_ARROW_PARSE = pa_json.ParseOptions(newlines_in_values=False)
_NEWLINE, _OPEN = ord("\n"), ord("{")


def _arrow_block(block: bytes, first: int, label: str, verbatim: frozenset[str]) -> ColumnBlock | None:
    """The block as Arrow columns read by Arrow's JSON reader, or None unless they are exactly
    what :func:`_parse_block` and :func:`_columns` would make of it.

    Arrow must read the block without error (it refuses malformed JSON, a duplicate key --
    escaped spellings too --, an unpaired surrogate escape, a control character in a string,
    1e400, a column whose kind changes) and then:

    * Every line starts with ``{`` (so no blank line, no BOM, no leading space), and Arrow made
      one row per line.  Strings cannot hold a raw newline and every value is a scalar, so a
      ``{`` starting a line opens a new object: each line holds whole objects, at least one,
      hence exactly one -- and row ``i`` is line ``first + i``.
    * The bytes are UTF-8 (Arrow copies what it does not understand).
    * Every column is a string, bool, int64, float64 or null column (no nested value; a
      column Arrow took for timestamps is read again as the strings it holds); a ``verbatim``
      column holds strings or nulls only (any other value needs its literal).
    * Ints lie within 2**53 (:func:`_column` keeps larger ones apart), floats strictly: that
      also refuses NaN and Infinity (Arrow reads them), integers past 64 bits (Arrow reads them
      as floats) and any float ``orjson`` might read differently; and no float is -0.0 (an
      integer ``-0`` among floats becomes -0.0 in Arrow, 0.0 on the per-line path).
    """
    data = np.frombuffer(block, dtype=np.uint8)
    if not block.startswith(b"{") or block.endswith(b"\n"):
        return None
    ends = np.flatnonzero(data == _NEWLINE)  # numpy: 3 x faster than bytes.count here
    if not (data[ends + 1] == _OPEN).all():
        return None
    lines = len(ends) + 1
    if not block.isascii():
        try:
            block.decode("utf-8")
        except UnicodeDecodeError:
            return None
    try:
        table = _read_arrow(block, None)
        if any(pa.types.is_timestamp(field.type) for field in table.schema):
            table = _read_arrow(block, pa.schema(
                [(f.name, pa.string() if pa.types.is_timestamp(f.type) else f.type) for f in table.schema]))
    except (pa.ArrowException, ValueError, OverflowError):
        return None  # ArrowInvalid is a ValueError; a block past Arrow's int32 block size overflows
    if table.num_rows != lines:
        return None
    columns: dict[str, pa.ChunkedArray] = {}
    shapes: dict[str, Shape] = {}
    for name, column in zip(table.column_names, table.columns):
        if column.type not in _ARROW_SHAPES:
            return None
        shape = _ARROW_SHAPES[column.type]
        if name in verbatim:
            if shape is None:  # _text_column makes a column of only nulls a string one
                column, shape = pa.chunked_array([pa.nulls(lines, pa.string())]), "string"
            elif shape != "string":
                return None
        if not _exact_numbers(column, shape):
            return None
        columns[name], shapes[name] = column, shape
    # From the buffer: pa.array(ndarray) would import pandas (a second on a cold start).
    count = np.arange(first, first + lines, dtype=np.int64)
    numbers = pa.Array.from_buffers(pa.int64(), lines, [None, pa.py_buffer(count)]).cast(pa.string())
    sources = pc.binary_join_element_wise(f"{label}:", numbers, "")
    return ColumnBlock(columns, shapes, sources)


def _read_arrow(block: bytes, schema: pa.Schema | None) -> pa.Table:
    """The block read by Arrow in one chunk, one thread (the engine's workers are the parallelism;
    on two cores Arrow's own threads were slower), by ``schema`` if given."""
    options = _ARROW_PARSE if schema is None else pa_json.ParseOptions(
        explicit_schema=schema, newlines_in_values=False, unexpected_field_behavior="error")
    read = pa_json.ReadOptions(use_threads=False, block_size=len(block) + 1)
    return pa_json.read_json(pa.BufferReader(block), read_options=read, parse_options=options)


def _exact_numbers(column: pa.ChunkedArray, shape: Shape) -> bool:
    """Whether an Arrow number column holds only what the per-line path reads the same way."""
    if shape == "int":
        low, high = pc.min_max(column).values()
        return low.as_py() is None or (-_EXACT_INT <= low.as_py() and high.as_py() <= _EXACT_INT)
    if shape == "float":
        values = column.fill_null(0.0).to_numpy()
        # Strictly below: an integer literal past 2**53 among floats rounds to 2**53 or more.
        # NaN fails the comparison, so this also refuses NaN and the infinities.
        return bool((np.abs(values) < _EXACT_INT).all()) and not np.signbit(values[values == 0]).any()
    return True


def _parse_block(block: bytes, first: int, label: str, rule: str, scanner: Scanner):
    """The block's objects and rejects, and how many non-blank lines it has.

    An entry is ``[line number, raw, value, keys]``: ``raw`` is the line's
    bytes and ``keys`` its objects' key count for a fast-parsed line; for a
    carefully parsed one, ``raw`` is its text and ``keys`` is -1.
    """
    entries: list[list[Any]] = []
    rejects: list[Reject] = []
    count = 0
    other_ends = 0  # key ends on lines that are not fast entries
    loads, error = orjson.loads, orjson.JSONDecodeError
    for number, line in enumerate(block.split(b"\n"), first):
        if not line.strip():
            continue
        count += 1
        try:
            value = loads(line)
        except error:
            value = None
        if type(value) is dict:
            keys = _key_count(value)
            if keys >= 0:
                entries.append([number, line, value, keys])
                continue
        other_ends += len(_KEY_END.findall(line))
        _careful(line, number, label, rule, scanner, entries, rejects)
    fast_keys = sum(e[3] for e in entries if e[3] >= 0)
    if len(_KEY_END.findall(block)) - other_ends != fast_keys:
        entries = _recheck_keys(entries, label, rule, scanner, rejects)
    return entries, rejects, count


def _key_count(value: dict) -> int:
    """How many keys the objects in ``value`` have, or -1 if the careful parser must look.

    -1 for nesting as deep as :data:`MAX_DEPTH` (rejected there with its
    reason) and for a float of 2**63 or more (it may have been an integer).
    """
    for item in value.values():
        kind = type(item)
        if kind is dict or kind is list:
            return _nested_key_count(value)
        if kind is float and (item >= _BIG or item <= -_BIG):
            return -1
    return len(value)


def _nested_key_count(value: dict) -> int:
    keys = 0
    stack: list[tuple[Any, int]] = [(value, 0)]
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return -1
        if type(item) is dict:
            keys += len(item)
            children = item.values()
        else:
            children = item
        for child in children:
            kind = type(child)
            if kind is dict or kind is list:
                stack.append((child, depth + 1))
            elif kind is float and (child >= _BIG or child <= -_BIG):
                return -1
    return keys


def _recheck_keys(entries, label, rule, scanner, rejects):
    """Entries again, each fast line whose key ends outnumber its keys parsed carefully."""
    checked: list[list[Any]] = []
    for entry in entries:
        if entry[3] >= 0 and len(_KEY_END.findall(entry[1])) != entry[3]:
            _careful(entry[1], entry[0], label, rule, scanner, checked, rejects)
        else:
            checked.append(entry)
    return checked


def _careful(line: bytes, number: int, label: str, rule: str, scanner: Scanner, entries, rejects) -> None:
    """Parse one line with the exact rules, appending its entry or its reject."""
    src = f"{label}:{number}"
    reason, value = None, None
    try:
        text = line.decode("utf-8")
    except UnicodeDecodeError as exc:
        text = line.decode("utf-8", "replace")
        reason = f"invalid UTF-8 at byte {exc.start + 1} of the line"
    if reason is None:
        try:
            value = scanner.loads(text)
        except json.JSONDecodeError as exc:
            # Some messages end in "at" already ("Invalid control character at").
            reason = f"malformed JSON: {exc.msg.removesuffix(' at')} at column {exc.colno}"
        except Unbounded as exc:
            reason = f"value is {exc}"
        else:
            if not isinstance(value, dict):
                reason = "line is not a JSON object"
            elif scanner.flagged:
                reason = f"malformed JSON: {invalid(value)}"
    text = text.rstrip("\r")
    if reason is None:
        entries.append([number, text, value, -1])
    else:
        rejects.append(Reject(bytes_hash(line), rule, reason, src, clip(text)))


def _records(entries, label: str, verbatim: frozenset[str]) -> RecordBlock:
    records = [Record(f"{label}:{n}", _text(raw), value) for n, raw, value, _ in entries]
    if verbatim:
        for record in records:
            record_as_text(record.value, verbatim, lambda raw=record.raw: raw)
    return RecordBlock(records)


def _text(raw: bytes | str) -> str:
    return raw.decode("utf-8").rstrip("\r") if isinstance(raw, bytes) else raw


def _columns(entries, label: str, reread, verbatim: frozenset[str]) -> ColumnBlock | None:
    """The entries as Arrow columns, or None when a row might not share its column's type.

    That is: a carefully parsed line (its strings may hold surrogates), a
    nested value, two kinds in one column (but a ``verbatim`` one), or an
    integer beyond 2**53.
    """
    if any(e[3] < 0 for e in entries):
        return None
    values = [e[2] for e in entries]
    columns: dict[str, pa.Array] = {}
    shapes: dict[str, Shape] = {}
    written = functools.cache(lambda row: as_written(_text(entries[row][1])))
    for name in dict.fromkeys(chain.from_iterable(values)):
        column = [v.get(name) for v in values]
        if name in verbatim:
            typed = _text_column(column, lambda row, name=name: written(row)[name])
        else:
            typed = _column(column)
        if typed is None:
            return None
        columns[name], shapes[name] = typed
    numbers = pa.array([e[0] for e in entries], pa.int64()).cast(pa.string())
    sources = pc.binary_join_element_wise(f"{label}:", numbers, "")
    return ColumnBlock(columns, shapes, sources, reread)


def _column(values: list) -> tuple[pa.Array, Shape] | None:
    """One column's values as an Arrow array and its shape, or None if they have no one shape."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds:
        return pa.nulls(len(values)), None
    if kinds == {str}:
        return pa.array(values, pa.string()), "string"
    if kinds == {bool}:
        return pa.array(values, pa.bool_()), "bool"
    if not kinds <= {int, float}:
        return None  # nested values, or kinds that disagree
    ints = [v for v in values if type(v) is int] if float in kinds else values
    if any(v is not None and not -_EXACT_INT <= v <= _EXACT_INT for v in ints):
        return None  # typed apart from floats ("bigint") or beyond 64 bits
    if float in kinds:
        return pa.array(values, pa.float64()), "float"
    return pa.array(values, pa.int64()), "int"


def _text_column(values: list, written) -> tuple[pa.Array, Shape] | None:
    """A ``verbatim`` column's values as an Arrow string array (:func:`~dsc.io.columns.as_text`;
    ``written(row)`` is the text of the row's number), or None if one is a list or an object."""
    kinds = set(map(type, values))
    kinds.discard(type(None))
    if not kinds <= {str, bool, int, float}:
        return None
    # Bools, and ints but 0 (which may be written -0), have one spelling: Arrow writes it.
    typed = _column(values) if kinds == {bool} or (kinds == {int} and 0 not in values) else None
    if typed is not None:
        return typed[0].cast(pa.string()), "string"
    if kinds != {str}:
        values = [as_text(value, written, row) for row, value in enumerate(values)]
    return pa.array(values, pa.string()), "string"


def _reread(path: Path, start: int, size: int, first: int, label: str, rule: str,
            verbatim: frozenset[str]) -> list[Record]:
    """The loaded rows of one block as records, read from the file again."""
    with path.open("rb") as handle:
        handle.seek(start)
        block = handle.read(size)
    entries, _, _ = _parse_block(block, first, label, rule, Scanner())
    return _records(entries, label, verbatim).records
