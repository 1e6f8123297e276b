"""Turn parsed JSON/CSV records into one Arrow table, one type per column.

The typing rule (documented for spec authors in :func:`records_to_table`):

* Columns are the union of the keys of the loaded rows, in first-seen order;
  a row that lacks a column reads as null there.
* Each column's *kind* is the kind most of its non-null values have (ties go
  to the kind seen first).  Kinds are: bool, number (ints and floats
  together; a column with any float is float64, else int64 -- but an int
  beyond 2**53 cannot join floats, as it would lose digits), string, list
  and object.  A row whose value has another kind is rejected with a reason
  such as ``column 'x': expected string, got int`` -- values are never
  converted to make them fit.
* A column the schema declares (:class:`~dsc.io.model.Declared`, given by
  its name in the file) has the declared kind instead of the majority's:
  ``number`` for int and float, ``bool``, ``string`` for the text types.
  A row whose value has another kind is rejected naming the declared type
  (``column 'age': declared int, got string``); text is not read as a number
  or a bool here either, the reason says which ``standardize`` rule does.
* A column a ``standardize`` rule reads (declared with kind ``text``) holds
  the text of each value as written in the file, whatever the schema says:
  a string as it is, a number as its literal (``1e3``, ``0.10``, ``-0`` and
  ``12345678901234567890`` keep their spelling: never read through a float),
  ``true``/``false`` as that text, null as null (:func:`as_text`; the JSON
  readers apply it as they parse).  The rule reads the text and gives the
  column its type.  A list or an object is rejected naming the column and
  the rule.
* Lists and objects stay nested Arrow types (list, struct).  Objects merge
  their keys; nested values must agree with what earlier loaded rows had at
  the same place, otherwise the row is rejected naming the place
  (``column 'meta' at meta.lang: expected string, got int``).
* Integers outside the signed 64-bit range, numbers too large for a
  float (``1e400``) and strings holding unpaired surrogates (``"\\ud800"``)
  cannot be stored faithfully; such rows are rejected too.  (Values nested
  more than :data:`~dsc.io.model.MAX_DEPTH` levels are rejected earlier, by
  the readers.)

:class:`Typer` applies the rule to rows in blocks, in read order: a
:class:`~dsc.io.blocks.RecordBlock` row by row, a :class:`~dsc.io.blocks.ColumnBlock` (rows a reader has
already turned into Arrow columns of one kind each) whole when none of its
rows could be rejected -- with the same result either way.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from typing import Any

import pyarrow as pa

from dsc.reserved import SRC

from .blocks import ColumnBlock, Record, Shape, count_kinds, group_of
from .jsonscan import as_written
from .model import Declared, Reject
from .rowids import content_hash

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1
_EXACT_FLOAT_INT = 2**53


class _Conflict(Exception):
    """A value that cannot share a type with the rest of its column."""

    def __init__(self, path: str, detail: str):
        super().__init__(detail)
        self.path = path
        self.detail = detail

    def reason(self, column: str) -> str:
        where = f"column '{column}'"
        if self.path != column:
            where += f" at {self.path}"
        return f"{where}: {self.detail}"


def _kind(value: Any) -> str:
    """The kind of a value as named in reasons (``int`` and ``float`` apart)."""
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    return group_of(value)


def _shape_name(shape: Shape) -> str:
    if isinstance(shape, tuple):
        return "list" if shape[0] == "list" else "object"
    if shape == "bigint":
        return "int"
    return "null" if shape is None else shape


def _check_text(text: str, path: str) -> None:
    # isascii() is a fast C check that lets almost every string skip the
    # encode attempt.
    if not text.isascii():
        try:
            text.encode("utf-8")
        except UnicodeEncodeError:
            raise _Conflict(path, "string holds an unpaired surrogate") from None


def _infer(value: Any, path: str) -> Shape:
    # Recursion is safe: the readers reject values nested deeper than
    # MAX_DEPTH before they get here.
    if value is None:
        return None
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        if not _INT64_MIN <= value <= _INT64_MAX:
            raise _Conflict(path, f"integer {value} is outside the 64-bit range")
        # Larger ints are kept apart: a float column cannot hold them exactly.
        return "int" if -_EXACT_FLOAT_INT <= value <= _EXACT_FLOAT_INT else "bigint"
    if isinstance(value, float):
        if not math.isfinite(value):  # JSON like 1e400 parses to inf
            raise _Conflict(path, "number is outside the 64-bit float range")
        return "float"
    if isinstance(value, str):
        _check_text(value, path)
        return "string"
    if isinstance(value, list):
        element: Shape = None
        for item in value:
            element = _merge(element, _infer(item, path + "[]"), path + "[]")
        return ("list", element)
    fields = []
    for key, item in value.items():
        _check_text(key, path)
        fields.append((key, _infer(item, f"{path}.{key}")))
    return ("struct", tuple(fields))


def _merge(old: Shape, new: Shape, path: str) -> Shape:
    """The shape holding both ``old`` and ``new`` values, or a conflict."""
    if old is None or old == new:
        return new
    if new is None:
        return old
    pair = {old, new}
    if pair == {"int", "float"}:
        return "float"
    if pair == {"int", "bigint"}:
        return "bigint"
    if pair == {"bigint", "float"}:
        raise _Conflict(path, "an integer beyond 2**53 cannot join floats without losing digits")
    if isinstance(old, tuple) and isinstance(new, tuple) and old[0] == new[0]:
        if old[0] == "list":
            return ("list", _merge(old[1], new[1], path + "[]"))
        fields = dict(old[1])
        for key, shape in new[1]:
            fields[key] = _merge(fields.get(key), shape, f"{path}.{key}")
        return ("struct", tuple(fields.items()))
    raise _Conflict(path, f"expected {_shape_name(old)}, got {_shape_name(new)}")


def _arrow_type(shape: Shape) -> pa.DataType:
    if shape is None:
        return pa.null()
    if isinstance(shape, tuple):
        if shape[0] == "list":
            return pa.list_(_arrow_type(shape[1]))
        return pa.struct([(key, _arrow_type(sub)) for key, sub in shape[1]])
    return {
        "bool": pa.bool_(),
        "int": pa.int64(),
        "bigint": pa.int64(),
        "float": pa.float64(),
        "string": pa.string(),
    }[shape]


def as_text(value: Any, written: Callable[[Any], str], key: Any) -> Any:
    """One JSON value of a column a ``standardize`` rule reads, as the text it is written as.

    A string stays as it is, ``true``/``false`` become that text, a number its literal:
    ``written(key)``, the text of the number in the file, for a float (``1e3``, ``0.10``) and
    for 0 (``-0``); any other int has one spelling, its digits.  Null, lists and objects
    stay (the typer rejects the latter two, naming the column).

    >>> [as_text(v, {"f": "1.50"}.get, "f") for v in ("x", True, 12, 1.5, None)]
    ['x', 'true', '12', '1.50', None]
    """
    kind = type(value)
    if kind is bool:
        return "true" if value else "false"
    if kind is int and value:
        return str(value)
    if kind is int or kind is float:
        return written(key)
    return value


def record_as_text(value: dict[str, Any], columns: frozenset[str], text: Callable[[], str]) -> None:
    """The ``columns`` of the parsed object ``value`` as the text they are written as, in place;
    ``text()`` is the object's JSON, parsed again only if a number needs its literal."""
    written: dict[str, Any] = {}

    def literal(column: str) -> str:
        if not written:
            written.update(as_written(text()))
        return written[column]

    for column in columns.intersection(value):
        value[column] = as_text(value[column], literal, column)


