"""The report's charts: horizontal bar charts as inline SVG, sized from their own text.

Why its own module: a chart's geometry is arithmetic on the stats, and arithmetic is easier to
test (doctests here, a real browser in tests/test_report_browser.py) than inside a template.

Why monospace: SVG text does not wrap or grow its box, so a label is only safe if its width is
known before the browser lays it out. In a monospace font every character is one cell of about
0.6em (DejaVu Sans Mono, Menlo and Courier New are 0.60em, Consolas 0.55em); counting 0.62em per
cell, two cells for a wide (East Asian or emoji) character, over-estimates every label, so the
boxes sized from it hold the text in any of those fonts. Long labels (a drop reason) wrap on
several lines, never cut: a reviewer must be able to tell three reasons apart.

Deterministic: the same bars give the same bytes (every coordinate printed with one decimal,
nothing from the clock or the platform). No script, no external reference: the SVG reads alone.
Data is escaped as XML text; a value that is not a finite, non-negative number draws no bar and
prints as it is.
"""
from __future__ import annotations

import math
import unicodedata
from dataclasses import dataclass
from html import escape

FONT = "DejaVu Sans Mono, Menlo, Consolas, Liberation Mono, monospace"
FONT_PX = 12
CELL = 0.62 * FONT_PX  # the width budgeted per character cell, in px
LINE = 16  # px from one text line to the next
WRAP = 44  # cells per line of a label before it wraps
TITLE_WRAP = 96  # cells per line of a title
INDENT = 2  # cells a sub-row (level 1) is indented by
BAR_AREA = 280  # px of the longest bar
PAD, GAP, BAR_H = 4, 8, 12
COLOURS = ("#0969da", "#54aeff")  # a main bar, a sub-bar


@dataclass(frozen=True)
class Bar:
    """One row of a chart: a label, a value (None: a heading row with no bar), what follows the
    value (a share, say), and a level (1: a sub-row under the last level-0 row, indented)."""

    label: str
    value: float | None
    note: str = ""
    level: int = 0


def cells(text: str) -> int:
    """Character cells `text` takes in a monospace font: two for a wide character.

    >>> cells("200 (100.0%)"), cells("日本"), cells("✅ ok")
    (12, 4, 5)
    """
    return sum(2 if unicodedata.east_asian_width(c) in "WF" else 1 for c in text)


def width(text: str) -> float:
    """The px width budgeted for `text` at FONT_PX (0.62em per cell: more than any monospace font
    takes).

    >>> width("200 (100.0%)")
    89.28
    """
    return round(cells(text) * CELL, 2)


def wrap(text: str, limit: int = WRAP) -> list[str]:
    """`text` on lines of at most `limit` cells, broken at spaces, a longer word broken where it
    must; whitespace of any kind (line breaks included) is one space. Nothing is dropped.

    >>> wrap("column 'category': value is not one of {billing, bug, account, other}", 30)
    ["column 'category': value is", 'not one of {billing, bug,', 'account, other}']
    >>> wrap("x" * 7, 3), wrap("", 3)
    (['xxx', 'xxx', 'x'], [''])
    """
    lines: list[str] = []
    line = ""
    for word in str(text).split():
        while cells(word) > limit:  # a word longer than a line: cut it where the line is full
            room = limit - cells(line) - (1 if line else 0)
            if room <= 0:
                lines.append(line)
                line, room = "", limit
            cut = _fit(word, room)
            line = f"{line} {word[:cut]}" if line else word[:cut]
            word = word[cut:]
            lines.append(line)
            line = ""
        if not word:
            continue
        if line and cells(line) + 1 + cells(word) > limit:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    if line or not lines:
        lines.append(line)
    return lines


def _fit(word: str, room: int) -> int:
    """How many characters of `word` fit in `room` cells (at least one, so wrapping ends)."""
    used = 0
    for i, c in enumerate(word):
        used += cells(c)
        if used > room:
            return max(i, 1)
    return len(word)


