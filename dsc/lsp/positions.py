"""Where things are, in dsc's terms and in the protocol's.

dsc counts lines from 1 and columns from 1 in code points, and breaks lines at `\\n` only
(`dsc.syntax.source.SourceFile`). The Language Server Protocol counts both from 0, breaks lines at
`\\n`, `\\r\\n` and a lone `\\r`, and counts columns in the units the client and server agreed on:
UTF-16 code units unless both said otherwise (`utf-8` bytes or `utf-32` code points). So a span
goes dsc (line, column) → character offset → protocol (line, character), never straight across:
an emoji before a column takes 2 UTF-16 units, and a lone `\\r` starts a new protocol line that
dsc does not see.
"""
from __future__ import annotations

import bisect
import re
from dataclasses import dataclass
from functools import cached_property

from dsc.syntax.source import SourceFile, Span

UTF16, UTF8, UTF32 = "utf-16", "utf-8", "utf-32"
_BREAK = re.compile(r"\r\n|\r|\n")


def units(text: str, encoding: str = UTF16) -> int:
    """How many protocol units `text` takes in a column.

    >>> units("a😀b"), units("a😀b", UTF8), units("a😀b", UTF32)
    (4, 6, 3)
    """
    if encoding == UTF32:
        return len(text)
    if encoding == UTF8:
        return len(text.encode("utf-8", "surrogatepass"))  # a lone surrogate (JSON allows one) as 3 bytes
    return len(text) + sum(ord(ch) > 0xFFFF for ch in text)


@dataclass(frozen=True)
class Lines:
    """A document's text with the protocol's line table: offsets ↔ (line, character).

    >>> doc = Lines("a😀 x\\r\\nb\\rc")
    >>> doc.position(4), doc.position(5), doc.position(6), doc.position(8)
    ((0, 5), (0, 5), (1, 0), (2, 0))
    >>> doc.offset(0, 5), doc.offset(0, 2), doc.offset(1, 99), doc.offset(7, 0)
    (4, 1, 7, 9)
    """

    text: str
    encoding: str = UTF16

    @cached_property
    def starts(self) -> list[int]:
        return [0] + [m.end() for m in _BREAK.finditer(self.text)]

    def _line_end(self, line: int) -> int:
        """The offset where a protocol line's text ends (before its line break)."""
        end = self.starts[line + 1] if line + 1 < len(self.starts) else len(self.text)
        while end > self.starts[line] and self.text[end - 1] in "\r\n":
            end -= 1
        return end

    def position(self, offset: int) -> tuple[int, int]:
        """The protocol (line, character) of a character offset (clamped to the text)."""
        offset = max(0, min(offset, len(self.text)))
        line = bisect.bisect_right(self.starts, offset) - 1
        if offset > self._line_end(line):  # inside a \r\n: the end of the line
            offset = self._line_end(line)
        return line, units(self.text[self.starts[line]:offset], self.encoding)

    def offset(self, line: int, character: int) -> int:
        """The character offset of a protocol position; past the end of a line is its end, past the
        last line the end of the text, and inside a character (half a surrogate pair, a byte of
        a UTF-8 sequence) the start of it."""
        if line < 0:
            return 0
        if line >= len(self.starts):
            return len(self.text)
        start, end = self.starts[line], self._line_end(line)
        if self.encoding == UTF32:
            return min(start + max(character, 0), end)
        used = 0
        for i in range(start, end):
            used += units(self.text[i], self.encoding)
            if used > character:
                return i
        return end

    @property
    def end(self) -> tuple[int, int]:
        """The position just after the last character."""
        return self.position(len(self.text))


def span_offsets(span: Span, source: SourceFile) -> tuple[int, int] | None:
    """The character offsets (start, end) of a dsc span, from its lines and columns; None for a
    span about the whole file. An empty span is widened to the character it points at (as the
    caret of `dsc check` is), unless it is at the end of a line.

    >>> src = SourceFile("a.dspec", "seed 7\\nlocale xx\\n")
    >>> span_offsets(src.span(14, 16), src), span_offsets(src.span(5, 5), src), span_offsets(src.span(6, 6), src)
    ((14, 16), (5, 6), (6, 6))
    >>> span_offsets(Span(0, 0, 0, 0), src) is None
    True
    """
    if not span.line:
        return None
    starts = source.line_starts

    def offset(line: int, column: int) -> int:
        line = min(max(line, 1), len(starts))
        return min(starts[line - 1] + max(column, 1) - 1, len(source.text))

    start = offset(span.line, span.column)
    end = max(offset(span.end_line or span.line, span.end_column or span.column), start)
    if end == start and start < len(source.text) and source.text[start] not in "\r\n":
        end = start + 1
    return start, end