def majorities(counts: dict[str, dict[str, int]]) -> dict[str, str]:
    """Each column's majority kind; ties go to the kind seen first."""
    # dicts keep insertion order and max() returns the first maximum, so
    # ties go to the kind seen first.
    return {column: max(kinds, key=kinds.__getitem__) for column, kinds in counts.items()}


class Typer:
    """The typing rule applied block by block, in read order.

    ``majority`` comes from all rows first (:func:`majorities`); a column
    in ``declared`` (by its name in the file) has its declared kind instead
    (``string`` for a column a ``standardize`` rule reads: its values are
    text by now, :func:`as_text`).
    Then each block either joins whole (:meth:`add_columns`) or row by row
    (:meth:`add_records`), and :attr:`names` / :attr:`types` are the
    columns of everything loaded.
    """

    def __init__(self, majority: dict[str, str], rule: str, declared: dict[str, Declared] | None = None):
        self.declared = declared or {}
        kinds = {column: "string" if d.kind == "text" else d.kind for column, d in self.declared.items()}
        self.majority = {**majority, **kinds}
        self.rule = rule
        self.shapes: dict[str, Shape] = {}
        self.order: dict[str, None] = {}

    def add_records(self, records: Iterable[Record]) -> tuple[list[Record], list[Reject]]:
        """Type ``records`` one by one: the loaded ones and a reject for each other."""
        majority, shapes = self.majority, self.shapes
        loaded: list[Record] = []
        rejects: list[Reject] = []
        for record in records:
            problems = []
            pending = {}
            for column, value in record.value.items():
                if value is None:
                    continue
                if group_of(value) != majority[column]:
                    problems.append(self._mismatch(column, _kind(value)))
                    continue
                try:
                    pending[column] = _merge(shapes.get(column), _infer(value, column), column)
                except _Conflict as conflict:
                    problems.append(conflict.reason(column))
            if problems:
                rejects.append(
                    Reject(
                        row_id=content_hash(record.value),
                        rule=self.rule,
                        reason="; ".join(problems),
                        source=record.src,
                        row=record.text(),
                    )
                )
                continue
            # Only loaded rows shape the columns, so a rejected row cannot make
            # the rows after it look wrong.
            shapes.update(pending)
            self.order.update(dict.fromkeys(record.value))
            loaded.append(record)
        return loaded, rejects

    def _mismatch(self, column: str, got: str) -> str:
        """Why a value of kind ``got`` does not fit ``column``."""
        declared = self.declared.get(column)
        if declared is None:
            return f"column '{column}': expected {self.majority[column]}, got {got}"
        renamed = "" if declared.name == column else f" (renamed {declared.name})"
        if declared.kind == "text":
            return (f"column '{column}'{renamed}: standardize {declared.name} as {declared.type} reads "
                    f"a string, number or bool, got {got}")
        reason = f"column '{column}'{renamed}: declared {declared.type}, got {got}"
        if got == "string" and declared.kind != "string":
            # `standardize COL as number|bool` reads text in a locale, without guessing.
            reason += (f" (text is not read as a {declared.kind} here: "
                       f"use standardize {declared.name} as {declared.kind})")
        return reason

    def add_columns(self, block: ColumnBlock) -> bool:
        """Load every row of ``block`` if none of them could be rejected.

        That holds when each column's kind is its majority and merges with
        the shape so far (it fails only for an integer beyond 2**53 meeting
        floats).  Then the result is the row-by-row one: the shapes merge
        the same way in any order, and the columns are first seen in the
        block's order.  Returns False, changing nothing, otherwise.
        """
        merged = {}
        for column, shape in block.shapes.items():
            if shape is None:
                continue
            group = "number" if shape in ("int", "float") else shape
            if self.majority.get(column) != group:
                return False
            try:
                merged[column] = _merge(self.shapes.get(column), shape, column)
            except _Conflict:
                return False
        self.shapes.update(merged)
        self.order.update(dict.fromkeys(block.columns))
        return True

    @property
    def names(self) -> list[str]:
        return list(self.order)

    @property
    def types(self) -> dict[str, pa.DataType]:
        return {n: _arrow_type(self.shapes.get(n)) for n in self.order}


