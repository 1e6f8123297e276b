"""JSON parsing helpers shared by the jsonl and json readers, and by whatever reads a reject's row.

Python's ``json`` accepts two things JSON does not mean to allow, and
silently: duplicate keys (the last value wins) and NaN/Infinity literals.
:class:`Scanner` flags both so the reader can reject the record concerned.

Nesting is bounded where JSON text becomes values: :func:`loads` and
:meth:`Scanner.decode` return nothing nested more than :data:`MAX_DEPTH`
lists/objects deep and raise :class:`Unbounded` for deeper text, whatever its
depth (never a RecursionError), so every later step may recurse over a value.
:func:`decode_row` is the one way back from a reject's row text to a value.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from typing import Any

from .model import MAX_DEPTH

JSON_SPACE = " \t\n\r"
_WS = re.compile(f"[{JSON_SPACE}]*")
# A JSON string (possessive: no backtracking on a long one), or a bracket.
_TOKEN = re.compile(r'"[^"\\]*+(?:\\.[^"\\]*+)*+"|[][{}]', re.DOTALL)
# Numbers as the text they are written as: `1e3`, `0.10`, `-0` and 30 digits keep their spelling.
_WRITTEN = json.JSONDecoder(parse_int=str, parse_float=str)


class Unbounded(ValueError):
    """JSON text beyond the reader's bounds: nested more than :data:`MAX_DEPTH` lists/objects
    deep, or an integer of more than :data:`MAX_INT_DIGITS` digits."""


# Python converts at most this many digits to an int (sys.get_int_max_str_digits); a longer
# integer is no value any column can hold, and converting it would take quadratic time.
MAX_INT_DIGITS = 4300


def _int(digits: str) -> int:
    """A JSON integer as an int, or :class:`Unbounded` past :data:`MAX_INT_DIGITS` digits.

    >>> _int("-42"), _int("1" * 5000)
    Traceback (most recent call last):
    ...
    dsc.io.jsonscan.Unbounded: a number of 5000 digits (more than 4300)
    """
    if len(digits.lstrip("-")) > MAX_INT_DIGITS:
        raise Unbounded(f"a number of {len(digits.lstrip('-'))} digits (more than {MAX_INT_DIGITS})")
    return int(digits)


_PLAIN = json.JSONDecoder(parse_int=_int)


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
        self.span = (0, 0)
        self._decoder = json.JSONDecoder(object_pairs_hook=self._pairs, parse_constant=self._constant,
                                         parse_int=_int)

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
        """The JSON document ``text``, as :func:`loads` reads it."""
        self.flagged = False
        return loads(text, self._decoder)

    def decode(self, text: str, start: int) -> tuple[Any, int]:
        """The JSON value at ``text[start]`` and where it ends, as :func:`decode` reads it."""
        self.flagged = False
        return decode(text, start, self._decoder)

    def elements(self, text: str) -> Iterator[tuple[Any, str | None]]:
        """The elements of the JSON array ``text`` (which opens with ``[``, after :data:`JSON_SPACE`),
        read one at a time: ``(value, None)``, or ``(None, why)`` for one beyond the bounds
        (:class:`Unbounded`: nested more than :data:`MAX_DEPTH` deep, a huge integer), which the rest
        of the array survives; its text is ``text[slice(*span)]``.  :attr:`flagged` is the
        element's own, and :attr:`span` where its text starts and ends.  ``JSONDecodeError``
        where the array is not valid JSON.

        >>> [item for item in Scanner().elements('[{"a": 1}, ' + "[" * 5000 + "]" * 5000 + ", 2]")]
        ... # doctest: +ELLIPSIS
        [({'a': 1}, None), (None, 'nested more than 48 levels deep'), (2, None)]
        """
        pos = _WS.match(text, _WS.match(text).end() + 1).end()
        closed = text.startswith("]", pos)
        while not closed:
            try:
                value, end = self.decode(text, pos)
                why = None
            except Unbounded as err:
                end = value_end(text, pos)
                value, why = None, str(err)
            self.span = (pos, end)
            yield value, why
            pos = _WS.match(text, end).end()
            closed = text.startswith("]", pos)
            if not closed:
                if not text.startswith(",", pos):
                    raise json.JSONDecodeError("Expecting ',' delimiter", text, pos)
                pos = _WS.match(text, pos + 1).end()
        end = _WS.match(text, pos + 1).end()
        if end != len(text):
            raise json.JSONDecodeError("Extra data", text, end)


def loads(text: str, decoder: json.JSONDecoder = _PLAIN) -> Any:
    """``json.loads`` by ``decoder``, or :class:`Unbounded` for nesting deeper than :data:`MAX_DEPTH`.

    >>> loads('{"a": [[1]]}')
    {'a': [[1]]}
    >>> loads("[" * 100_000 + "]" * 100_000)
    Traceback (most recent call last):
    dsc.io.jsonscan.Unbounded: nested more than 48 levels deep
    """
    value, end = decode(text, _WS.match(text).end(), decoder)
    end = _WS.match(text, end).end()
    if end != len(text):
        raise json.JSONDecodeError("Extra data", text, end)
    return value


def as_written(text: str) -> Any:
    """The JSON ``text`` (a value :func:`loads` has read) with every number as the text it is
    written as, not as an int or float.

    >>> as_written('{"a": 1e3, "b": [0.10, -0], "c": "x"}')
    {'a': '1e3', 'b': ['0.10', '-0'], 'c': 'x'}
    """
    return loads(text, _WRITTEN)


def decode(text: str, start: int, decoder: json.JSONDecoder = _PLAIN) -> tuple[Any, int]:
    """The JSON value at ``text[start]`` and where it ends; :class:`Unbounded` when it nests deeper
    than :data:`MAX_DEPTH` (:func:`value_end` finds its end then)."""
    try:
        value, end = decoder.raw_decode(text, start)
    except RecursionError:
        # Python's parser recurses once per level and gives up cleanly near its limit.
        raise Unbounded(f"nested more than {MAX_DEPTH} levels deep") from None
    if too_deep(value):
        raise Unbounded(f"nested more than {MAX_DEPTH} levels deep")
    return value, end


def value_end(text: str, start: int) -> int:
    """Where the list or object that opens at ``text[start]`` ends (after its closing bracket),
    found without parsing or recursion; ``len(text)`` when it never closes.

    >>> value_end('[["]", {}], 1]', 0), value_end('[["]", {}], 1]', 1), value_end("[[", 0)
    (14, 10, 2)
    """
    depth = 0
    for match in _TOKEN.finditer(text, start):
        bracket = text[match.start()]
        if bracket in "[{":
            depth += 1
        elif bracket != '"':
            depth -= 1
            if depth == 0:
                return match.end()
    return len(text)


def decode_row(text: str | None) -> Any:
    r"""A rejected row's text as the object it holds, or the text itself.

    The object when the text is a JSON object (read as ``json.loads`` reads
    it) nested at most :data:`MAX_DEPTH` deep, whose strings can be written
    as UTF-8 (no lone surrogate escape such as ``"\ud800"``); otherwise --
    a malformed input line, a line nested too deeply, a cut one -- the text.

    >>> decode_row('{"q": [1]}'), decode_row("not json"), decode_row(r'{"q": "\ud800"}')
    ({'q': [1]}, 'not json', '{"q": "\\ud800"}')
    >>> decode_row('{"q": ' + "[" * 10_000) == '{"q": ' + "[" * 10_000
    True
    """
    if text is None or not text.startswith("{"):
        return text
    try:
        value = loads(text)
    except ValueError:  # not JSON, or Unbounded
        return text
    if "\\u" in text:
        try:
            json.dumps(value, ensure_ascii=False).encode("utf-8")
        except UnicodeEncodeError:
            return text
    return value


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

    Checked by :func:`decode` right after parsing, without recursion: JSON
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
