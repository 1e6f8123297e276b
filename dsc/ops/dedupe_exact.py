"""`dedupe exact on cols [ignoring …]` — exact duplicates, optionally after normalisation."""
from __future__ import annotations

from dsc.ops.base import Operator, cols, operator
from dsc.ops.dedupe_common import DedupeParams, DedupeRule, keep_text
from dsc.ops.runtime import DedupeOperator, text_column


@operator
class DedupeExact(DedupeRule, DedupeOperator, Operator):
    name = "dedupe_exact"
    mode = "exact"
    keyword = "dedupe exact"
    effect = "drops rows"
    reason = "exact duplicate"
    distributed = "keyed"

    class Params(DedupeParams):
        ignoring: list[str] = []

    @classmethod
    def describe(cls, p):
        ign = f" ignoring {', '.join(p['ignoring'])}" if p.get("ignoring") else ""
        return f"remove exact duplicates on {cols(p['columns'])}{ign}; {keep_text(p)}"

    @classmethod
    def clusters(cls, table, params, ctx):
        from dsc.kernels.exact import duplicate_groups

        return duplicate_groups(key_columns(table, params), workers=ctx.workers)

    @classmethod
    def strictness(cls, old, new):
        rest = lambda p: {k: v for k, v in p.items() if k != "ignoring"}  # noqa: E731
        if rest(old) != rest(new):
            return None
        a, b = set(old.get("ignoring", [])), set(new.get("ignoring", []))
        # Ignoring more differences merges more rows into one cluster.
        return 0 if a == b else 1 if a < b else -1 if b < a else None


# What each `ignoring` word means, as normalisation steps applied for matching only.
IGNORING = {"case": ["casefold"], "whitespace": ["collapse_whitespace", "strip"], "unicode": ["nfkc"],
             "punctuation": []}


def key_columns(table, params) -> list:
    """The columns `dedupe exact` compares: the values themselves, or normalised as `ignoring` says.
    The Ray engine buckets rows by these too, so two rows the operator calls equal share a bucket."""
    ignoring = params.get("ignoring", [])
    if not ignoring:
        return [table.column(name) for name in params["columns"]]
    steps = [s for key in ignoring for s in IGNORING[key]]
    return [_ignoring(text_column(table, name), ignoring, steps) for name in params["columns"]]


def _ignoring(column, ignoring, steps):
    import pyarrow.compute as pc

    from dsc.kernels.text import normalize

    if steps:
        column = normalize(column, steps)
    if "punctuation" in ignoring:
        # After the other steps (NFKC can make punctuation: `⑴` is `(1)`), and then those steps again
        # (removing `,` from `a , b` leaves two spaces): ignoring more never splits a cluster.
        column = pc.replace_substring_regex(column, r"\pP+", "")
        column = normalize(column, steps) if steps else column
    return column