def records_to_table(
    records: list[Record], rule: str
) -> tuple[list[str], dict[str, pa.DataType], list[Record], list[Reject]]:
    """Type ``records`` by the module's rule.

    Returns the column names (first-seen order over loaded rows), their
    Arrow types, the records that loaded, and a reject for each record that
    did not (one reject per record, its problems joined with ``; ``).
    Build the table itself with :func:`build_table`, which lets several
    files share the column types decided here.

    >>> rows = [Record("f:1", "", {"x": "a"}), Record("f:2", "", {"x": 1}),
    ...         Record("f:3", "", {"x": "b", "y": [1, 2.5]})]
    >>> names, types, ok, bad = records_to_table(rows, "source:s")
    >>> names, [str(types[n]) for n in names], len(ok)
    (['x', 'y'], ['string', 'list<item: double>'], 2)
    >>> bad[0].reason, bad[0].source
    ("column 'x': expected string, got int", 'f:2')
    """
    counts: dict[str, dict[str, int]] = {}
    count_kinds(records, counts)
    typer = Typer(majorities(counts), rule)
    loaded, rejects = typer.add_records(records)
    return typer.names, typer.types, loaded, rejects


def build_table(
    records: list[Record], names: list[str], types: dict[str, pa.DataType]
) -> pa.Table:
    """An Arrow table of ``records`` with the given columns plus ``_dsc_src``."""
    get: Callable[[dict, str], Any] = dict.get
    arrays = [pa.array([get(r.value, n) for r in records], type=types[n]) for n in names]
    arrays.append(pa.array([r.src for r in records], type=pa.string()))
    return pa.Table.from_arrays(arrays, names=[*names, SRC])
