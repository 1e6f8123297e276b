"""The profile as data: one JSON-ready dict, built from the loaded rows.

Top-level keys (N = ``rows``, the rows that loaded; ``rejected_rows`` did not):

``rows``, ``rejected_rows``, ``rejects``      counts, and rejects grouped by reason
``inputs``                                   each file: path, bytes, records, sha256
``explode``                                  the list column read as one row per element, or null
``bookkeeping``                              the ``_dsc_`` columns of a file dsc wrote (its
                                             row ids, splits …): left out of every figure
``exact_duplicate_rows``                     N − distinct whole rows
``key``, ``key_duplicate_rows``,             with a key: N − distinct keys, and the same
``normalized_key_duplicate_rows``            after case folding and whitespace collapsing
``target``, ``conflict_groups``,             with a key and a target: keys with two or more
``conflict_rows``                            targets, and the rows holding those keys;
``key_target_duplicate_rows``                N − distinct (key, target) pairs
``near_duplicates``                          the MinHash estimate over the text columns
``columns``                                  one entry per column (:mod:`dsc.profile.columns`,
                                             inferred ``type``, ``placeholders``, ``values``)

Figures that do not apply (no key given) are null. See :mod:`dsc.profile.duplicates` for the
exact meaning of each duplicate figure.
"""
from __future__ import annotations

from collections import Counter
from typing import Callable

import pyarrow as pa

from dsc.diagnostics import did_you_mean
from dsc.profile import duplicates
from dsc.profile.columns import column_figures, is_nested, is_text
from dsc.profile.infer import infer_type
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.profile.load import Loaded, ProfileError
from dsc.profile.placeholders import is_inconsistent, placeholder_counts
from dsc.profile.values import detect_values
from dsc.reserved import ID, SRC

Progress = Callable[[str, int, int], None]
_REJECT_REASONS = 10


def build_profile(loaded: Loaded, key: list[str] | None = None, target: str | None = None,
                  text: list[str] | None = None, progress: Progress | None = None) -> dict:
    """Profile the loaded rows. ``text=None`` picks the columns inferred as ``text``; ``[]``
    skips the near-duplicate estimate. ``progress(step, done, total)`` is told each step.

    >>> from dsc.profile.load import Loaded
    >>> t = pa.table({"q": ["Hi", "hi ", "Hi", "yo"], "a": ["1", "2", "1", "3"]})
    >>> p = build_profile(Loaded(t, [], [], "demo"), key=["q"], target="a", text=[])
    >>> p["rows"], p["exact_duplicate_rows"], p["key_duplicate_rows"], p["normalized_key_duplicate_rows"]
    (4, 1, 1, 2)
    >>> p["conflict_groups"], p["conflict_rows"], p["near_duplicates"]
    (0, 0, None)
    """
    table = loaded.table
    names = [n for n in table.column_names if n not in (ID, SRC)]
    if not key and target is None:  # a spec's own conflicts rule, unless the options say otherwise
        key, target = loaded.defaults.get("key"), (loaded.defaults.get("target") or [None])[0]
    key = _known(key or [], names, "--key")
    targets = _known([target] if target else [], names, "--target")
    if targets and not key:
        raise ProfileError("--target needs --key: a conflict is rows that share a key but differ in the target",
                           EXIT_SPEC_ERROR)
    text = text if text is not None else loaded.defaults.get("text")
    text = _known(text, names, "--text") if text is not None else None
    for name in text or []:
        if is_nested(table.column(name).type):
            raise ProfileError(f"column '{name}' (--text) holds {table.column(name).type} values, not text",
                               code="DSC303")

    total = len(names) + 3
    note = progress or (lambda _step, _done, _total: None)
    columns = []
    for i, name in enumerate(names):
        note(f"column {name}", i, total)
        columns.append(_column(name, table.column(name)))
    note("exact duplicates", len(names), total)
    out: dict = {
        "name": loaded.name,
        "inputs": [{"path": f.path, "bytes": f.bytes, "records": f.rows, "sha256": f.sha256} for f in loaded.inputs],
        "rows": table.num_rows,
        "rejected_rows": len(loaded.rejects),
        "rejects": _reject_reasons(loaded.rejects),
        "explode": loaded.explode,
        "bookkeeping": loaded.bookkeeping,
        "exact_duplicate_rows": duplicates.repeats([table.column(n) for n in names]),
    }
    note("key duplicates and conflicts", len(names) + 1, total)
    out.update(_keyed(table, key, targets[0] if targets else None))
    if text is None:
        text = [c["name"] for c in columns if c["type"] == "text"]
    note("near duplicates", len(names) + 2, total)
    out["near_duplicates"] = _near(table, text) if text else None
    out["columns"] = columns
    note("done", total, total)
    return out


def _known(columns: list[str], names: list[str], option: str) -> list[str]:
    """The columns, each checked to exist (exit 4, with the nearest name as a hint)."""
    for column in columns:
        if column not in names:
            hint = did_you_mean(column, names)
            raise ProfileError(f"column '{column}' ({option}) is not in the data"
                               + (f"; {hint}" if hint else "") + f" (columns: {', '.join(names)})",
                               EXIT_INPUT_ERROR, code="DSC308")
    return list(dict.fromkeys(columns))


def _column(name: str, col: pa.ChunkedArray) -> dict:
    figures = column_figures(col)
    text = is_text(col.type)
    values = detect_values(col) if text else None
    placeholders = placeholder_counts(col) if text else {}
    entry = {"name": name, **infer_type(col, figures, values, placeholders), **figures}
    if text:
        entry["placeholders"] = placeholders
        entry["inconsistent_placeholders"] = is_inconsistent(placeholders)
    entry["values"] = values
    return entry


def _keyed(table: pa.Table, key: list[str], target: str | None) -> dict:
    out: dict = {"key": key or None, "key_duplicate_rows": None, "normalized_key_duplicate_rows": None,
                 "target": target, "key_target_duplicate_rows": None, "conflict_groups": None,
                 "conflict_rows": None}
    if not key:
        return out
    cols = [table.column(c) for c in key]
    out["key_duplicate_rows"] = duplicates.repeats(cols)
    out["normalized_key_duplicate_rows"] = duplicates.repeats([duplicates.normalized(c) for c in cols])
    if target:
        out["key_target_duplicate_rows"] = duplicates.repeats([*cols, table.column(target)])
        out["conflict_groups"], out["conflict_rows"] = duplicates.conflicts(table, key, target)
    return out


def _near(table: pa.Table, text: list[str]) -> dict:
    from dsc.ops.runtime import joined_text

    return {"columns": text, **duplicates.near_estimate(joined_text(table, text))}


def _reject_reasons(rejects) -> list[dict]:
    """Rejected rows grouped by reason (most common first), each with its first source."""
    counts = Counter(r.reason for r in rejects)
    first: dict[str, str] = {}
    for r in rejects:
        first.setdefault(r.reason, r.source)
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:_REJECT_REASONS]
    return [{"reason": reason, "rows": n, "first": first[reason]} for reason, n in ranked]
