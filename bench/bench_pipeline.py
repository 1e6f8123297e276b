"""Whole-run benchmark: `dsc run` on a seeded synthetic corpus, timed and measured for peak RSS.

Runs the real CLI in a child process (so its peak RSS is the run's alone) on a jsonl file of
`--rows` generated rows with injected exact and near duplicates, with a spec that normalises,
filters, and removes exact and near duplicates. Prints rows/s per size and peak RSS against the
issue's budget (4 × input text bytes + 300 MB), and the scaling ratio between the sizes.

    python -m bench.bench_pipeline [--rows 1000000] [--quick]
"""
from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.corpus import make_corpus

SPEC = """dataset synthetic version 1 {
  seed 1
}

source corpus {
  files "corpus.jsonl"
}

schema {
  text : text required
}

clean {
  normalize text: nfc, collapse_whitespace, strip
  drop where words(text) < 5
  dedupe exact on text
  dedupe near on text jaccard >= 0.8 ngram 5 words
}
"""


def run_once(rows: int, workdir: Path) -> dict:
    corpus = make_corpus(rows, seed=0)
    data = "".join(json.dumps({"text": t}) + "\n" for t in corpus["text"]).encode()
    (workdir / "corpus.jsonl").write_bytes(data)
    (workdir / "bench.dspec").write_text(SPEC)
    text_bytes = sum(len(t.encode()) for t in corpus["text"])
    before = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    start = time.perf_counter()
    proc = subprocess.run([sys.executable, "-m", "dsc", "run", str(workdir / "bench.dspec"), "--out",
                           str(workdir / f"out{rows}")], capture_output=True, text=True)
    seconds = time.perf_counter() - start
    peak_kb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss
    if proc.returncode != 0:
        raise SystemExit(f"dsc run failed ({proc.returncode}):\n{proc.stderr}")
    manifest = json.loads((workdir / f"out{rows}" / "manifest.json").read_text())
    injected = int((corpus["exact_of"] >= 0).sum() + (corpus["near_of"] >= 0).sum())
    return {
        "rows": rows, "seconds": round(seconds, 2), "rows_per_s": round(rows / seconds),
        "peak_rss_mb": round(max(peak_kb, before) / 1024), "text_mb": round(text_bytes / 2**20, 1),
        "budget_mb": round((4 * text_bytes) / 2**20 + 300), "rejected": manifest["counts"]["rejected"],
        "injected_duplicates": injected,
    }


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--quick", action="store_true", help="10k and 100k rows only")
    args = parser.parse_args(argv)
    sizes = [10_000, 100_000] if args.quick else [100_000, args.rows]
    results = []
    for rows in sizes:
        with tempfile.TemporaryDirectory() as tmp:
            results.append(run_once(rows, Path(tmp)))
        r = results[-1]
        print(f"{r['rows']:>9} rows  {r['seconds']:>7.1f} s  {r['rows_per_s']:>8} rows/s  peak RSS "
              f"{r['peak_rss_mb']} MB (budget {r['budget_mb']} MB for {r['text_mb']} MB of text)  "
              f"rejected {r['rejected']} (injected duplicates {r['injected_duplicates']})", flush=True)
    scaling = results[-1]["rows_per_s"] / results[0]["rows_per_s"]
    print(f"scaling: rows/s at {sizes[-1]} = {scaling:.2f} × rows/s at {sizes[0]} (target ≥ 0.80)")
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "pipeline.json").write_text(json.dumps({"runs": results, "scaling": round(scaling, 3)}, indent=2))


if __name__ == "__main__":
    main()
