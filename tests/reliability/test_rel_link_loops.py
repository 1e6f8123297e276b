"""Symlink loops beyond the run's data globs: `dsc profile` / `dsc init`, the output folder, and hub
and model paths. Never a hang, never a traceback.

- `dsc profile` and `dsc init` listed a glob's files with Python's glob, which branched at every
  level under two links to `.` (a hang); they use the run's own expansion now
  (`dsc.io.sources.expand`).
- A symlink loop in the output folder (`out/sub -> sub` under an export `sub/{split}.jsonl`), or as
  the output folder, made `claim` raise a RuntimeError from `Path.resolve` (exit 1, "internal
  error"); it is exit 2 naming the link. An input swapped for a loop after `dsc check` is its
  reader's error (exit 4), not a RuntimeError of the output folder's checks.
- A hub dataset or model path that is, or passes through, a symlink loop read "a symlink leads it
  out of the project"; it names the loop, with the hint to mend it.
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
from dsc.engines.local import run_plan
from dsc.exitcodes import EXIT_OK, EXIT_SPEC_ERROR
from dsc.ops.runtime import RunError

SPEC = """\
dataset loops version 1 {{
  seed 7
}}
source s {{
  files "{files}"
}}
schema {{
  prompt : text required
}}
{extra}"""


def project(tmp_path: Path, files: str = "data/a.jsonl", extra: str = "") -> Path:
    """A project with data/a.jsonl and data/sub/b.jsonl, and a spec reading `files`; the spec's path."""
    (tmp_path / "pyproject.toml").write_text("")
    (tmp_path / "data" / "sub").mkdir(parents=True)
    (tmp_path / "data" / "a.jsonl").write_text('{"prompt": "a"}\n')
    (tmp_path / "data" / "sub" / "b.jsonl").write_text('{"prompt": "b"}\n')
    spec = tmp_path / "loops.dspec"
    spec.write_text(SPEC.format(files=files, extra=extra))
    return spec


def dsc(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    """dsc in a process of its own, so that a hang fails the test instead of the suite."""
    return subprocess.run([sys.executable, "-m", "dsc", *args], capture_output=True, text=True, timeout=60,
                          cwd=cwd)


@pytest.mark.parametrize("args", [
    ["profile", "data/**/*.jsonl", "--json"],
    ["profile", "loops.dspec", "--json"],
    ["init", "data/**/*.jsonl", "-o", "drafted.dspec"],
])
def test_profile_and_init_over_link_cycles_end_and_read_each_file_once(tmp_path, args):
    project(tmp_path, "data/**/*.jsonl")
    (tmp_path / "data" / "self").symlink_to(".")
    (tmp_path / "data" / "again").symlink_to(".")
    (tmp_path / "data" / "sub" / "up").symlink_to("..")
    result = dsc(args, tmp_path)
    assert result.returncode == EXIT_OK, result.stderr
    if args[0] == "profile":
        assert [i["path"] for i in json.loads(result.stdout)["inputs"]] == ["data/a.jsonl", "data/sub/b.jsonl"]
    else:
        assert 'files "data/a.jsonl", "data/sub/b.jsonl"' in (tmp_path / "drafted.dspec").read_text()


@pytest.mark.parametrize("export, link, target, out, message", [
    ("sub/{split}.jsonl", "out/sub", "sub", "out",
     "line 10: export path 'sub/all.jsonl' passes through 'sub', a symlink loop in the output directory"),
    ("x/y/{split}.jsonl", "out/x/y", "../x/y", "out",
     "line 10: export path 'x/y/all.jsonl' passes through 'x/y', a symlink loop in the output directory"),
    ("{split}.jsonl", "out", "out", "out", "--out out is a symlink loop; remove the link, or choose another --out"),
    ("{split}.jsonl", "out", "out", "out/run", "--out out/run passes through 'out', a symlink loop; remove the link"),
])
def test_a_link_loop_in_the_output_folder_stops_the_run_naming_it(tmp_path, export, link, target, out, message):
    spec = project(tmp_path, extra=f'export jsonl "{export}"\n')
    (tmp_path / link).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / link).symlink_to(target)
    result = dsc(["run", spec.name, "--out", out], tmp_path)
    assert result.returncode == EXIT_SPEC_ERROR, result.stderr
    assert message in result.stderr
    assert "internal error" not in result.stderr and "Traceback" not in result.stderr


def test_an_input_swapped_for_a_link_loop_after_check_is_its_readers_error(tmp_path):
    """The output folder's checks compare inputs with it without raising on a loop; the template's
    reader then stops the run (exit 4) naming it."""
    spec = project(tmp_path, extra='export jsonl "{split}.jsonl" template "t.j2"\n')
    (tmp_path / "t.j2").write_text("{{ prompt }}")
    compiled = compile_file(spec)
    assert compiled.ok, [d.message for d in compiled.diagnostics]
    os.remove(tmp_path / "t.j2")
    (tmp_path / "t.j2").symlink_to("t.j2")
    with pytest.raises(RunError) as error:
        run_plan(compiled.plan, tmp_path, tmp_path / "out")
    assert error.value.exit_code == 4
    assert "export template 't.j2'" in str(error.value) and "symbolic links" in str(error.value)


@pytest.mark.parametrize("line, loop, message", [
    ('source h {\n  hub "ds" revision "r"\n}\n', "ds", "hub dataset 'ds' is not allowed: it is a symlink loop"),
    ('augment train {\n  paraphrase prompt ratio 0.5 using "models/t5"\n}\n', "models",
     "model path 'models/t5' is not allowed: it passes through 'models', a symlink loop"),
    ('finetune full {\n  base "models/t5"\n}\n', "models/t5",
     "base model path 'models/t5' is not allowed: it is a symlink loop"),
])
def test_a_hub_or_model_path_through_a_link_loop_names_the_loop(tmp_path, line, loop, message):
    spec = project(tmp_path, extra='split by prompt {\n  train 1.0\n}\n' + line)
    (tmp_path / loop).parent.mkdir(parents=True, exist_ok=True)
    (tmp_path / loop).symlink_to(Path(loop).name)
    result = CliRunner().invoke(app, ["check", str(spec)])
    assert result.exit_code == EXIT_SPEC_ERROR, result.output
    assert f"error[DSC218]: {message}\n" in result.output
    assert "hint: remove the link, or point it at a file or folder" in result.output
    assert "leads it out of the project" not in result.output
