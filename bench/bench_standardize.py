"""Benchmark `standardize`: rows/s per kind on a messy 100k-row column, against reading each row.

    python -m bench.bench_standardize [--rows 100000] [--distinct 10000] [--quick]

For each kind a seeded generator writes values the way mixed sources do (`10.1.2019`,
`10. Januar 2019`, `March 3, 2020`; `1.099,98 €`, `$5`, `EUR 12.50`; `2,5 kg`, `1 lb`,
`2 1/2 lb`; `ja`, `No`; and some bad or ambiguous ones). The column has `--rows` rows drawn
from `--distinct` distinct values, so most values repeat, as real columns do.

- **dsc**: `Standardize.apply` on the Arrow table — dictionary-encodes the column, reads each
  distinct value once, takes the results back per row, writes the output columns.
- **per row**: the same reader called once per row with no dictionary (on a 5,000-row sample,
  scaled), the cost a row-by-row pipeline pays. The ratio is dsc ÷ per row.
- **distinct/s**: distinct values read per second: the worst case, a column whose values are
  all different, runs at about this many rows/s.

Results also go to ``bench/results/standardize.json``.
"""
from __future__ import annotations

import argparse
import json
import random
import time
from decimal import Decimal
from pathlib import Path

import pyarrow as pa

from dsc.locale import standardize
from dsc.ops.runtime import RunContext
from dsc.ops.standardize import Standardize

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"

RULES = {
    "date": {"locales": ["de_DE", "en_US"], "order": "DMY"},
    "datetime": {"locales": ["en_US"], "order": "MDY"},
    "number": {"locales": ["de_DE"]},
    "money": {"locales": ["de_DE"], "target": "EUR", "rates": {"USD": Decimal("0.92"), "GBP": Decimal("1.17")}},
    "quantity": {"locales": ["de_DE"], "target": "kg"},
    "bool": {"locales": ["de_DE", "en_US"]},
}
MONTHS_DE = ["Januar", "Februar", "März", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober",
             "November", "Dezember"]
MONTHS_EN = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
             "November", "December"]


def _date(rng: random.Random) -> str:
    y, m, d = rng.randint(1950, 2030), rng.randint(1, 12), rng.randint(1, 28)
    form = rng.random()
    if form < 0.45:
        return f"{d}.{m}.{y}"
    if form < 0.7:
        return f"{y}-{m:02d}-{d:02d}"
    if form < 0.82:
        return f"{d}. {MONTHS_DE[m - 1]} {y}"
    if form < 0.94:
        return f"{MONTHS_EN[m - 1]} {d}, {y}"
    return rng.choice(["", "gestern", "31.02.2019", "10.1.19", "n/a"])


def _datetime(rng: random.Random) -> str:
    day = f"{rng.randint(1, 12)}/{rng.randint(1, 28)}/{rng.randint(1950, 2030)}"
    clock = f"{rng.randint(1, 12)}:{rng.randint(0, 59):02d} {rng.choice(['am', 'pm'])}"
    if rng.random() < 0.8:
        return f"{day} {clock}"
    return f"{MONTHS_EN[rng.randint(0, 11)]} {rng.randint(1, 28)}, {rng.randint(1950, 2030)} {clock}"


def _amount(rng: random.Random) -> Decimal:
    return Decimal(rng.randint(0, 10**7)).scaleb(-2)


def _number(rng: random.Random) -> str:
    value = _amount(rng)
    text = f"{value:,.2f}".replace(",", "_").replace(".", ",").replace("_", ".")
    return text if rng.random() < 0.95 else rng.choice(["NaN", "1,099.5", "", "--"])


def _money(rng: random.Random) -> str:
    german = _number(rng)
    form = rng.random()
    if form < 0.6:
        return f"{german} €"
    if form < 0.8:
        return f"{german} $"
    if form < 0.95:
        return f"EUR {german}"
    return rng.choice(["kr 20", "€", "12,50", "£5"])


