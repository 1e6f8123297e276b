"""Stable row ids: content hashes and key values.

A row id must not depend on anything but the row itself (and, for repeats,
on how many identical rows came before it in read order), so that reading
the same files twice, on any machine and with any worker count, gives the
same ids.
"""

from __future__ import annotations

import base64
import datetime as _dt
import decimal
import functools
import hashlib
import json
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import orjson
import pyarrow as pa
import pyarrow.compute as pc

#: Hex characters of the sha256 kept in a content id (64 bits).
ID_HEX_CHARS = 16


def _normalize(value: Any) -> Any:
    """Return ``value`` in the form its canonical JSON is taken from.

    Nulls inside objects are dropped and integral floats become ints, because
    both depend on the *other* rows of a table (a column missing from this row
    but present in another reads back as null; an int column that meets a
    float turns into floats) and a row's id must not.
    """
    if isinstance(value, dict):
        return {str(k): _normalize(v) for k, v in value.items() if v is not None}
    if isinstance(value, (list, tuple)):
        return [_normalize(v) for v in value]
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _json_default(value: Any) -> Any:
    """Spell the non-JSON values that parquet and hub tables can hold."""
    if isinstance(value, (_dt.datetime, _dt.date, _dt.time)):
        return value.isoformat()
    if isinstance(value, _dt.timedelta):
        return value.total_seconds()
    if isinstance(value, decimal.Decimal):
        return str(value)
    if isinstance(value, (bytes, bytearray, memoryview)):
        return base64.b64encode(bytes(value)).decode("ascii")
    return str(value)


def canonical_json(value: Any) -> str:
    """The canonical JSON text of a row or value.

    >>> canonical_json({"b": 1.0, "a": "é", "c": None})
    '{"a":"é","b":1}'
    """
    return json.dumps(
        _normalize(value),
        sort_keys=True,
        ensure_ascii=False,
        separators=(",", ":"),
        default=_json_default,
    )


def row_json(value: Any) -> str:
    """A row as JSON for people (a reject's ``row``): keys in column order,
    nulls kept, the same spelling of non-JSON values as the ids use."""
    return json.dumps(value, ensure_ascii=False, default=_json_default)


def content_hash(value: Any) -> str:
    """First 16 hex characters of the sha256 of ``canonical_json(value)``.

    >>> content_hash({"a": 1}) == content_hash({"a": 1.0, "b": None})
    True
    """
    digest = hashlib.sha256(canonical_json(value).encode("utf-8", "surrogatepass"))
    return digest.hexdigest()[:ID_HEX_CHARS]


def bytes_hash(data: bytes) -> str:
    """Row id for a line that never parsed: the hash of its raw bytes."""
    return hashlib.sha256(data).hexdigest()[:ID_HEX_CHARS]


def content_ids(rows: Iterable[dict[str, Any]]) -> list[str]:
    """Content ids for ``rows`` in read order; repeats get ``~2``, ``~3``...

    >>> ids = content_ids([{"a": 1}, {"a": 2}, {"a": 1}])
    >>> ids[2] == ids[0] + "~2", ids[0] != ids[1]
    (True, True)
    """
    seen: dict[str, int] = {}
    ids = []
    for row in rows:
        digest = content_hash(row)
        count = seen.get(digest, 0) + 1
        seen[digest] = count
        ids.append(digest if count == 1 else f"{digest}~{count}")
    return ids


# Rows hashed per batch: bounds the Python copies of a large table's rows.
_BATCH_ROWS = 8192
# Two hex digits for each byte value, to spell many digests at once.
_HEX = np.array([f"{i:02x}" for i in range(256)], dtype="S2")
_sorted_dumps = functools.partial(orjson.dumps, option=orjson.OPT_SORT_KEYS)


def table_content_ids(table: pa.Table, workers: int = 1) -> pa.Array:
    """:func:`content_ids` of every row of ``table`` (all its columns), as one Arrow array.

    Rows are hashed batch by batch; only the 8 digest bytes an id shows are
    kept per row, and repeats are numbered over all of them at once. `workers` threads hash each
    batch's rows (the ids do not depend on it).

    >>> t = pa.table({"a": [1, 2, 1], "b": ["x", None, "x"]})
    >>> table_content_ids(t).to_pylist() == content_ids(t.to_pylist())
    True
    """
    digests = b"".join(_batch_digests(b, workers) for b in table.to_batches(max_chunksize=_BATCH_ROWS))
    return _numbered(digests)


def _batch_digests(batch: pa.RecordBatch, workers: int = 1) -> bytes:
    """The first 8 bytes of each row's content hash, one after another.

    A batch of only strings, integers, booleans and nulls (under distinct names) has its
    canonical JSON written by compiled loops over its columns (`dsc.kernels.jsonout`: the same
    bytes, proven by tests/kernels/test_jsonout.py), so no row becomes Python objects; every
    other batch is written row by row (`_python_digests`)."""
    names = batch.schema.names
    if len(set(names)) == len(names) and all(_plain(field.type) for field in batch.schema):
        return _plain_digests(batch, workers)
    return _python_digests(batch)


