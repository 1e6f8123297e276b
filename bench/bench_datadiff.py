"""`dsc diff --data` benchmark: a policy change reviewed on 100k rows, against one plain run.

The corpus is examples/data/code_alpaca_2k.json repeated to `--rows` rows; copy k ≥ 1 suffixes
every word of every field with `~k`, so copies are neither exact nor near duplicates of one
another (each copy keeps the real near duplicates of the original). The policy is
specs/code_alpaca.dspec (normalise, two filters, exact and near dedupe, a 90/10 split, three
gates including a leakage check) without its finetune block.

Timed, in this process, each from a cold cache (a fresh output folder or a fresh diff):

- **plain run**: `dsc run`'s engine (`run_plan`) into a new folder — the baseline;
- **changed late rule**: `dedupe near` threshold 0.8 → 0.7 (the last clean rule);
- **changed split**: 0.9 / 0.1 → 0.8 / 0.2;
- **changed early rule**: `normalize` gains `collapse_whitespace` (the first rule: everything reruns).

Each diff runs both plans (`dsc.datadiff.data_diff`: the shared stage cache runs the unchanged
prefix once, the data file is read once) and compares them row by row. Targets (issue 19): a
changed split or last rule ≤ 10 s; any change ≤ 1.5 × one plain run. The fastest of `--repeat`
is kept, as other work on the machine slows single runs.

    python -m bench.bench_datadiff [--rows 100000] [--quick] [--repeat 1]
"""
from __future__ import annotations

import argparse
import json
import re
import shutil
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
_WORD = re.compile(r"(\S+)")

CHANGES = {
    "changed late rule (dedupe near 0.8 → 0.7)": lambda t: t.replace("jaccard >= 0.8 ngram", "jaccard >= 0.7 ngram"),
    "changed split (0.9/0.1 → 0.8/0.2)": lambda t: t.replace("train 0.9", "train 0.8")
    .replace("validation 0.1", "validation 0.2"),
    "changed early rule (normalize + collapse_whitespace)": lambda t: t.replace(
        "nfc, strip_control, strip", "nfc, strip_control, collapse_whitespace, strip"),
}
TARGET_SECONDS = 10.0  # a changed split or last rule
TARGET_RATIO = 1.5  # any change, × one plain run


def write_corpus(rows: int, workdir: Path) -> Path:
    """`rows` rows from code_alpaca_2k.json, copies suffixed word by word; the spec beside them."""
    originals = json.loads((ROOT / "examples" / "data" / "code_alpaca_2k.json").read_text(encoding="utf-8"))
    out, copy = [], 0
    while len(out) < rows:
        for row in originals[: rows - len(out)]:
            out.append(row if copy == 0 else
                       {k: _WORD.sub(lambda m, c=copy: f"{m.group(1)}~{c}", v) if isinstance(v, str) else v
                        for k, v in row.items()})
        copy += 1
    (workdir / "corpus.json").write_text(json.dumps(out), encoding="utf-8")
    spec = (ROOT / "specs" / "code_alpaca.dspec").read_text(encoding="utf-8")
    spec = re.sub(r"(?ms)^# The estimates.*", "", spec)  # the finetune block and its comment
    spec = spec.replace("../examples/data/code_alpaca_2k.json", "corpus.json")
    (workdir / "dsc.toml").write_text("")
    path = workdir / "old.dspec"
    path.write_text(spec, encoding="utf-8")
    return path


def _side(path: Path):
    from dsc.api import compile_file
    from dsc.datadiff import Side

    compiled = compile_file(path)
    if not compiled.ok:
        raise SystemExit(f"{path} does not compile: {compiled.diagnostics}")
    return Side(path.name, compiled.plan, path.parent)


def plain_run(spec: Path, workdir: Path) -> float:
    from dsc.engines.local import run_plan

    side = _side(spec)
    out = workdir / "plain-out"
    shutil.rmtree(out, ignore_errors=True)
    start = time.perf_counter()
    run_plan(side.plan, side.base_dir, out)
    return time.perf_counter() - start


def diff_run(old: Path, new: Path) -> tuple[float, dict]:
    from dsc.datadiff import data_diff

    a, b = _side(old), _side(new)
    start = time.perf_counter()
    report = data_diff(a, b)  # a fresh temporary cache folder: nothing of an earlier diff is reused
    return time.perf_counter() - start, report["summary"]


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--quick", action="store_true", help="20k rows")
    parser.add_argument("--repeat", type=int, default=1, help="runs per measurement; the fastest is reported")
    args = parser.parse_args(argv)
    rows = 20_000 if args.quick else args.rows
    with tempfile.TemporaryDirectory() as tmp:
        workdir = Path(tmp)
        old = write_corpus(rows, workdir)
        plain_run(old, workdir)  # warm-up: imports and first-touch costs stay out of the figures
        baseline = min(plain_run(old, workdir) for _ in range(args.repeat))
        print(f"{rows:>9} rows  plain run {baseline:6.2f} s (baseline)", flush=True)
        results = {"rows": rows, "plain_run_s": round(baseline, 2), "changes": []}
        for name, change in CHANGES.items():
            new = workdir / "new.dspec"
            new.write_text(change(old.read_text(encoding="utf-8")), encoding="utf-8")
            timings = [diff_run(old, new) for _ in range(args.repeat)]
            seconds, summary = min(timings, key=lambda t: t[0])
            ratio = seconds / baseline
            bound = f"≤ {TARGET_SECONDS:.0f} s and " if "early" not in name else ""
            ok = ratio <= TARGET_RATIO and ("early" in name or seconds <= TARGET_SECONDS)
            print(f"  {name:<52} {seconds:6.2f} s  {ratio:4.2f} × plain run  (target {bound}≤ {TARGET_RATIO} ×: "
                  f"{'met' if ok else 'MISSED'})  rows changed {summary['rows_changed']:,} "
                  f"(moved {summary['moved_split']:,}, dropped {summary['newly_dropped']:,}, values "
                  f"{summary['values_changed']:,})", flush=True)
            results["changes"].append({"change": name, "seconds": round(seconds, 2), "ratio": round(ratio, 3),
                                       "target_met": ok, "rows_changed": summary["rows_changed"]})
    out = Path("bench/results")
    out.mkdir(parents=True, exist_ok=True)
    (out / "datadiff.json").write_text(json.dumps(results, indent=2, ensure_ascii=False))


if __name__ == "__main__":
    main()
