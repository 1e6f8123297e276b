"""`make bench`: every benchmark in one command, each printing ratios against its baseline.

    python -m bench.run [--quick]
"""
import sys

from bench import (bench_augment, bench_datadiff, bench_decontaminate, bench_exact, bench_fuzzy, bench_jsonout, bench_near,
                   bench_near_audit, bench_near_memory, bench_pipeline, bench_quality, bench_redact, bench_rowwise,
                   bench_standardize)

if __name__ == "__main__":
    quick = ["--quick"] if "--quick" in sys.argv else []
    for name, module in (("exact dedupe and normalisation (vs pandas, pyarrow)", bench_exact),
                         ("near-duplicates (vs datasketch)", bench_near),
                         ("near-duplicate removals audited against their survivors (star vs components)",
                          bench_near_audit),
                         ("near-duplicate peak memory (toolformer repeated, template-heavy)", bench_near_memory),
                         ("row-wise stages: normalise, exact dedupe, schema cast (vs pyarrow, pandas, Python)",
                          bench_rowwise),
                         ("decontaminate (vs a plain-Python n-gram set)", bench_decontaminate),
                         ("quality measures and lang() (vs plain Python, dedupe exact)", bench_quality),
                         ("redact, fix_text, sample, cap (vs dedupe exact)", bench_redact),
                         ("fuzzy dedupe cold and warm (vs dedupe's own training and blocking)", bench_fuzzy),
                         ("row ids and rejects.jsonl as JSON (vs the per-row Python writers)", bench_jsonout),
                         ("whole run (dsc run, peak RSS)", bench_pipeline),
                         ("dsc diff --data (a changed late rule, split, early rule vs one plain run)", bench_datadiff),
                         ("standardize per kind (vs reading each row)", bench_standardize),
                         ("augmentation (tiny local model; loopback endpoint at concurrency 1 and 8)", bench_augment)):
        print(f"\n=== {name}", flush=True)
        module.main(quick)
