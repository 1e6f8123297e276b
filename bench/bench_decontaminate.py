"""Benchmark `decontaminate` against a plain-Python n-gram set, with `dedupe exact` in the same run.

    python -m bench.bench_decontaminate [--rows 100000] [--quick]

The rows are the seeded synthetic corpus of `bench.corpus` (~60 pseudo-words a row); 1% of them get
a window of 13 to 20 consecutive words of an eval text planted in the middle, a third of those
upper-cased and with commas added (the normalisation must see through them). Two eval sets:

- **HumanEval**: the real `examples/evals/HumanEval.jsonl` (164 problems, `prompt` and
  `canonical_solution`), ~30k 13-grams;
- **synthetic**: `--eval-texts` texts of ~100 words from another seed of the corpus, ~0.5M 13-grams.

Contenders, all in this process, one thread:

- **dsc exact**: `Decontaminate.apply` with the exact hash set — the index built from the eval file
  (timed apart: `index`), then the rows matched (`match`);
- **dsc Bloom**: the same with the Bloom filter forced (`BLOOM_ABOVE = 0`, false-positive rate
  at most 0.1%, every hit located and verified);
- **Python set**: the lm-evaluation-harness way in plain Python: `str.casefold`, `str.translate`
  deleting the same punctuation, `str.split`, every eval n-gram joined into a `set`, every row's
  n-grams looked up in it.

Both must remove the same rows (checked); the table shows seconds (best of `--repeat`), rows/s and
the index's size. `dedupe exact` over the same 100k rows is timed alongside, for scale. Results
also go to ``bench/results/decontaminate.json``.
"""
from __future__ import annotations

import argparse
import json
import string
import sys
import unicodedata
from pathlib import Path

import numpy as np
import pyarrow as pa

import dsc.ops.decontaminate as decon
from bench.corpus import make_corpus
from bench.timing import best
from dsc.ops import OPERATORS
from dsc.ops.runtime import RunContext
from dsc.reserved import ID

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
HUMANEVAL = ROOT / "examples" / "evals" / "HumanEval.jsonl"
N = 13


# --------------------------------------------------------------------------- the plain-Python baseline

_DELETE = dict.fromkeys([c for c in range(sys.maxunicode + 1) if unicodedata.category(chr(c)).startswith("P")]
                        + [ord(c) for c in string.punctuation])


def py_words(text: str | None) -> list[str]:
    return (text or "").casefold().translate(_DELETE).split()


def py_decontaminate(rows: list[str], eval_texts: list[str], n: int = N) -> list[int]:
    grams = set()
    for text in eval_texts:
        w = py_words(text)
        grams.update(" ".join(w[i:i + n]) for i in range(len(w) - n + 1))
    out = []
    for index, text in enumerate(rows):
        w = py_words(text)
        if any(" ".join(w[i:i + n]) in grams for i in range(len(w) - n + 1)):
            out.append(index)
    return out


# --------------------------------------------------------------------------- data


def eval_sets(folder: Path, eval_texts: int) -> dict[str, tuple[str, list[str], list[str]]]:
    """{name: (pattern relative to `folder`, fields, the eval texts)}; writes the synthetic set there."""
    humaneval = [json.loads(line) for line in HUMANEVAL.open(encoding="utf-8")]
    synthetic = make_corpus(eval_texts, seed=99, exact_dup_rate=0, near_dup_rate=0, words=100)["text"]
    (folder / "synthetic.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in synthetic),
                                            encoding="utf-8")
    (folder / "HumanEval.jsonl").write_bytes(HUMANEVAL.read_bytes())
    fields = ["prompt", "canonical_solution"]
    return {"HumanEval": ("HumanEval.jsonl", fields, [r[f] for r in humaneval for f in fields]),
            "synthetic": ("synthetic.jsonl", ["text"], synthetic)}


