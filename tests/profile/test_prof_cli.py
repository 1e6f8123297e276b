"""`dsc profile` as a user runs it: tables, --json, spec sources, and bad input (never a traceback)."""
import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples" / "data"
COMMON_GEN = EXAMPLES / "common_gen_Example_prompt.jsonl"
runner = CliRunner()

# The keys and meanings issue 10 fixes for the JSON output.
REQUIRED_KEYS = {"rows", "exact_duplicate_rows", "key_duplicate_rows", "normalized_key_duplicate_rows",
                 "conflict_groups", "conflict_rows"}


def dsc(*args):
    result = runner.invoke(app, [str(a) for a in args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.stderr
    return result


def test_json_has_the_issue_keys():
    result = dsc("profile", COMMON_GEN, "--key", "prompt", "--target", "completion", "--json")
    assert result.exit_code == EXIT_OK, result.stderr
    profile = json.loads(result.stdout)
    assert REQUIRED_KEYS <= set(profile)
    assert {k: profile[k] for k in REQUIRED_KEYS} == {
        "rows": 200, "exact_duplicate_rows": 0, "key_duplicate_rows": 133,
        "normalized_key_duplicate_rows": 133, "conflict_groups": 67, "conflict_rows": 200}
    assert [c["name"] for c in profile["columns"]] == ["prompt", "completion"]
    assert profile["near_duplicates"]["columns"] == ["prompt", "completion"]


def test_tables_for_people():
    result = dsc("profile", COMMON_GEN, "--key", "prompt", "--target", "completion")
    assert result.exit_code == EXIT_OK
    for words in ("conflict groups", "near-duplicate rows", "Columns", "Lengths"):
        assert words in result.stdout
    assert "rows/s" in result.stderr


def test_without_key_the_key_figures_are_null():
    profile = json.loads(dsc("profile", COMMON_GEN, "--json", "--text", "").stdout)
    assert profile["key_duplicate_rows"] is None and profile["conflict_groups"] is None
    assert profile["near_duplicates"] is None  # --text '' skips the estimate


def test_a_spec_profiles_its_sources():
    result = dsc("profile", ROOT / "specs" / "common_gen.dspec", "--json")
    assert result.exit_code == EXIT_OK, result.stderr
    profile = json.loads(result.stdout)
    assert profile["rows"] == 200 and profile["key"] == ["prompt"] and profile["conflict_groups"] == 67


def test_several_files_are_one_source(tmp_path):
    a, b = tmp_path / "a.jsonl", tmp_path / "b.jsonl"
    a.write_text('{"q": "x", "a": "1"}\n{"q": "y", "a": "2"}\n')
    b.write_text('{"q": "x", "a": "1"}\n')
    profile = json.loads(dsc("profile", a, b, "--key", "q", "--json").stdout)
    assert (profile["rows"], profile["exact_duplicate_rows"], profile["key_duplicate_rows"]) == (3, 1, 1)
    assert [i["records"] for i in profile["inputs"]] == [2, 1]


@pytest.mark.parametrize("args, code, words", [
    (["--key", "promt"], EXIT_INPUT_ERROR, "did you mean 'prompt'?"),
    (["--key", "prompt", "--target", "completon"], EXIT_INPUT_ERROR, "did you mean 'completion'?"),
    (["--text", "prompt,answer"], EXIT_INPUT_ERROR, "column 'answer' (--text) is not in the data"),
    (["--target", "completion"], EXIT_SPEC_ERROR, "--target needs --key"),
])
def test_bad_columns(args, code, words):
    result = dsc("profile", COMMON_GEN, *args)
    assert result.exit_code == code and words in result.stderr


@pytest.mark.parametrize("name, content, words", [
    ("missing.jsonl", None, "no such file"),
    ("binary.json", bytes(range(256)) * 20, "looks like a binary file"),
    ("object.json", b'{"a": 1}', "expected a JSON array of records"),
    ("notes.txt", b"hello\n", "pass --format"),
    ("empty.jsonl", b"", "is empty"),
    ("junk.jsonl", b"not json\n[1, 2]\n", "produced no rows"),
])
def test_unreadable_input_is_one_clear_message(tmp_path, name, content, words):
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    result = dsc("profile", path)
    assert result.exit_code == EXIT_INPUT_ERROR and words in result.stderr, result.stderr


def test_mixed_record_shapes_are_reported_as_rejects(tmp_path):
    path = tmp_path / "mixed.jsonl"
    path.write_text('{"q": "a"}\n{"q": 3}\n[1]\n{"q": "b", "extra": true}\n{"q": "c"\n')
    result = dsc("profile", path, "--json")
    assert result.exit_code == EXIT_OK
    profile = json.loads(result.stdout)
    assert profile["rows"] == 2 and profile["rejected_rows"] == 3
    reasons = {r["reason"]: r["first"] for r in profile["rejects"]}
    assert reasons["column 'q': expected string, got int"].endswith("mixed.jsonl:2")
    assert reasons["line is not a JSON object"].endswith("mixed.jsonl:3")
    assert dsc("profile", path).stdout.count("Rejected records (3)") == 1


def test_a_directory_and_a_broken_spec(tmp_path):
    assert "is a directory" in dsc("profile", tmp_path).stderr
    spec = tmp_path / "bad.dspec"
    spec.write_text("source s {\n  files \"x.jsonl\"\n}\nclean {\n  dedupe exact on\n}\n")
    result = dsc("profile", spec)
    assert result.exit_code == EXIT_SPEC_ERROR and "DSC1" in result.stderr
    mixed = dsc("profile", spec, COMMON_GEN)
    assert mixed.exit_code == EXIT_SPEC_ERROR and "either one spec or data files" in mixed.stderr


def test_a_run_output_profiles_with_its_bookkeeping_set_aside(tmp_path):
    out = tmp_path / "out"
    # --kept-jsonl: the jsonl copy of the kept rows, written on request only, profiles the same way.
    assert dsc("run", ROOT / "specs" / "common_gen.dspec", "--out", out, "--kept-jsonl").exit_code == EXIT_OK
    for name in ("kept.parquet", "kept.jsonl"):
        result = dsc("profile", out / name, "--json")
        assert result.exit_code == EXIT_OK, result.stderr
        profile = json.loads(result.stdout)
        assert profile["bookkeeping"] == ["_dsc_id", "_dsc_split"]
        assert sorted(c["name"] for c in profile["columns"]) == ["completion", "prompt"]
    assert "left out: _dsc_id, _dsc_split" in dsc("profile", out / "kept.parquet").stdout
    # A source cannot read a run's output back, so no policy is written from one.
    refused = dsc("init", out / "kept.parquet", "-o", tmp_path / "again.dspec")
    assert refused.exit_code == EXIT_INPUT_ERROR and "dsc's own bookkeeping (_dsc_id, _dsc_split)" in refused.stderr
    assert not (tmp_path / "again.dspec").exists()


def test_init_never_writes_through_a_link_nor_chokes_on_a_loop(tmp_path):
    data = tmp_path / "d.jsonl"
    data.write_text('{"prompt": "a", "completion": "b"}\n')
    (tmp_path / "loop.dspec").symlink_to(tmp_path / "loop.dspec")
    (tmp_path / "elsewhere.dspec").symlink_to(tmp_path / "mine.txt")
    for name in ("loop.dspec", "elsewhere.dspec"):
        result = dsc("init", data, "-o", tmp_path / name, "--force")
        assert result.exit_code == EXIT_INPUT_ERROR and "is a symbolic link" in result.output
    assert not (tmp_path / "mine.txt").exists()
