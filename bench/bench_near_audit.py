"""Can a reviewer trust a near-duplicate removal?  Share of removed rows below the threshold.

For each removed row, the exact Jaccard (independent pure-Python word n-gram sets, as in
:mod:`bench.bench_near`) with the survivor its reject names (``_dsc_duplicate_of``: the row
``cluster[i]`` of ``near_duplicates``), for ``cluster star`` (the default) and ``cluster
components`` (connected components, what dsc formed before).  With star clusters the share
below the threshold must be 0; components show why the choice exists.  Also checks that the
similarity the kernel records is that exact Jaccard.

Run from the repository root::

    python -m bench.bench_near_audit                  # toolformer, J >= 0.8, word 5-grams, keep first
    python -m bench.bench_near_audit --threshold 0.6 --keep longest

Results also go to ``bench/results/near_audit.json``.
"""
from __future__ import annotations

import argparse
import json
import math

import numpy as np
import pyarrow as pa

from bench.bench_near import DATA, RESULTS, jaccard, shingles

FILE = "toolformer-dedupe-only-dataset.json"
# The texts compared: the near benchmark's two variants, and the columns the toolformer spec uses.
VARIANTS = {
    "full": ("instruction", "input", "output"),
    "instruction,output": ("instruction", "output"),
    "instr": ("instruction",),
}


def audit(texts: list[str], threshold: float, ngram: int, clustering: str, keep: str,
          lengths: np.ndarray) -> dict:
    """Removals and how many of them are below ``threshold`` from the survivor they name."""
    from dsc.kernels.near import near_duplicates
    from dsc.kernels.survivors import keep_order

    order = keep_order(keep, len(texts), lengths=lengths)  # as `DedupeOperator.apply` forms clusters
    res = near_duplicates(pa.array(texts, type=pa.large_string()), threshold=threshold, ngram=ngram,
                          clustering=clustering, order=order)
    removed = np.flatnonzero(res.cluster != np.arange(len(texts)))
    sets: dict[int, set] = {}

    def grams(i: int) -> set:
        if i not in sets:
            sets[i] = shingles(texts[i], ngram)
        return sets[i]

    exact = [jaccard(grams(int(i)), grams(int(res.cluster[i]))) for i in removed]
    recorded = res.similarity[removed].tolist()
    mismatched = sum(1 for e, r in zip(exact, recorded) if not math.isclose(e, r, rel_tol=0, abs_tol=1e-12))
    below = [e for e in exact if e < threshold]
    return {
        "clustering": clustering,
        "removed": int(removed.size),
        "clusters": int(np.unique(res.cluster[removed]).size),
        "below_threshold": len(below),
        "share_below": len(below) / removed.size if removed.size else 0.0,
        "min_similarity": min(exact) if exact else None,
        "median_similarity": float(np.median(exact)) if exact else None,
        "recorded_similarity_mismatches": mismatched,
    }


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--keep", choices=["first", "last", "longest", "shortest"], default="first")
    ap.add_argument("--quick", action="store_true", help="the same: toolformer is small")
    args = ap.parse_args(argv)
    records = json.loads((DATA / FILE).read_text())
    print(f"toolformer ({len(records):,} rows), jaccard >= {args.threshold}, word {args.ngram}-grams, keep {args.keep}")
    print(f"{'texts':<20}{'cluster':<12}{'removed':>8}{'clusters':>9}{'below t':>9}{'share':>8}{'min J':>8}"
          f"{'median J':>10}{'sim != J':>9}")
    rows = []
    for name, fields in VARIANTS.items():
        texts = ["\n".join(r.get(k) or "" for k in fields) for r in records]
        lengths = np.array([sum(len(r.get(k) or "") for k in fields) for r in records])  # as keep longest counts
        for clustering in ("star", "components"):
            r = {"texts": name, **audit(texts, args.threshold, args.ngram, clustering, args.keep, lengths)}
            rows.append(r)
            fmt = lambda v: "-" if v is None else f"{v:.3f}"  # noqa: E731
            print(f"{name:<20}{clustering:<12}{r['removed']:>8}{r['clusters']:>9}{r['below_threshold']:>9}"
                  f"{r['share_below']:>8.1%}{fmt(r['min_similarity']):>8}{fmt(r['median_similarity']):>10}"
                  f"{r['recorded_similarity_mismatches']:>9}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"params": {"threshold": args.threshold, "ngram": args.ngram, "keep": args.keep}, "rows": rows}
    (RESULTS / "near_audit.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'near_audit.json'}")


if __name__ == "__main__":
    main()
