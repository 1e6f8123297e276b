"""`export … shape SHAPE`: the columns the shape reads are declared in the schema.

A shape reads its fields from the first column present of each list (`dsc.engines.shapes`);
with a schema, a required field none of whose columns it declares is DSC201, naming the field,
the columns it could come from and what every shape reads — found by `dsc check`, not by a run
that has read all its data (or by a trainer, later). Without a schema nothing is known of the
columns (DSC220 says so) and the run checks the data itself. An export with a repeated or
unknown shape, or a shape and a template, is left to `check_exports` (one mistake, one diagnostic).
"""
from __future__ import annotations

from dsc import ast
from dsc.checks.common import error, schema_of
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.engines.shapes import SHAPES, describe, missing_fields, reads


def check_export_shapes(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """Each export shape finds its required columns among the schema's (DSC201)."""
    schema = schema_of(spec)
    if schema is None:
        return []
    out: list[Diagnostic] = []
    declared = list(schema.columns)
    for export in spec.of(ast.Export):
        shapes = [o for o in export.options if o.key == "shape"]
        if len(shapes) != 1 or export.template is not None or shapes[0].value.value not in SHAPES:
            continue
        name = shapes[0].value
        missing = missing_fields(name.value, declared)
        if not missing:
            continue
        what = describe(missing[0]) if len(missing) == 1 else (
            ", ".join(describe(f) for f in missing[:-1]) + f" and {describe(missing[-1])}")
        noun = "a column" if len(missing) == 1 else "columns"
        out.append(error("DSC201", f"shape {name.value} needs {noun} {what}, which the schema does not declare",
                         name.span, f"declare {'it' if len(missing) == 1 else 'them'} (or rename a source column "
                                    f"to {'it' if len(missing) == 1 else 'them'}), or pick another shape; {reads()}"))
    return out
