"""JSON text of Arrow columns, written by compiled loops instead of one Python object per value.

Two places turned every row into Python objects only to write it back as JSON: the content ids
(`dsc.io.rowids.table_content_ids`, the sha256 of each row's canonical JSON) and the rejects'
`rejects.jsonl` (each reject's `_dsc_row` text decoded and written again). At a million rows that
is seconds of per-row Python for bytes that a loop over the Arrow buffers writes directly.

Only the "plain" types are written here (`plain`): strings, integers, booleans and nulls, whose
JSON has exactly one spelling that the `json` module and orjson agree on: `"` and `\\` escaped by
a backslash, `\\b \\f \\n \\r \\t` by their short escapes, every other control character as
`\\u00xx` (lower-case hex), everything else, U+007F, U+2028, U+2029 and all non-ASCII
included, as its UTF-8 bytes; integers in decimal. Arrow strings are valid UTF-8, so they hold no
lone surrogate, which the two encoders would spell differently. Floats (whose shortest spelling
differs between encoders), lists, structs and the rest stay with the Python encoders.

- `json_values`: each value of a plain column as JSON (a null as `null`).
- `join_rows`: rows as JSON objects, from their columns, keys in the order given, with the
  separators the caller's encoder uses, nulls written or dropped.
- `canonical_rows`: which JSON texts a decode and re-encode by `row_json` (sorted keys, `", "` and
  `": "`) would give back byte for byte, so that writing a reject's row can skip both;
  `row_values` writes such a column, calling back to Python only for the other texts.
"""
from __future__ import annotations

import json
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
from numba.core import cgutils, types
from numba.extending import intrinsic

from dsc.kernels.buffers import utf8_buffers
from dsc.kernels.jit import kernel, load8

__all__ = ["plain", "json_values", "join_rows", "canonical_rows", "row_values", "string_json",
           "CANONICAL", "TEXT", "FLOATS", "OTHER", "NESTING"]

# The short escapes: byte -> the letter after the backslash (0: none, the \u00xx form is used).
_SHORT = np.zeros(256, np.uint8)
for _byte, _letter in ((0x08, "b"), (0x0C, "f"), (0x0A, "n"), (0x0D, "r"), (0x09, "t"), (0x22, '"'), (0x5C, "\\")):
    _SHORT[_byte] = ord(_letter)
_HEXDIGITS = np.frombuffer(b"0123456789abcdef", np.uint8).copy()

_ONES = np.uint64(0x0101010101010101)
_HIGH = np.uint64(0x8080808080808080)
_SPACE = np.uint64(0x2020202020202020)
_QUOTE = np.uint64(0x2222222222222222)
_BACKSLASH = np.uint64(0x5C5C5C5C5C5C5C5C)


def plain(type_: pa.DataType) -> bool:
    """Whether `json_values` writes this type (strings, integers, booleans, nulls)."""
    return (pa.types.is_string(type_) or pa.types.is_large_string(type_) or pa.types.is_integer(type_)
            or pa.types.is_boolean(type_) or pa.types.is_null(type_))


@kernel
def _special(w):
    """Nonzero when one of the 8 bytes of `w` may be a control character, `"` or `\\` (exact when zero)."""
    below = (w - _SPACE) & ~w
    q = w ^ _QUOTE
    b = w ^ _BACKSLASH
    return (below | ((q - _ONES) & ~q) | ((b - _ONES) & ~b)) & _HIGH


@kernel
def _string_sizes(off, data, valid, sizes):
    """The length of each string as a JSON string (quotes included); 4 (`null`) where not valid."""
    last = data.size - 8
    for r in range(off.size - 1):
        if not valid[r]:
            sizes[r] = 4
            continue
        i, end = off[r], off[r + 1]
        extra = 0
        while i < end:
            if i + 8 <= end and i <= last and _special(load8(data, i)) == 0:
                i += 8
                continue
            c = data[i]
            if c < 0x20:
                extra += 1 if _SHORT[c] else 5
            elif c == 0x22 or c == 0x5C:
                extra += 1
            i += 1
        sizes[r] = end - off[r] + 2 + extra


