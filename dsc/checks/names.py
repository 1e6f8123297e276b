"""Names: schema declarations, every column reference, and names that must be unique.

Which names are checked against the schema: the schema describes the columns as the clean
rules see them, that is after each source's `rename` and `explode`. So `rename old -> new`
and `explode col` name *source* columns and are not checked; everything else is — including
`key`, which is read after renaming (a key naming a renamed-away column gets a hint with the
new name).
"""
from __future__ import annotations

from typing import Iterator

from dsc import ast
from dsc.checks.common import COLUMN_TYPES, Schema, at_line, error, first_seen, schema_of, value_text
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic, did_you_mean
from dsc.reserved import RESERVED_PREFIX

_TYPE_HINTS = {
    "number": "use 'int' or 'float'",
    "str": "did you mean 'string'?",
    "integer": "did you mean 'int'?",
    "boolean": "did you mean 'bool'?",
    "double": "did you mean 'float'?",
    "timestamp": "did you mean 'datetime'?",
    "labels": "write label {a, b, …} with the allowed values",
}


def check_schema(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Column types are known (DSC203); names, label values and modifiers are not repeated.

    A column declared twice, a label value listed twice and a column named like dsc's own
    (`_dsc_…`) are DSC202; `required required` is DSC214.
    """
    out: list[Diagnostic] = []
    decls = [decl for block in spec.of(ast.SchemaBlock) for decl in block.columns]
    for repeat, first in first_seen((d.name.value, d.name) for d in decls):
        out.append(error("DSC202", f"column '{repeat.value}' is declared twice", repeat.span,
                         f"the first declaration is {at_line(first, repeat)}"))
    for decl in decls:
        if decl.name.value.startswith(RESERVED_PREFIX):
            out.append(error("DSC202", f"column names starting with '{RESERVED_PREFIX}' are reserved",
                             decl.name.span, "dsc adds its own columns (row id, source) under that prefix; "
                                             "rename the column in the source with 'rename'"))
        kind = decl.type.value
        if kind not in COLUMN_TYPES:
            hint = _TYPE_HINTS.get(kind) or did_you_mean(kind, COLUMN_TYPES) or (
                "expected one of " + ", ".join(COLUMN_TYPES))
            out.append(error("DSC203", f"unknown type '{kind}' for column '{decl.name.value}'", decl.type.span, hint))
        for repeat, _ in first_seen((value_text(v), v) for v in decl.labels or ()):
            out.append(error("DSC202", f"label '{value_text(repeat)}' is listed twice", repeat.span,
                             "each allowed value is listed once"))
        for repeat, _ in first_seen((m.value, m) for m in decl.modifiers):
            out.append(error("DSC214", f"'{repeat.value}' is given twice", repeat.span, "remove the repeat"))
    return out


def column_refs(spec: ast.Spec) -> Iterator[ast.Name]:
    """Every place the spec names a column of the schema, in source order: the fields each node
    declares with `ast.column()` (or its own `column_uses`)."""
    return (name for name, _ in ast.column_uses(spec))


def check_columns(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Every column reference names a schema column (DSC201), with a 'did you mean'.

    Skipped when the spec has no schema (that is reported once, as DSC220).
    """
    schema = schema_of(spec)
    if schema is None:
        return []
    renamed = {r.old.value: r.new.value for s in spec.of(ast.SourceBlock) for r in s.body if isinstance(r, ast.Rename)}
    out: list[Diagnostic] = []
    for name in column_refs(spec):
        if name.value in schema.columns:
            continue
        hint = _column_hint(name.value, schema, renamed)
        out.append(error("DSC201", f"unknown column '{name.value}'", name.span, hint))
    return out


def _column_hint(word: str, schema: Schema, renamed: dict[str, str]) -> str:
    if word in renamed:
        return f"'{word}' is renamed to '{renamed[word]}' in the source; use the new name"
    hint = did_you_mean(word, schema.columns)
    if hint:
        return hint
    names = sorted(schema.columns)
    listed = ", ".join(names[:8]) + (", …" if len(names) > 8 else "")
    return f"the schema declares: {listed}" if names else "the schema declares no columns"


def check_unique_names(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Names that must be unique across the spec (DSC202).

    Split parts, annotated fields, export paths (two exports to one path overwrite each
    other), and columns repeated inside one list (`dedupe exact on a, a`, `key a, a`,
    `augment train, train`).
    """
    out: list[Diagnostic] = []
    parts = [p.name for b in spec.of(ast.SplitBlock) for p in b.parts]
    for repeat, first in first_seen((n.value, n) for n in parts):
        out.append(error("DSC202", f"split '{repeat.value}' is declared twice", repeat.span,
                         f"the first is {at_line(first, repeat)}"))
    fields = [b.field for b in spec.of(ast.AnnotateBlock)]
    for repeat, first in first_seen((n.value, n) for n in fields):
        out.append(error("DSC202", f"field '{repeat.value}' has a second 'annotate' block", repeat.span,
                         f"the first is {at_line(first, repeat)}; merge them into one"))
    exports = [e.path for e in spec.of(ast.Export)]
    for repeat, first in first_seen((s.value, s) for s in exports):
        out.append(error("DSC202", f"two exports write to '{repeat.value}'", repeat.span,
                         f"the first is {at_line(first, repeat)}; the second would overwrite it"))
    for names in ast.name_lists(spec):
        for repeat, _ in first_seen((n.value, n) for n in names):
            out.append(error("DSC202", f"'{repeat.value}' is listed twice", repeat.span, "remove the repeat"))
    return out
