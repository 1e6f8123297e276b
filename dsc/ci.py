"""Diagnostics for machines: GitHub Actions workflow commands, and JSON records.

`dsc check --format github` prints each diagnostic as a workflow command, which GitHub shows as an
annotation on the pull request's diff, at the spec's line:

    ::error file=specs/a.dspec,line=8,col=7,endLine=8,endColumn=12,title=DSC201::unknown column 'ticket'%0Ahint: …

`dsc check --format json` prints a list of `record`s (the schema is in docs/cli.md).
GitHub's escaping (actions/toolkit, `command.ts`): in the message `%`, `\\r` and `\\n` become `%25`,
`%0D` and `%0A`; in a property value `:` and `,` also become `%3A` and `%2C`.
"""
from __future__ import annotations

import os
from typing import Any

from dsc.diagnostics import Diagnostic

FORMATS = ("text", "github", "json")


def escape_data(text: str) -> str:
    """A workflow command's message, escaped.

    >>> escape_data("100% sure\\nnext\\r")
    '100%25 sure%0Anext%0D'
    """
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    """A workflow command's property value, escaped.

    >>> escape_property("a,b: 50%")
    'a%2Cb%3A 50%25'
    """
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def shown_path(path: str) -> str:
    """A spec's path as GitHub wants it, relative to the workspace (run dsc at the repository's
    root): an absolute path under the current folder is made relative to it; `/`-separated."""
    if os.path.isabs(path):
        try:
            relative = os.path.relpath(path)
        except ValueError:
            return path
        if not relative.startswith(".."):
            path = relative
    return path.replace(os.sep, "/")


def github_command(diag: Diagnostic, path: str) -> str:
    """One diagnostic as a GitHub Actions workflow command (`::error …` or `::warning …`).

    The columns are 1-based; `endColumn` is the last column of the span (inclusive), given when the
    span ends on its first line.

    >>> from dsc.syntax.source import Span
    >>> print(github_command(Diagnostic("DSC201", "unknown column 'a,b'", Span(8, 7, 8, 13), "did you mean 'ab'?"),
    ...                      "specs/x.dspec"))
    ::error file=specs/x.dspec,line=8,col=7,endLine=8,endColumn=12,title=DSC201::unknown column 'a,b'%0Ahint: did you mean 'ab'?
    """
    props = [("file", shown_path(path))]
    span = diag.span
    if span.line:
        props += [("line", str(span.line)), ("col", str(span.column))]
        if span.end_line:
            props.append(("endLine", str(span.end_line)))
            if span.end_line == span.line and span.end_column > span.column:
                props.append(("endColumn", str(span.end_column - 1)))
    props.append(("title", diag.code))
    message = diag.message + (f"\nhint: {diag.hint}" if diag.hint else "")
    command = "error" if diag.is_error else "warning"
    return f"::{command} " + ",".join(f"{k}={escape_property(v)}" for k, v in props) + "::" + escape_data(message)


def record(diag: Diagnostic, path: str) -> dict[str, Any]:
    """One diagnostic as a JSON object: code, severity, message, hint (or null), file, and the span —
    `line`, `col`, `end_line`, `end_col` 1-based, `end_col` one past the last character; all four
    null when the diagnostic is about the whole file.

    >>> from dsc.syntax.source import Span
    >>> record(Diagnostic("DSC201", "unknown column 'x'", Span(8, 7, 8, 8)), "a.dspec")["end_col"]
    8
    """
    span = diag.span
    where = (span.line, span.column, span.end_line, span.end_column) if span.line else (None,) * 4
    return {"code": diag.code, "severity": diag.severity, "message": diag.message, "hint": diag.hint,
            "file": path.replace(os.sep, "/"), "line": where[0], "col": where[1], "end_line": where[2],
            "end_col": where[3]}


def ordered(diags: list[Diagnostic]) -> list[Diagnostic]:
    """The diagnostics in the order `dsc check` prints them (`dsc.diagnostics.render_all`)."""
    return sorted(diags, key=lambda d: (d.span.line, d.span.column, d.code))
