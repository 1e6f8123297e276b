"""Benchmark augmentation: generated rows/s with a tiny local model and with a loopback endpoint.

    python -m bench.bench_augment [--rows 1000] [--endpoint-rows 400] [--latency 0.02] [--threads 1] [--quick]

- **local**: `augment` paraphrasing `--rows` distinct texts (ratio 1) with the tiny random T5 the
  tests build (1 layer, 16 wide, at most 12 new tokens), and back-translating them via `de` with
  tiny per-pair MarianMT models (2 generations per row). The model is loaded by a warm-up run
  first, so the figure is steady-state generation plus dsc's own work (selection, cache, guard,
  table building); a real model is far slower per row, and that cost is the model's.
- **endpoint**: paraphrasing `--endpoint-rows` texts through the loopback chat-completions server
  of the tests, at concurrency 1 and 8, once with no server latency (the client's own cost) and
  once with `--latency` seconds per request (a stand-in for a model server's time per answer,
  where concurrency pays).
- **rerun**: the same job again into the same output directory: every generation from the cache.

Rows/s counts generations made (kept or rejected by the guard; the tiny model's are kept with
lenient bounds). Results also go to ``bench/results/augment.json``.
"""
from __future__ import annotations

import argparse
import json
import random
import sys
import tempfile
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
sys.path.insert(0, str(ROOT / "tests" / "augment"))  # the tests' tiny models and loopback server

from aug_support import LENIENT, WORDS, ChatServer, build_marian, build_t5  # noqa: E402

from dsc.augment import AugmentContext, augment  # noqa: E402
from dsc.plan import AugmentRule  # noqa: E402


def texts(n: int, seed: int = 0) -> pa.Table:
    """`n` distinct sentences of 5–12 words from the tiny tokenizer's vocabulary."""
    rng = random.Random(seed)
    seen: set[str] = set()
    while len(seen) < n:
        seen.add(" ".join(rng.choice(WORDS) for _ in range(rng.randint(5, 12))))
    rows = sorted(seen)
    return pa.table({"q": rows, "_dsc_id": [f"r{i}" for i in range(n)], "_dsc_split": ["train"] * n})


def rule(method: str, backend: str, model: str, endpoint: str | None = None, concurrency: int = 4) -> AugmentRule:
    return AugmentRule(id=f"{method}[q]", splits=["train"], method=method, column="q",
                       pivots=["de"] if method == "backtranslate" else [], ratio=Decimal(1), backend=backend,
                       model=model, endpoint=endpoint, concurrency=concurrency)


def timed(table: pa.Table, r: AugmentRule, base: Path, out: Path) -> dict:
    started = time.perf_counter()
    outcome = augment(table, [r], AugmentContext(base, bounds=LENIENT), out)
    seconds = time.perf_counter() - started
    (s,) = outcome.stats
    made = s.generated + s.rejected
    return {"rows": made, "calls": s.calls, "cache_hits": s.cache_hits, "seconds": round(seconds, 3),
            "rows_per_s": round(made / seconds, 1)}


def bench_local(work: Path, rows: int) -> list[dict]:
    build_t5(work / "t5")
    for src, tgt in (("en", "de"), ("de", "en")):
        build_marian(work / f"opus-{src}-{tgt}", seed=len(src) + ord(tgt[0]), languages=())
    out = []
    for method, model in (("paraphrase", "t5"), ("backtranslate", "opus-{src}-{tgt}")):
        r = rule(method, "local", model)
        timed(texts(16, seed=1), r, work, work / f"warm-{method}")  # loads the weights once
        first = timed(texts(rows), r, work, work / f"out-{method}")
        rerun = timed(texts(rows), r, work, work / f"out-{method}")
        out.append({"backend": "local", "method": method, "first": first, "rerun": rerun})
    return out


def bench_endpoint(work: Path, rows: int, latency: float) -> list[dict]:
    out = []
    for delay in (0.0, latency):
        with ChatServer(latency=delay) as server:
            for concurrency in (1, 8):
                r = rule("paraphrase", "endpoint", "fake", server.url, concurrency)
                target = work / f"ep-{delay}-{concurrency}"
                first = timed(texts(rows, seed=2), r, work, target)
                rerun = timed(texts(rows, seed=2), r, work, target)
                out.append({"backend": "endpoint", "latency_s": delay, "concurrency": concurrency, "first": first,
                            "rerun": rerun})
    return out


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1000, help="texts for the local model")
    ap.add_argument("--endpoint-rows", type=int, default=400, help="texts for the endpoint")
    ap.add_argument("--latency", type=float, default=0.02, help="seconds the loopback server takes per answer")
    ap.add_argument("--threads", type=int, default=1, help="torch intra-op threads for the local models")
    ap.add_argument("--quick", action="store_true", help="200 local and 100 endpoint texts")
    args = ap.parse_args(argv)
    rows, endpoint_rows = (200, 100) if args.quick else (args.rows, args.endpoint_rows)
    import torch
    import transformers

    # A 16-wide model gains nothing from more threads, and on a busy machine idle intra-op threads
    # spin: one thread measures dsc and the model, not the scheduler.
    torch.set_num_threads(args.threads)
    transformers.utils.logging.set_verbosity_error()
    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        results = bench_local(work, rows) + bench_endpoint(work, endpoint_rows, args.latency)
    print(f"{'backend':<9} {'method':<14} {'latency':>8} {'conc.':>5} {'rows':>6} {'rows/s':>9} {'rerun rows/s':>13}")
    for r in results:
        latency = f"{r['latency_s'] * 1000:.0f} ms" if "latency_s" in r else "-"
        print(f"{r['backend']:<9} {r.get('method', 'paraphrase'):<14} {latency:>8} {r.get('concurrency', '-'):>5} "
              f"{r['first']['rows']:>6} {r['first']['rows_per_s']:>9,} {r['rerun']['rows_per_s']:>13,}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "augment.json").write_text(json.dumps({"rows": rows, "endpoint_rows": endpoint_rows,
                                                      "latency_s": args.latency, "torch_threads": args.threads,
                                                      "results": results}, indent=2))
    print(f"wrote {RESULTS / 'augment.json'}")


if __name__ == "__main__":
    main()
