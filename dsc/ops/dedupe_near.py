"""`dedupe near on cols jaccard >= T ngram N …` — MinHash + LSH, verified by exact Jaccard."""
from __future__ import annotations

from decimal import Decimal
from typing import Literal

from pydantic import model_serializer

from dsc.diagnostics import did_you_mean, error
from dsc.ops.base import Operator, choices, cols, operator
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
        # How verified pairs become clusters: `star` (a row is removed only when it is similar to
        # the kept row its reject names) or `components` (the pre-star behaviour: chains merge).
        cluster: Literal["star", "components"] = "star"

        @model_serializer(mode="wrap")
        def _leave_out_default(self, handler):
            """The default is left out of the plan, so specs written before the option existed
            keep their fingerprints (they already ran with star clusters)."""
            data = handler(self)
            if self.cluster == "star":
                data.pop("cluster", None)
            return data

    @classmethod
    def compile(cls, rule, env):
        params, label = super().compile(rule, env)
        for opt in rule.options:
            if opt.key == "cluster":
                params["cluster"] = opt.values[0].value
        return params, label

    @classmethod
    def check(cls, node):
        """`cluster` names one of the declared clusterings (DSC203)."""
        out = []
        for opt in getattr(node, "options", ()):
            if opt.key == "cluster":
                word = opt.values[0]
                allowed = choices(cls.Params, "cluster")
                if word.value not in allowed:
                    out.append(error("DSC203", f"unknown cluster method '{word.value}'", word.span,
                                     did_you_mean(word.value, allowed) or
                                     "expected star (every removed row is similar to the row it names) or "
                                     "components (chains of similar rows form one cluster)"))
        return out

    @classmethod
    def describe(cls, p):
        how = ", clusters are connected components" if p.get("cluster", "star") == "components" else ""
        return (f"remove near duplicates on {cols(p['columns'])} (Jaccard >= {p['threshold']} over "
                f"{p['ngram']}-{p['unit'][:-1]} shingles, {p['permutations']} permutations{how}); {keep_text(p)}")

    @classmethod
    def stars(cls, table, params, ctx, order):
        """Clusters formed in keep order, each labelled by its survivor, with every member's exact
        Jaccard to it: stars (every removed row verified similar to its survivor) or components.

        The run's workers become threads of the compiled shingling, MinHash and verification
        (no pickled copies of the table); the clusters are the same bytes with any number."""
        from dsc.kernels.near import near_duplicates

        result = near_duplicates(joined_text(table, params["columns"]), threshold=float(params["threshold"]),
                                 ngram=params["ngram"], unit=params["unit"][:-1], num_perm=params["permutations"],
                                 seed=ctx.seed, bands=params.get("bands"), order=order,
                                 clustering=params.get("cluster", "star"), workers=ctx.workers)
        return result.cluster, result.similarity

    @classmethod
    def warm(cls, params):
        """The kernels loaded by a run over two tiny rows: the same argument types as any input."""
        from dsc.kernels.near import near_duplicates

        near_duplicates(["warm up", "warm up"], ngram=params["ngram"], unit=params["unit"][:-1])

    @classmethod
    def strictness(cls, old, new):
        return threshold_strictness(old, new)
