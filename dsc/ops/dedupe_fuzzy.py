"""`dedupe fuzzy on cols pairs "file"` — record-level dedupe trained from labelled pairs."""
from __future__ import annotations

from decimal import Decimal

from dsc.ops.base import Operator, cols, operator
from dsc.ops.dedupe_common import DedupeParams, DedupeRule, keep_text, threshold_strictness
from dsc.ops.runtime import DedupeOperator, RunError


@operator
class DedupeFuzzy(DedupeRule, DedupeOperator, Operator):
    name = "dedupe_fuzzy"
    mode = "fuzzy"
    distributed = "driver: the dedupe library trains one model and scores pairs over all rows at once"
    keyword = "dedupe fuzzy"
    effect = "drops rows"
    reason = "fuzzy duplicate record"

    class Params(DedupeParams):
        pairs: str
        threshold: Decimal = Decimal("0.5")

    @classmethod
    def describe(cls, p):
        return (f"remove fuzzy duplicate records on {cols(p['columns'])} (model trained from "
                f"{p['pairs']}, cluster threshold {p['threshold']}); {keep_text(p)}")

    @classmethod
    def clusters(cls, table, params, ctx):
        from dsc.extras import missing
        from dsc.kernels.fuzzy import FuzzyError, fuzzy_duplicates, load_pairs

        lacking = missing(cls.keyword)  # `dsc check` warned about it (DSC221); here it stops the run
        if lacking is not None:
            raise RunError(": ".join(lacking), code="DSC312")
        columns = params["columns"]
        try:
            pairs = load_pairs(ctx.base_dir / params["pairs"], columns)
            records = table.select(columns).to_pylist()
            result = fuzzy_duplicates(records, columns, pairs, threshold=float(params["threshold"]),
                                      seed=ctx.seed % 2**32)
        except (FuzzyError, ImportError) as err:  # ImportError: dedupe is there but cannot be imported
            raise RunError(str(err), code=getattr(err, "code", "DSC312")) from None
        return result.cluster

    @classmethod
    def strictness(cls, old, new):
        return threshold_strictness(old, new)