def number(value) -> str:
    """A value as a chart prints it: an integral number without decimals, others to 4 digits,
    anything else as text.

    >>> number(3), number(2.0), number(0.71234), number(float("nan")), number(None)
    ('3', '2', '0.7123', 'nan', '')
    """
    if isinstance(value, bool) or value is None:
        return "" if value is None else str(value)
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isfinite(value) and value.is_integer() and abs(value) < 2 ** 63:
            return str(int(value))
        return f"{value:.4g}"
    return str(value)


def share(part, whole) -> str:
    """`part` as a percentage of `whole`, one decimal, in parentheses; nothing when it is not a
    share of anything.

    >>> share(200, 200), share(1, 0), share(1, float("inf"))
    ('(100.0%)', '', '')
    """
    if not _drawable(part) or not _drawable(whole) or not whole:
        return ""
    return f"({100 * part / whole:.1f}%)"


def _drawable(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value) and value >= 0


def bar_chart(title: str, bars: list[Bar], caption: str = "", scale: float | None = None) -> str:
    """An SVG bar chart: each bar's label on the left (wrapped), the bar, then its value and note.
    Bars are drawn to `scale` (default: the largest value). The SVG's size comes from its text:
    the label column is as wide as the widest label line, the value column as the widest value.

    >>> svg = bar_chart("Rows per split", [Bar("train", 200, "(100.0%)"), Bar("test", 0, "(0.0%)")])
    >>> svg.count("<rect"), "200 (100.0%)" in svg, 'width="' in svg
    (2, True, True)
    >>> bar_chart("t", [Bar("a", 1)]) == bar_chart("t", [Bar("a", 1)])
    True
    """
    values = [b.value for b in bars if _drawable(b.value)]
    top = scale if _drawable(scale) and scale else max(values, default=0)
    labels = [wrap(b.label, WRAP - INDENT * b.level) for b in bars]
    label_w = max((width(" " * INDENT * b.level + line) for b, lines in zip(bars, labels) for line in lines),
                  default=0)
    texts = [(number(b.value) + (" " + b.note if b.note else "")) if b.value is not None else "" for b in bars]
    value_w = max((width(t) for t in texts), default=0)
    left = PAD + label_w + GAP
    full = left + BAR_AREA + GAP + value_w + PAD
    heading = wrap(title, max(20, int((full - 2 * PAD) / CELL)))
    full = max(full, 2 * PAD + max(width(line) for line in heading))
    parts: list[str] = []
    y = PAD
    for line in heading:
        y += LINE
        parts.append(f'<text x="{PAD}" y="{y}" font-weight="bold" class="title">{escape(line)}</text>')
    y += 6
    for bar, lines, text in zip(bars, labels, texts):
        first = y + LINE - 3  # the baseline of the label's first line
        indent = PAD + width(" " * INDENT * bar.level)
        spans = "".join(f'<tspan x="{indent:.1f}" dy="{0 if i == 0 else LINE}">{escape(line)}</tspan>'
                        for i, line in enumerate(lines))
        weight = ' font-weight="bold"' if bar.value is None else ""
        parts.append(f'<text x="{indent:.1f}" y="{first}" class="label"{weight}>{spans}</text>')
        if bar.value is not None:
            length = BAR_AREA * bar.value / top if _drawable(bar.value) and top else 0.0
            length = min(length, BAR_AREA)
            parts.append(f'<rect x="{left:.1f}" y="{first - BAR_H + 2}" width="{length:.1f}" height="{BAR_H}" '
                         f'fill="{COLOURS[min(bar.level, 1)]}" class="bar"></rect>')
            parts.append(f'<text x="{left + length + GAP:.1f}" y="{first}" class="value">{escape(text)}</text>')
        y += LINE * len(lines) + 4
    height = y + PAD
    body = "\n".join(parts)
    svg = (f'<svg xmlns="http://www.w3.org/2000/svg" role="img" class="chart" width="{full:.1f}" '
           f'height="{height}" viewBox="0 0 {full:.1f} {height}" font-family="{FONT}" font-size="{FONT_PX}">\n'
           f"<title>{escape(' '.join(str(title).split()))}</title>\n{body}\n</svg>")
    note = f"<figcaption>{escape(caption)}</figcaption>" if caption else ""
    return f'<figure class="chart">\n{svg}\n{note}</figure>'
