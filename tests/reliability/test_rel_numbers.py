"""Numbers in untrusted specs: every number literal of the grammar is bounded, cheaply.

- Literals beyond the limits of `dsc.syntax.numbers` (`1e999999999`, `1e-400`, thousands of digits,
  exponents of many digits) are refused from their text as DSC209 at their line and column,
  without being converted; a diagnostic never echoes more than 40 characters of one.
- Every other number is checked against its meaning's range (`dsc.checks.ranges.NUMBERS`), so no
  value `dsc check` accepts can crash or exhaust a run: every position in the grammar where a
  number may stand is covered here (`test_every_number_of_the_grammar_is_covered`) and, unless it
  is a data value (a label, a value compared with a column), refuses 1e27 and -1e27.
- For any literal at any of those positions, `check`, `compile`, `explain` and `fmt` give a result
  or DSC diagnostics within a small time and memory bound — never an exception (hypothesis;
  `DSC_FUZZ_EXAMPLES` scales the examples, as in test_rel_fuzz.py).
"""
from __future__ import annotations

import re
import resource
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path
from string import Template

import pytest
from hypothesis import given
from hypothesis import strategies as st

from dsc.api import compile_text
from dsc.diagnostics import CODES, EXCERPT_CHARS, clipped, render_all
from dsc.explain import explain
from dsc.fmt import format_spec
from dsc.plan import canonical_json
from dsc.syntax.source import SourceFile
from rel_support import fuzz_settings

REPO = Path(__file__).resolve().parents[2]
# Twice the readers' count: each example is a whole spec through check, compile, explain and fmt.
NUMBERS_FUZZ = fuzz_settings(2)
SECONDS, MEGABYTES, OUTPUT_CHARS = 5.0, 64, 20_000  # per spec: check, compile, explain, fmt and rendering

# A spec with a number at every position the grammar has one; it checks without errors as it is.
SPEC = Template("""\
dataset d version $version {
  seed $seed
  locale en_US
}

source s {
  files "data.jsonl"
}

schema {
  prompt   : text required
  answer   : text
  category : label {a, b, $label}
  opened   : date
  amount   : money
  n        : int
}

clean {
  drop where words(prompt) < $words
  drop where chars(prompt) > $chars
  drop where lang(prompt) in {en} confidence >= $confidence
  drop where n in {1, $value}
  standardize opened as date years $first..$last
  standardize amount as money EUR rates {USD $rate}
  dedupe near on prompt jaccard >= $jaccard ngram $ngram words permutations $permutations bands $bands
  dedupe fuzzy on answer threshold $threshold pairs "pairs.json"
  decontaminate prompt against "evals.jsonl" ngram $decontaminate_ngram
  sample rows $sample_rows
  cap per category $cap
}

annotate category {
  from "annotations.jsonl" format long
  annotators >= $annotators
  experts >= $experts role expert
  agreement krippendorff nominal >= $agreement
  item_agreement >= $item_agreement
  below_threshold drop
}

split by prompt seed $split_seed {
  train $fraction
  validation 0.1
}

augment train {
  paraphrase prompt ratio $ratio using "models/m" min_similarity $min_similarity max_similarity $max_similarity min_length_ratio $min_length_ratio max_length_ratio $max_length_ratio
  backtranslate answer via de ratio 0.1 endpoint "http://localhost:8000/v1" model "m" concurrency $concurrency
}

export jsonl "{split}.jsonl"

gate {
  dropped <= $dropped
  kept >= $kept
  drop_rate(drop) <= $drop_rate
  rows(train) >= $rows
  agreement(category) >= $gate_agreement
  leakage train, validation jaccard >= $leakage
}

finetune lora {
  base "models/m"
  epochs $epochs
  lr $lr
  batch_size $batch_size
  max_length $max_length
  gpu_tflops $gpu_tflops
  utilization $utilization
  gpu_power_w $gpu_power_w
  carbon_kg_per_kwh $carbon_kg_per_kwh
  gpu_count $gpu_count
  pue $pue
  gpu_memory_gb $gpu_memory_gb
  r $r
  alpha $alpha
  dropout $dropout
}

finetune prompt_tuning {
  base "models/m"
  virtual_tokens $virtual_tokens
}
""")

