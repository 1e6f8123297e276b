"""The output folder (`dsc run --out DIR`): a run never deletes or overwrites what dsc did not write
there, never writes where it reads, runs alone in its folder, and refuses outputs that would land
on one another — each before any work (`dsc.engines.outputs.claim`, `dsc.engines.layout`).

The folder is decided by the previous manifest or dsc's record of what it wrote (`.dsc-owned`);
anything else in the way stops the run (exit 4, naming the path). Two runs on one folder: one
holds its lock (`.dsc-lock`) and finishes with a complete, verified manifest; the other stops at
once (exit 4), also when both are real `python -m dsc run` processes started together.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from dsc.commands import app
from dsc.compiler import compile_spec
from dsc.engines.local import run_plan
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR, EXIT_USAGE
from dsc.ops.runtime import RunError
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

REPO = Path(__file__).resolve().parents[2]
SPEC = '''dataset pair version 1 {{
  seed 3
  locale en_US
}}

source rows {{
  files "{files}"
  key id
}}

schema {{
  id : string required
  prompt : text required
  completion : text required
  kind : label {{a, b}}
}}

annotate kind {{
  from "{labels}" format long
  annotators >= 2
  below_threshold flag
  tasks "todo.jsonl"
}}

{split_block}{exports}
'''
EXPORTS = 'export jsonl "{split}.jsonl" shape instruction\nexport hf_disk "disk/{split}"\n'
SPLITS = "train 0.8\n  test 0.2"
runner = CliRunner()


def spec_text(files: str = "rows.jsonl", labels: str = "labels.jsonl", exports: str = EXPORTS,
              splits: str | None = SPLITS) -> str:
    """The spec, its exports from line 30 with a split block (`splits`, None for none), else from line 26."""
    block = f"split by prompt seed 3 {{\n  {splits}\n}}\n\n" if splits else ""
    return SPEC.format(files=files, labels=labels, exports=exports, split_block=block)


def project(root: Path, files: str = "rows.jsonl", labels: str = "labels.jsonl", exports: str = EXPORTS,
            splits: str | None = SPLITS, rows: int = 300) -> Path:
    """A project in `root`: rows, annotations of every other row, and a spec reading them."""
    root.mkdir(parents=True, exist_ok=True)
    (root / "dsc.toml").write_text("", encoding="utf-8")
    for name, lines in ((files, [{"id": f"r{i}", "prompt": f"question {i} on topic {i % 17}",
                                  "completion": f"answer {i}"} for i in range(rows)]),
                        (labels, [{"item": f"r{i}", "annotator": a, "label": "ab"[i % 3 == 0]}
                                  for i in range(0, rows, 2) for a in "xy"])):
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text("".join(json.dumps(r) + "\n" for r in lines), encoding="utf-8")
    spec = root / "t.dspec"
    spec.write_text(spec_text(files, labels, exports, splits), encoding="utf-8")
    return spec


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under `folder`, hidden ones included, by relative path."""
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def verified(out: Path) -> dict:
    """The manifest of a finished run, after checking every output it lists against the disk."""
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    for name, entry in manifest["outputs"].items():
        path = out / name
        if path.is_dir():
            files = [p for p in sorted(path.rglob("*")) if p.is_file()]
            listing = "".join(f"{sha(p.read_bytes())}  {p.relative_to(path).as_posix()}\n" for p in files)
            assert sha(listing.encode()) == entry["sha256"] and len(files) == entry["files"], name
        else:
            data = path.read_bytes()
            assert sha(data) == entry["sha256"] and len(data) == entry["bytes"], name
    assert not (out / ".dsc-staging").exists()
    return manifest


def run(spec: Path, out: Path | str):
    return runner.invoke(app, ["run", str(spec), "--out", str(out)])


# --- where a run may write ----------------------------------------------------------------------

@pytest.mark.parametrize("case", ["spec folder", "input named kept.jsonl", "hf_disk named like the input folder",
                                  "inside what a pattern reads", "holds the template", "holds the annotations"])