def planted(rows: int, texts: list[str], seed: int) -> list[str]:
    """The corpus with 1% of rows carrying 13-20 words of one of `texts` (some re-cased, with commas)."""
    rng = np.random.default_rng(seed)
    out = make_corpus(rows, seed=seed, words=60)["text"]
    for i in rng.choice(rows, rows // 100, replace=False).tolist():
        words = texts[int(rng.integers(len(texts)))].split()
        if len(words) < 20:
            continue
        k = int(rng.integers(13, 21))
        at = int(rng.integers(0, len(words) - k + 1))
        window = words[at:at + k]
        if rng.random() < 1 / 3:
            window = [w.upper() + ("," if j % 4 == 0 else "") for j, w in enumerate(window)]
        host = out[i].split()
        out[i] = " ".join(host[:30] + window + host[30:])
    return out


# --------------------------------------------------------------------------- timing



def bench_set(name, pattern, fields, texts, table, folder, repeat) -> dict:
    params = {"columns": ["text"], "against": [pattern], "fields": fields, "ngram": N}
    ctx = RunContext(base_dir=folder)
    op = OPERATORS["decontaminate"]
    rows = table.column("text").to_pylist()
    py_seconds, py_removed = best(lambda: py_decontaminate(rows, texts), repeat)
    out = {"eval_set": name, "rows": table.num_rows, "python_set": py_seconds, "removed": len(py_removed)}
    ids = table.column(ID).to_pylist()
    expected = [ids[i] for i in py_removed]
    for mode, above in (("exact", decon.BLOOM_ABOVE), ("bloom", 0)):
        decon.BLOOM_ABOVE = above

        def index():
            decon._INDEXES.clear()
            return decon.eval_index([pattern], fields, N, folder)

        index_s, built = best(index, repeat)
        match_s, outcome = best(lambda: op.apply(table, params, ctx), repeat)
        assert outcome.removed.column(ID).to_pylist() == expected, f"{name} {mode}: not the baseline's rows"
        size = built.bloom.bits.nbytes if built.bloom is not None else \
            built.keys.nbytes + built.start.nbytes + built.text.nbytes
        out[mode] = {"index": index_s, "match": match_s, "total": index_s + match_s, "ngrams": built.ngrams,
                     "index_bytes": size, "fp_rate": built.bloom.rate if built.bloom is not None else 0.0}
    decon.BLOOM_ABOVE = 20_000_000
    return out


def bench_dedupe(table: pa.Table, repeat: int) -> float:
    params = OPERATORS["dedupe_exact"].Params(columns=["text"]).model_dump(mode="python")
    ctx = RunContext(base_dir=Path("."))
    return best(lambda: OPERATORS["dedupe_exact"].apply(table, params, ctx), repeat)[0]


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--eval-texts", type=int, default=5_000)
    ap.add_argument("--repeat", type=int, default=0)
    ap.add_argument("--quick", action="store_true", help="100k rows, 1 run each")
    args = ap.parse_args(argv)
    repeat = args.repeat or (1 if args.quick else 3)
    import tempfile

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        sets = eval_sets(folder, args.eval_texts)
        results = []
        for name, (pattern, fields, texts) in sets.items():
            rows = planted(args.rows, texts, seed=5)
            table = pa.table({"text": pa.array(rows, pa.large_string()),
                              ID: pa.array([f"r{i}" for i in range(len(rows))])})
            r = bench_set(name, pattern, fields, texts, table, folder, repeat)
            r["dedupe_exact"] = bench_dedupe(table, repeat)
            results.append(r)
    print(f"{'eval set':<10} {'13-grams':>9} {'removed':>8} {'dsc exact':>10} {'dsc Bloom':>10} {'Python set':>11} "
          f"{'exact/Py':>8} {'index MB exact/Bloom':>21} {'dedupe exact':>13}")
    for r in results:
        e, b = r["exact"], r["bloom"]
        print(f"{r['eval_set']:<10} {e['ngrams']:>9,} {r['removed']:>8} {e['total']:>9.2f}s {b['total']:>9.2f}s "
              f"{r['python_set']:>10.2f}s {r['python_set'] / e['total']:>7.1f}x "
              f"{e['index_bytes'] / 2**20:>10.2f} / {b['index_bytes'] / 2**20:<8.2f} {r['dedupe_exact']:>12.2f}s")
        print(f"{'':<10} index {e['index']:.2f}s + match {e['match']:.2f}s exact; index {b['index']:.2f}s + match "
              f"{b['match']:.2f}s Bloom (false-positive rate {b['fp_rate']:.1e}); {r['rows'] / e['match']:,.0f} rows/s")
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "decontaminate.json").write_text(json.dumps({"ngram": N, "results": results}, indent=2) + "\n",
                                                encoding="utf-8")
    print(f"wrote {RESULTS / 'decontaminate.json'}")


if __name__ == "__main__":
    main()
