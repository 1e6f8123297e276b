"""Regular expressions of `drop where COL matches "…"` (DSC213).

The drop operator runs patterns with pyarrow's RE2 engine, so RE2 decides what is valid: a
pattern RE2 cannot compile would otherwise fail the run. RE2 matches in linear time, so no
pattern can backtrack catastrophically (`(a+)+` is harmless there), but it has no
lookaround, backreferences or conditionals. When Python's `re` also rejects the pattern, its
error position is used to point at the offending character.
"""
from __future__ import annotations

import re
import warnings
from functools import cache

try:  # the pattern parser is private; it moved from sre_parse to re._parser in Python 3.11
    from re import _constants as sre_constants, _parser as sre_parse
except ImportError:  # pragma: no cover - Python < 3.11
    import sre_constants  # type: ignore[no-redef]
    import sre_parse  # type: ignore[no-redef]

from dsc import ast
from dsc.checks.common import clean_rules, error
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.syntax.source import Span

_ESCAPED = {"\\": "\\\\", '"': '\\"', "\n": "\\n", "\t": "\\t"}
# Python constructs RE2 does not have, as sre_parse names them, described for people.
_UNSUPPORTED = {
    sre_constants.ASSERT: "lookaround", sre_constants.ASSERT_NOT: "lookaround",
    sre_constants.GROUPREF: "a backreference", sre_constants.GROUPREF_EXISTS: "a conditional group",
}
_HINT = "RE2 matches in linear time but has no lookaround, backreferences or conditionals"


def check_regexes(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each `matches` pattern compiles in RE2, the engine that runs it (DSC213)."""
    out: list[Diagnostic] = []
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Drop) and isinstance(rule.predicate, ast.MatchesPred):
            out += check_pattern(rule.predicate.pattern)
    return out


@cache
def re2_error(pattern: str) -> str | None:
    """RE2's complaint about `pattern`, or None when RE2 compiles it.

    >>> re2_error(r"\\d+(?:x|y)"), re2_error("(?<=a)b")
    (None, 'invalid perl operator: (?<=')
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""], pa.string()), pattern)
    except pa.ArrowInvalid as err:
        return str(err).removeprefix("Invalid regular expression: ")
    return None


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
        return []
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
