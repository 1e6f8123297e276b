"""Benchmark the row-wise stages: normalisation, exact dedupe (with the filtering) and the schema cast.

Run from the repository root (one command)::

    python -m bench.bench_rowwise              # 1M rows
    python -m bench.bench_rowwise --quick      # 100k rows
    python -m bench.bench_rowwise --rows 300000 --repeat 5

Every figure is the best of ``--repeat`` interleaved rounds, and every ratio is against a
baseline run in this same process on the same data, so the ratios hold across machines while
the seconds do not.

Data (seeded, built with Arrow kernels so that building 1M rows takes about a second):

* ``ascii``: 20 words a row from a 5k-word ASCII vocabulary, single spaces, with a newline or a
  double space in one separator of a hundred (as instruction data has);
* ``messy``: a third of the rows have 15% of their separators drawn from tabs, runs of spaces,
  ``\\r\\n``, NBSP, em and ideographic spaces, zero-width space, soft hyphen, BEL and DEL, and
  2% of their words non-ASCII (some decomposed); a fifth of all rows start with whitespace;
* ``messy_all``: every row like that, every separator an odd one (the worst case);
* ``nonascii``: 20 words a row from Cyrillic, Greek, CJK and accented Latin words, all in NFC as
  most text is, but about one row in a hundred holds a decomposed ``e`` + U+0301;
* ``decomposed``: the same words all in NFD, so every row must be recomposed (the floor there is
  a window of every letter and its mark; Arrow's ``utf8_normalize`` alone costs 6-10x ``utf8_lower``).

**Normalise**: ``normalize(col, ["nfc", "strip_control", "collapse_whitespace", "strip"])`` against
``pyarrow.compute.utf8_lower`` (the issue's yardstick: at most 2x) and against the same chain
in plain Python over ``str`` objects (``unicodedata.normalize``, a ``str.translate`` deleting
controls, ``" ".join(s.split())``), which is timed once: it is slow.

**Exact dedupe**: the ``dedupe exact on text`` operator's whole ``apply`` (labels, survivor,
the filtered table and the removed rows with their reasons and survivors) on a table of the
``ascii`` text with 10% of the rows copies of others, against pandas' ``drop_duplicates`` (the
frame built untimed before every round) in both of its text dtypes: ``object`` (the issue's
baseline, and the faster: 0.16 s here) and pandas 3's default ``str`` (stored by pyarrow,
0.28-0.31 s), and polars' ``unique`` when polars
is installed (it is not a dependency: the line says so when it is missing); the operator runs
with 1 and with 2 workers (threads: pandas uses one core, polars all of them). With
``--dedupe-file corpus.jsonl`` (the corpus ``bench_pipeline`` writes, as the issue measured:
1M rows of about 670 bytes) the same race runs again on that text. There the kept rows' copy
(about 640 MB, memory-bound) costs as much as the labels; pandas and polars copy pointers or
string views instead, which pyarrow cannot filter (its 26.0 has no filter, take or string
kernels for ``string_view``).

**Schema cast**: ``dsc.engines.schema.validate`` of a table with an ``int8`` column declared
``int``, a ``float32`` column declared ``float`` and an ``int64`` 0/1 column declared ``bool``,
against a plain ``pyarrow`` ``cast`` of the same three columns (the floor).
"""
from __future__ import annotations

import argparse
import gc
import time
import unicodedata
from collections.abc import Callable

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from dsc.kernels.text import normalize

STEPS = ["nfc", "strip_control", "collapse_whitespace", "strip"]
WORDS_PER_ROW = 20
SEED = 22


# --------------------------------------------------------------------------- data


def _words(rng: np.random.Generator, count: int, alphabet: list[str], lo: int, hi: int) -> list[str]:
    lengths = rng.integers(lo, hi + 1, count)
    return ["".join(alphabet[i] for i in rng.integers(0, len(alphabet), k)) for k in lengths]


def _join(tokens: pa.Array, per_row: int, rows: int) -> pa.Array:
    """Rows of ``per_row`` consecutive tokens each, concatenated (one Arrow kernel)."""
    lists = pa.ListArray.from_arrays(pa.array(np.arange(0, rows * per_row + 1, per_row, dtype=np.int32)), tokens)
    return pc.binary_join(lists, "")


