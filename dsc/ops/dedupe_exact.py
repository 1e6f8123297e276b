"""`dedupe exact on cols [ignoring …]` — exact duplicates, optionally after normalisation."""
from __future__ import annotations

from dsc.ops.base import Operator, cols, operator
from dsc.ops.dedupe_common import DedupeParams, keep_text
from dsc.ops.runtime import DedupeOperator, text_column


@operator
class DedupeExact(DedupeOperator, Operator):
    name = "dedupe_exact"
    keyword = "dedupe exact"
    effect = "drops rows"
    reason = "exact duplicate"

    class Params(DedupeParams):
        ignoring: list[str] = []

    @classmethod
    def describe(cls, p):
        ign = f" ignoring {', '.join(p['ignoring'])}" if p.get("ignoring") else ""
        return f"remove exact duplicates on {cols(p['columns'])}{ign}; {keep_text(p)}"

    @classmethod
    def clusters(cls, table, params, ctx):
        from dsc.kernels.exact import duplicate_groups

        steps = [s for key in params.get("ignoring", []) for s in _IGNORING[key]]
        columns = []
        for name in params["columns"]:
            column = table.column(name)
            if steps or params.get("ignoring"):
                column = _ignoring(text_column(table, name), params.get("ignoring", []), steps)
            columns.append(column)
        return duplicate_groups(columns)

    @classmethod
    def strictness(cls, old, new):
        rest = lambda p: {k: v for k, v in p.items() if k != "ignoring"}  # noqa: E731
        if rest(old) != rest(new):
            return None
        a, b = set(old.get("ignoring", [])), set(new.get("ignoring", []))
        # Ignoring more differences merges more rows into one cluster.
        return 0 if a == b else 1 if a < b else -1 if b < a else None


# What each `ignoring` word means, as normalisation steps applied for matching only.
_IGNORING = {"case": ["casefold"], "whitespace": ["collapse_whitespace", "strip"], "unicode": ["nfkc"],
             "punctuation": []}


def _ignoring(column, ignoring, steps):
    import pyarrow.compute as pc

    from dsc.kernels.text import normalize

    if "punctuation" in ignoring:
        column = pc.replace_substring_regex(column, r"\pP+", "")
    return normalize(column, steps) if steps else column
