"""Source files and spans: where a piece of a spec came from, for diagnostics."""
from __future__ import annotations

import bisect
from dataclasses import dataclass
from functools import cached_property


@dataclass(frozen=True)
class Span:
    """A half-open character range of a source file, with 1-based line/column of both ends.

    >>> Span(1, 3, 1, 7, 2, 6).length
    4
    """

    line: int
    column: int
    end_line: int
    end_column: int
    start: int = 0
    end: int = 0

    @property
    def length(self) -> int:
        return max(self.end - self.start, 1)


NO_SPAN = Span(0, 0, 0, 0)


@dataclass(frozen=True)
class SourceFile:
    """The text of one spec file and its display path.

    >>> src = SourceFile("a.dspec", "one\\ntwo\\n")
    >>> src.line_text(2), src.position(5)
    ('two', (2, 2))
    """

    path: str
    text: str

    @cached_property
    def line_starts(self) -> list[int]:
        starts = [0]
        for i, ch in enumerate(self.text):
            if ch == "\n":
                starts.append(i + 1)
        return starts

    def position(self, offset: int) -> tuple[int, int]:
        """1-based (line, column) of a character offset."""
        idx = bisect.bisect_right(self.line_starts, offset) - 1
        return idx + 1, offset - self.line_starts[idx] + 1

    def line_text(self, line: int) -> str:
        if line < 1 or line > len(self.line_starts):
            return ""
        start = self.line_starts[line - 1]
        end = self.text.find("\n", start)
        return self.text[start : end if end >= 0 else len(self.text)].rstrip("\r")

    def span(self, start: int, end: int) -> Span:
        line, col = self.position(start)
        end_line, end_col = self.position(max(end, start))
        return Span(line, col, end_line, end_col, start, end)
