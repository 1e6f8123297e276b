"""Small helpers shared by the check passes: diagnostics, spans, the schema view, vocabularies."""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Iterable, Sequence

from dsc import ast
from dsc.diagnostics import Diagnostic, did_you_mean, error, warning  # noqa: F401 (error, warning: shared by the passes)
from dsc.syntax.source import Span

# Column types a schema may declare. `label` is written `label {a, b}` and is built by the parser.
COLUMN_TYPES = ("text", "string", "int", "float", "bool", "date", "datetime", "money", "quantity", "label")
TEXT_TYPES = ("text", "string")


def head(node: ast.Node, word: str) -> Span:
    """The span of the keyword a statement or block starts with.

    Statement and block spans run to the end of the construct (blocks span many lines), so a
    diagnostic about the construct as a whole points at its first word instead.

    >>> head(ast.Name("x", span=Span(3, 5, 4, 1, 40, 70)), "clean")
    Span(line=3, column=5, end_line=3, end_column=10, start=40, end=45)
    """
    s = node.span
    if not s.line:
        return s
    return Span(s.line, s.column, s.line, s.column + len(word), s.start, s.start + len(word))


def shown(num: ast.Num) -> str:
    """A number as the spec wrote it (`20%`, `0.85`, `1000`), in plain notation: at most 32
    characters, since a literal has at most 28 digits on either side of the point (dsc.syntax.numbers).

    >>> shown(ast.Num(Decimal("20"), percent=True)), shown(ast.Num(Decimal("2E-4")))
    ('20%', '0.0002')
    """
    return f"{num.value:f}" + ("%" if num.percent else "")


def is_integer(num: ast.Num) -> bool:
    return not num.percent and num.value == num.value.to_integral_value()


def one_of(items: Sequence[str]) -> str:
    """`'a'`, `'a' or 'b'`, `'a', 'b' or 'c'`."""
    quoted = [f"'{i}'" for i in items]
    return quoted[0] if len(quoted) == 1 else ", ".join(quoted[:-1]) + " or " + quoted[-1]


def unknown_value(name: ast.Name, what: str, choices: Sequence[str], code: str = "DSC203") -> list[Diagnostic]:
    """An error when `name` is not one of `choices`, with a suggestion or the full list.

    >>> [d.hint for d in unknown_value(ast.Name("nfkd"), "normalisation step", ("nfc", "nfkc"))]
    ["did you mean 'nfkc'?"]
    """
    if name.value in choices:
        return []
    hint = did_you_mean(name.value, choices) or f"expected {one_of(choices)}"
    return [error(code, f"unknown {what} '{name.value}'", name.span, hint)]


def value_text(value: ast.Value) -> str:
    """The text a literal stands for: names and strings as written, numbers in plain notation."""
    if isinstance(value, ast.Num):
        return shown(value)
    return value.value


def first_seen(items: Iterable[tuple[str, ast.Node]]) -> Iterable[tuple[ast.Node, ast.Node]]:
    """(repeat, first) for every item whose key was seen before, in order."""
    seen: dict[str, ast.Node] = {}
    for key, node in items:
        if key in seen:
            yield node, seen[key]
        else:
            seen[key] = node


@dataclass(frozen=True)
class Schema:
    """The declared columns, by name; the first declaration wins when a name repeats."""

    columns: dict[str, ast.ColumnDecl]

    def type_of(self, name: str) -> str | None:
        decl = self.columns.get(name)
        return decl.type.value if decl else None

    def labels_of(self, name: str) -> tuple[str, ...]:
        decl = self.columns.get(name)
        return tuple(value_text(v) for v in decl.labels or ()) if decl else ()


def schema_of(spec: ast.Spec) -> Schema | None:
    """The schema view of a spec, or None when it has no schema block.

    Columns of repeated schema blocks are merged, so that a second block (itself an error)
    does not also make every later column reference an error.
    """
    blocks = spec.of(ast.SchemaBlock)
    if not blocks:
        return None
    columns: dict[str, ast.ColumnDecl] = {}
    for block in blocks:
        for decl in block.columns:
            columns.setdefault(decl.name.value, decl)
    return Schema(columns)


def split_names(spec: ast.Spec) -> list[str]:
    """The split names declared in the split block(s), in order."""
    return [part.name.value for block in spec.of(ast.SplitBlock) for part in block.parts]


def clean_rules(spec: ast.Spec) -> list[ast.CleanRule]:
    return [rule for block in spec.of(ast.CleanBlock) for rule in block.rules]


def at_line(first: ast.Node, repeat: ast.Node | None = None) -> str:
    """Where the first of two repeated things is, for a hint: `on line 4`, `earlier on this line`."""
    if not first.span.line:
        return "earlier"
    if repeat is not None and repeat.span.line == first.span.line:
        return "earlier on this line"
    return f"on line {first.span.line}"
