"""Benchmark the near-duplicate kernel against datasketch and exact ground truth.

Run from the repository root::

    python -m bench.bench_near              # real files + synthetic 100k + 1M
    python -m bench.bench_near --quick      # real files + synthetic 100k only
    python -m bench.bench_near --rows 300000

Datasets:

* the real Alpaca-format files in ``examples/data`` (toolformer, gsm8k,
  codealpaca), each as ``full`` text (instruction, input and output joined
  by newlines) and as ``instr`` (instruction only);
* synthetic corpora from :mod:`bench.corpus` (5% exact + 5% near dups).

Every measured phase runs in a fresh subprocess that first loads its input
from an Arrow IPC file, then resets the kernel's peak-RSS counter, so the
table shows each phase's own peak RSS and its increment over the loaded
input (``VmHWM`` on Linux, ``resource.getrusage`` elsewhere; see
:mod:`bench.memory` for why not getrusage everywhere).
Each phase first runs once on the first 2k rows (warm-up, untimed), then
reports the best of 3 timed runs (datasketch: 2 above 20k rows, as it is
slow); the ``runs`` column says which.
dsc gets a pyarrow array (how the engine feeds it); datasketch gets Python
strings (converted before timing), shingled the same way, one ``MinHash`` + ``MinHashLSH.insert`` per
row and then one ``query`` per row (candidates, unverified).  For the large
synthetic set datasketch runs on its first 100k rows only and the table says so.

Ground truth is the exact Jaccard of word 5-gram sets computed by an
independent pure-Python shingler (``str.split``):

* real files: all pairs with J >= threshold, found exactly with prefix
  filtering (any such pair must share a token in its frequency-ordered prefix);
* synthetic: every pair inside an injected duplicate group (original + its
  copies) with J >= threshold, plus any other pair the kernels report whose
  exact J >= threshold.  Random rows share no long word runs, so pairs outside
  the groups are not expected; those found are checked, not assumed.

Precision = reported pairs with exact J >= threshold / reported pairs;
recall = true pairs reported / true pairs.  Results also go to
``bench/results/near.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.memory import peak_kb, reset_peak

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
RESULTS = ROOT / "bench" / "results"
REAL_FILES = [
    ("toolformer", "toolformer-dedupe-only-dataset.json"),
    ("gsm8k", "gsm_8k_train.json"),
    ("codealpaca", "new_codealpaca.json"),
]
DATASKETCH_SAMPLE = 100_000
WARMUP_ROWS = 2_000
REPEATS = 3  # timed runs per phase; datasketch drops to 2 above 20k rows (it is slow)


# --------------------------------------------------------------------------- reference shingles


def shingles(text: str | None, n: int) -> set[str]:
    """Word n-gram set of ``text`` (short rows: one shingle of the whole row)."""
    if text is None:
        return set()
    w = text.split()
    if not w:
        return set()
    if len(w) < n:
        return {" ".join(w)}
    return {" ".join(w[k : k + n]) for k in range(len(w) - n + 1)}


def jaccard(a: set, b: set) -> float:
    return len(a & b) / len(a | b) if a and b else 0.0


def exact_pairs(texts: list[str | None], threshold: float, n: int) -> set[tuple[int, int]]:
    """All pairs with exact Jaccard >= threshold, via prefix filtering.

    Shingles are ordered by ascending global frequency (ties by text).  If
    J(A, B) >= t then |A & B| >= t|A|, so A's first |A| - ceil(t|A|) + 1
    shingles must contain a shared one; indexing only those prefixes makes
    the candidate set small and the result still exact.
    """
    sets = [shingles(t, n) for t in texts]
    freq: dict[str, int] = defaultdict(int)
    for s in sets:
        for g in s:
            freq[g] += 1
    rank = {g: r for r, g in enumerate(sorted(freq, key=lambda g: (freq[g], g)))}
    index: dict[int, list[int]] = defaultdict(list)
    cands: set[tuple[int, int]] = set()
    for i, s in enumerate(sets):
        if not s:
            continue
        order = sorted(rank[g] for g in s)
        plen = len(order) - int(np.ceil(threshold * len(order) - 1e-9)) + 1
        for r in order[:plen]:
            for j in index[r]:
                cands.add((j, i))
            index[r].append(i)
    return {(i, j) for i, j in cands if jaccard(sets[i], sets[j]) >= threshold}


# --------------------------------------------------------------------------- phases (run in children)


def _load(path: str, limit: int | None) -> pa.Array:
    with pa.memory_map(path) as src:
        col = pa.ipc.open_file(src).read_all().column("text")
    col = col.combine_chunks()
    return col.slice(0, limit) if limit else col


def _phase_dsc(arr: pa.Array, args) -> dict:
    from dsc.kernels.near import lsh_params, near_duplicates

    t = time.perf_counter()
    res = near_duplicates(arr, threshold=args.threshold, ngram=args.ngram, num_perm=args.num_perm)
    seconds = time.perf_counter() - t
    bands, _ = lsh_params(args.threshold, args.num_perm)
    np.save(args.pairs_out, res.pairs)
    return {
        "seconds": seconds,
        "candidate_pairs": res.candidate_pairs,
        "verified_pairs": res.verified_pairs,
        "state_bytes_per_row": 8 * bands + 1,  # band keys + has-shingles flag kept between chunks
    }


def _phase_datasketch(arr: pa.Array, args) -> dict:
    from datasketch import MinHash, MinHashLSH

    texts = arr.to_pylist()  # not timed: dsc is not charged for its input format either
    t = time.perf_counter()
    lsh = MinHashLSH(threshold=args.threshold, num_perm=args.num_perm)
    sigs = {}
    for i, text in enumerate(texts):
        sh = shingles(text, args.ngram)
        if not sh:
            continue
        m = MinHash(num_perm=args.num_perm)
        m.update_batch([g.encode("utf8") for g in sh])
        lsh.insert(i, m)
        sigs[i] = m
    pairs = set()
    for i, m in sigs.items():
        for j in lsh.query(m):
            if j != i:
                pairs.add((min(i, j), max(i, j)))
    seconds = time.perf_counter() - t
    np.save(args.pairs_out, np.array(sorted(pairs), dtype=np.int64).reshape(-1, 2))
    return {"seconds": seconds, "candidate_pairs": len(pairs)}








def _child(args) -> None:
    arr = _load(args.input, args.limit)
    phase = _phase_dsc if args.phase == "dsc" else _phase_datasketch
    # Warm both kernels on a small slice (imports, allocator, first-touch pages)
    # so the timed run measures throughput; its outputs are overwritten below.
    phase(arr.slice(0, WARMUP_ROWS), args)
    base = reset_peak()
    out = phase(arr, args)
    peak = peak_kb()
    # Best of N where cheap: the machine may be shared, and the fastest run is
    # the one least disturbed by other processes.  Results are deterministic.
    repeats = REPEATS if args.phase == "dsc" or len(arr) <= 20_000 else 2
    for _ in range(repeats - 1):
        out["seconds"] = min(out["seconds"], phase(arr, args)["seconds"])
    out.update(rows=len(arr), repeats=repeats, peak_rss_mb=peak / 1024, phase_rss_mb=(peak - base) / 1024)
    print(json.dumps(out))


def run_phase(phase: str, path: str, args, limit: int | None = None) -> tuple[dict, np.ndarray]:
    with tempfile.NamedTemporaryFile(suffix=".npy", delete=False) as f:
        pairs_out = f.name
    cmd = [sys.executable, "-m", "bench.bench_near", "--phase", phase, "--input", path,
           "--pairs-out", pairs_out, "--threshold", str(args.threshold), "--ngram", str(args.ngram),
           "--num-perm", str(args.num_perm)]
    if limit:
        cmd += ["--limit", str(limit)]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"{phase} phase failed:\n{proc.stderr}")
    stats = json.loads(proc.stdout.strip().splitlines()[-1])
    pairs = np.load(pairs_out)
    os.unlink(pairs_out)
    return stats, pairs


# --------------------------------------------------------------------------- scoring


def score(pred: np.ndarray, truth: set, is_true) -> tuple[float, float]:
    """(precision, recall) of ``pred`` pairs; ``is_true(i, j)`` decides pairs outside ``truth``."""
    pred_set = set(map(tuple, pred.tolist()))
    tp = sum(1 for p in pred_set if p in truth or is_true(*p))
    extra = sum(1 for p in pred_set if p not in truth and is_true(*p))
    precision = tp / len(pred_set) if pred_set else 1.0
    recall = (tp / (len(truth) + extra)) if (truth or extra) else 1.0
    return precision, recall


def synthetic_truth(texts: list[str], corpus: dict, threshold: float, n: int) -> set[tuple[int, int]]:
    """True pairs inside injected groups (original + exact and near copies)."""
    groups: dict[int, list[int]] = defaultdict(list)
    for key in ("exact_of", "near_of"):
        for i in np.flatnonzero(corpus[key] >= 0).tolist():
            groups[int(corpus[key][i])].append(i)
    truth = set()
    for orig, members in groups.items():
        rows = sorted([orig, *members])
        sets = {r: shingles(texts[r], n) for r in rows}
        for x in range(len(rows)):
            for y in range(x + 1, len(rows)):
                if jaccard(sets[rows[x]], sets[rows[y]]) >= threshold:
                    truth.add((rows[x], rows[y]))
    return truth


# --------------------------------------------------------------------------- driver


def load_alpaca(name: str, variant: str) -> list[str]:
    records = json.loads((DATA / name).read_text())
    if variant == "instr":
        return [r.get("instruction") or "" for r in records]
    return ["\n".join(r.get(k) or "" for k in ("instruction", "input", "output")) for r in records]


def write_arrow(texts: list[str], path: str) -> None:
    table = pa.table({"text": pa.array(texts, type=pa.large_string())})
    with pa.OSFile(path, "wb") as sink, pa.ipc.new_file(sink, table.schema) as writer:
        writer.write_table(table)


def bench_dataset(name: str, texts: list[str], truth: set, args, tmp: str, ds_limit: int | None) -> dict:
    path = os.path.join(tmp, name.replace("/", "-") + ".arrow")
    write_arrow(texts, path)
    dsc_stats, dsc_pairs = run_phase("dsc", path, args)
    ds_stats, ds_pairs = ({}, None) if args.no_datasketch else run_phase("datasketch", path, args, ds_limit)
    cache: dict[int, set] = {}

    def is_true(i: int, j: int) -> bool:
        for r in (i, j):
            if r not in cache:
                cache[r] = shingles(texts[r], args.ngram)
        return jaccard(cache[i], cache[j]) >= args.threshold

    precision, recall = score(dsc_pairs, truth, is_true)
    row = {
        "dataset": name,
        "rows": len(texts),
        "true_pairs": len(truth),
        "dsc_rows_per_s": len(texts) / dsc_stats["seconds"],
        "dsc_seconds": dsc_stats["seconds"],
        "candidate_pairs": dsc_stats["candidate_pairs"],
        "verified_pairs": dsc_stats["verified_pairs"],
        "candidates_per_row": dsc_stats["candidate_pairs"] / len(texts),
        "precision": precision,
        "recall": recall,
        "dsc_peak_rss_mb": dsc_stats["peak_rss_mb"],
        "dsc_phase_rss_mb": dsc_stats["phase_rss_mb"],
        "state_bytes_per_row": dsc_stats["state_bytes_per_row"],
        "runs": f"{dsc_stats['repeats']}/{ds_stats.get('repeats', '-')}",
    }
    if ds_stats:
        ds_rows = ds_stats["rows"]
        row.update(
            ds_rows=ds_rows,
            ds_rows_per_s=ds_rows / ds_stats["seconds"],
            ratio=row["dsc_rows_per_s"] / (ds_rows / ds_stats["seconds"]),
            ds_candidate_pairs=ds_stats["candidate_pairs"],
            ds_peak_rss_mb=ds_stats["peak_rss_mb"],
            ds_phase_rss_mb=ds_stats["phase_rss_mb"],
        )
        if ds_rows == len(texts):  # datasketch's own (unverified) candidate quality
            row["ds_precision"], row["ds_recall"] = score(ds_pairs, truth, is_true)
    print_row(row)
    return row


HEADER = (
    f"{'dataset':<22}{'rows':>9}{'true':>8}{'dsc rows/s':>12}{'ds rows/s':>14}{'ratio':>7}"
    f"{'cand/row':>9}{'prec':>7}{'recall':>8}{'ds P/R':>12}{'RSS MB dsc':>15}{'ds':>12}{'B/row':>7}{'runs':>6}"
)


def print_row(r: dict) -> None:
    ds = "-" if "ds_rows_per_s" not in r else f"{r['ds_rows_per_s']:,.0f}" + ("*" if r["ds_rows"] < r["rows"] else "")
    ratio = f"{r['ratio']:.1f}x" if "ratio" in r else "-"
    dspr = f"{r['ds_precision']:.2f}/{r['ds_recall']:.2f}" if "ds_precision" in r else "-"
    rss = f"{r['dsc_peak_rss_mb']:.0f} (+{r['dsc_phase_rss_mb']:.0f})"
    ds_rss = f"{r['ds_peak_rss_mb']:.0f} (+{r['ds_phase_rss_mb']:.0f})" if "ds_peak_rss_mb" in r else "-"
    print(
        f"{r['dataset']:<22}{r['rows']:>9,}{r['true_pairs']:>8,}{r['dsc_rows_per_s']:>12,.0f}{ds:>14}{ratio:>7}"
        f"{r['candidates_per_row']:>9.3f}{r['precision']:>7.3f}{r['recall']:>8.3f}{dspr:>12}{rss:>15}{ds_rss:>12}"
        f"{r['state_bytes_per_row']:>7}{r['runs']:>6}",
        flush=True,
    )


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000, help="size of the large synthetic set")
    ap.add_argument("--quick", action="store_true", help="skip the large synthetic set (100k only)")
    ap.add_argument("--no-datasketch", action="store_true")
    ap.add_argument("--threshold", type=float, default=0.8)
    ap.add_argument("--ngram", type=int, default=5)
    ap.add_argument("--num-perm", type=int, default=128)
    ap.add_argument("--seed", type=int, default=0, help="synthetic corpus seed")
    # internal: child-process phases
    ap.add_argument("--phase", choices=["dsc", "datasketch"], help=argparse.SUPPRESS)
    ap.add_argument("--input", help=argparse.SUPPRESS)
    ap.add_argument("--pairs-out", help=argparse.SUPPRESS)
    ap.add_argument("--limit", type=int, help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.phase:
        _child(args)
        return

    from bench.corpus import make_corpus

    print(f"near-dup benchmark: threshold={args.threshold} word {args.ngram}-grams num_perm={args.num_perm}; "
          f"{os.cpu_count()} cpus")
    print(HEADER, flush=True)
    rows = []
    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        for label, fname in REAL_FILES:
            for variant in ("full", "instr"):
                texts = load_alpaca(fname, variant)
                truth = exact_pairs(texts, args.threshold, args.ngram)
                rows.append(bench_dataset(f"{label}/{variant}", texts, truth, args, tmp, None))
        sizes = [100_000] + ([] if args.quick or args.rows == 100_000 else [args.rows])
        for n in sizes:
            corpus = make_corpus(n, seed=args.seed)
            truth = synthetic_truth(corpus["text"], corpus, args.threshold, args.ngram)
            ds_limit = DATASKETCH_SAMPLE if n > DATASKETCH_SAMPLE else None
            rows.append(bench_dataset(f"synthetic/{n // 1000}k", corpus["text"], truth, args, tmp, ds_limit))
            del corpus
    print("* datasketch rate measured on the first 100k rows of that set (sample), same params.")
    print("RSS MB: peak of the phase's process (+ increase over the loaded input).  B/row: dsc state kept")
    print("between chunks (LSH band keys + flag).  ds P/R: datasketch's unverified LSH candidates.")
    print("runs: timed runs dsc/datasketch (best of N reported).")
    small = next((r for r in rows if r["dataset"] == "synthetic/100k"), None)
    large = next((r for r in rows if r["dataset"].startswith("synthetic/") and r is not small), None)
    summary = {"seconds": time.perf_counter() - started}
    if small and large:
        summary["scaling_large_vs_100k"] = large["dsc_rows_per_s"] / small["dsc_rows_per_s"]
        print(f"dsc rows/s at {large['rows']:,} = {summary['scaling_large_vs_100k']:.0%} of rows/s at 100k")
    RESULTS.mkdir(parents=True, exist_ok=True)
    out = {"params": {"threshold": args.threshold, "ngram": args.ngram, "num_perm": args.num_perm,
                      "unit": "word", "seed": args.seed},
           "rows": rows, "summary": summary}
    (RESULTS / "near.json").write_text(json.dumps(out, indent=2))
    print(f"wrote {RESULTS / 'near.json'} ({summary['seconds']:.0f} s)")


if __name__ == "__main__":
    main()
