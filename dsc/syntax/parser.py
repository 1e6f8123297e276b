"""Parse .dspec text into a Lark tree, turning every syntax error into a Diagnostic.

The parser is LALR (fast and predictable on a 1 MB spec). After an error the offending line
— or the whole block, when the error is on a block's header — is blanked out and parsing
restarts, so one run reports every independent syntax error, not just the first.
"""
from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

from lark import Lark, Token, Tree
from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

from dsc.diagnostics import Diagnostic, clipped, did_you_mean
from dsc.syntax.source import SourceFile

MAX_SYNTAX_ERRORS = 25
BLOCK_KEYWORDS = (
    "dataset", "source", "schema", "clean", "annotate", "split", "augment", "export", "gate", "finetune",
)
_TERMINAL_WORDS = {
    "NAME": "a name", "NUMBER": "a number", "STRING": 'a "string"', "_NL": "end of line",
    "CMP": "a comparison (>=, <=, >, <, ==, !=)", "ARROW": "'->'", "PERCENT": "'%'",
    "NOT": "'not'", "$END": "end of file",
}


@lru_cache(maxsize=1)
def grammar() -> Lark:
    """The compiled grammar (built once per process)."""
    text = files("dsc").joinpath("grammar/dspec.lark").read_text(encoding="utf-8")
    return Lark(text, parser="lalr", propagate_positions=True, maybe_placeholders=True)


def parse_tree(source: SourceFile) -> tuple[Tree | None, list[Diagnostic]]:
    """Parse a spec; return the tree (None if there were syntax errors) and the diagnostics.

    >>> tree, diags = parse_tree(SourceFile("x.dspec", "gate {\\n  dropped <= 5%\\n}\\n"))
    >>> tree.data, diags
    (Token('RULE', 'start'), [])
    """
    text = source.text if source.text.endswith("\n") else source.text + "\n"
    diags: list[Diagnostic] = []
    seen_lines: set[int] = set()
    while True:
        try:
            tree = grammar().parse(text)
            return (tree if not diags else None), diags
        except UnexpectedInput as err:
            diag, fatal = _diagnose(err, text, source)
            diags.append(diag)
            line = getattr(err, "line", 0) or 0
            if fatal or line in seen_lines or line < 1 or len(diags) >= MAX_SYNTAX_ERRORS:
                if len(diags) >= MAX_SYNTAX_ERRORS:
                    diags.append(Diagnostic("DSC106", f"stopped after {MAX_SYNTAX_ERRORS} syntax errors",
                                            hint="fix these first, then run again"))
                return None, diags
            seen_lines.add(line)
            text = _blank(text, line)


def _blank(text: str, line: int) -> str:
    """Replace a line (or a whole block, if the line opens one) with spaces, keeping offsets."""
    lines = text.split("\n")
    last = line - 1
    if _code(lines[line - 1]).rstrip().endswith("{"):
        for j in range(line, len(lines)):
            if _code(lines[j]).strip() == "}":
                last = j
                break
            if _header_word(lines[j]) in BLOCK_KEYWORDS:
                last = j - 1
                break
        else:
            last = len(lines) - 1
    for j in range(line - 1, last + 1):
        lines[j] = " " * len(lines[j])
    return "\n".join(lines)


_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\.)*"|#.*')


def _code(line: str) -> str:
    """A line without its comment, with string contents blanked (so braces in them don't count)."""
    return _STRING_OR_COMMENT.sub(lambda m: "" if m.group().startswith("#") else '""', line)


def _header_word(line: str) -> str:
    words = _code(line).split()
    return words[0] if words else ""


def open_block_at(text: str, offset: int) -> tuple[str, int, int] | None:
    """The innermost block still open at `offset`: (keyword, line, column), or None.

    >>> open_block_at("clean {\\n  drop where empty(x)\\n", 20)
    ('clean', 1, 1)
    """
    current = None
    for number, line in enumerate(text[:offset].split("\n"), start=1):
        code = _code(line)
        if code.rstrip().endswith("{"):
            word = _header_word(line)
            current = (word, number, line.index(word) + 1 if word else 1)
        elif code.strip().startswith("}"):
            current = None
    return current


@lru_cache(maxsize=None)
def _keywords() -> frozenset[str]:
    """Every keyword of the grammar, wherever it may stand."""
    return frozenset(t.pattern.value for t in grammar().terminals
                     if t.pattern.type == "str" and re.fullmatch(r"[a-z_]+", t.pattern.value))


