"""Comments of a spec, kept beside the AST so `dsc fmt` can put every one of them back.

The grammar swallows comments into its end-of-line token, so they never reach the parse tree;
they are recovered here from the text with the same lexical rules: a comment starts at a `#`
that is not inside a string literal and runs to the end of its line. String literals are
double-quoted, use backslash escapes and never span lines.
"""
from __future__ import annotations

import re

from dsc import ast
from dsc.syntax.source import SourceFile

# A string literal (an unterminated one stops at the end of its line, as the lexer's would)
# or a comment. Scanning strings first is what keeps a `#` inside "a # b" out of the comments.
_STRING_OR_COMMENT = re.compile(r'"(?:[^"\\\n]|\\[^\n])*"?|#[^\n]*')


def extract_comments(source: SourceFile) -> list[ast.Comment]:
    """Every `#` comment of a source, in order, each with its span.

    A comment's text runs from its `#` to the end of the line, without the trailing spaces,
    tabs and carriage return (those are layout, not words).

    >>> src = SourceFile("x.dspec", 'gate {  # run-level\\n  rows(train) >= 10\\n}\\n# "#" is not one: "a#b"\\n')
    >>> [(c.text, c.span.line, c.span.column) for c in extract_comments(src)]
    [('# run-level', 1, 9), ('# "#" is not one: "a#b"', 4, 1)]
    """
    comments = []
    for match in _STRING_OR_COMMENT.finditer(source.text):
        if match.group().startswith("#"):
            text = match.group().rstrip(" \t\r")
            comments.append(ast.Comment(text, span=source.span(match.start(), match.start() + len(text))))
    return comments