@intrinsic
def _memcpy(typingctx, dst, dpos, src, spos, n):
    """dst[dpos:dpos + n] = src[spos:spos + n] for uint8 arrays, as one memcpy (a slice assignment
    compiles to a byte loop); the caller keeps both ranges within their arrays."""
    def codegen(context, builder, signature, args):
        d = context.make_array(signature.args[0])(context, builder, args[0])
        s = context.make_array(signature.args[2])(context, builder, args[2])
        cgutils.raw_memcpy(builder, builder.gep(d.data, [args[1]]), builder.gep(s.data, [args[3]]), args[4], 1)
        return context.get_dummy_value()
    return types.void(dst, types.intp, src, types.intp, types.intp), codegen


@kernel
def _put_escaped(out, p, data, a, b):
    """The JSON string of UTF-8 bytes a..b at out[p:], quotes included; returns where it ends.
    Runs without a character to escape are copied whole."""
    out[p] = 0x22
    p += 1
    last = data.size - 8
    run = a
    i = a
    while i < b:
        if i + 8 <= b and i <= last and _special(load8(data, i)) == 0:
            i += 8
            continue
        c = data[i]
        if c < 0x20 or c == 0x22 or c == 0x5C:
            _memcpy(out, p, data, run, i - run)
            p += i - run
            out[p] = 0x5C
            if _SHORT[c]:
                out[p + 1] = _SHORT[c]
                p += 2
            else:
                out[p + 1], out[p + 2], out[p + 3], out[p + 4] = 0x75, 0x30, 0x30, _HEXDIGITS[c >> 4]
                out[p + 5] = _HEXDIGITS[c & 15]
                p += 6
            run = i + 1
        i += 1
    _memcpy(out, p, data, run, b - run)
    p += b - run
    out[p] = 0x22
    return p + 1


@kernel
def _put_null(out, p):
    out[p], out[p + 1], out[p + 2], out[p + 3] = 0x6E, 0x75, 0x6C, 0x6C
    return p + 4


@kernel
def _write_strings(off, data, valid, out_off, out):
    for r in range(off.size - 1):
        if valid[r]:
            _put_escaped(out, out_off[r], data, off[r], off[r + 1])
        else:
            _put_null(out, out_off[r])


def _valid(arr: pa.Array) -> np.ndarray:
    if arr.null_count == 0:
        return np.ones(len(arr), np.bool_)
    return pc.is_valid(arr).to_numpy(zero_copy_only=False)


def string_json(arr: pa.Array) -> tuple[np.ndarray, np.ndarray]:
    """Each string of `arr` as a JSON string, `null` for a null: (int64 offsets from 0, bytes)."""
    off, data = utf8_buffers(arr)
    valid = _valid(arr)
    sizes = np.empty(len(arr), np.int64)
    _string_sizes(off, data, valid, sizes)
    out_off = np.zeros(len(arr) + 1, np.int64)
    np.cumsum(sizes, out=out_off[1:])
    out = np.empty(int(out_off[-1]), np.uint8)
    _write_strings(off, data, valid, out_off, out)
    return out_off, out


def json_values(arr: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray]:
    """Each value of a `plain` column as JSON, a null as `null`: (int64 offsets from 0, bytes).

    >>> off, data = json_values(pa.array(['a"\\n', None, "é"]))
    >>> [bytes(data[a:b]).decode() for a, b in zip(off[:-1], off[1:])]
    ['"a\\\\"\\\\n"', 'null', '"é"']
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    type_ = arr.type
    if pa.types.is_string(type_) or pa.types.is_large_string(type_):
        return string_json(arr)
    if pa.types.is_integer(type_) or pa.types.is_boolean(type_) or pa.types.is_null(type_):
        if pa.types.is_integer(type_):
            text = pc.cast(arr, pa.large_string())  # decimal, as str(int) writes it
        elif pa.types.is_boolean(type_):
            text = pc.if_else(arr, pa.scalar("true", pa.large_string()), pa.scalar("false", pa.large_string()))
        else:
            text = pa.nulls(len(arr), pa.large_string())
        return utf8_buffers(pc.fill_null(text, pa.scalar("null", pa.large_string())))
    raise TypeError(f"json_values writes strings, integers, booleans and nulls, not {type_}")


@kernel
def _add_sizes(sizes, present, first, vsize, key_len, sep_len):
    """Add a column's part to each row's size: separator (but before the first), key, value."""
    for r in range(sizes.size):
        if present[r]:
            sizes[r] += vsize[r] + key_len + (0 if first[r] else sep_len)
            first[r] = False


@kernel
def _put_const(out, cursor, text):
    for r in range(cursor.size):
        _memcpy(out, cursor[r], text, 0, text.size)
        cursor[r] += text.size


@kernel
def _put_key(out, cursor, present, first, sep, key):
    for r in range(cursor.size):
        if present[r]:
            p = cursor[r]
            if not first[r]:
                _memcpy(out, p, sep, 0, sep.size)
                p += sep.size
            first[r] = False
            _memcpy(out, p, key, 0, key.size)
            cursor[r] = p + key.size


@kernel
def _put_json(out, cursor, present, first, sep, key, off, data):
    """Each present row's separator, key and JSON value data[off[r]:off[r + 1]], at its cursor."""
    _put_key(out, cursor, present, first, sep, key)
    for r in range(cursor.size):
        if present[r]:
            _memcpy(out, cursor[r], data, off[r], off[r + 1] - off[r])
            cursor[r] += off[r + 1] - off[r]


