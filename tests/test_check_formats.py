"""`dsc check --format github|json`: GitHub Actions annotations and machine-readable diagnostics,
golden files of what it prints for specs from tests/fixtures/check (errors with and without a span,
a warning on a spec that compiles, a syntax error, a missing file, `%`, `,` and `:` in messages).

To rewrite the expected files after an intended change:

    DSC_UPDATE_GOLDEN=1 pytest tests/test_check_formats.py
"""
from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR, EXIT_USAGE

HERE = Path(__file__).parent
CHECK = HERE / "fixtures" / "check"
GOLDEN = HERE / "fixtures" / "check_formats"
UPDATE = os.environ.get("DSC_UPDATE_GOLDEN") == "1"
SPECS = ["ranges.dspec", "annotate_not_label.dspec", "bad_regex.dspec", "no_schema.dspec",
         "syntax_unclosed_block.dspec", "missing.dspec"]
KEYS = ["code", "severity", "message", "hint", "file", "line", "col", "end_line", "end_col"]


def check(*args: str):
    result = CliRunner().invoke(app, ["check", *args])
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("fmt", ["github", "json"])
def test_golden(fmt: str, monkeypatch):
    monkeypatch.chdir(CHECK)
    result = check("--format", fmt, *SPECS)
    assert result.exit_code == EXIT_INPUT_ERROR  # unchanged: the missing file wins over the spec errors
    expected = GOLDEN / f"{fmt}.expected"
    if UPDATE:
        expected.write_text(result.stdout, encoding="utf-8")
    assert result.stdout == expected.read_text(encoding="utf-8")
    assert result.stderr == ""


def test_github_lines_are_workflow_commands(monkeypatch):
    monkeypatch.chdir(CHECK)
    lines = check("--format", "github", *SPECS).stdout.splitlines()
    commands = [line for line in lines if line.startswith("::")]
    assert [line for line in lines if line not in commands] == ["no_schema.dspec: ok (sha256:a7ea6ca6106c)"]
    assert all(line.startswith(("::error file=", "::warning file=")) and "\n" not in line for line in commands)
    assert "not 120%25" in "\n".join(commands) and "%0Ahint: " in "\n".join(commands)


def test_json_records_follow_the_schema(monkeypatch):
    monkeypatch.chdir(CHECK)
    records = json.loads(check("--format", "json", *SPECS).stdout)
    assert records and all(list(r) == KEYS for r in records)
    assert {r["severity"] for r in records} == {"error", "warning"}
    for r in records:
        span = [r["line"], r["col"], r["end_line"], r["end_col"]]
        assert all(v is None for v in span) or (all(isinstance(v, int) and v > 0 for v in span)
                                                and (r["line"], r["col"]) <= (r["end_line"], r["end_col"]))


def test_exit_codes_are_those_of_text(monkeypatch):
    monkeypatch.chdir(CHECK)
    for spec, code in [("no_schema.dspec", EXIT_OK), ("ranges.dspec", EXIT_SPEC_ERROR),
                       ("missing.dspec", EXIT_INPUT_ERROR)]:
        assert {check("--format", f, spec).exit_code for f in ("text", "github", "json")} == {code}
    assert json.loads(check("--format", "json", "no_schema.dspec").stdout)[0]["code"] == "DSC220"


def test_a_file_name_is_escaped_as_a_property(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("odd, name:1.dspec").write_text((CHECK / "ranges.dspec").read_text(encoding="utf-8"), encoding="utf-8")
    out = check("--format", "github", "odd, name:1.dspec").stdout
    assert out.startswith("::error file=odd%2C name%3A1.dspec,line=")
    absolute = check("--format", "github", str(tmp_path / "odd, name:1.dspec")).stdout
    assert absolute == out  # a path under the current folder is given relative to it


def test_an_unknown_format_is_a_usage_error():
    result = check("--format", "xml", str(CHECK / "no_schema.dspec"))
    assert result.exit_code == EXIT_USAGE and "unknown format 'xml'" in result.output
