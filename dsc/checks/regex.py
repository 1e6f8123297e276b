"""Regular expressions of `drop where COL matches "…"` (DSC213).

The drop operator runs patterns with pyarrow's RE2 engine, so RE2 decides what is valid: a
pattern RE2 cannot compile would otherwise fail the run. RE2 matches in linear time, so no
pattern can backtrack catastrophically (`(a+)+` is harmless there), but it has no
lookaround, backreferences or conditionals. When Python's `re` also rejects the pattern, its
error position is used to point at the offending character. What RE2 accepts, and what a
pattern costs, is `dsc.kernels.regex`, which the drop operator asks again at run time.
"""
from __future__ import annotations

import re
import warnings

try:  # the pattern parser is private; it moved from sre_parse to re._parser in Python 3.11
    from re import _constants as sre_constants, _parser as sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from dsc import ast
from dsc.checks.common import error
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.kernels.regex import cost_problem, re2_error
from dsc.syntax.source import Span

_ESCAPED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}
# Python constructs RE2 does not have, as sre_parse names them, described for people.
_UNSUPPORTED = {
    sre_constants.ASSERT: "lookaround", sre_constants.ASSERT_NOT: "lookaround",
    sre_constants.GROUPREF: "a backreference", sre_constants.GROUPREF_EXISTS: "a conditional group",
}
_HINT = "RE2 matches in linear time but has no lookaround, backreferences or conditionals"
_COST_HINT = ("each position costs time on every byte of text once RE2 falls back from its DFA: lower the "
              "{n} counts, test lengths with chars(COL) or words(COL), or split the alternatives into several "
              "drop rules")


def check_regexes(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each pattern (every field declared `ast.pattern()`: `matches`, `replace`) compiles in RE2, the
    engine that runs it, within MAX_PATTERN_COST (DSC213)."""
    return [d for pattern in ast.regexes(spec) for d in check_pattern(pattern)]


def check_pattern(pattern: ast.Str) -> list[Diagnostic]:
    """Diagnostics for one pattern literal.

    >>> [d.message for d in check_pattern(ast.Str("(ab"))]
    ['invalid regular expression: missing ), unterminated subpattern at position 0']
    >>> [d.message for d in check_pattern(ast.Str(r"(\\w)\\1"))]
    ['the regex engine (RE2) cannot run a backreference: invalid escape sequence: \\\\1']
    >>> check_pattern(ast.Str("(a+)+$"))
    []
    """
    problem = re2_error(pattern.value)
    if problem is None:
        costly = cost_problem(pattern.value)
        return [error("DSC213", costly, pattern.span, _COST_HINT)] if costly else []
    try:
        with warnings.catch_warnings():  # e.g. "possible nested set": RE2 decides, not re
            warnings.simplefilter("ignore")
            parsed = sre_parse.parse(pattern.value)
    except re.error as err:
        where = f" at position {err.pos}" if err.pos is not None else ""
        return [error("DSC213", f"invalid regular expression: {err.msg}{where}", _span_at(pattern, err.pos))]
    except (RecursionError, OverflowError):
        return [error("DSC213", "invalid regular expression: it is too deeply nested or too large", pattern.span)]
    construct = _unsupported(parsed)
    what = f" {construct}" if construct else " this pattern"
    hint = "write \\z for the end of the text" if "\\Z" in problem else _HINT
    return [error("DSC213", f"the regex engine (RE2) cannot run{what}: {problem}", pattern.span, hint)]


def _span_at(pattern: ast.Str, pos: int | None) -> Span:
    """The source span of character `pos` of the pattern, or the whole literal when the
    literal was not written in the canonical escaping (and offsets cannot be mapped)."""
    s = pattern.span
    written = "".join(_ESCAPED.get(ch, ch) for ch in pattern.value)
    if pos is None or not s.line or s.end_line != s.line or len(written) + 2 != s.end - s.start:
        return s
    offset = 1 + len("".join(_ESCAPED.get(ch, ch) for ch in pattern.value[:pos]))
    width = len(_ESCAPED.get(pattern.value[pos], "x")) if pos < len(pattern.value) else 1
    column, start = s.column + offset, s.start + offset
    return Span(s.line, column, s.line, column + width, start, start + width)


def _unsupported(items) -> str | None:
    """The first construct in a parsed pattern that RE2 lacks, described for people."""
    for op, arg in items:
        if op in _UNSUPPORTED:
            return _UNSUPPORTED[op]
        if op in (sre_constants.MAX_REPEAT, sre_constants.MIN_REPEAT):
            found = _unsupported(arg[2])
        elif op == sre_constants.SUBPATTERN:
            found = _unsupported(arg[-1])
        elif op == sre_constants.BRANCH:
            found = next((f for branch in arg[1] if (f := _unsupported(branch))), None)
        else:
            found = None
        if found:
            return found
    return None