@kernel
def _put_string(out, cursor, present, first, sep, key, off, data, valid):
    """Each present row's separator, key and string as JSON (null where not valid), at its cursor."""
    _put_key(out, cursor, present, first, sep, key)
    for r in range(cursor.size):
        if present[r]:
            if valid[r]:
                cursor[r] = _put_escaped(out, cursor[r], data, off[r], off[r + 1])
            else:
                cursor[r] = _put_null(out, cursor[r])


def _bytes(b: bytes) -> np.ndarray:
    return np.frombuffer(b, np.uint8).copy() if b else np.empty(0, np.uint8)


def join_rows(rows: int, names: list[str], columns: list, *, sep: bytes, colon: bytes, drop_nulls: bool,
              open_: bytes = b"{", close: bytes = b"}") -> tuple[np.ndarray, np.ndarray]:
    """`rows` rows as JSON objects: `open_`, `"name"` `colon` value, ... joined by `sep`, `close`, with
    the keys in the order of `names` (spelled as `json.dumps(name, ensure_ascii=False)`).

    Each column is a `plain` Arrow array, whose strings are escaped straight into the rows
    (and whose nulls are left out with their key when `drop_nulls`), or the JSON of each value,
    already written: (offsets, bytes). The rows are built a column at a time, each row's bytes
    at its own cursor in one buffer. Returns (int64 offsets from 0, bytes).

    >>> off, data = join_rows(2, ["a", "b"], [pa.array([1, None]), pa.array(["x", "y"])],
    ...                       sep=b",", colon=b":", drop_nulls=True)
    >>> bytes(data).decode()
    '{"a":1,"b":"x"}{"b":"y"}'
    """
    sep_a, open_a, close_a = _bytes(sep), _bytes(open_), _bytes(close)
    sizes = np.full(rows, open_a.size + close_a.size, np.int64)
    first = np.ones(rows, np.bool_)
    everywhere = np.ones(rows, np.bool_)
    parts = []
    for name, column in zip(names, columns):
        key = _bytes(json.dumps(name, ensure_ascii=False).encode("utf-8", "surrogatepass") + colon)
        if isinstance(column, tuple):
            off, data = column
            if len(off) != rows + 1:
                raise ValueError(f"column {name!r} has {len(off) - 1} values for {rows} rows")
            valid, kind = everywhere, "json"
            vsize = np.diff(off)
        else:
            if isinstance(column, pa.ChunkedArray):
                column = column.combine_chunks()
            if len(column) != rows:
                raise ValueError(f"column {name!r} has {len(column)} values for {rows} rows")
            valid = _valid(column)
            if pa.types.is_string(column.type) or pa.types.is_large_string(column.type):
                off, data = utf8_buffers(column)
                vsize = np.empty(rows, np.int64)
                _string_sizes(off, data, valid, vsize)
                kind = "string"
            else:
                off, data = json_values(column)
                vsize = np.diff(off)
                kind = "json"
        present = valid if drop_nulls else everywhere
        _add_sizes(sizes, present, first, vsize, key.size, sep_a.size)
        parts.append((kind, present, key, off, data, valid))
    out_off = np.zeros(rows + 1, np.int64)
    np.cumsum(sizes, out=out_off[1:])
    out = np.empty(int(out_off[-1]), np.uint8)
    cursor = out_off[:-1].copy()
    first[:] = True
    _put_const(out, cursor, open_a)
    for kind, present, key, off, data, valid in parts:
        if kind == "string":
            _put_string(out, cursor, present, first, sep_a, key, off, data, valid)
        else:
            _put_json(out, cursor, present, first, sep_a, key, off, data)
    _put_const(out, cursor, close_a)
    return out_off, out


