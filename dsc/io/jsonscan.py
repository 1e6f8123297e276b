"""JSON parsing helpers shared by the jsonl and json readers.

Python's ``json`` accepts two things JSON does not mean to allow, and
silently: duplicate keys (the last value wins) and NaN/Infinity literals.
:class:`Scanner` flags both so the reader can reject the record concerned.
:func:`too_deep` bounds nesting so that later recursive steps are safe.
"""

from __future__ import annotations

import json
from typing import Any

from .model import MAX_DEPTH


class _Marked(dict):
    """An object that had a duplicate key (the later value was kept)."""

    duplicate: str = ""


class _Constant:
    """A NaN/Infinity literal, which Python accepts but JSON does not."""

    def __init__(self, name: str):
        self.name = name

    def __repr__(self) -> str:
        return self.name


class Scanner:
    """``json.loads`` that flags duplicate keys and NaN/Infinity literals.

    Both would otherwise load silently (losing a value, or storing a number
    no JSON consumer can read back).  Flagging instead of raising lets a JSON
    array reject only the records concerned; the flag keeps the common case
    free of a second walk over the data.

    >>> scanner = Scanner()
    >>> value = scanner.loads('{"a": 1, "b": [NaN], "a": 2}')
    >>> scanner.flagged, value["a"], invalid(value)
    (True, 2, "duplicate key 'a'")
    >>> invalid(scanner.loads('{"b": [NaN]}'))
    'NaN is not valid JSON'
    """

    def __init__(self) -> None:
        self.flagged = False

    def _pairs(self, pairs: list[tuple[str, Any]]) -> dict:
        obj = dict(pairs)
        if len(obj) == len(pairs):
            return obj
        self.flagged = True
        marked = _Marked(obj)
        seen: set[str] = set()
        for key, _ in pairs:
            if key in seen:
                marked.duplicate = key
                break
            seen.add(key)
        return marked

    def _constant(self, name: str) -> _Constant:
        self.flagged = True
        return _Constant(name)

    def loads(self, text: str) -> Any:
        self.flagged = False
        return json.loads(text, object_pairs_hook=self._pairs, parse_constant=self._constant)


def invalid(value: Any) -> str | None:
    """Why a flagged value is not valid JSON, or None if this one is fine."""
    if isinstance(value, _Constant):
        return f"{value.name} is not valid JSON"
    if isinstance(value, dict):
        if isinstance(value, _Marked):
            return f"duplicate key '{value.duplicate}'"
        items: Any = value.values()
    elif isinstance(value, list):
        items = value
    else:
        return None
    for item in items:
        problem = invalid(item)
        if problem:
            return problem
    return None


def too_deep(value: Any) -> bool:
    """Whether ``value`` nests more than :data:`MAX_DEPTH` lists/objects.

    Checked right after parsing, without recursion, so that everything
    after it (typing, hashing, Arrow conversion) can recurse safely: JSON
    parses values nested almost to Python's recursion limit.
    """
    stack = [(value, 0)] if isinstance(value, (dict, list)) else []
    while stack:
        item, depth = stack.pop()
        if depth >= MAX_DEPTH:
            return True
        children = item.values() if isinstance(item, dict) else item
        stack.extend((c, depth + 1) for c in children if isinstance(c, (dict, list)))
    return False