# Each position: its value in SPEC, and the grammar rule (or alias) whose `number` it fills.
POSITIONS = {
    "version": ("1", "dataset_block"), "seed": ("7", "seed_stmt"),
    "label": ("3", "_value"), "words": ("3", "measure_pred"), "chars": ("5000", "measure_pred"),
    "confidence": ("0.5", "lang_pred"),
    "value": ("4", "_value"), "first": ("1950", "std_years"), "last": ("2049", "std_years"),
    "rate": ("0.92", "rate"), "jaccard": ("0.85", "opt_jaccard"), "ngram": ("5", "opt_ngram"),
    "permutations": ("128", "opt_permutations"), "bands": ("16", "opt_bands"), "threshold": ("0.5", "opt_threshold"),
    "decontaminate_ngram": ("13", "decontaminate_stmt"), "sample_rows": ("1000", "sample_stmt"),
    "cap": ("50", "cap_stmt"),
    "annotators": ("3", "ann_annotators"), "experts": ("1", "ann_experts"), "agreement": ("0.67", "ann_agreement"),
    "item_agreement": ("0.5", "ann_item_agreement"), "split_seed": ("11", "split_seed"),
    "fraction": ("0.9", "split_stmt"), "ratio": ("25%", "aug_ratio"), "concurrency": ("8", "aug_concurrency"),
    "min_similarity": ("0.3", "aug_min_similarity"), "max_similarity": ("0.9", "aug_max_similarity"),
    "min_length_ratio": ("0.5", "aug_min_length_ratio"), "max_length_ratio": ("2", "aug_max_length_ratio"),
    "dropped": ("20%", "metric_gate"), "kept": ("0.5", "metric_gate"), "drop_rate": ("10%", "metric_gate"),
    "rows": ("100", "metric_gate"), "gate_agreement": ("0.6", "metric_gate"), "leakage": ("0.8", "leakage_gate"),
    **{name: (value, "_value") for name, value in (
        ("epochs", "3"), ("lr", "2e-4"), ("batch_size", "8"), ("max_length", "1024"), ("gpu_tflops", "312"),
        ("utilization", "40%"), ("gpu_power_w", "400"), ("carbon_kg_per_kwh", "0.4"), ("gpu_count", "2"),
        ("pue", "1.2"), ("gpu_memory_gb", "80"), ("r", "16"), ("alpha", "32"), ("dropout", "0.05"),
        ("virtual_tokens", "20"))},
}
# Data values: any number within the literal limits is a valid label or value to compare with.
DATA = ("label", "value")


DEFAULTS = {name: value for name, (value, _) in POSITIONS.items()}


def spec_with(position: str, literal: str) -> str:
    return SPEC.substitute(DEFAULTS | {position: literal})


def where(position: str, values: dict[str, str] = DEFAULTS) -> tuple[int, int]:
    """The line and column of a position's number, in SPEC written with `values`."""
    text = SPEC.substitute(values | {position: "@"})
    return SourceFile("n.dspec", text).position(text.index("@"))


def front_end(text: str) -> tuple[list, str]:
    """What check, compile, explain and fmt do with a spec: (diagnostics, all their text)."""
    result = compile_text(SourceFile("n.dspec", text))
    shown = render_all(result.diagnostics, result.source)
    if result.spec is not None:
        shown += format_spec(result.spec)
    if result.plan is not None:
        shown += canonical_json(result.plan) + explain(result.plan)
    return result.diagnostics, shown


def bounded(text: str) -> tuple[list, str]:
    """`front_end` within SECONDS and MEGABYTES (allocated by Python), printing at most OUTPUT_CHARS."""
    tracemalloc.start()
    start = time.perf_counter()
    try:
        diags, shown = front_end(text)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    elapsed = time.perf_counter() - start
    assert elapsed < SECONDS and peak < MEGABYTES * 2**20, (elapsed, peak)
    assert len(shown) < OUTPUT_CHARS + len(text)
    assert {d.code for d in diags} <= set(CODES)
    return diags, shown


def errors(diags) -> list[tuple[str, int, int]]:
    return [(d.code, d.span.line, d.span.column) for d in diags if d.is_error]


def test_the_spec_checks_clean_with_its_own_numbers():
    diags, _ = bounded(spec_with("seed", "7"))
    assert errors(diags) == []


def test_every_number_of_the_grammar_is_covered():
    """Every `number` in dspec.lark is a position above, so a new numeric option needs a range."""
    grammar = (REPO / "dsc" / "grammar" / "dspec.lark").read_text(encoding="utf-8")
    found, rule = set(), None
    for line in grammar.splitlines():
        code = line.split("//")[0]
        head = re.match(r"[?!]?(\w+)\s*:", code)
        rule = head.group(1) if head else rule
        alias = re.search(r"->\s*(\w+)", code)
        if re.search(r"\bnumber\b", code) and rule != "number":
            found.add(alias.group(1) if alias else rule)
    assert found == {grammar_rule for _, grammar_rule in POSITIONS.values()}