MESSY_SEPARATORS = [" ", "  ", "\t", "\r\n", " \u00a0", "\u3000", "\u200b ", " \x07", "\x7f ", "\n\n",
                    "\u2003", " \u00ad"]
KINDS = ("ascii", "messy", "messy_all", "nonascii", "decomposed")


def make_text(kind: str, rows: int, seed: int = SEED) -> pa.Array:
    """``rows`` seeded rows of ``kind`` text (see the module docstring)."""
    rng = np.random.default_rng(seed)
    n = rows * WORDS_PER_ROW
    if kind in ("nonascii", "decomposed"):
        alphabets = [[chr(c) for c in range(0x430, 0x450)], [chr(c) for c in range(0x3B1, 0x3CA)],
                     [chr(c) for c in range(0x4E00, 0x4E00 + 400)], list("éàöñûçøåíü")]
        vocab = [w for a in alphabets for w in _words(rng, 1250, a, 2, 7)]
        if kind == "decomposed":
            vocab = [unicodedata.normalize("NFD", w) for w in vocab]
    else:
        vocab = _words(rng, 5000, [chr(c) for c in range(ord("a"), ord("z") + 1)], 2, 9)
    words = pa.array(vocab, pa.string()).take(pa.array(rng.integers(0, len(vocab), n)))
    # separators by index: 0 is " ", then the ASCII oddities, one decomposed letter, the messy ones
    seps = [" ", "\n", "  ", "\n\n", " e\u0301 "] + MESSY_SEPARATORS
    sep = np.zeros(n, dtype=np.int64)
    if kind == "ascii":  # real instruction text: a newline or a double space now and then
        odd = rng.random(n) < 0.01
        sep[odd] = rng.integers(1, 4, int(odd.sum()))
    elif kind == "nonascii":  # NFC text, as most is; a row in a hundred has one decomposed letter
        sep[rng.random(n) < 0.0005] = 4
    elif kind in ("messy", "messy_all"):
        # messy: a third of the rows have some odd separators, controls and non-ASCII words;
        # messy_all: every separator is drawn from the odd ones
        share = 1.0 if kind == "messy_all" else 0.15
        row_messy = np.repeat(rng.random(rows) < (1.0 if kind == "messy_all" else 1 / 3), WORDS_PER_ROW)
        odd = row_messy & (rng.random(n) < share)
        sep[odd] = rng.integers(5, len(seps), int(odd.sum()))
        extra = pa.array(["é", "naïve", "Straße", "e\u0301te", "日本語", "ﬁne"], pa.string())
        swap = row_messy & (rng.random(n) < 0.02)
        words = pc.if_else(pa.array(swap), extra.take(pa.array(rng.integers(0, len(extra), n))), words)
    sep = pa.array(seps, pa.string()).take(pa.array(sep))
    # Interleave word, separator, word, ...; the last separator of a row is its trailing edge.
    tokens = pa.concat_arrays([words, sep]).take(pa.array(np.stack([np.arange(n), n + np.arange(n)], 1).ravel()))
    text = _join(tokens, 2 * WORDS_PER_ROW, rows)
    if kind in ("messy", "messy_all"):
        edge = np.where(rng.random(rows) < 0.2, " \t", "")
        return pc.binary_join_element_wise(pa.array(edge, pa.string()), text, "")
    return pc.utf8_trim_whitespace(text)


def dup_table(rows: int) -> pa.Table:
    """The ``ascii`` text with 10% of the rows replaced by copies of other rows, plus row ids."""
    from dsc.reserved import ID

    rng = np.random.default_rng(SEED + 1)
    text = make_text("ascii", rows)
    source = np.arange(rows)
    copies = rng.random(rows) < 0.1
    source[copies] = rng.integers(0, rows, int(copies.sum()))
    text = text.take(pa.array(source))
    ids = pc.cast(pa.array(np.arange(rows)), pa.string())
    return pa.table({"text": text, ID: ids})


# --------------------------------------------------------------------------- timing