def _plain_digests(batch: pa.RecordBatch, workers: int = 1) -> bytes:
    """`_python_digests` of a batch of plain columns: its rows' canonical JSON (keys sorted, nulls
    left out, `,` and `:`) built column by column in one buffer, then hashed row by row."""
    from dsc.kernels.jsonout import join_rows

    names = batch.schema.names
    order = sorted(range(len(names)), key=names.__getitem__)
    off, data = join_rows(batch.num_rows, [names[c] for c in order], [batch.column(c) for c in order],
                          sep=b",", colon=b":", drop_nulls=True)
    return _digests(off, data, workers)


def _digests(off: np.ndarray, data: np.ndarray, workers: int = 1) -> bytes:
    """The first 8 bytes of the sha256 of each of the texts `data[off[i]:off[i + 1]]`.

    OpenSSL's sha256 called from compiled code with the GIL released, over `workers` row ranges
    at once (`dsc.kernels.sha`; where it cannot be called, the same bytes from a hashlib loop)."""
    from dsc.kernels.sha import sha256_prefixes

    return sha256_prefixes(off, data, workers)


def _python_digests(batch: pa.RecordBatch) -> bytes:
    """`_batch_digests` with every row as Python objects: any column type."""
    rows = batch.to_pylist()
    if all(_plain(field.type) for field in batch.schema):
        # Strings, integers, booleans and nulls: orjson writes exactly the
        # canonical JSON (same escapes, same key order), and there is
        # nothing to normalise but dropping nulls.
        if any(column.null_count for column in batch.columns):
            rows = [{k: v for k, v in row.items() if v is not None} for row in rows]
        texts = map(_sorted_dumps, rows)
    else:
        texts = (canonical_json(row).encode("utf-8", "surrogatepass") for row in rows)
    sha256 = hashlib.sha256
    return b"".join(sha256(text).digest()[: ID_HEX_CHARS // 2] for text in texts)


def _plain(type_: pa.DataType) -> bool:
    return (
        pa.types.is_string(type_)
        or pa.types.is_large_string(type_)
        or pa.types.is_integer(type_)
        or pa.types.is_boolean(type_)
        or pa.types.is_null(type_)
    )


def _numbered(digests: bytes) -> pa.Array:
    """Ids from 8-byte digests: their hex, and ``~n`` on the n-th occurrence of a digest."""
    n = len(digests) // 8
    text = _HEX[np.frombuffer(digests, dtype=np.uint8)].tobytes()
    offsets = np.arange(0, ID_HEX_CHARS * n + 1, ID_HEX_CHARS, dtype=np.int64)
    ids = pa.LargeStringArray.from_buffers(n, pa.py_buffer(offsets), pa.py_buffer(text)).cast(pa.string())
    # Each row labelled by the first row with its digest (exact's compiled hash table: 15 ms at
    # 1M rows, where a stable sort of every digest took 87 ms); only the repeats are then
    # sorted, by label, stably, so each one's rank among the repeats of its label gives its
    # occurrence.
    from dsc.kernels.exact import duplicate_groups

    first = duplicate_groups([pa.array(np.frombuffer(digests, dtype=np.uint64))])
    repeats = np.flatnonzero(first != np.arange(n))
    if repeats.size == 0:
        return ids
    order = np.argsort(first[repeats], kind="stable")
    labels = first[repeats[order]]
    starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
    rank = np.arange(repeats.size) - np.repeat(starts, np.diff(np.r_[starts, repeats.size]))
    occurrence = np.ones(n, dtype=np.int64)
    occurrence[repeats[order]] = rank + 2
    repeated = occurrence > 1
    suffixed = pc.binary_join_element_wise(ids, pa.array(occurrence).cast(pa.string()), "~")
    return pc.if_else(pa.array(repeated), suffixed, ids)


def _key_text(value: Any) -> str:
    # Strings are used verbatim so that an id reads like the key it came
    # from; anything else (numbers, bools, nested values) as canonical JSON.
    return value if isinstance(value, str) else canonical_json(value)


def _escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|")


def key_id(values: Sequence[Any]) -> str:
    """Join key values with ``|``.

    With more than one key column each value has ``\\`` and ``|`` escaped,
    so that ``("a|b", "c")`` and ``("a", "b|c")`` get different ids; a
    single key is used as it is.

    >>> key_id(["seed_task_0"]), key_id(["x", 3]), key_id(["a|b", "c"])
    ('seed_task_0', 'x|3', 'a\\\\|b|c')
    """
    if len(values) == 1:
        return _key_text(values[0])
    return "|".join(_escape(_key_text(v)) for v in values)
