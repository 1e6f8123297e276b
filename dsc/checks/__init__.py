"""Semantic checks (DSC2xx): what a spec means, after it has parsed.

Every pass is a pure function `check_<topic>(spec, ctx) -> list[Diagnostic]` listed in
PASSES; `check` runs them all and returns every finding at once, so one run of `dsc check`
shows everything that is wrong with a spec. Passes do not depend on each other's results:
each skips what another pass reports (an unknown column is reported by the names pass only,
not again by the type pass), so one mistake gives one diagnostic.
"""
from __future__ import annotations

from dsc import ast
from dsc.checks.annotation import check_annotation
from dsc.checks.augment import check_augment_options, check_augment_splits
from dsc.checks.context import CheckContext
from dsc.checks.extras import check_extras
from dsc.checks.exports import check_export_shapes
from dsc.checks.finetune import check_finetune, check_token_rules
from dsc.checks.gates import check_gates
from dsc.checks.hub_ids import check_hub_ids
from dsc.checks.locales import check_currencies, check_locales
from dsc.checks.names import check_columns, check_schema, check_unique_names
from dsc.checks.options import check_clean_options, check_exports, check_split_options
from dsc.checks.paths import check_paths
from dsc.checks.ranges import check_annotation_numbers, check_ranges, check_splits
from dsc.checks.regex import check_regexes
from dsc.checks.structure import check_blocks, check_header, check_sources
from dsc.checks.types import check_types
from dsc.checks.units import check_units
from dsc.diagnostics import Diagnostic

__all__ = ["PASSES", "CheckContext", "check"]

PASSES = (
    check_blocks,
    check_header,
    check_sources,
    check_schema,
    check_columns,
    check_unique_names,
    check_types,
    check_clean_options,
    check_locales,
    check_currencies,
    check_units,
    check_regexes,
    check_ranges,
    check_splits,
    check_split_options,
    check_annotation,
    check_annotation_numbers,
    check_augment_splits,
    check_augment_options,
    check_exports,
    check_export_shapes,
    check_gates,
    check_finetune,
    check_token_rules,
    check_paths,
    check_hub_ids,
    check_extras,
)


def check(spec: ast.Spec, ctx: CheckContext = CheckContext()) -> list[Diagnostic]:
    """Run every pass; return all diagnostics ordered by position, then code.

    Diagnostics about the spec as a whole (no position) come first. The order within one
    position follows PASSES, so the output is the same run after run.

    >>> from dsc.syntax.load import parse
    >>> from dsc.syntax.source import SourceFile
    >>> text = '''dataset demo version 1 {
    ...   seed 1
    ... }
    ... source tickets {
    ...   files "data/*.jsonl"
    ... }
    ... schema {
    ...   prompt : text
    ... }
    ... clean {
    ...   drop where words(promt) < 3
    ... }
    ... '''
    >>> spec, _ = parse(SourceFile("demo.dspec", text))
    >>> [(d.code, d.message, d.hint) for d in check(spec)]
    [('DSC201', "unknown column 'promt'", "did you mean 'prompt'?")]
    """
    found = [diag for run in PASSES for diag in run(spec, ctx)]
    return sorted(found, key=lambda d: (d.span.line, d.span.column, d.code))
