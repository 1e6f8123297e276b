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

``words`` is also timed on its own (best of ``--repeat``) against the loop it replaced (a compiled
loop that skips each word with ``jit.word_end``, kept here as the baseline) and against Arrow
(``utf8_split_whitespace``, then the non-empty items of each list, once: it builds every word),
on the text as given, with every 10th space made U+00A0, and with every ASCII letter made a CJK
ideograph (3 bytes); ``--words-parquet PATH`` times them on the first string column of a Parquet
file instead (the 1M-row figures of ``dsc/kernels/words.py``). All three must agree (asserted).

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
from dsc.kernels.buffers import utf8_buffers
from dsc.kernels.exact import duplicate_groups
from dsc.kernels.jit import kernel, space_width, word_end
from dsc.kernels.words import count_words

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



@kernel
def _old_count(off: np.ndarray, data: np.ndarray, out: np.ndarray) -> None:
    """The word counter before the SWAR one (the baseline): a branchy step per space."""
    for row in range(off.size - 1):
        count = 0
        i, end = off[row], off[row + 1]
        while i < end:
            width = 1 if data[i] == 0x20 else space_width(data, i)
            if width:
                i += width
            else:
                count += 1
                i = word_end(data, i + 1, end)
        out[row] = count


def _old_words(column: pa.Array) -> np.ndarray:
    off, data = utf8_buffers(column)
    out = np.empty(len(column), np.int64)
    _old_count(off, data, out)
    out[column.is_null().to_numpy(zero_copy_only=False)] = 0
    return out


def _arrow_words(column: pa.Array) -> np.ndarray:
    import pyarrow.compute as pc

    split = pc.utf8_split_whitespace(column)  # keeps an empty item for leading/trailing whitespace
    nonempty = pc.greater(pc.binary_length(pc.list_flatten(split)), 0).to_numpy(zero_copy_only=False)
    parents = pc.list_parent_indices(split).to_numpy()
    return np.bincount(parents[nonempty], minlength=len(column)).astype(np.int64)


def _rebuilt(column: pa.Array, change) -> pa.Array:
    """`column` with its bytes rewritten by `change(data) -> (new bytes, new start of each old
    byte)`, 100k rows at a time (the index arrays of 1M rows would take gigabytes)."""
    parts = []
    for lo in range(0, len(column), 100_000):
        part = column.slice(lo, 100_000)
        off, data = utf8_buffers(part)
        new, start = change(data)
        parts.append(pa.LargeStringArray.from_buffers(len(part), pa.py_buffer(np.append(start, new.size)[off]),
                                                      pa.py_buffer(new), part.buffers()[0], offset=0))
    return pa.concat_arrays(parts) if parts else column.cast(pa.large_string())


def _nbsp(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every 10th space made U+00A0 (0xC2 0xA0)."""
    spaces = np.flatnonzero(data == 0x20)[::10]
    width = np.ones(data.size, np.int64)
    width[spaces] = 2
    start = np.concatenate([[0], np.cumsum(width)[:-1]])
    new = np.empty(int(width.sum()), np.uint8)
    new[start] = data
    new[start[spaces]], new[start[spaces] + 1] = 0xC2, 0xA0
    return new, start


def _cjk(data: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Every ASCII letter made an ideograph, U+4E00 + its place in the alphabet (3 bytes)."""
    lower = data | 0x20
    letter = (lower >= 0x61) & (lower <= 0x7A)
    width = np.where(letter, 3, 1)
    start = np.concatenate([[0], np.cumsum(width)[:-1]])
    new = np.empty(int(width.sum()), np.uint8)
    new[start] = data
    cp = 0x4E00 + (lower[letter].astype(np.int64) - 0x61)
    at = start[letter]
    new[at], new[at + 1], new[at + 2] = 0xE0 | (cp >> 12), 0x80 | ((cp >> 6) & 0x3F), 0x80 | (cp & 0x3F)
    return new, start


def words_ab(column: pa.Array, repeat: int) -> dict:
    """count_words against the loop it replaced and against Arrow, on three kinds of text."""
    column = column.cast(pa.large_string())
    _old_words(column.slice(0, 10)), count_words(column.slice(0, 10))  # compile outside the timings
    print(f"{'words on':<18}{'MB':>8}{'dsc s':>9}{'old s':>9}{'arrow s':>9}{'vs old':>9}{'vs arrow':>10}")
    out = {}
    for name, text in (("text as given", column), ("10% spaces U+00A0", _rebuilt(column, _nbsp)),
                       ("letters as CJK", _rebuilt(column, _cjk))):
        mb = (int(utf8_buffers(text)[1].size)) / 1e6
        new_s, got = best(lambda: count_words(text), repeat)
        old_s, old = best(lambda: _old_words(text), repeat)
        arrow_s, arrow = best(lambda: _arrow_words(text), 1)
        assert np.array_equal(got, old) and np.array_equal(got, arrow), name
        print(f"{name:<18}{mb:>8.0f}{new_s:>9.3f}{old_s:>9.3f}{arrow_s:>9.3f}{new_s / old_s:>9.3f}{new_s / arrow_s:>10.3f}")
        out[name] = {"mb": mb, "dsc_s": new_s, "old_s": old_s, "arrow_s": arrow_s, "vs_old": new_s / old_s,
                     "vs_arrow": new_s / arrow_s}
    return out


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--lang-rows", type=int, default=3_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10k rows, 500 for lang(), one repeat")
    parser.add_argument("--words-parquet", type=Path, help="time only words, on this file's first string column")
    args = parser.parse_args(argv)
    if args.quick:
        args.rows, args.lang_rows, args.repeat = 10_000, 500, 1
    if args.words_parquet:
        import pyarrow.parquet as pq

        table = pq.read_table(args.words_parquet)
        column = next(c for c in table.columns if pa.types.is_string(c.type) or pa.types.is_large_string(c.type))
        print(f"{len(column)} rows of {args.words_parquet}")
        words_ab(column.combine_chunks(), max(args.repeat, 5))
        return

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

    results["words_ab"] = words_ab(column, args.repeat)

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
