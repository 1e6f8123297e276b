"""The command line's habits (issue 23): --version and -h, a usage error's own exit code, `-` for
standard input and output, `fmt --diff`, `--format json` on explain and run, progress on standard
error, shell completion."""
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc import __version__
from dsc.commands import app
from dsc.commands.progress import RunProgress
from dsc.engines.progress import StageDone
from dsc.exitcodes import EXIT_OK, EXIT_SPEC_ERROR, EXIT_USAGE

ROOT = Path(__file__).resolve().parents[1]
SPEC = ROOT / "specs" / "common_gen.dspec"
MESSY = "gate   {\n dropped<=5%   # keep it low\n}\n"
TIDY = "gate {\n  dropped <= 5%  # keep it low\n}\n"
runner = CliRunner()


def dsc(*args, input=None):
    result = runner.invoke(app, [str(a) for a in args], input=input)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_version_flag(flag):
    result = dsc(flag)
    assert result.exit_code == EXIT_OK and result.stdout == f"dsc {__version__}\n"


@pytest.mark.parametrize("args", [[], ["check"], ["compile"], ["explain"], ["fmt"], ["diff"], ["run"], ["report"],
                                  ["agreement"], ["standardize"], ["profile"], ["init"], ["lsp"], ["version"],
                                  ["finetune"], ["finetune", "config"], ["finetune", "compare"]])
def test_h_is_help_everywhere(args):
    short, long = dsc(*args, "-h"), dsc(*args, "--help")
    assert short.exit_code == long.exit_code == EXIT_OK
    assert "Usage:" in short.stdout and short.stdout == long.stdout


@pytest.mark.parametrize("args", [["check", "--bogus", SPEC], ["check"], ["compile"], ["nosuchcommand"],
                                  ["run", SPEC], ["check", "--format", "xml", SPEC], ["finetune", "config"],
                                  ["run", SPEC, "--out", "x", "--workers", "0"]])
def test_a_usage_error_has_its_own_exit_code(args):
    result = dsc(*args)
    assert result.exit_code == EXIT_USAGE == 64 and "Traceback" not in result.output


def test_a_spec_error_is_still_2(tmp_path):
    bad = tmp_path / "bad.dspec"
    bad.write_text("gate {\n  nonsense here\n}\n")
    assert dsc("check", bad).exit_code == EXIT_SPEC_ERROR


def test_usage_exit_code_from_a_real_process():
    done = subprocess.run([sys.executable, "-m", "dsc", "check", "--bogus"], capture_output=True, text=True)
    assert done.returncode == EXIT_USAGE and "No such option" in done.stderr


def test_check_and_explain_read_standard_input(monkeypatch):
    monkeypatch.chdir(SPEC.parent)  # paths inside a spec on stdin resolve against the current folder
    text = SPEC.read_text()
    checked = dsc("check", "-", input=text)
    assert checked.exit_code == EXIT_OK and checked.stdout.startswith("-: ok (sha256:")
    assert dsc("explain", "-", input=text).stdout == dsc("explain", SPEC).stdout
    assert dsc("compile", "-", input=text).stdout == dsc("compile", SPEC).stdout