# ---- canonical row texts ---------------------------------------------------------------------------

#: `canonical_rows` statuses. CANONICAL: a JSON object exactly as `row_json` writes what it decodes to.
#: TEXT: no object at all (does not open with `{`): `decode_row` keeps it as text. FLOATS: canonical
#: if each number with a fraction or exponent is `repr(float(number))` (checked by the caller).
#: OTHER: anything else (other escapes, spacing, key order, duplicate keys, deep nesting, NaN...):
#: left to the Python decoder.
CANONICAL, TEXT, FLOATS, OTHER = 0, 1, 2, 3
#: Nesting beyond which a text is left to the Python decoder (which keeps 48 levels as objects).
NESTING = 32
# Integers longer than this are left to Python (it writes no int of more than 4300 digits).
_MAX_DIGITS = 4000
_OBJ_OPEN, _KEY, _VALUE, _AFTER = 0, 1, 2, 3


@kernel
def _string_end(data, i, end):
    """Where the JSON string opening at `i` ends (after its quote), -1 when it is not spelled as
    `json.dumps` spells strings; and whether it has an escape."""
    i += 1
    escaped = False
    last = data.size - 8
    while i < end:
        if i + 8 <= end and i <= last and _special(load8(data, i)) == 0:
            i += 8
            continue
        c = data[i]
        if c == 0x22:
            return i + 1, escaped
        if c < 0x20:
            return -1, escaped
        if c == 0x5C:
            if i + 1 >= end:
                return -1, escaped
            e = data[i + 1]
            escaped = True
            if e == 0x22 or e == 0x5C or e == 0x62 or e == 0x66 or e == 0x6E or e == 0x72 or e == 0x74:
                i += 2
                continue
            if e != 0x75 or i + 5 >= end or data[i + 2] != 0x30 or data[i + 3] != 0x30:
                return -1, escaped
            h, l = data[i + 4], data[i + 5]
            if h != 0x30 and h != 0x31:
                return -1, escaped
            if 0x30 <= l <= 0x39:
                code = (h - 0x30) * 16 + (l - 0x30)
            elif 0x61 <= l <= 0x66:
                code = (h - 0x30) * 16 + (l - 0x61 + 10)
            else:
                return -1, escaped
            if _SHORT[code]:
                return -1, escaped
            i += 6
            continue
        i += 1
    return -1, escaped


@kernel
def _digits_end(data, i, end):
    """Where the run of ASCII digits from `i` ends (`i` itself if there is none)."""
    while i < end and 0x30 <= data[i] <= 0x39:
        i += 1
    return i


@kernel
def _number_end(data, i, end):
    """Where the JSON number at `i` ends, -1 when `json.dumps` would not spell it so (or it is too
    long); and whether it has a fraction or exponent."""
    start = i
    if data[i] == 0x2D:
        i += 1
    if i >= end:
        return -1, False
    if data[i] == 0x30:
        i += 1
    elif 0x31 <= data[i] <= 0x39:
        i = _digits_end(data, i, end)
    else:
        return -1, False
    if i - start > _MAX_DIGITS:
        return -1, False
    if i < end and (data[i] == 0x2E or data[i] == 0x65 or data[i] == 0x45):
        if data[i] == 0x2E:
            digits = i + 1
            i = _digits_end(data, digits, end)
            if i == digits:
                return -1, True
        if i < end and (data[i] == 0x65 or data[i] == 0x45):
            i += 1
            if i < end and (data[i] == 0x2B or data[i] == 0x2D):
                i += 1
            digits = i
            i = _digits_end(data, digits, end)
            if i == digits:
                return -1, True
        return i, True
    if i - start == 2 and data[start] == 0x2D and data[start + 1] == 0x30:
        return -1, False  # -0 reads back as 0
    return i, False


