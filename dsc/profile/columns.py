"""Per-column figures: nulls, empty strings, lengths, control characters, whitespace, Unicode form.

Everything is one Arrow or numpy pass over the whole column; the only Python loop is over the
control characters themselves (which code points occur), on at most :data:`_CONTROL_SAMPLE` rows.

Definitions (the profile's JSON uses these names):

``nulls``            null values (a JSON ``null`` or a missing key)
``empty``            the empty string ``""`` exactly
``blank``            not empty, but only whitespace (``str.isspace``)
``distinct``         distinct values, null counted as one value when present
``length``           characters (code points) per non-null string; elements per list
``control_rows``     strings holding a Unicode Cc/Cf character other than tab and newline
                     (what ``normalize … strip_control`` removes; ``\\r`` counts)
``untrimmed_rows``   strings with leading or trailing whitespace (what ``strip`` changes)
``non_nfc_rows``     strings not in Unicode NFC (what ``nfc`` changes)
``nfkc_rows``        strings NFKC would change (compatibility forms: ligatures, full-width, ²)
"""
from __future__ import annotations

from collections import Counter

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.kernels.exact import duplicate_groups
from dsc.kernels.text import normalize

_CONTROL_SAMPLE = 10_000  # rows whose control characters are itemised
_QUANTILES = {"p50": 50, "p90": 90, "p99": 99}


def is_text(t: pa.DataType) -> bool:
    """Whether an Arrow type holds strings the text kernels read."""
    return pa.types.is_string(t) or pa.types.is_large_string(t)


def is_nested(t: pa.DataType) -> bool:
    """Lists, structs and maps: values a spec cannot declare in its schema."""
    return pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_struct(t) or pa.types.is_map(t)


def column_figures(col: pa.ChunkedArray) -> dict:
    """The figures of one column (see the module docstring for each name).

    >>> col = pa.chunked_array([["a", "", " b", None, "c\\r", "a"]])
    >>> f = column_figures(col)
    >>> f["nulls"], f["empty"], f["distinct"], f["untrimmed_rows"], f["control_rows"], f["control_chars"]
    (1, 1, 5, 2, 1, {'U+000D': 1})
    >>> f["length"]["min"], f["length"]["max"], f["length"]["p50"]
    (0, 2, 1)
    """
    n = len(col)
    out: dict = {"arrow_type": str(col.type), "nulls": col.null_count}
    out["distinct"] = _distinct(col)
    lengths = None
    if is_text(col.type):
        out.update(_text_figures(col))
        lengths = pc.utf8_length(col)
    elif pa.types.is_list(col.type) or pa.types.is_large_list(col.type):
        lengths = pc.list_value_length(col)
    if lengths is not None:
        out["length"] = length_distribution(lengths)
    out["filled"] = n - out["nulls"] - out.get("empty", 0) - out.get("blank", 0)
    return out


def _distinct(col: pa.ChunkedArray) -> int:
    # The exact-duplicate kernel hashes a string by its length and ends, so long texts cost
    # what short ones do (Arrow's hash reads every byte); it is exact all the same.
    if len(col) == 0:
        return 0
    cluster = duplicate_groups([col])
    return int(np.count_nonzero(cluster == np.arange(len(cluster))))


def _text_figures(col: pa.ChunkedArray) -> dict:
    col = col.combine_chunks() if col.num_chunks != 1 else col.chunk(0)
    empty = _count(pc.equal(col, ""))
    trimmed = pc.utf8_trim_whitespace(col)
    blank = _count(pc.equal(trimmed, "")) - empty
    untrimmed = _count(pc.not_equal(pc.utf8_length(trimmed), pc.utf8_length(col)))
    control_mask = pc.not_equal(normalize(col, ["strip_control"]), col)
    return {
        "empty": empty,
        "blank": blank,
        "untrimmed_rows": untrimmed,
        "control_rows": _count(control_mask),
        "control_chars": _control_chars(col.filter(pc.fill_null(control_mask, False))),
        "non_nfc_rows": _count(pc.not_equal(normalize(col, ["nfc"]), col)),
        "nfkc_rows": _count(pc.not_equal(normalize(col, ["nfkc"]), col)),
    }


def _count(mask) -> int:
    """True values of a boolean array (nulls are not true)."""
    return int(pc.sum(pc.fill_null(mask, False)).as_py() or 0)


def _control_chars(rows: pa.Array) -> dict[str, int]:
    """Which control characters occur (as ``U+`` and four hex digits), counted over the first rows that hold one."""
    if len(rows) == 0:
        return {}
    # RE2 removes everything but Cc/Cf in one pass; what is left is a few characters per row.
    only = pc.replace_substring_regex(rows.slice(0, _CONTROL_SAMPLE), r"[^\p{Cc}\p{Cf}]|[\t\n]+", "")
    counts = Counter("".join(only.to_pylist()))
    return {f"U+{ord(c):04X}": k for c, k in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))}


def length_distribution(lengths: pa.Array | pa.ChunkedArray) -> dict:
    """min, p50, p90, p99, max and mean of non-null lengths, and a count per power of ten.

    Quantiles are observed values (the inverted CDF), so they are whole numbers.
    ``buckets`` counts lengths 0, 1-9, 10-99, 100-999, …

    >>> d = length_distribution(pa.array([0, 3, 12, 12, 150, None]))
    >>> d["min"], d["p50"], d["max"], d["mean"], d["buckets"]
    (0, 12, 150, 35.4, {'0': 1, '1-9': 1, '10-99': 2, '100-999': 1})
    """
    values = pc.drop_null(lengths)
    arr = values.to_numpy() if isinstance(values, pa.Array) else np.concatenate(
        [c.to_numpy() for c in values.chunks] or [np.empty(0, np.int64)])
    if arr.size == 0:
        return {}
    out = {"min": int(arr.min())}
    for name, q in _QUANTILES.items():
        out[name] = int(np.percentile(arr, q, method="inverted_cdf"))
    out["max"] = int(arr.max())
    out["mean"] = round(float(arr.mean()), 1)
    digits = np.where(arr > 0, np.floor(np.log10(np.maximum(arr, 1))).astype(np.int64) + 1, 0)
    found = np.bincount(digits)
    out["buckets"] = {_bucket(d): int(k) for d, k in enumerate(found) if k}
    return out


def _bucket(digits: int) -> str:
    if digits == 0:
        return "0"
    return f"{10 ** (digits - 1)}-{10 ** digits - 1}"