def test_an_output_folder_that_meets_the_inputs_is_refused_before_any_work(tmp_path, case):
    out, says = tmp_path, "is inside the output folder"
    if case == "spec folder":
        spec = project(tmp_path)
    elif case == "input named kept.jsonl":
        spec = project(tmp_path, files="kept.jsonl")
    elif case == "hf_disk named like the input folder":
        spec = project(tmp_path, files="data/rows.jsonl", exports='export hf_disk "data"\n', splits=None)
    elif case == "inside what a pattern reads":
        spec = project(tmp_path, files="data/rows.jsonl")
        spec.write_text(spec.read_text().replace('"data/rows.jsonl"', '"data/**/*.jsonl"'))
        out, says = tmp_path / "data" / "run", "would read the output"
    elif case == "holds the template":
        spec = project(tmp_path, exports=EXPORTS + 'export jsonl "text/{split}.jsonl" template "tpl/t.j2"\n')
        (tmp_path / "tpl").mkdir()
        (tmp_path / "tpl" / "t.j2").write_text("{{ prompt }}", encoding="utf-8")
        out = tmp_path / "tpl"
    else:
        spec = project(tmp_path, labels="ann/labels.jsonl")
        out = tmp_path / "ann"
    before = snapshot(tmp_path)
    result = run(spec, out)
    assert result.exit_code == EXIT_INPUT_ERROR, result.output
    assert f"--out {out} meets what the run reads; nothing was read or written" in result.output
    assert says in result.output and "Traceback" not in result.output
    assert snapshot(tmp_path) == before and not (tmp_path / "data" / "run").exists()


@pytest.mark.parametrize("name, kind, says", [
    ("disk/train", "folder", "disk/train: dsc did not write it"),
    ("train.jsonl", "file", "train.jsonl: dsc did not write it"),
    ("kept.jsonl", "file", "kept.jsonl: dsc did not write it"),
    ("manifest.json", "file", "manifest.json: dsc did not write it"),
    ("todo.json", "file", "todo.json: dsc did not write it"),
    ("disk", "file", "disk: a file where disk/test needs a folder, and dsc did not write it"),
    (".dsc-staging", "folder", ".dsc-staging: dsc keeps this name for itself, but nothing shows that dsc wrote"),
    (".dsc-owned", "file", ".dsc-owned: not dsc's record of the paths it wrote"),
])
def test_a_run_never_replaces_what_dsc_did_not_write(tmp_path, name, kind, says):
    spec, out = project(tmp_path), tmp_path / "out"
    path = out / name
    if kind == "folder":
        (path / "data-00000-of-00001.arrow").parent.mkdir(parents=True)
        (path / "data-00000-of-00001.arrow").write_bytes(b"someone's own data")
    else:
        path.parent.mkdir(parents=True)
        path.write_bytes(b"{}")
    before = snapshot(out)
    result = run(spec, out)
    assert result.exit_code == EXIT_INPUT_ERROR, result.output
    assert "holds what this run would replace, which dsc did not write; nothing was read or written" in result.output
    assert says in result.output.replace("\n", "")
    assert snapshot(out) == {**before, ".dsc-lock": b""}  # the lock file, and nothing else


def test_what_dsc_wrote_is_replaced_by_its_manifest_or_its_record(tmp_path):
    spec, out = project(tmp_path), tmp_path / "out"
    assert run(spec, out).exit_code == 0
    first = snapshot(out)
    verified(out)
    # A folder written before `.dsc-owned` existed: its manifest decides.
    (out / ".dsc-owned").unlink()
    (out / ".dsc-lock").unlink()
    assert run(spec, out).exit_code == 0
    assert snapshot(out) == first
    # A run killed after it removed the manifest: the record decides.
    (out / "manifest.json").unlink()
    assert run(spec, out).exit_code == 0
    assert snapshot(out) == first
    # An export that was a file becomes a folder, and a folder a file: both were dsc's.
    spec.write_text(spec_text(exports='export jsonl "disk/{split}"\nexport hf_disk "train.jsonl/{split}"\n'))
    result = run(spec, out)
    assert result.exit_code == 0, result.output
    assert (out / "disk" / "train").is_file() and (out / "train.jsonl" / "train").is_dir()
    verified(out)


def test_task_files_are_staged_and_listed_like_every_output(tmp_path):
    spec, out = project(tmp_path, exports=EXPORTS + 'export jsonl "t/{split}.jsonl" template "t.j2"\n'), tmp_path / "out"
    (tmp_path / "t.j2").write_text("{{ missing }}", encoding="utf-8")
    result = run(spec, out)  # fails while writing, after the annotation stage made its task list
    assert result.exit_code == EXIT_INPUT_ERROR and "uses 'missing', which the data lacks" in result.output
    assert not (out / "todo.jsonl").exists() and not (out / "todo.json").exists()
    (tmp_path / "t.j2").write_text("{{ prompt }}", encoding="utf-8")
    assert run(spec, out).exit_code == 0
    outputs = verified(out)["outputs"]
    assert {"todo.jsonl", "todo.json"} <= set(outputs) and outputs["todo.jsonl"]["bytes"] > 0


# --- what a spec may name as outputs -----------------------------------------------------------