def best(fn: Callable, repeat: int, setup: Callable | None = None) -> tuple[float, object]:
    seconds, result = float("inf"), None
    for _ in range(repeat):
        arg = setup() if setup else None
        gc.collect()
        t = time.perf_counter()
        result = fn(arg) if setup else fn()
        seconds = min(seconds, time.perf_counter() - t)
        del arg
    return seconds, result


def race(contenders: dict[str, tuple[Callable, Callable | None]], repeat: int) -> dict[str, float]:
    """Best seconds per contender, rounds interleaved so load changes hit all alike."""
    out = {name: float("inf") for name in contenders}
    for _ in range(repeat):
        for name, (fn, setup) in contenders.items():
            out[name] = min(out[name], best(fn, 1, setup)[0])
    return out


_CONTROLS = None


def python_chain(values: list) -> list:
    """The normalise chain in plain Python over ``str`` objects (the reference a user would write)."""
    global _CONTROLS
    if _CONTROLS is None:
        _CONTROLS = {c: None for c in range(0x110000)
                     if chr(c) not in "\t\n" and unicodedata.category(chr(c)) in ("Cc", "Cf")}
    out = []
    for s in values:
        if s is None:
            out.append(None)
            continue
        s = unicodedata.normalize("NFC", s)
        s = unicodedata.normalize("NFC", s.translate(_CONTROLS))
        out.append(" ".join(s.split()))
    return out


# --------------------------------------------------------------------------- benches


def bench_normalize(rows: int, repeat: int) -> None:
    print(f"normalise {', '.join(STEPS)}; {rows:,} rows; best of {repeat}")
    t = time.perf_counter()
    normalize(pa.array(["warm up: e\u0301\u200b"]), STEPS)  # tables and compiled kernels, once per process
    print(f"(once per process: code point tables read or built and compiled kernels loaded in "
          f"{time.perf_counter() - t:.2f} s, not in the figures below)")
    print(f"{'text':<10}{'MB':>7}{'dsc s':>9}{'utf8_lower s':>14}{'dsc/lower':>11}{'python s':>10}"
          f"{'python/dsc':>12}")
    for kind in KINDS:
        col = make_text(kind, rows)
        times = race({"dsc": (lambda: normalize(col, STEPS), None),
                      "lower": (lambda: pc.utf8_lower(col), None)}, repeat)
        py_s, py_out = best(python_chain, 1, col.to_pylist)  # str objects built untimed
        assert normalize(col, STEPS).to_pylist() == py_out, f"{kind}: dsc and plain Python disagree"
        del py_out
        print(f"{kind:<10}{col.nbytes / 1e6:>7.0f}{times['dsc']:>9.3f}{times['lower']:>14.3f}"
              f"{times['dsc'] / times['lower']:>10.2f}x{py_s:>10.2f}{py_s / times['dsc']:>11.1f}x", flush=True)


def text_file_table(path: str) -> pa.Table:
    """The ``text`` column (or the only column) of a parquet or JSON Lines file, with row ids."""
    import pyarrow.json as pj
    import pyarrow.parquet as pq

    from dsc.reserved import ID

    data = pq.read_table(path) if path.endswith(".parquet") else pj.read_json(path)
    text = data.column("text" if "text" in data.column_names else 0).combine_chunks()
    return pa.table({"text": text, ID: pc.cast(pa.array(np.arange(len(text))), pa.string())})


