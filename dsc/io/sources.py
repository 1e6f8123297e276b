"""Read a declared source into one Arrow table with stable row ids.

:func:`read_source` is the entry point; the value types it uses are defined
in :mod:`dsc.io.model` and re-exported here.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path

import pyarrow as pa

from .blocks import ColumnBlock, Parsed, RecordBlock
from .columns import Typer, build_table, majorities
from .files import broken_link, glob
from .formats import EXTENSIONS, FORMATS, READERS, index_sources
from .hub import load_hub
from dsc.reserved import ID, SRC

from .model import (
    Declared,
    HubRef,
    InputFile,
    ReadResult,
    Reject,
    SourceError,
    SourceSpec,
)
from .reshape import add_content_ids, add_key_ids, check_reserved, data_columns, explode, rename

__all__ = [
    "Declared",
    "HubRef",
    "InputFile",
    "ReadResult",
    "Reject",
    "SourceError",
    "SourceSpec",
    "read_source",
]


def read_source(spec: SourceSpec, base_dir: Path, set_aside_reserved: bool = False, workers: int = 1) -> ReadResult:
    """Read ``spec`` into one table of rows, the rejected rows, and the inputs.

    Steps, in order:

    1. **Read.**  ``files`` globs (relative to ``base_dir``) each expand to a
       sorted list of files, patterns in declared order, each file once.  The
       format is ``spec.format`` or guessed per file from its extension.
       Malformed lines and records are rejected with reasons, not dropped;
       see :mod:`dsc.io.formats` and, for how values get one type per column,
       :mod:`dsc.io.columns`: a column ``spec.declared`` names (after renames)
       is read by its declared type in JSON and JSON Lines files, unless it is
       the exploded column (its elements are typed by the data) or the source
       has CSV files (all text, typed by the schema after reading).  A column
       a ``standardize`` rule reads (declared ``text``) is read as the text
       of each value in JSON and JSON Lines files, CSV files beside them or
       not (CSV's values are text already).
       ``hub`` loads a dataset with ``datasets``.
    2. **Content ids** (only without ``key``): the sha256 of each row's
       canonical JSON, as read, so renames and explode do not change it.
    3. **Explode** ``spec.explode`` (named as in the data): one row per list
       element, ids suffixed ``/0``, ``/1``...
    4. **Renames**, all at once; they may name fields that explode produced.
    5. **Key ids** (with ``key``, named after renames): the key values joined
       with ``|`` (plus ``/n`` when exploded); null or repeated keys are
       rejected.

    The table has the data columns, then ``_dsc_id`` and ``_dsc_src``
    (``path:line`` or ``path#index``).  Problems with the input as a whole
    raise :class:`SourceError`, including a source that ends up with no rows.
    A data column named with the reserved ``_dsc_`` prefix is one too, unless
    ``set_aside_reserved`` (`dsc profile` of a file dsc wrote): then it is
    left out and named in ``set_aside``.

    >>> import tempfile
    >>> tmp = tempfile.TemporaryDirectory()
    >>> base = Path(tmp.name)
    >>> _ = (base / "a.jsonl").write_text('{"q": "hi"}\\nnot json\\n{"q": "yo"}\\n')
    >>> result = read_source(SourceSpec("demo", files=("*.jsonl",)), base)
    >>> result.table.column("q").to_pylist(), result.table.column("_dsc_src").to_pylist()
    (['hi', 'yo'], ['a.jsonl:1', 'a.jsonl:3'])
    >>> [(r.source, r.reason) for r in result.rejects]
    [('a.jsonl:2', 'malformed JSON: Expecting value at column 1')]
    >>> tmp.cleanup()
    """
    base_dir = Path(base_dir)
    rule = f"source:{spec.name}"
    if spec.hub is not None and spec.files:
        raise SourceError(f"source '{spec.name}' declares both files and hub; choose one", code="DSC310")
    if spec.hub is not None:
        table, source = load_hub(spec.hub, base_dir)
        set_aside = check_reserved(table.column_names, spec.name, set_aside_reserved)
        table = table.drop_columns(set_aside).append_column(SRC, index_sources(source.path, table.num_rows))
        rejects: list[Reject] = []
        inputs = [source]
    elif spec.files:
        table, rejects, inputs, set_aside = _read_files(spec, base_dir, rule, set_aside_reserved)
    else:
        raise SourceError(f"source '{spec.name}' declares neither files nor hub", code="DSC310")

    _check_rows(table, rejects, spec.name)
    positions = None
    if not spec.key:
        table = add_content_ids(table, workers)
    if spec.explode is not None:
        table, positions, exploded = explode(table, spec.explode, rule)
        rejects += exploded
    if spec.renames:
        table = rename(table, spec.renames, spec.name)
    if spec.key:
        table, keyed = add_key_ids(table, spec.key, positions, rule, spec.name)
        rejects += keyed
    _check_rows(table, rejects, spec.name)
    table = table.select([*data_columns(table), ID, SRC])
    return ReadResult(table=table, rejects=rejects, inputs=inputs, set_aside=set_aside)


def _check_rows(table: pa.Table, rejects: list[Reject], source: str) -> None:
    if table.num_rows == 0:
        raise SourceError(f"source '{source}' produced no rows ({len(rejects)} rejected)", code="DSC311")


def _read_files(
    spec: SourceSpec, base_dir: Path, rule: str, set_aside_reserved: bool
) -> tuple[pa.Table, list[Reject], list[InputFile], list[str]]:
    if spec.format is not None and spec.format not in FORMATS:
        raise SourceError(
            f"source '{spec.name}': unknown format '{spec.format}' (known: {', '.join(FORMATS)})", code="DSC310"
        )
    parts: list[Parsed] = []
    labels: list[str] = []
    inputs: list[InputFile] = []
    rejects: list[Reject] = []
    files = [
        (path, label, _format_of(spec.format, path, label)) for path, label in expand(spec.files, base_dir)
    ]
    declared = _declared_in_files(spec)
    if any(fmt == "csv" for _, _, fmt in files):
        declared = {name: d for name, d in declared.items() if d.kind == "text"}
    verbatim = frozenset(name for name, d in declared.items() if d.kind == "text")
    for path, label, fmt in files:
        parsed = READERS[fmt](path, label, rule, verbatim)
        if parsed.sha256 is None:
            parsed.sha256, parsed.bytes = _sha256(path, label)
        inputs.append(InputFile(path=label, sha256=parsed.sha256, bytes=parsed.bytes, rows=parsed.count))
        rejects += parsed.rejects
        parts.append(parsed)
        labels.append(label)

    # Records of all text files are typed together, so one file cannot
    # quietly give a column another type than the rest.
    names, types, mistyped = _type_blocks(parts, rule, declared)
    set_aside = check_reserved(names, spec.name, set_aside_reserved)
    names = [name for name in names if name not in set_aside]
    # Parse and type rejects come from two passes; people read them in
    # input order.
    rank = {label: i for i, label in enumerate(labels)}
    rejects = sorted(rejects + mistyped, key=lambda r: _position(r.source, rank))
    tables = []
    for part, label in zip(parts, labels):
        if part.table is not None:
            reserved = check_reserved(part.table.column_names, spec.name, set_aside_reserved)
            set_aside += [name for name in reserved if name not in set_aside]
            tables.append(part.table.drop_columns(reserved).append_column(SRC, part.sources))
        else:
            tables.append(_assemble(part.blocks, names, types))
    return _concat(tables, spec.name), rejects, inputs, set_aside


def _declared_in_files(spec: SourceSpec) -> dict[str, Declared]:
    """``spec.declared`` by the columns' names in the files (renames undone), less the
    exploded column, whose values are lists until explode."""
    file_name = {new: old for old, new in spec.renames}
    renamed = set(file_name.values())
    found = {}
    for declared in spec.declared:
        # A name renamed away holds another column in the files (or none).
        name = file_name.get(declared.name, None if declared.name in renamed else declared.name)
        if name is not None and name != spec.explode:
            found[name] = declared
    return found


def _type_blocks(
    parts: list[Parsed], rule: str, declared: dict[str, Declared]
) -> tuple[list[str], dict[str, pa.DataType], list[Reject]]:
    """Type the rows of every text file together, block by block in read order.

    Column majorities are counted over all blocks first; ``declared``
    columns take their declared kind instead.  A block of Arrow
    columns that agrees with them joins whole; any other block is typed
    row by row and replaced by the records that loaded.  Returns the column
    names, their types and the rows rejected for their types.
    """
    for part in parts:
        if part.table is None and part.blocks is None:
            part.blocks, part.records = [RecordBlock(part.records)], []
    counts: dict[str, dict[str, int]] = {}
    for part in parts:
        for block in part.blocks or ():
            block.count_kinds(counts)
    typer = Typer(majorities(counts), rule, declared)
    mistyped: list[Reject] = []
    for part in parts:
        for index, block in enumerate(part.blocks or ()):
            if isinstance(block, ColumnBlock) and typer.add_columns(block):
                continue
            records = block.records if isinstance(block, RecordBlock) else block.reread()
            loaded, rejected = typer.add_records(records)
            part.blocks[index] = RecordBlock(loaded)
            mistyped += rejected
    return typer.names, typer.types, mistyped


def _assemble(blocks: list, names: list[str], types: dict[str, pa.DataType]) -> pa.Table:
    """One file's table from its typed blocks (emptied as it goes), one array per column.

    One array, as if the file had been built in one go: how a column is cut
    into chunks shows in the bytes of the parquet files written from it.
    """
    pieces = [
        block if isinstance(block, ColumnBlock) else _as_columns(block, names, types) for block in blocks
    ]
    blocks.clear()
    arrays = [_joined([piece.take(name, types[name]) for piece in pieces], types[name]) for name in names]
    arrays.append(_joined([piece.sources for piece in pieces], pa.string()))
    return pa.Table.from_arrays(arrays, names=[*names, SRC])


def _as_columns(block: RecordBlock, names: list[str], types: dict[str, pa.DataType]) -> ColumnBlock:
    table = build_table(block.records, names, types)
    return ColumnBlock({name: table.column(name) for name in names}, {}, table.column(SRC))


def _joined(pieces: list, type: pa.DataType) -> pa.Array | pa.ChunkedArray:
    chunks = [c for p in pieces for c in (p.chunks if isinstance(p, pa.ChunkedArray) else [p])]
    if not chunks:
        return pa.array([], type)
    try:
        return pa.concat_arrays(chunks)
    except pa.ArrowInvalid:
        # Beyond 2 GiB of text one string array cannot hold it all.
        return pa.chunked_array(chunks, type)


def _position(source: str, rank: dict[str, int]) -> tuple[int, int]:
    """Sort key of a reject's ``path:line`` / ``path#index`` source."""
    match = re.fullmatch(r"(.*)[:#](\d+)", source, flags=re.DOTALL)
    assert match is not None, source  # the readers only make these two forms
    return rank[match[1]], int(match[2])


def _concat(tables: list[pa.Table], source: str) -> pa.Table:
    if len(tables) == 1:
        return tables[0]
    try:
        # "permissive" fills columns a file lacks with nulls and widens
        # compatible types (int64 with float64); it refuses string vs int.
        table = pa.concat_tables(tables, promote_options="permissive")
    except (pa.ArrowTypeError, pa.ArrowInvalid) as exc:
        raise SourceError(f"source '{source}': its files disagree on column types: {exc}") from exc
    return table.select([*data_columns(table), SRC])


def expand(patterns: tuple[str, ...], base_dir: Path) -> list[tuple[Path, str]]:
    """The files ``patterns`` match, with their labels: each pattern's
    matches sorted (by path), in pattern order, each file once, however
    many names or links lead to it.  ``**`` matches across folders, and
    walks each folder once (:func:`dsc.io.files.glob`: a link cycle ends
    nowhere).  A pattern matching no file (a missing file, too), or
    matching a symlink that leads to no file, is a :class:`SourceError`.

    A label is the path as shown in ids, rejects and inputs: relative to
    ``base_dir`` (so results do not depend on where the repo is), unless an
    absolute pattern matched a file outside it.
    """
    base = Path(os.path.abspath(base_dir))
    found: dict[tuple[int, int], tuple[Path, str]] = {}
    for pattern in patterns:
        files = []
        for path, label in sorted(
            (Path(os.path.normpath(base / m)), Path(os.path.normpath(m)).as_posix()) for m in glob(pattern, base)
        ):
            if os.path.isabs(label) and path.is_relative_to(base):
                label = path.relative_to(base).as_posix()
            if path.is_file():
                files.append((path, label))
            elif broken := broken_link(path):
                raise SourceError(f"'{pattern}' matches {label}, {broken}; remove it, or point it at the file",
                                  code="DSC301")
        if not files:
            raise SourceError(f"no file matches '{pattern}' (relative to {base})", code="DSC301")
        for path, label in files:
            info = path.stat()
            found.setdefault((info.st_dev, info.st_ino), (path, label))
    return list(found.values())


def _format_of(declared: str | None, path: Path, label: str) -> str:
    if declared is not None:
        return declared
    suffix = path.suffix.lower()
    if suffix not in EXTENSIONS:
        known = ", ".join(sorted(EXTENSIONS))
        raise SourceError(
            f"{label}: cannot tell the format from the extension '{suffix}' "
            f"(known: {known}); declare the source's format"
        )
    return EXTENSIONS[suffix]


def _sha256(path: Path, label: str) -> tuple[str, int]:
    try:
        with path.open("rb") as handle:
            digest = hashlib.file_digest(handle, "sha256")
            return digest.hexdigest(), handle.tell()
    except OSError as exc:
        raise SourceError(f"cannot read {label}: {exc.strerror or exc}", code="DSC301") from exc
