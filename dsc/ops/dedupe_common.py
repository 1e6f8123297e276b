"""What the three dedupe operators share: the keep rule and its description."""
from __future__ import annotations

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