@pytest.mark.parametrize("exports, splits, says", [
    ('export hf_disk "x/{split}"\nexport jsonl "x/{split}/state.json"', SPLITS,
     "export path 'x/{split}/state.json' is not allowed: for split 'train' it gives 'x/train/state.json': "
     "it is inside 'x/train', which line 30 writes as a folder"),
    ('export jsonl "{split}.jsonl"', "train 0.8\n  kept 0.2",
     "for split 'kept' it gives 'kept.jsonl': 'kept.jsonl' is one of the run's own outputs"),
    ('export jsonl "{split}.jsonl"\nexport parquet "./{split}.jsonl"', SPLITS,
     "for split 'train' it gives 'train.jsonl': line 30 writes 'train.jsonl' too"),
    ('export jsonl "' + "é" * 128 + '/{split}.jsonl"', SPLITS, "is 256 bytes long; a file name holds at most 255"),
    ('export jsonl "todo.json"', None, "writes 'todo.json' too"),  # the task file's other form
])
def test_outputs_that_meet_are_refused_by_check_and_before_the_run(tmp_path, exports, splits, says):
    spec, out = project(tmp_path), tmp_path / "out"
    assert run(spec, out).exit_code == 0
    before = snapshot(out)
    spec.write_text(spec_text(exports=exports, splits=splits))
    checked = runner.invoke(app, ["check", str(spec)])
    assert checked.exit_code == EXIT_SPEC_ERROR and says in checked.output.replace("\n", "")
    assert f"{spec}:" in checked.output and "error[DSC218]" in checked.output
    assert run(spec, out).exit_code == EXIT_SPEC_ERROR
    # A plan that skipped the checks is refused before the run reads anything, too.
    unchecked = compile_spec(parse(SourceFile(str(spec), spec.read_text()))[0])
    with pytest.raises(RunError) as err:
        run_plan(unchecked, tmp_path, out)
    assert err.value.exit_code == EXIT_SPEC_ERROR and says in str(err.value)
    assert snapshot(out) == before and verified(out)


def test_an_empty_output_folder_is_a_usage_error(tmp_path, monkeypatch):
    spec = project(tmp_path / "p")
    monkeypatch.chdir(tmp_path)
    result = run(spec, "")
    assert result.exit_code == EXIT_USAGE and "--out" in result.output and "empty path" in result.output
    assert sorted(p.name for p in tmp_path.iterdir()) == ["p"]


# --- one run at a time -----------------------------------------------------------------------

def _dsc_run(spec: Path, out: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "dsc", "run", str(spec), "--out", str(out)], cwd=REPO,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)


def test_a_run_on_a_locked_folder_stops_at_once(tmp_path):
    spec, out = project(tmp_path), tmp_path / "out"
    out.mkdir()
    with open(out / ".dsc-lock", "w") as held:
        fcntl.flock(held, fcntl.LOCK_EX)
        proc = _dsc_run(spec, out)
        _, err = proc.communicate(timeout=120)
    assert proc.returncode == EXIT_INPUT_ERROR, err.decode()
    assert f"{out}/ is in use by another dsc run, which holds {out}/.dsc-lock" in err.decode()
    assert snapshot(out) == {".dsc-lock": b""}


@pytest.mark.slow
def test_the_second_of_two_runs_stops_and_the_first_finishes(tmp_path):
    """Real processes, the first held inside its run (its annotation file is a pipe it waits on)
    while the second starts: on a fresh folder, then over a complete one."""
    spec, out = project(tmp_path), tmp_path / "out"
    labels = (tmp_path / "labels.jsonl").read_bytes()
    (tmp_path / "labels.jsonl").unlink()
    os.mkfifo(tmp_path / "labels.jsonl")
    for _ in range(2):
        first = _dsc_run(spec, out)
        deadline = time.monotonic() + 120
        while not (out / ".dsc-staging").exists() and first.poll() is None and time.monotonic() < deadline:
            time.sleep(0.02)
        second = _dsc_run(spec, out)
        _, err = second.communicate(timeout=120)
        assert first.poll() is None  # the first still holds the folder: the second did not wait for it
        assert second.returncode == EXIT_INPUT_ERROR and "is in use by another dsc run" in err.decode()
        with open(tmp_path / "labels.jsonl", "wb") as pipe:
            pipe.write(labels)
        _, err = first.communicate(timeout=120)
        assert first.returncode == 0, err.decode()
        verified(out)


@pytest.mark.slow
def test_runs_started_together_never_break_the_folder(tmp_path):
    spec = project(tmp_path)
    outcomes = []
    for pair in range(3):
        out = tmp_path / f"out{pair}"
        procs = [_dsc_run(spec, out) for _ in range(2)]
        results = [(p.communicate(timeout=180)[1].decode(), p.returncode)[::-1] for p in procs]
        codes = sorted(code for code, _ in results)
        outcomes.append(tuple(codes))
        assert codes in ([0, 0], [0, EXIT_INPUT_ERROR]), results  # never an internal error
        assert all("is in use by another dsc run" in err for code, err in results if code)
        verified(out)
    print(f"\npairs started together (exit codes): {outcomes}")
