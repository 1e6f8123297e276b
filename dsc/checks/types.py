"""Operators against column types (DSC207), and the annotate field's type (DSC210).

Only columns the schema declares are looked at; an unknown column is reported once, by the
names pass, and not again here.
"""
from __future__ import annotations

import datetime as dt

from dsc import ast
from dsc.checks.common import TEXT_TYPES, Schema, clean_rules, error, is_integer, schema_of, value_text, warning
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic, did_you_mean

# The schema type each `standardize … as KIND` writes into.
STANDARD_TYPES = {
    "date": ("date",), "datetime": ("datetime",), "number": ("int", "float"), "money": ("money",),
    "quantity": ("quantity",), "bool": ("bool",),
}
_STRATIFY_TYPES = ("label", "string", "bool")


def check_types(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Text operators get text columns, `standardize` writes the declared type, `in` values fit.

    `normalize`, `words()`, `chars()`, `empty()`, `matches`, `dedupe near`, `paraphrase` and
    `backtranslate` work on `text` or `string` columns. `standardize COL as KIND` needs COL
    declared as that kind (`number` fills an `int` or `float` column). The values of
    `COL in {…}` must be of COL's type; for a label column, among its allowed values.
    A split should be stratified on a categorical column (label, string, bool; a warning).
    """
    schema = schema_of(spec)
    if schema is None:
        return []
    out: list[Diagnostic] = []
    for column, use in ast.column_uses(spec):
        if use is None:
            continue
        kind = schema.type_of(column.value)
        if kind is not None and kind not in TEXT_TYPES:
            out.append(error("DSC207", f"{use} needs a text column, but '{column.value}' is {kind}", column.span,
                             f"declare '{column.value}' as text or string, or use another column"))
    for rule in clean_rules(spec):
        if isinstance(rule, ast.Standardize):
            out += _standardize(rule, schema)
        elif isinstance(rule, ast.Drop) and isinstance(rule.predicate, ast.InPred):
            out += _in_values(rule.predicate, schema)
    for split in spec.of(ast.SplitBlock):
        for column in (o.value for o in split.options if o.key == "stratify"):
            kind = schema.type_of(column.value)
            if kind is not None and kind not in _STRATIFY_TYPES:
                out.append(warning("DSC207", f"stratifying on '{column.value}', a {kind} column", column.span,
                                   "stratify on a categorical column (label, string or bool)"))
    return out


def _standardize(rule: ast.Standardize, schema: Schema) -> list[Diagnostic]:
    kind = schema.type_of(rule.column.value)
    wanted = STANDARD_TYPES.get(rule.kind.value)
    if kind is None or wanted is None or kind in wanted:
        return []
    return [error("DSC207", f"'{rule.column.value}' is declared {kind}, but is standardized as {rule.kind.value}",
                  rule.column.span, f"declare it '{rule.column.value} : {wanted[0]}' in the schema")]


def _in_values(pred: ast.InPred, schema: Schema) -> list[Diagnostic]:
    kind = schema.type_of(pred.column.value)
    if kind == "label":
        labels = schema.labels_of(pred.column.value)
        return [
            error("DSC207", f"'{value_text(v)}' is not a label of '{pred.column.value}'", v.span,
                  did_you_mean(value_text(v), labels) or "its labels are " + ", ".join(labels))
            for v in pred.values if value_text(v) not in labels
        ]
    return [
        error("DSC207", f"{_describe(v)} is not a valid value for '{pred.column.value}' ({kind})", v.span, hint)
        for v in pred.values
        for hint in [_misfit(v, kind)] if hint is not None
    ]


def _describe(value: ast.Value) -> str:
    if isinstance(value, ast.Str):
        return f'"{value.value}"'
    return f"'{value_text(value)}'"


def _misfit(value: ast.Value, kind: str | None) -> str | None:
    """Why `value` cannot be a value of a `kind` column (a hint), or None when it can."""
    if kind in TEXT_TYPES and isinstance(value, ast.Num):
        return f'quote it to compare as text: "{value_text(value)}"'
    if kind == "int" and not (isinstance(value, ast.Num) and is_integer(value)):
        return "write a whole number"
    if kind == "float" and not (isinstance(value, ast.Num) and not value.percent):
        return "write a number"
    if kind == "bool" and not (isinstance(value, ast.Name) and value.value in ("true", "false")):
        return "write true or false"
    if kind in ("date", "datetime"):
        parse = dt.date.fromisoformat if kind == "date" else dt.datetime.fromisoformat
        try:
            parse(value.value) if isinstance(value, ast.Str) else parse("")
        except ValueError:
            return 'write an ISO 8601 value in quotes, e.g. "2024-01-31"'
    return None
