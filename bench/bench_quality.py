"""Benchmark the quality measures and lang() of `drop where` on real text.

Run from the repository root::

    python -m bench.bench_quality                # 100k rows
    python -m bench.bench_quality --rows 20000   # quicker

Data: every record of the JSON and JSONL files in ``examples/data``, its string fields joined by
newlines (so the text has lines), repeated in file order until ``--rows`` rows.

For each measure of ``dsc.kernels.quality.MEASURES`` the table gives rows/s of the dsc kernel
(pyarrow + numpy over the whole column), rows/s of a plain-Python implementation of the same
definition (a loop over ``str`` rows, as datatrove's filters run), and two ratios, both measured in
this process on the same rows: **vs python** (dsc time / Python time: below 1 is faster) and
**vs exact** (dsc time / the time of ``dsc.kernels.exact.duplicate_groups`` on the same column,
i.e. of ``dedupe exact``). The plain-Python values must equal dsc's (asserted), so both compute
the same thing. Best of ``--repeat`` runs.

``lang()`` scores text in Python over its bytes, so it is timed on the first ``--lang-rows``
distinct rows against py3langid's own ``classify`` on the same rows (dsc sums in float64: the
ratio shows what determinism costs), and once over all rows, where dsc scores each distinct text
of a batch once (the repeated file gives it many repeats: the number of distinct rows is printed).

Results also go to ``bench/results/quality.json``.
"""
from __future__ import annotations

import argparse
import json
import platform
import re
import unicodedata
from collections import Counter
from pathlib import Path

import numpy as np
import pyarrow as pa

from bench.timing import best
from dsc.kernels import lang, quality
from dsc.kernels.exact import duplicate_groups

ROOT = Path(__file__).resolve().parent.parent


def load_texts(rows: int) -> list[str]:
    """The records of examples/data as texts, repeated to `rows`."""
    texts = []
    for path in sorted((ROOT / "examples" / "data").iterdir()):
        if path.suffix == ".jsonl":
            records = [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
        elif path.suffix == ".json":
            records = json.loads(path.read_text(encoding="utf-8"))
        else:
            continue
        for r in records:
            if isinstance(r, dict):
                texts.append("\n".join(v for v in r.values() if isinstance(v, str)))
    return (texts * (rows // len(texts) + 1))[:rows]


# --------------------------------------------------------------------------- plain Python
def _py_alpha(t):
    w = t.split()
    return sum(any(c.isalpha() for c in x) for x in w) / len(w) if w else 0.0


def _symbolic(c):
    cat = unicodedata.category(c)
    return cat[0] in "PS" or cat == "Cc"


def _py_mean_len(t):
    w = [x for x in t.split() if not all(map(_symbolic, x))]
    return sum(map(len, w)) / len(w) if w else 0.0


def _py_symbol(t):
    w = t.split()
    return max(t.count("#"), t.count("...") + t.count("\u2026")) / len(w) if w else 0.0


_EDGE = re.compile(r"^[^\w\s]+|[^\w\s]+$")
_STOP = set(quality.STOP_WORDS)


def _py_stop(t):
    return len(_STOP & {_EDGE.sub("", x) for x in t.split()})


_LINES = re.compile("\n+")


def _py_dup_lines(t):
    lines = _LINES.split(t)
    return (len(lines) - len(set(lines))) / len(lines)


def _py_top(n):
    def top(t):
        w = t.split()
        grams = [" ".join(w[i:i + n]) for i in range(len(w) - n + 1)]
        if not grams:
            return 0.0
        gram, count = Counter(grams).most_common(1)[0]
        return len(gram) * count / len(t) if count > 1 else 0.0
    return top


_TERMINAL = tuple(quality.TERMINAL_PUNCTUATION)


def _py_line_punct(t):
    lines = [x.rstrip() for x in t.split("\n") if x.strip()]
    return sum(x.endswith(_TERMINAL) for x in lines) / len(lines) if lines else 0.0


PYTHON = {"words": lambda t: len(t.split()), "chars": len, "alpha_ratio": _py_alpha,
          "mean_word_length": _py_mean_len, "symbol_ratio": _py_symbol, "stop_words": _py_stop,
          "dup_line_ratio": _py_dup_lines, "top_2gram_ratio": _py_top(2), "top_3gram_ratio": _py_top(3),
          "top_4gram_ratio": _py_top(4), "line_punct_ratio": _py_line_punct}



def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lang-rows", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10k rows, 500 for lang(), one repeat")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.lang_rows, args.repeat = 10_000, 500, 1

    texts = load_texts(args.rows)
    column = pa.array(texts, type=pa.string())
    n = len(texts)
    exact_s, _ = best(lambda: duplicate_groups([column]), args.repeat)
    print(f"{n} rows, {sum(map(len, texts)) / n:.0f} characters a row; dedupe exact {n / exact_s:,.0f} rows/s "
          f"({platform.python_implementation()} {platform.python_version()}, pyarrow {pa.__version__})")
    print(f"{'measure':<18}{'dsc rows/s':>14}{'python rows/s':>15}{'vs python':>11}{'vs exact':>10}")
    results = {"rows": n, "exact_rows_per_s": n / exact_s, "measures": {}}
    for name, m in quality.MEASURES.items():
        dsc_s, got = best(lambda: m.measure(column), args.repeat)
        py_s, want = best(lambda: [PYTHON[name](t) for t in texts], 1)
        assert np.array_equal(np.asarray(got, dtype=np.float64), np.asarray(want, dtype=np.float64)), name
        print(f"{name:<18}{n / dsc_s:>14,.0f}{n / py_s:>15,.0f}{dsc_s / py_s:>11.3f}{dsc_s / exact_s:>10.2f}")
        results["measures"][name] = {"dsc_rows_per_s": n / dsc_s, "python_rows_per_s": n / py_s,
                                     "vs_python": dsc_s / py_s, "vs_exact": dsc_s / exact_s}

    distinct = list(dict.fromkeys(texts))
    sample = distinct[:args.lang_rows]
    lang.identifier()  # load the model outside the timings
    dsc_s, _ = best(lambda: lang.detect(sample), 1)
    ident = lang.identifier()
    py_s, _ = best(lambda: [ident.classify(t) for t in sample], 1)
    all_s, _ = best(lambda: lang.detect(column), 1)
    print(f"{'lang (distinct)':<18}{len(sample) / dsc_s:>14,.0f}{len(sample) / py_s:>15,.0f}{dsc_s / py_s:>11.3f}"
          f"{dsc_s * n / len(sample) / exact_s:>10.2f}   py3langid.classify as 'python', {len(sample)} rows")
    print(f"{'lang (all rows)':<18}{n / all_s:>14,.0f}{'':>15}{'':>11}{all_s / exact_s:>10.2f}"
          f"   {len(distinct)} distinct texts of {n}")
    results["lang"] = {"distinct_rows": len(sample), "dsc_rows_per_s": len(sample) / dsc_s,
                       "py3langid_rows_per_s": len(sample) / py_s, "vs_py3langid": dsc_s / py_s,
                       "all_rows_per_s": n / all_s, "distinct_in_all": len(distinct), "all_vs_exact": all_s / exact_s}
    out = ROOT / "bench" / "results" / "quality.json"
    out.write_text(json.dumps(results, indent=2, sort_keys=True) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
