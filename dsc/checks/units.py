"""Target units of `standardize … as quantity UNIT` (DSC206), read by pint through `dsc.locale.units`,
as the run reads them.
"""
from __future__ import annotations

from dsc import ast
from dsc.checks.common import clean_rules, error
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic
from dsc.locale.units import parse_unit, suggest_unit


def check_units(spec: ast.Spec, ctx: CheckContext) -> list[Diagnostic]:
    """A quantity rule converts to a unit pint knows, with a dimension (DSC206).

    A dimensionless target (`percent`, a bare number) cannot be the unit of a measurement;
    a quantity rule without a target is DSC212 (measurements convert *to* a unit).
    """
    out: list[Diagnostic] = []
    for rule in clean_rules(spec):
        if not isinstance(rule, ast.Standardize) or rule.kind.value != "quantity":
            continue
        target = rule.target
        if target is None:
            out.append(error("DSC212", "a quantity rule needs a target unit", rule.kind.span,
                             f"e.g. standardize {rule.column.value} as quantity kg"))
            continue
        unit = parse_unit(target.value)
        if unit is None:
            out.append(error("DSC206", f"unknown unit '{target.value}'", target.span,
                             suggest_unit(target.value) or 'write a pint unit, e.g. kg, km, "m/s"'))
        elif unit.dimensionless:
            out.append(error("DSC206", f"'{target.value}' has no dimension, so it cannot be a quantity's unit",
                             target.span, "name the unit the measurements are converted to, e.g. kg or m"))
    return out
