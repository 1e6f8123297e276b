"""What the three dedupe operators share: the keep rule and its description."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from dsc.ops.base import Params


class DedupeParams(Params):
    columns: list[str]
    keep: Literal["first", "last", "longest", "shortest", "none", "by"] = "first"
    keep_by: str | None = None
    descending: bool = True


def keep_text(p) -> str:
    if p["keep"] == "by":
        return f"keep the row with the {'highest' if p.get('descending', True) else 'lowest'} {p['keep_by']}"
    if p["keep"] == "none":
        return "drop every member of a duplicate cluster"
    return f"keep the {p['keep']}"


def threshold_strictness(old, new) -> int | None:
    """For similarity dedupes: a lower threshold merges more rows, so it drops more (+1).

    >>> threshold_strictness({"threshold": "0.8", "keep": "first"}, {"threshold": "0.7", "keep": "first"})
    1
    """
    rest = lambda p: {k: v for k, v in p.items() if k != "threshold"}  # noqa: E731
    if rest(old) != rest(new):
        return None
    a, b = Decimal(str(old["threshold"])), Decimal(str(new["threshold"]))
    return 0 if a == b else 1 if b < a else -1
