"""`replace COLS "RE2 pattern" with "text"` — rewrite every match of a pattern in text columns.

The pattern is RE2, the engine that runs it (pyarrow's `replace_substring_regex`); the checks
hold it to what RE2 compiles and to a bounded cost, like a `matches` pattern (DSC213). In the
replacement `\\1`…`\\9` name the pattern's groups and `\\0` the whole match; a group the pattern
lacks is a check error, not a run-time surprise. A null stays null.
"""
from __future__ import annotations

from dataclasses import dataclass

from dsc import ast
from dsc.diagnostics import error
from dsc.ops.base import Operator, Params, cols, operator
from dsc.ops.runtime import RowOperator, text_column
from dsc.syntax.write import listing, words


@dataclass(frozen=True)
class ReplaceRule(ast.Node):
    """`replace col, col "pattern" with "text"`."""

    columns: tuple[ast.Name, ...] = ast.column("replace", unique=True)
    pattern: ast.Str = ast.pattern()
    replacement: ast.Str


@operator
class Replace(RowOperator, Operator):
    name = keyword = "replace"
    effect = "changes values"
    node = ReplaceRule
    grammar = "replace_stmt"

    class Params(Params):
        columns: list[str]
        pattern: str
        replacement: str

    @classmethod
    def build(cls, b, tree, ch):
        return ReplaceRule(b.leaf(ch[0]), b.leaf(ch[1]), b.leaf(ch[2]), span=b.span(tree))

    @classmethod
    def fmt(cls, n):
        return words("replace", listing(n.columns), n.pattern, "with", n.replacement)

    @classmethod
    def compile(cls, rule, env):
        columns = ast.names(rule.columns)
        return {"columns": columns, "pattern": rule.pattern.value,
                "replacement": rule.replacement.value}, ",".join(columns)

    @classmethod
    def check(cls, rule):
        problem = rewrite_error(rule.pattern.value, rule.replacement.value)
        if problem is None:
            return []
        return [error("DSC213", f"the replacement does not fit the pattern: {problem}", rule.replacement.span,
                      "\\1 … \\9 name the pattern's (groups) and \\0 the whole match; write \\\\ for a backslash")]

    @classmethod
    def describe(cls, p):
        return f"in {cols(p['columns'])}, replace matches of {p['pattern']!r} with {p['replacement']!r}"

    @classmethod
    def transform(cls, table, params, ctx):
        import pyarrow.compute as pc

        for name in params["columns"]:
            index = table.column_names.index(name)
            column = pc.replace_substring_regex(text_column(table, name), params["pattern"], params["replacement"])
            table = table.set_column(index, name, column)
        return table


def rewrite_error(pattern: str, replacement: str) -> str | None:
    """RE2's complaint about a replacement for `pattern` (a group it lacks), or None.

    An invalid pattern is the regex check's to report; this one then says nothing.

    >>> rewrite_error(r"(a)b", r"\\1"), rewrite_error(r"(a)b", r"\\2")[:40]
    (None, 'Rewrite schema requests 2 matches, but t')
    """
    import pyarrow as pa
    import pyarrow.compute as pc

    try:
        pc.match_substring_regex(pa.array([""]), pattern)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        return None
    try:
        pc.replace_substring_regex(pa.array([""]), pattern, replacement)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as err:
        return str(err).removeprefix("Invalid replacement string: ")
    return None