def test_a_spec_on_stdin_resolves_against_the_current_folder(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = dsc("check", "-", "--format", "json", input=SPEC.read_text())
    assert result.exit_code != EXIT_OK
    assert all(d["file"] == "<stdin>" for d in json.loads(result.stdout))


def test_compile_to_standard_output(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = dsc("compile", SPEC, "-o", "-")
    assert result.exit_code == EXIT_OK and json.loads(result.stdout)["fingerprint"].startswith("sha256:")
    assert not (tmp_path / "-").exists()


def test_fmt_filters_standard_input():
    result = dsc("fmt", "-", input=MESSY)
    assert result.exit_code == EXIT_OK and result.stdout == TIDY
    assert dsc("fmt", "-", input=TIDY).stdout == TIDY
    assert dsc("fmt", "--check", "-", input=MESSY).exit_code == EXIT_SPEC_ERROR
    assert dsc("fmt", "--check", "-", input=TIDY).exit_code == EXIT_OK


def test_fmt_diff_prints_a_unified_diff_and_writes_nothing(tmp_path):
    messy = tmp_path / "m.dspec"
    messy.write_text(MESSY)
    result = dsc("fmt", "--diff", messy)
    assert result.exit_code == EXIT_SPEC_ERROR
    assert f"--- {messy}\n+++ {messy} (formatted)\n@@" in result.stdout
    assert "-gate   {\n" in result.stdout and "+gate {\n" in result.stdout
    assert messy.read_text() == MESSY
    formatted = dsc("fmt", "--diff", SPEC)
    assert formatted.exit_code == EXIT_OK and formatted.stdout == ""
    assert dsc("fmt", "--diff", "-", input=MESSY).stdout.startswith("--- <stdin>\n")


def test_explain_as_json():
    result = dsc("explain", SPEC, "--format", "json")
    assert result.exit_code == EXIT_OK
    data = json.loads(result.stdout)
    assert data["dataset"] == {"name": "common_gen", "version": "1"}
    assert data["fingerprint"].startswith("sha256:")
    titles = [s["title"] for s in data["sections"]]
    assert titles[0].startswith("dataset common_gen") and any(t.startswith("clean") for t in titles)
    assert dsc("explain", SPEC, "--format", "yaml").exit_code == EXIT_USAGE


def test_run_summary_as_json(tmp_path):
    result = runner.invoke(app, ["run", str(SPEC), "--out", str(tmp_path / "out"), "--format", "json"])
    assert result.exit_code == EXIT_OK, result.output
    summary = json.loads(result.stdout)  # nothing else on standard output
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert summary["fingerprint"] == manifest["plan_fingerprint"] and summary["exit_code"] == EXIT_OK
    assert {s["name"]: s["rows"] for s in summary["splits"]} == {s["name"]: s["rows"] for s in manifest["splits"]}
    assert summary["gates"] and all("passed" in g and "severity" in g for g in summary["gates"])
    assert "kept.parquet" in summary["outputs"] and summary["counts"] == manifest["counts"]
    assert summary["outputs"] == sorted(manifest["outputs"]) and "kept.jsonl" not in summary["outputs"]
    # Not a terminal: one plain line per stage on standard error, with rows and seconds.
    lines = result.stderr.splitlines()
    assert any(line.startswith("dsc: source:common_gen: 200 -> 200 rows in ") and line.endswith("s")
               for line in lines), lines
    assert any(line.startswith("dsc: conflicts[") for line in lines)
    assert any(line.startswith("dsc: writing outputs in ") for line in lines)
    quiet = runner.invoke(app, ["run", str(SPEC), "--out", str(tmp_path / "out"), "--format", "json", "-q"])
    assert quiet.exit_code == EXIT_OK and quiet.stderr == ""
    assert "(cached)" not in result.stderr


def test_progress_on_a_terminal_is_a_rich_line_per_stage():
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    console = Console(file=buffer, force_terminal=True, width=100, color_system=None)
    with RunProgress(console) as progress:
        assert progress.live
        progress("reading source s")
        progress(StageDone("source:s", 10, 10))
        progress("dedupe_1: 10 rows")
        progress(StageDone("dedupe_1", 10, 7, cached=True))
        progress("splitting")
    text = buffer.getvalue()
    assert "source:s" in text and "10 -> 10 rows" in text and "10 -> 7 rows (cached)" in text
    assert "splitting" in text


def test_progress_in_a_pipe_is_plain():
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    with RunProgress(Console(file=buffer, width=100)) as progress:
        assert not progress.live
        progress("reading source [s]")
        progress(StageDone("source:[s]", 3, 2))
        progress("splitting")
    lines = buffer.getvalue().splitlines()
    assert lines[0].startswith("dsc: source:[s]: 3 -> 2 rows in ") and lines[1].startswith("dsc: splitting in ")
    assert "\x1b" not in buffer.getvalue()


def test_stage_done_reads_as_text():
    done = StageDone("dedupe_1", 1000, 950)
    assert done == "dedupe_1: 1000 -> 950 rows" and (done.rows_in, done.rows_out, done.cached) == (1000, 950, False)


def test_shell_completion_is_offered():
    assert "--install-completion" in dsc("--help").stdout
    env = {**os.environ, "_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION": "1"}
    done = subprocess.run([sys.executable, "-m", "dsc", "--show-completion", "bash"], capture_output=True, text=True,
                          env=env)
    assert done.returncode == 0 and "complete" in done.stdout


def test_progress_as_json_lines_even_on_a_terminal():
    from io import StringIO

    from rich.console import Console

    buffer = StringIO()
    with RunProgress(Console(file=buffer, force_terminal=True, width=100), log_format="json") as progress:
        assert not progress.live
        progress("reading source s")
        progress(StageDone("source:s", 3, 2, cached=True))
        progress("splitting")
    records = [json.loads(line) for line in buffer.getvalue().splitlines()]
    assert [(r["stage"], r["rows_in"], r["rows_out"], r["cached"]) for r in records] == [
        ("source:s", 3, 2, True), ("splitting", None, None, False)]
    assert all(r["event"] == "stage" and r["seconds"] >= 0 for r in records)


def test_run_logs_json_on_standard_error(tmp_path):
    done = subprocess.run([sys.executable, "-m", "dsc", "run", str(SPEC), "--out", str(tmp_path / "out"),
                           "--log-format", "json", "--format", "json"], capture_output=True, text=True)
    assert done.returncode == EXIT_OK, done.stderr
    stages = [json.loads(line) for line in done.stderr.splitlines() if line.startswith("{")]
    assert stages[0]["stage"].startswith("source:") and stages[0]["rows_in"] > 0
    assert json.loads(done.stdout)["exit_code"] == EXIT_OK


@pytest.mark.parametrize("mode, coloured", [("never", False), ("always", True)])
def test_color_option(mode, coloured):
    done = subprocess.run([sys.executable, "-m", "dsc", "--color", mode, "profile", str(ROOT / "examples" / "data" /
                           "seed_tasks.jsonl")], capture_output=True, text=True)
    assert done.returncode == EXIT_OK, done.stderr
    assert ("\x1b[" in done.stdout) is coloured


def test_an_unknown_color_is_a_usage_error():
    assert dsc("--color", "sometimes", "version").exit_code == EXIT_USAGE
