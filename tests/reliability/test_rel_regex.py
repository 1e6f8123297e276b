"""A filter's regex cannot hang a run: `drop where COL matches` runs on RE2 (linear time), so the
patterns that make a backtracking engine take exponential time finish at once on long hostile text;
and RE2's time per byte, which grows with the pattern's size once its DFA gives up, is bounded by
refusing patterns of more than MAX_PATTERN_COST positions (counted repetitions written out), at check
time (DSC213) and again when a plan that skipped the checks runs."""
from __future__ import annotations

import json
import random
import time

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.api import compile_file, compile_text
from dsc.engines.local import run_plan
from dsc.kernels.regex import MAX_PATTERN_COST, pattern_cost, re2_error
from dsc.ops.runtime import RunError
from dsc.plan import canonical_json, plan_from_json
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples

# (pattern, text that makes a backtracking engine explode, whether it matches)
EVIL = [
    ("^(a+)+$", "a" * 40_000 + "!", False),
    ("^(a|aa)+$", "a" * 40_000 + "!", False),
    ("^(\\w+\\s?)*$", "word " * 8_000 + "!", False),
    ("(x+x+)+y", "x" * 40_000, False),
    ("^(a+)+$", "a" * 40_000, True),
]


def _spec(pattern: str) -> str:
    escaped = pattern.replace("\\", "\\\\").replace('"', '\\"')
    return ('dataset s version 1 {\n  seed 1\n}\nsource d {\n  files "rows.jsonl"\n  key id\n}\n'
            f'clean {{\n  drop where text matches "{escaped}"\n}}\n')


@pytest.mark.parametrize("pattern, text, matches", EVIL)
def test_a_catastrophic_pattern_runs_in_linear_time(tmp_path, pattern, text, matches):
    (tmp_path / "dsc.toml").write_text("", encoding="utf-8")
    rows = [{"id": f"r{i}", "text": text if i % 2 else "-"} for i in range(20)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    (tmp_path / "s.dspec").write_text(_spec(pattern), encoding="utf-8")
    compiled = compile_file(tmp_path / "s.dspec")
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    started = time.monotonic()
    result = run_plan(compiled.plan, tmp_path, tmp_path / "out")
    elapsed = time.monotonic() - started
    assert result.kept.num_rows == (10 if matches else 20)  # 10 hostile rows, each 40 kB
    assert elapsed < 20, f"{pattern}: {elapsed:.1f} s"  # Python's re would take longer than the universe's age


# Patterns RE2 runs in linear time, but slowly: once its DFA runs out of memory, each byte costs
# time in proportion to the pattern's positions. The first took 25-75 µs a character (over 120 s on 4 MB).
COSTLY = ["(?i)(.{500}){2}q", "a.{1000}q", "(?:a.{150}|b.{150})q", "\\pL{60}", "[\\pL\\pN]{51}", "(?:ab|cd){101}",
          "(" + "|".join(f"phrase number {i:03}" for i in range(20)) + ")", "\\Qxy\\E{199}z{2}"]


@pytest.mark.parametrize("pattern", COSTLY)
def test_a_costly_pattern_is_refused_at_check_time(pattern):
    compiled = compile_text(SourceFile("s.dspec", _spec(pattern)))
    [diag] = [d for d in compiled.diagnostics if d.code == "DSC213"]
    assert not compiled.ok and diag.message.startswith("the pattern is too costly to run")
    assert f"(the limit is {MAX_PATTERN_COST})" in diag.message and "chars(COL)" in diag.hint


@pytest.mark.parametrize("pattern", COSTLY[:3])
def test_a_costly_pattern_in_a_plan_that_skipped_the_checks_is_refused_at_run_time(tmp_path, pattern):
    (tmp_path / "rows.jsonl").write_text('{"id": "r1", "text": "q"}\n', encoding="utf-8")
    plan = compile_text(SourceFile("s.dspec", _spec("x{3}"))).plan
    plan = plan_from_json(canonical_json(plan).replace('"x{3}"', json.dumps(pattern)))
    with pytest.raises(RunError) as err:
        run_plan(plan, tmp_path, tmp_path / "out")
    assert err.value.exit_code == 2 and "too costly to run" in str(err.value)


def test_the_cost_counts_positions_with_counted_repetitions_written_out():
    assert {p: pattern_cost(p) for p in [
        "abc", "a{3}", "a{2,5}", "a{2,}", "a{0}b", "a{,3}", "(ab|c){2,4}", "(?:a|b)*x+y?", "(?i)(.{500}){2}q",
        "\\pL{3}", "[\\p{Greek}a-z]{3}", "[^\\]a]{3}", "[[:alpha:]]{3}", "\\x{41}{3}", "\\Qa.b\\E{3}", "(?P<n>ab){2}",
        "(?<n>ab){2}", "(?i:ab){2}(?s)", "^\\d{4}-\\d{2}-\\d{2}$",
    ]} == {
        "abc": 3, "a{3}": 3, "a{2,5}": 5, "a{2,}": 2, "a{0}b": 1, "a{,3}": 5, "(ab|c){2,4}": 12, "(?:a|b)*x+y?": 4,
        "(?i)(.{500}){2}q": 1001, "\\pL{3}": 12, "[\\p{Greek}a-z]{3}": 12, "[^\\]a]{3}": 3, "[[:alpha:]]{3}": 3,
        "\\x{41}{3}": 3, "\\Qa.b\\E{3}": 5, "(?P<n>ab){2}": 4, "(?<n>ab){2}": 4, "(?i:ab){2}(?s)": 4,
        "^\\d{4}-\\d{2}-\\d{2}$": 12,
    }


_PIECES = list("ab.|()*+?[]^$-:\\é") + ["\\pL", "\\p{Greek}", "\\Q", "\\E", "(?i)", "(?:", "(?P<n>", "{2}", "{1,3}",
                                        "{2,}", "{,2}", "[:alpha:]", "\\x{41}", "\\d", "\\b"]


@settings(max_examples=examples(3), deadline=None, derandomize=True)
@given(st.lists(st.sampled_from(_PIECES), min_size=1, max_size=16).map("".join))
def test_the_cost_of_any_pattern_re2_compiles_is_a_count(pattern):
    if re2_error(pattern) is None:
        assert pattern_cost(pattern) >= 0


# The slowest patterns found within the bound, and text that defeats RE2's DFA for them.
AT_THE_LIMIT = ["a.{198}q", "(?i)a[^x]{198}q", "a\\S{198}q", "a\\w{198}q", "(?:a.{98}|b.{98})q",
                "(?i)a\\pL{49}q", "a[\\pL\\pN\\pP\\pS]{49}q", "(?U)a.{198}?q"]


def test_the_costliest_accepted_patterns_keep_their_worst_case_throughput():
    rng = random.Random(1)
    texts = pa.array(["".join(rng.choice(alphabet) for _ in range(20_000))
                      for alphabet in ("ab", "abé漢", "aAbB1 _-")])
    size = sum(len(t.encode()) for t in texts.to_pylist())
    for pattern in AT_THE_LIMIT:
        assert re2_error(pattern) is None and pattern_cost(pattern) <= MAX_PATTERN_COST, pattern
        started = time.perf_counter()
        pc.match_substring_regex(texts, pattern)
        per_byte = (time.perf_counter() - started) / size
        # measured: at most 5-14 µs a byte on a busy 2-core machine, where the refused (?i)(.{500}){2}q took 28-37
        assert per_byte < 50e-6, f"{pattern}: {per_byte * 1e6:.1f} µs a byte"