def _expected_words(err: UnexpectedToken) -> tuple[list[str], list[str]]:
    """Split the parser's expected terminals into keywords and descriptions of other tokens."""
    keywords, others = [], []
    for name in sorted(err.expected):
        term = next((t for t in grammar().terminals if t.name == name), None)
        pattern = getattr(term, "pattern", None)
        if pattern is not None and pattern.type == "str" and re.fullmatch(r"[a-z_]+", pattern.value):
            keywords.append(f"'{pattern.value}'")
        elif pattern is not None and pattern.type == "str":
            others.append(f"'{pattern.value}'")
        else:
            others.append(_TERMINAL_WORDS.get(name, name))
    return keywords, others


def _diagnose(err: UnexpectedInput, text: str, source: SourceFile) -> tuple[Diagnostic, bool]:
    """One diagnostic for one parse error, and whether parsing should stop after it."""
    if isinstance(err, UnexpectedCharacters):
        char = text[err.pos_in_stream] if err.pos_in_stream < len(text) else ""
        hint = None
        shown = repr(char)
        if char == "'":
            hint = 'strings are written in double quotes: "like this"'
        elif char == '"':
            hint = "a string must end on the line where it starts"
        span = source.span(err.pos_in_stream, err.pos_in_stream + 1)
        return Diagnostic("DSC101", f"unexpected character {shown}", span, hint), False

    assert isinstance(err, UnexpectedToken)
    token: Token = err.token
    if str(token) == "{" and token.start_pos is not None:
        # `schema {` … `clean {`: the parser only notices at the new block's brace.
        start = token.start_pos
        word = _header_word(text[text.rfind("\n", 0, start) + 1 : start])
        block = open_block_at(text, text.rfind("\n", 0, start) + 1)
        if block and word in BLOCK_KEYWORDS:
            return _unclosed(block, source, f"'{word}' on line {text.count(chr(10), 0, start) + 1}"), True
    block = open_block_at(text, token.start_pos if token.start_pos is not None else len(text))
    if token.type == "$END":
        return _unclosed(block, source, "the end of the file"), True

    start = token.start_pos
    span = source.span(start, token.end_pos if token.end_pos is not None else start + 1)
    keywords, others = _expected_words(err)
    where = f" in '{block[0]}' block" if block else " at top level"
    if block and str(token) in BLOCK_KEYWORDS and _first_on_line(source.text, start):
        return _unclosed(block, source, f"'{token}' on line {span.line}"), True
    if token.type == "_NL":
        expected = _one_of(keywords + others) if len(keywords) + len(others) <= 6 else None
        message = "this line ends too early" + (f": expected {expected}" if expected else "")
        nl_span = source.span(start, start + 1)
        return Diagnostic("DSC105", message, nl_span), False
    word = str(token)
    before = text[text.rfind("\n", 0, start) + 1:start].split()
    if before and before[-1] == word:  # `keep first first`: a slip, not a keyword to look for
        return Diagnostic("DSC102", f"'{clipped(word)}' is written twice{where}", span, "remove one of them"), False
    if keywords and re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", word):
        bare = [k.strip("'") for k in keywords]
        hint = did_you_mean(word, bare)
        if hint is None and len(keywords) <= 12:
            hint = "expected " + _one_of(keywords + others)
        # A keyword of the language in the wrong place is unexpected, not unknown (and not a typo).
        if (token.type == "NAME" or word not in bare) and word not in _keywords():
            return Diagnostic("DSC103", f"unknown keyword '{clipped(word)}'{where}", span, hint), False
    shown = clipped(word) if word.strip() else token.type
    expected = keywords + others
    hint = f"expected {_one_of(expected)}" if expected and len(expected) <= 12 else None
    return Diagnostic("DSC102", f"unexpected '{shown}'{where}", span, hint), False


def _first_on_line(text: str, offset: int) -> bool:
    line_start = text.rfind("\n", 0, offset) + 1
    return not text[line_start:offset].strip()


def _one_of(items: list[str]) -> str:
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " or " + items[-1]


def _unclosed(block, source: SourceFile, before: str) -> Diagnostic:
    if block is None:
        return Diagnostic("DSC104", f"unexpected {before}: a block is not finished")
    keyword, line, column = block
    start = source.line_starts[line - 1] + column - 1 if line - 1 < len(source.line_starts) else 0
    span = source.span(start, start + len(keyword))
    return Diagnostic(
        "DSC104",
        f"block '{keyword}' opened on line {line} is not closed before {before}",
        span,
        f"add '}}' on its own line to close '{keyword}'",
    )
