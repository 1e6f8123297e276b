"""Diagnostics: what went wrong in a spec, where, and what to do about it.

Codes are stable: DSC1xx syntax, DSC2xx meaning (data problems are rejects or run errors). They are listed in
CODES (and in docs/diagnostics.md) and tests assert the rendered text word for word.
"""
from __future__ import annotations

import difflib
from dataclasses import dataclass
from typing import Iterable, Sequence

from dsc.syntax.source import NO_SPAN, SourceFile, Span

CODES: dict[str, str] = {
    "DSC100": "the file is not spec text (binary, not UTF-8, or too large)",
    "DSC101": "unexpected character",
    "DSC102": "unexpected token",
    "DSC103": "unknown keyword",
    "DSC104": "unclosed block",
    "DSC105": "unexpected end of line",
    "DSC106": "too many syntax errors",
    "DSC107": "the spec file cannot be read (missing, not a regular file, no permission)",
    "DSC201": "unknown column",
    "DSC202": "duplicate name",
    "DSC203": "unknown type or option value",
    "DSC204": "unknown locale",
    "DSC205": "unknown currency code",
    "DSC206": "unknown or incompatible unit",
    "DSC207": "operator applied to a column of the wrong type",
    "DSC208": "split fractions do not sum to 1",
    "DSC209": "value out of range",
    "DSC210": "annotate field is not a label column",
    "DSC211": "dedupe fuzzy needs a labelled-pairs file",
    "DSC212": "missing required block or setting",
    "DSC213": "invalid or too costly regular expression",
    "DSC214": "conflicting or repeated option",
    "DSC215": "wrong comparison operator",
    "DSC216": "unknown setting",
    "DSC217": "option does not apply here",
    "DSC218": "unsafe path",
    "DSC219": "unknown split",
    "DSC220": "no schema: column names are not checked",
    "DSC221": "a rule needs an optional extra of dsc that is not installed here",
}

ERROR = "error"
WARNING = "warning"
# The most characters of a token (a literal, a word) a message echoes; `clipped` cuts the rest.
SHOWN_CHARS = 40
# The widest source excerpt `render` prints: a longer line is cut to a window around the span.
EXCERPT_CHARS = 240


@dataclass(frozen=True)
class Diagnostic:
    """One finding about a spec: a stable code, a message for people, a span and a hint."""

    code: str
    message: str
    span: Span = NO_SPAN
    hint: str | None = None
    severity: str = ERROR

    @property
    def is_error(self) -> bool:
        return self.severity == ERROR


def error(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, hint, ERROR)


def warning(code: str, message: str, span: Span, hint: str | None = None) -> Diagnostic:
    return Diagnostic(code, message, span, hint, WARNING)


def clipped(text: str) -> str:
    """A token as a message shows it: whole up to `SHOWN_CHARS` characters, else its head and `…`.

    >>> clipped("1e999999999"), clipped("1" * 50)
    ('1e999999999', '111111111111111111111111111111111111111…')
    """
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


def suggestion(word: str | None) -> str | None:
    return f"did you mean '{word}'?" if word else None


def did_you_mean(word: str, choices: Iterable[str]) -> str | None:
    """A 'did you mean' hint for a misspelt word, or None when nothing is close.

    >>> did_you_mean("promt", ["prompt", "response"])
    "did you mean 'prompt'?"
    """
    choices = sorted(set(choices))
    close = difflib.get_close_matches(word, choices, n=1, cutoff=0.6)
    if not close:
        lowered = {c.lower(): c for c in choices}
        close = [lowered[word.lower()]] if word.lower() in lowered else []
    return f"did you mean '{close[0]}'?" if close else None


