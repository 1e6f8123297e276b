"""Regular expressions of `drop where COL matches "…"` (DSC213).

The drop operator runs patterns with pyarrow's RE2 engine, so RE2 decides what is valid: a
pattern RE2 cannot compile would otherwise fail the run. RE2 matches in linear time, so no
pattern can backtrack catastrophically (`(a+)+` is harmless there), but it has no
lookaround, backreferences or conditionals. When Python's `re` also rejects the pattern, its
error position is used to point at the offending character.

Linear is not cheap: when RE2's DFA runs out of memory (`a.{30}q` on text with many `a`s is
enough), it falls back to a matcher whose time per byte of text grows with the pattern's size,
about 15 ns per position (`(.{500}){2}q`: 25-75 µs a character, two minutes on 4 MB). So a
pattern may have at most MAX_PATTERN_COST positions once its counted repetitions are written
out (`pattern_cost`); the worst case of an accepted pattern is then a few µs per byte.
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
MAX_PATTERN_COST = 200  # positions of a pattern with its counted repetitions written out
UNICODE_CLASS_COST = 4  # positions a Unicode class (`\pL`, `[\p{Greek}\d]`) counts for: its program fans out
_COST_HINT = ("each position costs time on every byte of text once RE2 falls back from its DFA: lower the "
              "{n} counts, test lengths with chars(COL) or words(COL), or split the alternatives into several "
              "drop rules")
# One token of RE2 syntax: an escape (`\pL`, `\p{Greek}`, `\x{41}`, `\101`, `\d`), a class
# (`[^]a-z[:digit:]\pL]`), a group opening (`(`, `(?:`, `(?P<name>`, `(?i:`; a bare `(?i)` sets flags),
# a counted repetition.
_ESCAPE = re.compile(r"\\(?:[pP](?:\{[^}]*\}|.)|x(?:\{[^}]*\}|[0-9A-Fa-f]{0,2})|[0-7]{1,3}|.)", re.S)
_CLASS = re.compile(r"\[\^?\]?(?:\[:\^?[a-z]+:\]|\\(?:[pP](?:\{[^}]*\}|.)|x\{[^}]*\}|.)|[^\]])*\]", re.S)
_GROUP = re.compile(r"\(\?(?:P?<[^>]*>|[a-zA-Z-]*(:|\)))|\(")
_COUNT = re.compile(r"\{(\d+)(,(\d*))?\}")
_UNICODE = re.compile(r"\\[pP]")


def check_regexes(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each `matches` pattern compiles in RE2, the engine that runs it, within MAX_PATTERN_COST (DSC213)."""
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


def pattern_problem(pattern: str) -> str | None:
    """Why the drop operator refuses to run `pattern` (RE2 cannot compile it, or it is too costly), or None.

    >>> pattern_problem("(?<=a)b")
    'the regex engine (RE2) cannot compile it (no lookaround, backreferences or conditionals): invalid perl operator: (?<='
    """
    problem = re2_error(pattern)
    if problem:
        return f"the regex engine (RE2) cannot compile it (no lookaround, backreferences or conditionals): {problem}"
    return cost_problem(pattern)


def cost_problem(pattern: str) -> str | None:
    """Why a pattern RE2 compiles is too costly to run, or None.

    >>> cost_problem("^[a-z]{2,8}$"), cost_problem(r"(?i)(.{500}){2}q")
    (None, 'the pattern is too costly to run: written out, its counted repetitions give 1,001 positions (the limit is 200)')
    """
    cost = pattern_cost(pattern)
    if cost <= MAX_PATTERN_COST:
        return None
    return (f"the pattern is too costly to run: written out, its counted repetitions give {cost:,} positions "
            f"(the limit is {MAX_PATTERN_COST:,})")


def pattern_cost(pattern: str) -> int:
    """The positions of an RE2 pattern once each counted repetition is written out (`x{3}` is
    `xxx`, `x{2,5}` five copies, `x{2,}` two): about the size of the program RE2 compiles, and
    the most threads its fallback matcher follows per byte of text. A character, `.`, class,
    escape or assertion is one position, a Unicode class UNICODE_CLASS_COST; alternatives add
    up; `*`, `+` and `?` add nothing (a loop, not a copy). Meant for a pattern RE2 compiles.

    >>> [pattern_cost(p) for p in ["abc", "a{3}", "(ab|c){2,4}", r"\\pL+", r"\\Qa.b\\E{3}", "x{0}y"]]
    [3, 3, 12, 4, 5, 1]
    """
    frames = [[0, 0, 0]]  # per open group: its closed alternatives, the current one, the current's last item
    i, n = 0, len(pattern)
    while i < n:
        c, frame = pattern[i], frames[-1]
        if c == "\\" and pattern.startswith("Q", i + 1):  # \Q...\E: literal characters
            end = pattern.find("\\E", i + 2)
            end = n if end < 0 else end
            if end > i + 2:
                frame[1], frame[2] = frame[1] + end - (i + 2), 1
            i = end + 2
            continue
        if c in "*+?":
            i += 1
            continue
        if c == "|":
            frame[0], frame[1], frame[2] = frame[0] + frame[1], 0, 0
            i += 1
            continue
        if c == "(":
            match = _GROUP.match(pattern, i)
            i = match.end()
            if match.group(1) != ")":
                frames.append([0, 0, 0])
            continue
        if c == "{" and (match := _COUNT.match(pattern, i)):
            low, comma, high = match.groups()
            copies = int(high) if high else max(int(low), 1) if comma else int(low)
            frame[1] += frame[2] * (copies - 1)
            frame[2] *= copies
            i = match.end()
            continue
        if c == ")" and len(frames) > 1:
            frames.pop()
            item, frame = frame[0] + frame[1], frames[-1]
            i += 1
        elif c in "\\[":
            match = (_ESCAPE if c == "\\" else _CLASS).match(pattern, i)
            item = UNICODE_CLASS_COST if _UNICODE.search(match.group()) else 1
            i = match.end()
        else:
            item = 1
            i += 1
        frame[1], frame[2] = frame[1] + item, item
    return sum(f[0] + f[1] for f in frames)


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