def _quantity(rng: random.Random) -> str:
    value = f"{rng.randint(0, 5000) / 10:.1f}".replace(".", ",")
    form = rng.random()
    if form < 0.6:
        return f"{value} kg"
    if form < 0.85:
        return f"{value} lb"
    if form < 0.95:
        return f"{rng.randint(1, 20)} {rng.randint(1, 3)}/4 lb"
    return rng.choice(["5 kilos", "3 m", "kg", "12"])


def _bool(rng: random.Random) -> str:
    return rng.choice(["ja", "nein", "Ja", "NEIN", "yes", "no", "true", "false", "1", "0", "vielleicht"])


MAKERS = {"date": _date, "datetime": _datetime, "number": _number, "money": _money, "quantity": _quantity,
          "bool": _bool}


def column(kind: str, rows: int, distinct: int, seed: int = 0) -> list[str]:
    """`rows` values drawn (seeded) from a pool of up to `distinct` generated values."""
    rng = random.Random(f"{seed}:{kind}")
    pool = list(dict.fromkeys(MAKERS[kind](rng) for _ in range(distinct)))
    return [pool[rng.randrange(len(pool))] for _ in range(rows)]


def bench_kind(kind: str, rows: int, distinct: int, sample: int = 5000) -> dict:
    values = column(kind, rows, distinct)
    table = pa.table({"_dsc_id": [f"r{i}" for i in range(rows)], "v": values})
    params = {"column": "v", "kind": kind, "on_error": "flag", **RULES[kind]}
    options = dict(RULES[kind])
    ctx = RunContext(base_dir=ROOT)
    # one-time costs (imports, locale data, CLDR's symbol index) are paid on another sample
    warm = column(kind, 1000, distinct, seed=2)
    Standardize.apply(pa.table({"_dsc_id": [str(i) for i in range(len(warm))], "v": warm}), params, ctx)
    start = time.perf_counter()
    outcome = Standardize.apply(table, params, ctx)
    seconds = time.perf_counter() - start
    unique = len(set(values))
    # per row: a fresh pool of values so that no reader cache from the dsc run helps it
    fresh = column(kind, sample, distinct, seed=1)
    start = time.perf_counter()
    for value in fresh:
        standardize(kind, value, **options)
    per_row = sample / (time.perf_counter() - start)
    return {"kind": kind, "rows": rows, "distinct": unique, "seconds": round(seconds, 3),
            "rows_per_s": round(rows / seconds), "distinct_per_s": round(unique / seconds),
            "per_row_rows_per_s": round(per_row), "ratio": round(rows / seconds / per_row, 1),
            "flagged": len(outcome.flags)}


def main(argv: list[str] | None = None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--distinct", type=int, default=10_000)
    ap.add_argument("--quick", action="store_true", help="20,000 rows from 2,000 distinct values")
    args = ap.parse_args(argv)
    rows, distinct = (20_000, 2_000) if args.quick else (args.rows, args.distinct)
    print(f"standardize: {rows} rows per kind, from up to {distinct} distinct values")
    print(f"{'kind':<9} {'rows/s':>10} {'distinct/s':>11} {'per row':>10} {'ratio':>6} {'flagged':>8}")
    results = []
    started = time.perf_counter()
    for kind in MAKERS:
        r = bench_kind(kind, rows, distinct)
        results.append(r)
        print(f"{kind:<9} {r['rows_per_s']:>10,} {r['distinct_per_s']:>11,} {r['per_row_rows_per_s']:>10,} "
              f"{r['ratio']:>5}x {r['flagged']:>8,}", flush=True)
    RESULTS.mkdir(parents=True, exist_ok=True)
    (RESULTS / "standardize.json").write_text(json.dumps({"rows": rows, "distinct": distinct, "kinds": results},
                                                         indent=2))
    print(f"wrote {RESULTS / 'standardize.json'} ({time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