@pytest.mark.parametrize("literal", ["1e27", "-1e27"])
def test_every_number_is_bounded_both_ways(literal):
    """1e27 and -1e27 are within the literal limits; at every position but a data value, the
    setting's range refuses them (all positions at once: every check reports every error)."""
    values = {name: literal for name in POSITIONS}
    diags, _ = bounded(SPEC.substitute(values))
    refused = {(d.span.line, d.span.column) for d in diags if d.is_error and d.code.startswith("DSC2")}
    assert [name for name in POSITIONS if name not in DATA and where(name, values) not in refused] == []
    assert [name for name in DATA if where(name, values) in refused] == []


@pytest.mark.parametrize("literal", ["1e28", "-1e28", "1e-29", "1" * 29, "0." + "0" * 28 + "1", "1e" + "9" * 40,
                                     "7" * 100_000, "0e-999999999", "1e999999999"])
def test_a_literal_beyond_the_limits_is_refused_where_it_is(literal):
    diags, shown = bounded(spec_with("chars", literal))
    assert errors(diags) == [("DSC209", *where("chars"))]
    assert diags[0].message.startswith(f"the number {clipped(literal)} has more than 28 ")
    assert max(len(row) for row in shown.splitlines()) < 2 * EXCERPT_CHARS  # the excerpt too is cut


_DIGITS = st.text("0123456789", min_size=1, max_size=40)
_EXPONENTS = st.one_of(st.integers(-60, 60).map(str), st.sampled_from(["999999", "999999999", "-999999999",
                                                                       "+0000000000000000000000001"]),
                       st.text("0123456789", min_size=10, max_size=40), st.text("0123456789", min_size=1).map(
                           lambda d: "-" + d))
_LITERALS = st.one_of(
    st.builds(lambda sign, whole, places, exponent, percent: sign + whole + places + exponent + percent,
              st.sampled_from(["", "-"]), _DIGITS, st.one_of(st.just(""), _DIGITS.map(lambda d: "." + d)),
              st.one_of(st.just(""), _EXPONENTS.map(lambda e: "e" + e)), st.sampled_from(["", "%"])),
    st.sampled_from(["0", "-0", "1e27", "-1e27", "1e28", "1e-28", "1e-29", "0.0000000000000000000000000001",
                     "9" * 28, "9" * 29, "9" * 5000, "1e999999", "1e-999999999", "1e-400", "1e20", "2.5",
                     "18446744073709551616", "9223372036854775807", "9223372036854775808", "1000000000",
                     "1000000001", "64", "65", "100%", "0.5%", "1e-9%"]),
)


@NUMBERS_FUZZ
@given(position=st.sampled_from(sorted(POSITIONS)), literal=_LITERALS)
def test_any_literal_anywhere_gives_a_result_or_diagnostics(position, literal):
    bounded(spec_with(position, literal))


# The red-team probes: each a number at one position.
PROBES = {"ngram": ("ngram", "1000000000"), "words_huge": ("words", "1e999999"), "words_1e20": ("words", "1e20"),
          "chars_huge": ("chars", "1e999999999"), "gate_tiny": ("kept", "1e-999999999"),
          "jaccard_tiny": ("jaccard", "1e-400"), "seed_huge": ("seed", "1e999999999")}


def test_the_red_team_numbers_stop_dsc_check_cheaply(tmp_path):
    """One real `dsc check` of the seven probes under a 2 GiB address-space limit: each is a DSC209
    at its number, and the command exits 2 within seconds, printing a few kilobytes."""
    expected = []
    for name, (position, literal) in PROBES.items():
        (tmp_path / f"{name}.dspec").write_text(spec_with(position, literal), encoding="utf-8")
        line, column = where(position)
        expected.append(f"{name}.dspec:{line}:{column}: error[DSC209]: ")

    def limit() -> None:
        resource.setrlimit(resource.RLIMIT_AS, (2**31, 2**31))

    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "dsc", "check", *(f"{name}.dspec" for name in PROBES)],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120, preexec_fn=limit)
    elapsed = time.perf_counter() - start
    assert done.returncode == 2 and "internal error" not in done.stderr, done.stderr[-2000:]
    assert [e for e in expected if e not in done.stderr] == []
    assert len(done.stderr) < 20_000 and elapsed < 60
