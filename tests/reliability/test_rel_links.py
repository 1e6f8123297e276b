"""Symlink loops and cycles where a spec reads: never followed without end, never a traceback.

- A data glob's `**` walks each folder once, whatever links lead to it: two links to `.` made
  Python's glob branch at every level (a hang), one made it read every file 41 times.
- A match that is a symlink loop, or a link to nothing, stops the run (exit 4) naming it: it was
  skipped without a word.
- A literal path (data file, template…) that is, or passes through, a symlink loop is DSC218 at
  check time, so `dsc check` and `dsc run` exit 2 naming it: `Path.resolve` raised a RuntimeError
  (exit 1, "internal error"). At run time the operator's checks resolve without raising too.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.api import compile_file
from dsc.commands import app
from dsc.engines.permissions import Permissions, enforce
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK, EXIT_SPEC_ERROR
from run_outputs import kept_rows


def project(tmp_path: Path, files: str, extra: str = "") -> Path:
    """A project with data/a.jsonl and data/sub/b.jsonl and a spec reading `files`; the spec's path."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.jsonl").write_text('{"prompt": "a"}\n')
    (tmp_path / "data" / "sub" / "b.jsonl").write_text('{"prompt": "b"}\n')
    spec = tmp_path / "links.dspec"
    spec.write_text(f'dataset links version 1 {{\n  seed 7\n}}\nsource s {{\n  files "{files}"\n}}\n'
                    f"schema {{\n  prompt : text required\n}}\n{extra}")
    return spec


def run_dsc(spec: Path) -> subprocess.CompletedProcess:
    """`dsc run` in a process of its own, so that a hang fails the test instead of the suite."""
    out = spec.parent / "out"
    return subprocess.run([sys.executable, "-m", "dsc", "run", str(spec), "--out", str(out)],
                          capture_output=True, text=True, timeout=60, cwd=spec.parent)


def test_a_glob_over_link_cycles_ends_and_reads_each_file_once(tmp_path):
    spec = project(tmp_path, "data/**/*.jsonl")
    data = tmp_path / "data"
    (data / "self").symlink_to(".")
    (data / "again").symlink_to(".")
    (data / "sub" / "up").symlink_to("..")
    (data / "sub" / "a_again.jsonl").symlink_to("../a.jsonl")
    result = run_dsc(spec)
    assert result.returncode == EXIT_OK, result.stderr
    assert [r["prompt"] for r in kept_rows(tmp_path / "out")] == ["a", "b"]
    manifest = json.loads((tmp_path / "out" / "manifest.json").read_text())
    assert [i["path"] for i in manifest["inputs"]] == ["data/a.jsonl", "data/sub/b.jsonl"]


@pytest.mark.parametrize("links, named, why", [
    ({"loop.jsonl": "loop.jsonl"}, "data/loop.jsonl", "a symlink loop"),
    ({"x.jsonl": "y.jsonl", "y.jsonl": "x.jsonl"}, "data/x.jsonl", "a symlink loop"),
    ({"gone.jsonl": "missing.jsonl"}, "data/gone.jsonl", "a symlink to a file that does not exist"),
])
def test_a_match_that_leads_nowhere_stops_the_run_naming_it(tmp_path, links, named, why):
    spec = project(tmp_path, "data/*.jsonl")
    for name, target in links.items():
        (tmp_path / "data" / name).symlink_to(target)
    result = run_dsc(spec)
    assert result.returncode == EXIT_INPUT_ERROR, result.stderr
    assert f"'data/*.jsonl' matches {named}, {why}" in result.stderr
    assert "Traceback" not in result.stderr and "internal error" not in result.stderr


@pytest.mark.parametrize("files, loop, extra, message", [
    ("data/loop.jsonl", "data/loop.jsonl", "",
     "file pattern 'data/loop.jsonl' is not allowed: it is a symlink loop"),
    ("data/twisted/a.jsonl", "data/twisted", "",
     "file pattern 'data/twisted/a.jsonl' is not allowed: it passes through 'data/twisted', a symlink loop"),
    ("data/a.jsonl", "t.j2", 'export jsonl "{split}.jsonl" template "t.j2"\n',
     "export template 't.j2' is not allowed: it is a symlink loop"),
])
def test_a_literal_path_through_a_link_loop_is_a_path_diagnostic(tmp_path, files, loop, extra, message):
    spec = project(tmp_path, files, extra)
    (tmp_path / loop).symlink_to(Path(loop).name)
    for command in (["check", str(spec)], ["run", str(spec), "--out", str(tmp_path / "out")]):
        result = CliRunner().invoke(app, command)
        assert result.exit_code == EXIT_SPEC_ERROR, result.output
        assert f"error[DSC218]: {message}" in result.output
        assert "internal error" not in result.output


def test_the_operators_checks_resolve_a_link_loop_without_raising(tmp_path):
    """A file swapped for a loop after `dsc check`: the run's permission check does not raise."""
    spec = project(tmp_path, "data/a.jsonl", 'export jsonl "{split}.jsonl" template "t.j2"\n')
    (tmp_path / "t.j2").write_text("{{ prompt }}")
    compiled = compile_file(spec)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    plan = compiled.plan
    os.remove(tmp_path / "t.j2")
    (tmp_path / "t.j2").symlink_to("t.j2")
    enforce(plan, tmp_path, Permissions())