def bench_dedupe(rows: int, repeat: int, path: str | None = None) -> None:
    import pandas as pd

    from dsc.ops.dedupe_exact import DedupeExact
    from dsc.ops.runtime import RunContext

    table = dup_table(rows) if path is None else text_file_table(path)
    rows = table.num_rows
    params = {"columns": ["text"], "keep": "first", "ignoring": []}
    ctx = RunContext(base_dir=".")
    ctx2 = RunContext(base_dir=".", workers=2)  # --workers 2: threads (pandas has one; polars uses all cores)
    contenders = {
        "dsc labels": (lambda: DedupeExact.clusters(table, params, ctx), None),
        "dsc apply": (lambda: DedupeExact.apply(table, params, ctx), None),
        "dsc apply, 2 workers": (lambda: DedupeExact.apply(table, params, ctx2), None),
        "pandas": (lambda df: df.drop_duplicates(subset=["text"]),
                   lambda: pd.DataFrame({"text": pd.Series(table.column("text").to_pylist(), dtype=object)})),
        "pandas, str dtype": (lambda df: df.drop_duplicates(subset=["text"]),
                              lambda: pd.DataFrame({"text": table.column("text").to_pylist()})),
    }
    try:
        import polars as pl
    except ImportError:
        pl = None
    else:
        frame = pl.from_arrow(table)
        contenders["polars"] = (lambda: frame.unique(subset=["text"], keep="first", maintain_order=True), None)
    times = race(contenders, repeat)
    outcome = DedupeExact.apply(table, params, ctx)
    two = DedupeExact.apply(table, params, ctx2)
    assert two.table.equals(outcome.table) and two.removed.equals(outcome.removed), "1 and 2 workers differ"
    kept_pd = pd.DataFrame({"text": table.column("text").to_pylist()}).drop_duplicates(subset=["text"])
    assert outcome.table.num_rows == len(kept_pd), "dsc and pandas keep different numbers of rows"
    what = f"{rows:,} rows" if path is None else f"{path}: {rows:,} rows of {table.column('text').nbytes / rows:.0f} bytes"
    print(f"\nexact dedupe, {what} ({rows - outcome.table.num_rows:,} duplicates); best of {repeat}")
    for name, s in times.items():
        vs_polars = f"   polars/this {times['polars'] / s:>5.2f}x" if pl is not None else ""
        print(f"  {name:<21}{s:>8.3f} s   pandas (object)/this {times['pandas'] / s:>6.2f}x   "
              f"pandas (str)/this {times['pandas, str dtype'] / s:>6.2f}x{vs_polars}", flush=True)
    if pl is None:
        print("  polars      not installed in this environment (not a dependency): no polars figure")


def bench_schema(rows: int, repeat: int) -> None:
    from dsc.engines.schema import validate
    from dsc.plan import ColumnPlan
    from dsc.reserved import ID

    rng = np.random.default_rng(SEED + 2)
    table = pa.table({
        "small": pa.array(rng.integers(-128, 128, rows), pa.int8()),
        "ratio": pa.array(rng.random(rows), pa.float32()),
        "flag": pa.array(rng.integers(0, 2, rows), pa.int64()),
        ID: pc.cast(pa.array(np.arange(rows)), pa.string()),
    })
    columns = [ColumnPlan(name="small", type="int"), ColumnPlan(name="ratio", type="float"),
               ColumnPlan(name="flag", type="bool")]
    floor = lambda: [table.column("small").cast(pa.int64()), table.column("ratio").cast(pa.float64()),  # noqa: E731
                     table.column("flag").cast(pa.bool_())]
    times = race({"validate": (lambda: validate(table, columns), None), "cast": (floor, None)}, repeat)
    print(f"\nschema stage, {rows:,} rows: int8 as int, float32 as float, int64 0/1 as bool; best of {repeat}")
    print(f"  dsc validate {times['validate']:.3f} s; pyarrow cast {times['cast']:.3f} s; "
          f"ratio {times['validate'] / times['cast']:.1f}x the cast", flush=True)


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--quick", action="store_true", help="100k rows")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--only", choices=["normalize", "dedupe", "schema"], action="append")
    ap.add_argument("--dedupe-file", metavar="PATH",
                    help="also time exact dedupe on the text of this parquet or JSON Lines file (e.g. the "
                         "corpus.jsonl that bench_pipeline writes: real-length rows, as the issue measured)")
    args = ap.parse_args(argv)
    rows = 100_000 if args.quick else args.rows
    only = args.only or ["normalize", "dedupe", "schema"]
    if "normalize" in only:
        bench_normalize(rows, args.repeat)
    if "dedupe" in only:
        bench_dedupe(rows, args.repeat)
        if args.dedupe_file:
            bench_dedupe(rows, args.repeat, args.dedupe_file)
    if "schema" in only:
        bench_schema(rows, args.repeat)


if __name__ == "__main__":
    main()
