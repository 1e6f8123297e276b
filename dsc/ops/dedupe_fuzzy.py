"""`dedupe fuzzy on cols pairs "file"` — record-level dedupe trained from labelled pairs.

Training dominates the cost (dsc.kernels.fuzzy, "Cost and caching"). The labelled-pairs file's
sha256 is part of the stage's cache key (`input_files`), so an edited file reruns the rule; the
kernel keeps dedupe's scored pairs in the engine's cache folder (`RunContext.cache_dir`), so a
rerun over the same compared values (another threshold or keep rule, an upstream change that
leaves these columns alone) skips training and scoring with the same clusters.
"""
from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path

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
                                      seed=ctx.seed % 2**32, cache_dir=getattr(ctx, "cache_dir", None))
        except (FuzzyError, ImportError) as err:  # ImportError: dedupe is there but cannot be imported
            raise RunError(str(err), code=getattr(err, "code", "DSC312")) from None
        return result.cluster

    @classmethod
    def input_files(cls, params: dict, base_dir: Path) -> list[dict[str, str]]:
        """The labelled-pairs file and its sha256, part of the stage's cache key: the model is
        trained from it, so an edited file must rerun the rule rather than reuse its result.
        An unreadable file hashes as absent; running the rule then reports it (DSC301)."""
        path = Path(base_dir) / params["pairs"]
        try:
            with path.open("rb") as handle:
                digest = hashlib.file_digest(handle, "sha256").hexdigest()
        except OSError:
            digest = ""
        return [{"file": params["pairs"], "sha256": digest}]

    @classmethod
    def strictness(cls, old, new):
        return threshold_strictness(old, new)
