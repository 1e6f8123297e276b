"""Benchmark `redact`, `normalize …: fix_text`, `sample` and `cap` against `dedupe exact`, in one process.

    python -m bench.bench_redact [--rows 100000] [--repeat 3] [--quick]

The rows are real text: every string value of the JSON and JSON Lines files of `examples/data`
(instructions, questions, code, answers), repeated in order up to `--rows`, each copy numbered so
the rows stay distinct. Seeded, a share of the rows is then made to need the work:

- 2% get personal data planted in the middle: an e-mail address, a US phone number, an IPv4 and
  an IPv6 address, a Luhn-valid card number and a valid IBAN (one of each kind, in turn);
- 2% are made into mojibake (UTF-8 read as Windows-1252, as in the wild), 1% get HTML entities.

Contenders, each the operator's own `apply` on one worker, best of `--repeat`:

- `redact` with all five kinds (phones read in the US), and with `email, ip` only (no
  libphonenumber: the cost of the regex kinds alone);
- `normalize text: fix_text` (ftfy on the rows that can need it);
- `sample rows N/10`, `sample fraction 0.1` and `cap per label 1000`;
- the baseline, `dedupe exact on text`.

Each line shows seconds, rows/s and the ratio of its time to `dedupe exact`'s (how many dedupe
passes it costs). The planted rows are checked to be found (every planted kind redacted, every
mojibake row repaired). Results also go to `bench/results/redact.json`.
"""
from __future__ import annotations

import argparse
import json
import random
from pathlib import Path

import pyarrow as pa

from bench.timing import best
from dsc.ops import OPERATORS
from dsc.ops.runtime import RunContext
from dsc.reserved import ID, SRC

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "examples" / "data"
RESULTS = ROOT / "bench" / "results"

PLANTED = ["write to jane.doe+{i}@example.com today", "call (650) 253-{i:04d} now", "from 10.{a}.{b}.7 it came",
           "host 2001:db8::{i:x}:1 was up", "card 4111 1111 1111 1111 on file", "pay to DE89 3704 0044 0532 0130 00"]


def texts_of(value, out: list[str]) -> None:
    if isinstance(value, str):
        if value.strip():
            out.append(value)
    elif isinstance(value, dict):
        for v in value.values():
            texts_of(v, out)
    elif isinstance(value, list):
        for v in value:
            texts_of(v, out)


def real_texts() -> list[str]:
    """Every string value of the example data files, in file order."""
    out: list[str] = []
    for path in sorted(DATA.iterdir()):
        if path.suffix == ".jsonl":
            for line in path.open(encoding="utf-8"):
                if line.strip():
                    texts_of(json.loads(line), out)
        elif path.suffix == ".json":
            texts_of(json.loads(path.read_text(encoding="utf-8")), out)
    return out


def make_table(rows: int, seed: int = 1) -> tuple[pa.Table, dict[str, list[int]]]:
    """`rows` rows of real text with planted personal data, mojibake and entities (module docstring)."""
    base = real_texts()
    rng = random.Random(seed)
    texts = [f"{base[i % len(base)]} #{i // len(base)}" if i >= len(base) else base[i] for i in range(rows)]
    planted: dict[str, list[int]] = {"pii": [], "mojibake": []}
    for i in range(rows):
        roll = rng.random()
        if roll < 0.02:
            kind = PLANTED[len(planted["pii"]) % len(PLANTED)].format(i=i % 10000, a=i % 256, b=(i // 256) % 256)
            words = texts[i].split(" ")
            at = len(words) // 2
            texts[i] = " ".join(words[:at] + [kind] + words[at:])
            planted["pii"].append(i)
        elif roll < 0.04:
            broken = (texts[i] + " — café naïve").encode("utf-8").decode("cp1252", errors="replace")
            texts[i] = broken
            planted["mojibake"].append(i)
        elif roll < 0.05:
            texts[i] = texts[i] + " Q&amp;A &eacute;t&eacute;"
    labels = [f"l{rng.randrange(40)}" for _ in range(rows)]
    table = pa.table({"text": texts, "label": labels, ID: [f"row{i}" for i in range(rows)],
                      SRC: [f"data.jsonl:{i + 1}" for i in range(rows)]})
    return table, planted



def main(argv=None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--quick", action="store_true", help="10k rows, one repeat")
    args = parser.parse_args(argv)
    rows, repeat = (10_000, 1) if args.quick else (args.rows, args.repeat)
    table, planted = make_table(rows)
    ctx = RunContext(base_dir=ROOT, seed=1)
    contenders = {
        "dedupe exact (baseline)": ("dedupe_exact", {"columns": ["text"]}),
        "redact all five kinds": ("redact", {"columns": ["text"], "kinds": ["email", "iban", "credit_card", "ip",
                                                                           "phone"], "region": "US"}),
        "redact email, ip": ("redact", {"columns": ["text"], "kinds": ["email", "ip"], "region": "US"}),
        "normalize: fix_text": ("normalize", {"columns": ["text"], "steps": ["fix_text"]}),
        "sample rows N/10": ("sample", {"mode": "rows", "rows": rows // 10}),
        "sample fraction 0.1": ("sample", {"mode": "fraction", "fraction": "0.1"}),
        "cap per label 1000": ("cap", {"columns": ["label"], "limit": 1000}),
    }
    results, outcomes = {}, {}
    for name, (op, raw) in contenders.items():
        params = OPERATORS[op].Params(**raw).model_dump(mode="python")
        seconds, outcomes[name] = best(lambda o=op, p=params: OPERATORS[o].apply(table, p, ctx), repeat)
        results[name] = seconds
    _verify(table, planted, outcomes)
    baseline = results["dedupe exact (baseline)"]
    print(f"{rows} rows of examples/data text, best of {repeat}; ratio = seconds / dedupe exact's")
    print(f"{'':28} {'seconds':>9} {'rows/s':>12} {'ratio':>7}")
    summary = {"rows": rows, "repeat": repeat, "contenders": {}}
    for name, seconds in results.items():
        print(f"{name:28} {seconds:9.3f} {rows / seconds:12,.0f} {seconds / baseline:7.2f}")
        summary["contenders"][name] = {"seconds": round(seconds, 4), "rows_per_s": round(rows / seconds),
                                       "ratio_to_dedupe_exact": round(seconds / baseline, 3)}
    flags = outcomes["redact all five kinds"].flags
    summary["redacted_rows"] = len(flags)
    print(f"redact flagged {len(flags)} rows ({len(planted['pii'])} planted); "
          f"fix_text repaired the {len(planted['mojibake'])} mojibake rows")
    if not args.quick:
        RESULTS.mkdir(exist_ok=True)
        (RESULTS / "redact.json").write_text(json.dumps(summary, indent=2) + "\n")
    return summary


def _verify(table: pa.Table, planted: dict[str, list[int]], outcomes: dict) -> None:
    """Every planted kind was redacted and every mojibake row repaired: a fast wrong answer is no answer."""
    redacted = outcomes["redact all five kinds"].table.column("text")
    for i in planted["pii"]:
        text = redacted[i].as_py()
        assert "<" in text and not any(s in text for s in ("@example.com", "4111 1111", "DE89 3704", "2001:db8")), text
    fixed = outcomes["normalize: fix_text"].table.column("text")
    for i in planted["mojibake"]:
        assert "— café naïve" in fixed[i].as_py(), fixed[i].as_py()[-60:]


if __name__ == "__main__":
    main()
