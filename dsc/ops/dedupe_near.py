"""`dedupe near on cols jaccard >= T ngram N …` — MinHash + LSH, verified by exact Jaccard."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from dsc.ops.base import Operator, cols, operator
from dsc.ops.dedupe_common import DedupeParams, DedupeRule, keep_text, threshold_strictness
from dsc.ops.runtime import DedupeOperator, joined_text


@operator
class DedupeNear(DedupeRule, DedupeOperator, Operator):
    name = "dedupe_near"
    mode = "near"
    keyword = "dedupe near"
    effect = "drops rows"
    reason = "near duplicate"
    distributed = "near"

    class Params(DedupeParams):
        threshold: Decimal = Decimal("0.8")
        ngram: int = 5
        unit: Literal["words", "chars"] = "words"
        permutations: int = 128
        bands: int | None = None

    @classmethod
    def describe(cls, p):
        return (f"remove near duplicates on {cols(p['columns'])} (Jaccard >= {p['threshold']} over "
                f"{p['ngram']}-{p['unit'][:-1]} shingles, {p['permutations']} permutations); {keep_text(p)}")

    @classmethod
    def stars(cls, table, params, ctx, order):
        """Star clusters in keep order: every removed row is verified similar to its survivor."""
        from dsc.kernels.near import near_duplicates

        result = near_duplicates(joined_text(table, params["columns"]), threshold=float(params["threshold"]),
                                 ngram=params["ngram"], unit=params["unit"][:-1], num_perm=params["permutations"],
                                 seed=ctx.seed, bands=params.get("bands"), order=order)
        return result.cluster, result.similarity

    @classmethod
    def strictness(cls, old, new):
        return threshold_strictness(old, new)