def closest(word: str, choices: Iterable[str], prefer: Iterable[str] = ()) -> str | None:
    """The choice most like `word`, for codes where plain `did_you_mean` picks badly.

    Ties on similarity go to a choice that shares a longer prefix with `word`, then to one in
    `prefer` (the likely locale of a language, say), then alphabetically — so `EUX` suggests
    `EUR` rather than `XEU`.

    >>> closest("EUX", ["XEU", "EUR", "USD"])
    'EUR'
    """
    def prefix(c: str) -> int:
        n = 0
        for a, b in zip(word.lower(), c.lower()):
            if a != b:
                break
            n += 1
        return n

    preferred = set(prefer)
    scored = []
    for c in set(choices):
        ratio = difflib.SequenceMatcher(None, word.lower(), c.lower()).ratio()
        if ratio >= 0.6:
            scored.append((-round(ratio, 6), -prefix(c), c not in preferred, c))
    return min(scored)[3] if scored else None


def render(diag: Diagnostic, source: SourceFile | None) -> str:
    """Render like a compiler: location, code, message, a caret excerpt and the hint.

    >>> src = SourceFile("a.dspec", "clean {\\n  drop where words(promt) < 3\\n}\\n")
    >>> print(render(Diagnostic("DSC201", "unknown column 'promt'", src.span(27, 32),
    ...                         "did you mean 'prompt'?"), src))
    a.dspec:2:20: error[DSC201]: unknown column 'promt'
      2 |   drop where words(promt) < 3
        |                    ^^^^^
      hint: did you mean 'prompt'?
    """
    path = source.path if source else "<spec>"
    span = diag.span
    lines = []
    if span.line:
        lines.append(f"{path}:{span.line}:{span.column}: {diag.severity}[{diag.code}]: {diag.message}")
        text = source.line_text(span.line) if source else ""
        if text.strip():
            width = len(str(span.line))
            if span.end_line == span.line:
                carets = max(span.end_column - span.column, 1)
            else:
                carets = max(len(text) - span.column + 1, 1)
            shown, marks = _excerpt(text.expandtabs(1), span.column, carets)
            lines.append(f"  {span.line} | {shown}")
            lines.append(f"  {' ' * width} | {marks}")
    else:
        lines.append(f"{path}: {diag.severity}[{diag.code}]: {diag.message}")
    if diag.hint:
        lines.append(f"  hint: {diag.hint}")
    return "\n".join(lines)


def _excerpt(line: str, column: int, carets: int) -> tuple[str, str]:
    """A source line and its caret line; a line wider than `EXCERPT_CHARS` is cut to a window that
    starts a little before the span, with `…` where text is left out.

    >>> _excerpt("seed 7", 6, 1)
    ('seed 7', '     ^')
    >>> shown, marks = _excerpt("seed " + "9" * 500 + " x", 6, 500)
    >>> len(shown), shown[:9], shown[-3:], marks[:8], len(marks)
    (241, 'seed 9999', '99…', '     ^^^', 240)
    """
    start = max(column - 1 - EXCERPT_CHARS // 5, 0) if len(line) > EXCERPT_CHARS else 0
    end = start + EXCERPT_CHARS
    head, tail = ("…" if start else ""), ("…" if end < len(line) else "")
    offset = column - 1 - start + len(head)
    marks = "^" * max(min(carets, end - (column - 1)), 1)
    return head + line[start:end] + tail, " " * offset + marks


def render_all(diags: Sequence[Diagnostic], source: SourceFile | None, limit: int = 50) -> str:
    """Render every diagnostic (sorted by position), ending with a count; long lists are cut."""
    ordered = sorted(diags, key=lambda d: (d.span.line, d.span.column, d.code))
    shown = [render(d, source) for d in ordered[:limit]]
    if len(ordered) > limit:
        shown.append(f"... and {len(ordered) - limit} more")
    errors = sum(d.is_error for d in diags)
    warnings = len(diags) - errors
    summary = []
    if errors:
        summary.append(f"{errors} error{'s' if errors != 1 else ''}")
    if warnings:
        summary.append(f"{warnings} warning{'s' if warnings != 1 else ''}")
    if summary:
        shown.append(", ".join(summary))
    return "\n".join(shown)
