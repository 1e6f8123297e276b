"""Placeholders: values that stand for "no value" ("<noinput>", "N/A", "none", "", …).

A value is a placeholder when, lower-cased, trimmed and stripped of the brackets and quotes
around it, it is one of :data:`PLACEHOLDERS`: :data:`STRONG` spellings mean nothing else,
:data:`WEAK` ones may be real values. The match is whole-value only, so "none of the
above" is text, not a placeholder. The empty string counts too: a column that holds both ""
and "<noinput>" says "no input" two ways, which is what makes placeholders *inconsistent*.

Only short values can match, so the column is first filtered by length (one Arrow pass) and
the few candidates are lower-cased and compared with ``is_in``.
"""
from __future__ import annotations

import pyarrow as pa
import pyarrow.compute as pc

#: Spellings that only ever mean "no value" (after lower-casing and removing brackets, quotes
#: and outer spaces): a row holding one in a column that is otherwise filled is missing data.
STRONG = ("noinput", "no input", "no_input", "no-input", "n/a", "n.a.", "not applicable", "not available",
          "tbd", "todo", "missing", "empty", "blank")
#: Spellings that may be real values too -- "None" answers a question, "undefined" is what some
#: JavaScript prints -- so they are reported, never dropped by a starter policy.
WEAK = ("", "na", "none", "null", "nil", "nan", "-", "--", "---", "?", "??", "unknown", "nothing",
        "undefined", ".")
PLACEHOLDERS = STRONG + WEAK
_LONGEST = max(len(p) for p in PLACEHOLDERS) + 8  # room for brackets, quotes and spaces
_WRAPPING = " \t\r\n<>[](){}\"'"


def placeholder_counts(col: pa.ChunkedArray | pa.Array) -> dict[str, int]:
    """Each placeholder spelling found in a string column, as written, with its row count.

    Sorted by count (most first), then by spelling.

    >>> placeholder_counts(pa.array(["<noinput>", "", "N/A", "hello", "none of these", "", None, "{[()]}"]))
    {'': 2, '<noinput>': 1, 'N/A': 1}
    """
    short = pc.filter(col, pc.fill_null(pc.less_equal(pc.utf8_length(col), _LONGEST), False))
    if len(short) == 0:
        return {}
    key = pc.utf8_trim(pc.utf8_lower(short), characters=_WRAPPING)
    hit = pc.is_in(key, value_set=pa.array(PLACEHOLDERS))
    # Brackets alone ("{[()]}") are a value, not an empty one: "" must be empty to begin with.
    hit = pc.and_(hit, pc.or_(pc.not_equal(key, ""), pc.equal(pc.utf8_trim_whitespace(short), "")))
    found = pc.filter(short, hit)
    if len(found) == 0:
        return {}
    counts = pc.value_counts(found)
    pairs = zip(counts.field("values").to_pylist(), counts.field("counts").to_pylist())
    return dict(sorted(pairs, key=lambda kv: (-kv[1], kv[0])))


def is_strong(spelling: str) -> bool:
    """Whether a spelling can only mean "no value".

    >>> is_strong("<noinput>"), is_strong(" N/A"), is_strong("None"), is_strong("")
    (True, True, False, False)
    """
    return spelling.lower().strip(_WRAPPING) in STRONG


def is_inconsistent(counts: dict[str, int]) -> bool:
    """Two or more spellings of "no value" in one column.

    >>> is_inconsistent({"": 4, "<noinput>": 1}), is_inconsistent({"": 9})
    (True, False)
    """
    return len(counts) >= 2