@kernel
def _literal_end(data, i, end):
    """Where `true`, `false`, `null`, `NaN`, `Infinity` or `-Infinity` at `i` ends, -1 for anything
    else (the last three are how `json` reads and writes the floats JSON lacks)."""
    c = data[i]
    if c == 0x2D:  # only -Infinity
        i += 1
        if i >= end or data[i] != 0x49:
            return -1
        c = 0x49
    if c == 0x4E and i + 3 <= end and data[i + 1] == 0x61 and data[i + 2] == 0x4E:
        return i + 3
    if (c == 0x49 and i + 8 <= end and data[i + 1] == 0x6E and data[i + 2] == 0x66 and data[i + 3] == 0x69
            and data[i + 4] == 0x6E and data[i + 5] == 0x69 and data[i + 6] == 0x74 and data[i + 7] == 0x79):
        return i + 8
    if c == 0x74 and i + 4 <= end and data[i + 1] == 0x72 and data[i + 2] == 0x75 and data[i + 3] == 0x65:
        return i + 4
    if c == 0x6E and i + 4 <= end and data[i + 1] == 0x75 and data[i + 2] == 0x6C and data[i + 3] == 0x6C:
        return i + 4
    if (c == 0x66 and i + 5 <= end and data[i + 1] == 0x61 and data[i + 2] == 0x6C and data[i + 3] == 0x73
            and data[i + 4] == 0x65):
        return i + 5
    return -1


@kernel
def _key_after(data, a, b, pa_, pb):
    """Whether key bytes a..b sort strictly after key bytes pa_..pb (UTF-8 order is code point order)."""
    n = min(b - a, pb - pa_)
    for k in range(n):
        if data[a + k] != data[pa_ + k]:
            return data[a + k] > data[pa_ + k]
    return b - a > pb - pa_


@kernel
def _scan(data, a, end, floats, nfloats, in_object, prev_a, prev_b):
    """The status of text a..end; the spans of its numbers with a fraction or exponent are written
    to `floats` from row `nfloats` on while there is room. Returns (status, float count).
    `in_object`, `prev_a` and `prev_b` are scratch space (one entry per level of nesting)."""
    if a >= end or data[a] != 0x7B:
        return TEXT, 0
    count = 0
    depth = 1
    in_object[1] = True
    i = a + 1
    state = _OBJ_OPEN
    while True:
        if state == _OBJ_OPEN:
            prev_b[depth] = -1
            if i < end and data[i] == 0x7D:
                i += 1
                depth -= 1
                state = _AFTER
                continue
            state = _KEY
        if state == _KEY:
            if i >= end or data[i] != 0x22:
                return OTHER, count
            k_end, escaped = _string_end(data, i, end)
            if k_end < 0 or escaped:
                return OTHER, count
            if prev_b[depth] >= 0 and not _key_after(data, i + 1, k_end - 1, prev_a[depth], prev_b[depth]):
                return OTHER, count
            prev_a[depth], prev_b[depth] = i + 1, k_end - 1
            i = k_end
            if i + 2 > end or data[i] != 0x3A or data[i + 1] != 0x20:
                return OTHER, count
            i += 2
            state = _VALUE
        if state == _VALUE:
            if i >= end:
                return OTHER, count
            c = data[i]
            if c == 0x7B or c == 0x5B:
                if depth >= NESTING:
                    return OTHER, count
                depth += 1
                in_object[depth] = c == 0x7B
                i += 1
                if c == 0x7B:
                    state = _OBJ_OPEN
                elif i < end and data[i] == 0x5D:
                    i += 1
                    depth -= 1
                    state = _AFTER
                continue
            if c == 0x22:
                i, _ = _string_end(data, i, end)
            elif (c == 0x2D and i + 1 < end and data[i + 1] != 0x49) or 0x30 <= c <= 0x39:
                start = i
                i, fraction = _number_end(data, i, end)
                if i >= 0 and fraction:
                    if nfloats + count < floats.shape[0]:
                        floats[nfloats + count, 0] = start
                        floats[nfloats + count, 1] = i
                    count += 1
            else:
                i = _literal_end(data, i, end)
            if i < 0:
                return OTHER, count
            state = _AFTER
        if state == _AFTER:
            if depth == 0:
                if i != end:
                    return OTHER, count
                return (FLOATS if count else CANONICAL), count
            if i + 2 <= end and data[i] == 0x2C and data[i + 1] == 0x20:
                i += 2
                state = _KEY if in_object[depth] else _VALUE
            elif i < end and data[i] == (0x7D if in_object[depth] else 0x5D):
                i += 1
                depth -= 1
            else:
                return OTHER, count


