"""Peak memory of ``dedupe near`` on template-heavy data: toolformer repeated 20x.

Every toolformer row (instruction, input and output joined by newlines, as in
:mod:`bench.bench_near`) is repeated ``--copies`` times, copy ``k`` ending in `` (copy k)``, so
each row has 19 near copies and the tool preambles the rows share put thousands of rows in
some LSH buckets: materialising every pair of such a bucket is what made the kernel use
gigabytes.  The budget is ``4 x input text + 300 MB`` of peak RSS.

The kernel runs in a fresh subprocess that first loads the texts from an Arrow IPC file and
then resets the peak-RSS counter (:mod:`bench.memory`), so the figure is the process's peak
while the kernel runs (the loaded input included), measured the same way for every build.
The plain toolformer file (1x) runs first in the same way, as the baseline the ratios
are taken against.

Run from the repository root::

    python -m bench.bench_near_memory              # 1x and 20x
    python -m bench.bench_near_memory --copies 5

Results also go to ``bench/results/near_memory.json``.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

import pyarrow as pa

from bench.bench_near import DATA, RESULTS, ROOT, write_arrow
from bench.memory import peak_kb, reset_peak

FILE = "toolformer-dedupe-only-dataset.json"
BUDGET_FACTOR, BUDGET_MB = 4, 300


def texts(copies: int) -> list[str]:
    """Toolformer's rows, each repeated ``copies`` times with a per-copy suffix (1: as they are)."""
    records = json.loads((DATA / FILE).read_text())
    base = ["\n".join(r.get(k) or "" for k in ("instruction", "input", "output")) for r in records]
    if copies == 1:
        return base
    return [f"{t} (copy {k})" for t in base for k in range(1, copies + 1)]


def _child(path: str, threshold: float, ngram: int) -> None:
    import numpy as np

    from dsc.kernels.near import near_duplicates

    with pa.memory_map(path) as src:
        arr = pa.ipc.open_file(src).read_all().column("text").combine_chunks()
    base = reset_peak()
    t = time.perf_counter()
    res = near_duplicates(arr, threshold=threshold, ngram=ngram)
    seconds = time.perf_counter() - t
    peak = peak_kb()
    print(json.dumps({"seconds": seconds, "peak_rss_mb": peak / 1024, "phase_rss_mb": (peak - base) / 1024,
                      "candidate_pairs": res.candidate_pairs, "verified_pairs": res.verified_pairs,
                      "removed": int(np.count_nonzero(res.cluster != np.arange(len(arr))))}))


def run(copies: int, args, tmp: str) -> dict:
    rows = texts(copies)
    text_mb = sum(len(t.encode()) for t in rows) / 2**20
    path = os.path.join(tmp, f"toolformer-x{copies}.arrow")
    write_arrow(rows, path)
    cmd = [sys.executable, "-m", "bench.bench_near_memory", "--child", path, "--threshold", str(args.threshold),
           "--ngram", str(args.ngram)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"kernel run failed:\n{proc.stderr}")
    out = json.loads(proc.stdout.strip().splitlines()[-1])
    budget = BUDGET_FACTOR * text_mb + BUDGET_MB
    out.update(copies=copies, rows=len(rows), text_mb=text_mb, budget_mb=budget,
               within_budget=out["peak_rss_mb"] <= budget)
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--copies", type=int, default=20)
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="toolformer x1 and x3")
    args = ap.parse_args(argv)
    if args.quick:
        args.copies = 3
    if args.child:
        _child(args.child, args.threshold, args.ngram)
        return
    print(f"dedupe near memory: toolformer x1 and x{args.copies}, jaccard >= {args.threshold}, "
          f"word {args.ngram}-grams; budget {BUDGET_FACTOR} x text + {BUDGET_MB} MB")
    print(f"{'data':<8}{'rows':>9}{'text MB':>9}{'seconds':>9}{'rows/s':>9}{'peak MB':>9}{'budget':>8}{'ok':>4}"
          f"{'cand pairs':>12}{'verified':>10}{'removed':>9}")
    results = []
    with tempfile.TemporaryDirectory() as tmp:
        for copies in (1, args.copies):
            r = run(copies, args, tmp)
            results.append(r)
            print(f"{'x' + str(copies):<8}{r['rows']:>9,}{r['text_mb']:>9.1f}{r['seconds']:>9.1f}"
                  f"{r['rows'] / r['seconds']:>9,.0f}{r['peak_rss_mb']:>9.0f}{r['budget_mb']:>8.0f}"
                  f"{'yes' if r['within_budget'] else 'NO':>4}{r['candidate_pairs']:>12,}{r['verified_pairs']:>10,}"
                  f"{r['removed']:>9,}", flush=True)
    one, many = results
    print(f"x{args.copies} vs x1: {many['rows'] / one['rows']:.0f} x the rows, "
          f"{many['seconds'] / one['seconds']:.1f} x the time, {many['peak_rss_mb'] / one['peak_rss_mb']:.1f} x the peak RSS")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "near_memory.json").write_text(json.dumps({"runs": results}, indent=2))
    print(f"wrote {RESULTS / 'near_memory.json'}")


if __name__ == "__main__":
    main()
