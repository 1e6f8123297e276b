"""What pyarrow's RE2 engine runs: whether it compiles a pattern, and what a pattern costs.

The drop operator matches with RE2 (`pyarrow.compute.match_substring_regex`). RE2 matches in
linear time, but it has no lookaround, backreferences or conditionals; `re2_error` asks RE2
itself. The checks say so at the pattern in the spec (`dsc.checks.regex`, DSC213); the operator
asks again before it runs a pattern, also for a plan that skipped the checks (`pattern_problem`).

Linear is not cheap: when RE2's DFA runs out of memory (`a.{30}q` on text with many `a`s is
enough), it falls back to a matcher whose time per byte of text grows with the pattern's size,
about 15 ns per position (`(.{500}){2}q`: 25-75 µs a character, two minutes on 4 MB). So a
pattern may have at most MAX_PATTERN_COST positions once its counted repetitions are written
out (`pattern_cost`); the worst case of an accepted pattern is then a few µs per byte.
"""
from __future__ import annotations

import re
from functools import cache

MAX_PATTERN_COST = 200  # positions of a pattern with its counted repetitions written out
UNICODE_CLASS_COST = 4  # positions a Unicode class (`\pL`, `[\p{Greek}\d]`) counts for: its program fans out
# One token of RE2 syntax: an escape (`\pL`, `\p{Greek}`, `\x{41}`, `\101`, `\d`), a class
# (`[^]a-z[:digit:]\pL]`), a group opening (`(`, `(?:`, `(?P<name>`, `(?i:`; a bare `(?i)` sets flags),
# a counted repetition.
_ESCAPE = re.compile(r"\\(?:[pP](?:\{[^}]*\}|.)|x(?:\{[^}]*\}|[0-9A-Fa-f]{0,2})|[0-7]{1,3}|.)", re.S)
_CLASS = re.compile(r"\[\^?\]?(?:\[:\^?[a-z]+:\]|\\(?:[pP](?:\{[^}]*\}|.)|x\{[^}]*\}|.)|[^\]])*\]", re.S)
_GROUP = re.compile(r"\(\?(?:P?<[^>]*>|[a-zA-Z-]*(:|\)))|\(")
_COUNT = re.compile(r"\{(\d+)(,(\d*))?\}")
_UNICODE = re.compile(r"\\[pP]")


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