@kernel
def _scan_all(off, data, valid, status, counts, floats, first):
    """`_scan` of every valid text; `first[r]` is where row r's float spans start in `floats`."""
    total = 0
    in_object = np.zeros(NESTING + 1, np.bool_)
    prev_a = np.zeros(NESTING + 1, np.int64)
    prev_b = np.zeros(NESTING + 1, np.int64)
    for r in range(off.size - 1):
        if not valid[r]:
            status[r], counts[r] = CANONICAL, 0
            first[r] = total
            continue
        first[r] = total
        s, n = _scan(data, off[r], off[r + 1], floats, total, in_object, prev_a, prev_b)
        status[r], counts[r] = s, n
        if s == FLOATS:
            total += n
    return total


def canonical_rows(arr: pa.Array) -> np.ndarray:
    """For each text of a string column, whether `row_json(decode_row(text))` is the text itself:
    `CANONICAL` (a null too: its JSON, `null`, is the same either way), `TEXT` or `OTHER`.

    The scan settles all but the numbers with a fraction or exponent; a row with some (`FLOATS`)
    is canonical when each is written as `repr(float(number))`, as the decoder reads it and the
    encoder writes it back, and is `OTHER` otherwise.

    >>> canonical_rows(pa.array(['{"a": 1, "b": [true, null]}', '{"b": 1, "a": 2}', 'x', '{"a": 0.5}',
    ...                          '{"a": 1E2}', None])).tolist()
    [0, 3, 1, 0, 3, 0]
    """
    off, data = utf8_buffers(arr)
    valid = _valid(arr)
    n = len(arr)
    status = np.empty(n, np.int8)
    counts = np.empty(n, np.int64)
    first = np.empty(n, np.int64)
    total = _scan_all(off, data, valid, status, counts, np.empty((0, 2), np.int64), first)
    if total:
        floats = np.empty((total, 2), np.int64)
        _scan_all(off, data, valid, status, counts, floats, first)
        text = bytes(data)
        for r in np.flatnonzero(status == FLOATS).tolist():
            spans = floats[first[r]:first[r] + counts[r]].tolist()
            exact = all(repr(float(t)) == t for t in (text[s:e].decode("ascii") for s, e in spans))
            status[r] = CANONICAL if exact else OTHER
    return status


@kernel
def _gather(choice, off0, data0, off1, data1, off2, data2, out_off, out):
    """Row r's piece from source choice[r]: rows 0 and 1 by row number, source 2 in turn."""
    k = 0
    for r in range(choice.size):
        if choice[r] == 0:
            _memcpy(out, out_off[r], data0, off0[r], off0[r + 1] - off0[r])
        elif choice[r] == 1:
            _memcpy(out, out_off[r], data1, off1[r], off1[r + 1] - off1[r])
        else:
            _memcpy(out, out_off[r], data2, off2[k], off2[k + 1] - off2[k])
            k += 1


def row_values(arr: pa.Array, encode: Callable[[str], bytes]) -> tuple[np.ndarray, np.ndarray]:
    """Each text of a string column as `encode(text)` writes it, where `encode` is `row_json` of
    `decode_row` (the text read back as the object it holds, and written with sorted keys and
    `", "`, `": "`): (int64 offsets from 0, bytes).

    `encode` is called only for the texts `canonical_rows` cannot settle: a canonical text is its
    own JSON, a text that is no object is written as a JSON string, a null as `null`.

    >>> off, data = row_values(pa.array(['{"a": 1}', "x", None, '{"b":2}']), lambda t: b"<" + t.encode() + b">")
    >>> bytes(data).decode()
    '{"a": 1}"x"null<{"b":2}>'
    """
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    status = canonical_rows(arr)
    off, data = utf8_buffers(arr)
    quoted_off, quoted = string_json(arr)
    valid = _valid(arr)
    choice = np.where(valid & (status == CANONICAL), 0, np.where(status == OTHER, 2, 1)).astype(np.int8)
    others = np.flatnonzero(choice == 2)
    pieces = [encode(text) for text in arr.take(pa.array(others, pa.int64())).to_pylist()] if others.size else []
    other_off = np.zeros(len(pieces) + 1, np.int64)
    np.cumsum([len(p) for p in pieces], out=other_off[1:])
    other = _bytes(b"".join(pieces))
    sizes = np.where(choice == 0, np.diff(off), np.diff(quoted_off))
    sizes[others] = np.diff(other_off)
    out_off = np.zeros(len(arr) + 1, np.int64)
    np.cumsum(sizes, out=out_off[1:])
    out = np.empty(int(out_off[-1]), np.uint8)
    _gather(choice, off, data, quoted_off, quoted, other_off, other, out_off, out)
    return out_off, out
