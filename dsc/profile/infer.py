"""The schema type a column would be declared as, inferred from its Arrow type and its values.

Typed columns keep their type (``bool``, ``int``, ``float``; a list is ``list``, an object
``object``: neither can be declared in a schema). A string column is, in this order:

1. the kind its values standardise into, when :func:`dsc.profile.values.detect_values` finds
   one (``date``, ``datetime``, ``money``, ``quantity``, ``int``, ``float`` or ``bool``);
2. ``label`` when it is a small closed vocabulary: at most :data:`MAX_LABELS` distinct short
   values, each used :data:`MIN_USES` times on average, in a column missing (null, empty or a
   strong placeholder such as "N/A") in at most :data:`MOSTLY_FILLED` of its rows. A
   placeholder is never one of the labels; a column often left empty is an optional field,
   not a class every row has;
3. ``string`` when its values are identifiers: short (90% within :data:`SHORT` characters)
   and almost never holding whitespace;
4. ``text`` otherwise.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

from dsc.profile.columns import is_text
from dsc.profile.placeholders import is_strong

MOSTLY_FILLED = 0.10  # a column missing in at most this share of rows should not miss any
MAX_LABELS = 20
MIN_USES = 5
SHORT = 64
_LABEL_CHARS = 40
_SPACED = 0.05  # share of values with whitespace an identifier column may have


def infer_type(col: pa.ChunkedArray | pa.Array, figures: dict, values: dict | None,
               placeholders: dict[str, int] | None = None) -> dict:
    """``{"type": …}``, plus ``labels`` (sorted) for a label column. ``placeholders`` are the
    column's placeholder spellings and counts (:func:`dsc.profile.placeholders.placeholder_counts`).

    >>> col = pa.array(["bug", "billing", "bug", "other"] * 5)
    >>> infer_type(col, {"filled": 20, "distinct": 3, "length": {"p90": 7}}, None)
    {'type': 'label', 'labels': ['billing', 'bug', 'other']}
    >>> col = pa.array(["N/A"] + ["bug", "billing", "bug", "other"] * 5)  # a placeholder is no label
    >>> infer_type(col, {"filled": 21, "distinct": 4, "length": {"p90": 7}}, None, {"N/A": 1})
    {'type': 'label', 'labels': ['billing', 'bug', 'other']}
    >>> col = pa.array(["", "", "", "see notes", "call back"] * 6)  # often empty: optional free text
    >>> infer_type(col, {"filled": 12, "distinct": 3, "length": {"p90": 9}}, None, {"": 18})
    {'type': 'text'}
    >>> infer_type(pa.array(["how are you?", "fine"]), {"filled": 2, "distinct": 2, "length": {"p90": 12}}, None)
    {'type': 'text'}
    >>> infer_type(pa.array([1, 2]), {}, None)
    {'type': 'int'}
    """
    t = col.type
    simple = _typed(t)
    if simple is not None:
        return {"type": simple}
    if values is not None:
        return {"type": values["kind"]}
    filled = pc.filter(col, pc.fill_null(pc.not_equal(pc.utf8_trim_whitespace(col), ""), False))
    labels = _labels(filled, len(col), figures, placeholders or {})
    if labels is not None:
        return {"type": "label", "labels": labels}
    if len(filled) and figures.get("length", {}).get("p90", 0) <= SHORT:
        spaced = pc.sum(pc.match_substring_regex(filled, r"\s")).as_py() or 0
        if spaced <= _SPACED * len(filled):
            return {"type": "string"}
    return {"type": "text"}


def _typed(t: pa.DataType) -> str | None:
    if pa.types.is_null(t):
        return "null"
    if pa.types.is_boolean(t):
        return "bool"
    if pa.types.is_integer(t):
        return "int"
    if pa.types.is_floating(t) or pa.types.is_decimal(t):
        return "float"
    if pa.types.is_timestamp(t):
        return "datetime"
    if pa.types.is_date(t):
        return "date"
    if pa.types.is_list(t) or pa.types.is_large_list(t) or pa.types.is_fixed_size_list(t):
        return "list"
    if pa.types.is_struct(t) or pa.types.is_map(t):
        return "object"
    if is_text(t):
        return None
    return str(t)


def _labels(filled, rows: int, figures: dict, placeholders: dict[str, int]) -> list[str] | None:
    distinct = figures.get("distinct") or 0
    if not 0 < distinct <= MAX_LABELS + 2 or len(filled) < MIN_USES * 2:
        return None  # (+2: the distinct count may include null and "")
    strong = [v for v in placeholders if is_strong(v)]
    used = len(filled) - sum(placeholders[v] for v in strong)
    if rows - used > MOSTLY_FILLED * rows:
        return None  # often missing: an optional field, not a class every row has
    values = pc.unique(filled)
    if strong:
        values = pc.filter(values, pc.invert(pc.is_in(values, value_set=pa.array(strong))))
    if len(values) > MAX_LABELS or used < MIN_USES * len(values):
        return None
    if (pc.max(pc.utf8_length(values)).as_py() or 0) > _LABEL_CHARS:
        return None
    if pc.any(pc.match_substring(values, "\n")).as_py():
        return None
    return sorted(values.to_pylist())
