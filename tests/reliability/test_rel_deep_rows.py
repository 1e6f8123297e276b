"""A row nested however deeply is rejected as it is read, and the run goes on.

The readers accept rows nested at most `MAX_DEPTH` (48) lists/objects deep; a deeper one — up to
200 000 levels, one JSON line or one element of a JSON array — is rejected with its reason and
its raw text kept (cut to `MAX_REJECT_TEXT`), so every later stage (stats, rejects.jsonl, the
report, the Ray engine) only ever meets values it may recurse over, and text. Before, one line
nested ~490 deep ended the whole run with a RecursionError (stats re-parsed the reject's text),
and one JSON element nested ~1 000 deep made the whole file unreadable.
"""
from __future__ import annotations

import json
import logging
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_OK
from dsc.io.jsonscan import decode_row, loads
from dsc.io.model import MAX_DEPTH, MAX_REJECT_TEXT
from run_outputs import kept_rows

DEPTHS = [MAX_DEPTH - 1, MAX_DEPTH, MAX_DEPTH + 1, 100, 490, 999, 10_000, 200_000]
SPEC = 'dataset deep version 1 {\n  seed 7\n}\nsource s {\n  files "data/*"\n}\n' \
       "schema {\n  prompt : text required\n}\n"


def nested(depth: int) -> str:
    """A record nested `depth` levels deep, the record itself counted."""
    return '{"prompt": "deep", "v": ' + "[" * (depth - 1) + "]" * (depth - 1) + "}"


def bare(depth: int) -> str:
    """A list nested `depth` levels deep, not a record at all."""
    return "[" * depth + "]" * depth


def write_data(folder: Path, fmt: str, depth: int) -> None:
    (folder / "data").mkdir(parents=True)
    rows = ['{"prompt": "first"}', nested(depth), bare(depth), '{"prompt": "last"}']
    text = "\n".join(rows) + "\n" if fmt == "jsonl" else "[" + ",\n".join(rows) + "]\n"
    (folder / "data" / f"rows.{fmt}").write_text(text, encoding="utf-8")
    (folder / "deep.dspec").write_text(SPEC, encoding="utf-8")


def run(folder: Path, *extra: str) -> Path:
    out = folder / "out"
    result = CliRunner().invoke(app, ["run", str(folder / "deep.dspec"), "--out", str(out), *extra])
    assert result.exit_code == EXIT_OK, result.output
    assert "Traceback" not in result.output and "internal error" not in result.output
    return out


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


@pytest.mark.parametrize("depth", DEPTHS)
@pytest.mark.parametrize("fmt", ["jsonl", "json"])
def test_a_deep_row_is_rejected_with_its_text_and_the_run_goes_on(tmp_path, fmt, depth):
    write_data(tmp_path, fmt, depth)
    out = run(tmp_path, "--kept-jsonl")  # the jsonl writer meets the kept deep row too
    assert lines(out / "kept.jsonl") == kept_rows(out, as_json=True)
    kept = [row["prompt"] for row in kept_rows(out)]
    rejects = lines(out / "rejects.jsonl")
    stats = json.loads((out / "stats.json").read_text(encoding="utf-8"))
    assert stats["counts"]["input"] == 4 == stats["counts"]["kept"] + stats["counts"]["rejected"]
    where = "rows.jsonl:" if fmt == "jsonl" else "rows.json#"
    expected_kept = ["first", "deep", "last"] if depth <= MAX_DEPTH else ["first", "last"]
    assert kept == expected_kept
    deep = [r for r in rejects if "levels deep" in r["_dsc_reason"]]
    assert len(deep) == (0 if depth <= MAX_DEPTH else 2)
    for reject, raw in zip(deep, [nested(depth), bare(depth)]):
        assert f"nested more than {MAX_DEPTH} levels deep" in reject["_dsc_reason"]
        assert reject["_dsc_src"].startswith(f"data/{where}")
        assert reject["_dsc_row"] == raw[:MAX_REJECT_TEXT]  # the raw text, kept as text
    shown = [row["row"] for rule in stats["examples"] for row in rule["rows"] if "levels deep" in row["reason"]]
    assert len(shown) == len(deep) and all(isinstance(row, str) for row in shown)
    assert (out / "report.md").is_file() and (out / "report.html").is_file()


@pytest.mark.parametrize("depth", DEPTHS)
def test_a_reject_text_decodes_to_an_object_only_within_the_bound(depth):
    for text in (nested(depth), nested(depth)[:MAX_REJECT_TEXT], '{"v": ' + bare(depth) + "}"):
        value = decode_row(text)
        if isinstance(value, dict):
            assert text.count("[") + 1 <= MAX_DEPTH and value == json.loads(text)
        else:
            assert value == text
    assert decode_row(bare(depth)) == bare(depth)


def test_loads_never_raises_a_recursion_error():
    for depth in DEPTHS:
        try:
            loads(bare(depth))
        except ValueError as err:  # Unbounded is one
            assert depth > MAX_DEPTH and str(err) == f"nested more than {MAX_DEPTH} levels deep"
        else:
            assert depth <= MAX_DEPTH


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
def test_deep_rows_flow_through_the_ray_engine_as_through_the_local_one(tmp_path):
    ray = pytest.importorskip("ray", reason="the ray engine needs Ray Data: pip install 'dsc[ray]'")
    pytest.importorskip("ray.data")
    write_data(tmp_path, "jsonl", 200_000)
    (tmp_path / "data" / "more.json").write_text("[" + ", ".join([nested(490), '{"prompt": "x"}']) + "]")
    local = run(tmp_path)
    local.rename(tmp_path / "local")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    try:
        on_ray = run(tmp_path, "--engine", "ray")
    finally:
        ray.shutdown()
    for name in ("kept.parquet", "rejects.jsonl", "stats.json", "report.md"):
        assert (on_ray / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name
    assert len(lines(on_ray / "rejects.jsonl")) == 3


@pytest.mark.parametrize("fmt", ["jsonl", "json"])
@pytest.mark.parametrize("digits", [4300, 4301, 100_000])
def test_an_integer_too_long_for_python_is_rejected_and_the_run_goes_on(tmp_path, fmt, digits):
    """Python converts at most 4300 digits to an int (and slowly): a longer JSON integer was a
    ValueError that stopped the run (exit 1); now its row is rejected with the reason."""
    from dsc.io import SourceSpec, read_source
    from dsc.io.jsonscan import MAX_INT_DIGITS

    rows = ['{"prompt": "a", "n": %s}' % ("7" * digits), '{"prompt": "b", "n": 1}', '{"prompt": "c", "n": 2}']
    (tmp_path / f"d.{fmt}").write_text("\n".join(rows) + "\n" if fmt == "jsonl" else "[" + ", ".join(rows) + "]")
    read = read_source(SourceSpec(name="s", files=[f"d.{fmt}"]), tmp_path)
    assert read.table.num_rows == 2 and len(read.rejects) == 1
    reason = read.rejects[0].reason
    if digits <= MAX_INT_DIGITS:  # an int, but not one a column holds
        assert "is outside the 64-bit range" in reason
    else:
        assert f"a number of {digits} digits (more than 4300)" in reason
