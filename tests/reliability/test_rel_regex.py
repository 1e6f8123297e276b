"""A filter's regex cannot hang a run: `drop where COL matches` runs on RE2 (linear time), so the
patterns that make a backtracking engine take exponential time finish at once on long hostile text."""
from __future__ import annotations

import json
import time

import pytest

from dsc.api import compile_file
from dsc.engines.local import run_plan

# (pattern, text that makes a backtracking engine explode, whether it matches)
EVIL = [
    ("^(a+)+$", "a" * 40_000 + "!", False),
    ("^(a|aa)+$", "a" * 40_000 + "!", False),
    ("^(\\w+\\s?)*$", "word " * 8_000 + "!", False),
    ("(x+x+)+y", "x" * 40_000, False),
    ("^(a+)+$", "a" * 40_000, True),
]


@pytest.mark.parametrize("pattern, text, matches", EVIL)
def test_a_catastrophic_pattern_runs_in_linear_time(tmp_path, pattern, text, matches):
    (tmp_path / "dsc.toml").write_text("", encoding="utf-8")
    rows = [{"id": f"r{i}", "text": text if i % 2 else "-"} for i in range(20)]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    escaped = pattern.replace("\\", "\\\\")
    (tmp_path / "s.dspec").write_text(
        'dataset s version 1 {\n  seed 1\n}\nsource d {\n  files "rows.jsonl"\n  key id\n}\n'
        f'clean {{\n  drop where text matches "{escaped}"\n}}\n', encoding="utf-8")
    compiled = compile_file(tmp_path / "s.dspec")
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    started = time.monotonic()
    result = run_plan(compiled.plan, tmp_path, tmp_path / "out")
    elapsed = time.monotonic() - started
    assert result.kept.num_rows == (10 if matches else 20)  # 10 hostile rows, each 40 kB
    assert elapsed < 20, f"{pattern}: {elapsed:.1f} s"  # Python's re would take longer than the universe's age
