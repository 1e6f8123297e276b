"""Units, read by pint: the one registry, a unit's text to a pint unit, a hint for a misspelt one.

The registry is built once, and only when a unit is read: building it takes a noticeable
fraction of a second. The compile-time check (`dsc.checks.units`) and the quantity reader
(`dsc.locale.quantities`) share it, so a unit that checks is a unit that runs.
"""
from __future__ import annotations

import re
from functools import cache
from typing import TYPE_CHECKING

from dsc.diagnostics import did_you_mean, suggestion

if TYPE_CHECKING:
    import pint


@cache
def registry() -> "pint.UnitRegistry":
    """The one unit registry the checks and the runs share (pint is imported here: it is slow to import)."""
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
