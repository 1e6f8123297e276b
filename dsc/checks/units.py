"""Target units of `standardize … as quantity UNIT` (DSC206), read by pint.

The registry is built once, and only when a spec has a quantity rule: building it takes a
noticeable fraction of a second.
"""
from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from dsc import ast
from dsc.checks.common import clean_rules, error, suggestion
from dsc.checks.context import CheckContext
from dsc.diagnostics import Diagnostic, did_you_mean

if TYPE_CHECKING:
    import pint


@cache
def registry() -> "pint.UnitRegistry":
    """The one unit registry the checks share (pint is imported here: it is slow to import)."""
    import pint

    return pint.UnitRegistry()


def parse_unit(text: str) -> "pint.Unit | None":
    """The pint unit `text` denotes, or None when pint cannot read it as a unit.

    >>> str(parse_unit("km/h")), parse_unit("kgg"), parse_unit("1000")
    ('kilometer / hour', None, None)
    """
    if not text.strip():
        return None
    try:
        return registry().parse_units(text)
    except Exception:  # noqa: BLE001 — pint's expression parser raises many unrelated types on bad text
        return None


def suggest_unit(text: str) -> str | None:
    """A 'did you mean' hint: a one-letter deletion or swap that is a unit, else a close unit name.

    Edits come first because most unit typos are a doubled or swapped letter of a short
    symbol or name (`kgg`, `mtere`), which string similarity over full unit names misses.

    >>> suggest_unit("kgg"), suggest_unit("kilogramm"), suggest_unit("m/s2")
    ("did you mean 'kg'?", "did you mean 'kilogram'?", "did you mean 'm/s^2'?")
    """
    powered = re.sub(r"(?<=[A-Za-z])(\d+)", r"^\1", text)  # `m/s2` is how people write m/s²
    edits = [powered] if powered != text else []
    edits += [text[:i] + text[i + 1:] for i in range(len(text))]
    edits += [text[:i] + text[i + 1] + text[i] + text[i + 2:] for i in range(len(text) - 1)]
    for candidate in edits:
        unit = parse_unit(candidate) if candidate else None
        if unit is not None and not unit.dimensionless:
            return suggestion(candidate)
    return did_you_mean(text, registry()._units.keys())  # pint lists its unit names only privately


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
