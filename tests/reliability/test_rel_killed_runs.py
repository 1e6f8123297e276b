"""Killed runs: `python -m dsc run` SIGKILLed at points spread over a run leaves no file that looks
complete but is not, and a rerun finishes with the same bytes as an uninterrupted run.

Kill points are of two kinds:
- **events**: the run is started through a small wrapper that counts its file-system steps in the
  output folder (each file opened for writing, each write of an output file — killed after half of
  it is on disk —, each rename, removal and folder creation) and SIGKILLs itself at step N. A
  counting run gives the number of steps; N is spread over all of them, for a cold run (no cache)
  and for a rerun over a complete folder (cached stages, outputs replaced).
- **time**: plain `python -m dsc run` killed after a delay spread over a cold run's duration.

After every kill: either there is no `manifest.json`, or it parses and every output it lists
exists with the sha256 and size it states, no listed output is a staging, temp or moved-aside
file, and no file outside `.dsc-cache/` and `.dsc-staging/` is present that the manifest does not
list, but the folder's lock and dsc's record of what it wrote there (`.dsc-lock`, `.dsc-owned`). The kill
points and what each left are printed (`pytest -s`) and recorded in docs/reliability.md.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
SPEC = REPO / "specs" / "code_alpaca.dspec"  # 2k rows; replaced by the copy below for these tests


@pytest.fixture(scope="module", autouse=True)
def _spec_without_finetune(tmp_path_factory):
    """code_alpaca.dspec without its finetune block, beside a copy of its data: the fine-tuning
    comparison writes no file of its own, so it adds no kill point, only seconds per run (it
    imports transformers); a whole run then takes about a second here."""
    global SPEC
    root = tmp_path_factory.mktemp("killed")
    (root / "dsc.toml").write_text("", encoding="utf-8")
    (root / "specs").mkdir()
    (root / "examples" / "data").mkdir(parents=True)
    shutil.copy(REPO / "examples" / "data" / "code_alpaca_2k.json", root / "examples" / "data")
    shutil.copytree(REPO / "examples" / "evals", root / "examples" / "evals")  # its decontaminate rule's eval set
    text = SPEC.read_text(encoding="utf-8")
    (root / "specs" / SPEC.name).write_text(text[:text.index("\nfinetune ")].rstrip() + "\n", encoding="utf-8")
    SPEC = root / "specs" / SPEC.name

WRAPPER = r'''
import atexit, os, signal, sys
kill_at, out, count_file = int(sys.argv[1]), os.path.abspath(sys.argv[2]), sys.argv[3]
steps = 0

def step():
    global steps
    steps += 1
    if steps == kill_at:
        os.kill(os.getpid(), signal.SIGKILL)

def inside(path):
    return not isinstance(path, int) and os.path.abspath(os.fsdecode(path)).startswith(out)

def hook(event, args):
    if event in ("os.rename", "os.remove", "os.rmdir", "shutil.rmtree", "os.mkdir") and inside(args[0]):
        step()
    elif event == "open" and inside(args[0]) and ((isinstance(args[1], str) and set(args[1]) & set("wax+"))
                                                    or (isinstance(args[2], int) and args[2] & (os.O_WRONLY | os.O_RDWR))):
        step()

import dsc.engines.outputs as outputs
_write = outputs._HashingFile.write

def write(self, data):
    data = bytes(data)
    half = len(data) // 2
    _write(self, data[:half])
    self._fh.flush()
    step()  # a kill here leaves half of this write on disk
    _write(self, data[half:])
    return len(data)

outputs._HashingFile.write = write
atexit.register(lambda: open(count_file, "w").write(str(steps)))
sys.addaudithook(hook)
sys.argv = ["dsc", "run", sys.argv[4], "--out", out]
from dsc.commands import main
main()
'''


def _run(out: Path, kill_at: int = 0, tmp: Path | None = None) -> tuple[int, int]:
    """Run through the wrapper, killed at step `kill_at` (0: never); (return code, steps counted)."""
    count = (tmp or out.parent) / "steps.txt"
    count.unlink(missing_ok=True)
    proc = subprocess.run([sys.executable, "-c", WRAPPER, str(kill_at), str(out), str(count), str(SPEC)],
                          capture_output=True, cwd=REPO, timeout=120)
    if kill_at == 0:
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
    return proc.returncode, int(count.read_text()) if count.exists() else -1


def _tree(out: Path) -> dict[str, bytes]:
    """Every file under `out` but the cache, by relative path."""
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*"))
            if p.is_file() and ".dsc-cache" not in p.relative_to(out).parts}


LEFTOVER = re.compile(r"(^|/)\.[^/]+\.(tmp|old)-\d+$")  # replace_bytes' and _place's hidden temp names


def _outputs(out: Path) -> dict[str, bytes]:
    """`_tree` without hidden temp files a killed run left (see the xfail test below)."""
    return {k: v for k, v in _tree(out).items() if not LEFTOVER.search(k)}


def _consistent(out: Path) -> str:
    """Check the invariants of a (possibly killed) run's folder; describe what it holds."""
    if not out.exists():
        return "no output folder"
    present = set(_tree(out))
    staging = "staging left" if (out / ".dsc-staging").exists() else "no staging"
    if not (out / "manifest.json").exists():
        return f"no manifest, {len(present)} files, {staging}"
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))  # never half-written
    listed = manifest["outputs"]
    for name, entry in listed.items():
        assert ".dsc-staging" not in name and ".tmp-" not in name and ".old-" not in name, name
        data = (out / name).read_bytes()
        assert hashlib.sha256(data).hexdigest() == entry["sha256"] and len(data) == entry["bytes"], name
    # The staging folder of a rerun may sit beside the previous run's manifest (which stays valid
    # until the new files are staged); nothing else may.
    # (A killed run's hidden temp files are an xfail below, kept out of this check.)
    stray = {p for p in present - set(listed) - {"manifest.json", ".dsc-lock", ".dsc-owned"}
             if not p.startswith(".dsc-staging/") and not LEFTOVER.search(p)}
    assert not stray, f"files the manifest does not list: {sorted(stray)}"
    return f"manifest, {len(listed)} outputs verified, {staging}"


def _spread(total: int, n: int) -> list[int]:
    """`n` step numbers spread over 1..total (all of them when there are fewer)."""
    if total <= n:
        return list(range(1, total + 1))
    return sorted({1 + round(i * (total - 1) / (n - 1)) for i in range(n)})


@pytest.mark.slow
def test_sigkill_at_spread_points_then_rerun_gives_identical_bytes(tmp_path):
    reference = tmp_path / "reference"
    began = time.monotonic()
    _, cold_steps = _run(reference)
    cold = time.monotonic() - began
    _consistent(reference)
    expected = _tree(reference)
    log = []

    # Cold: each kill on top of the outputs and staging the previous one left (its cache removed, so
    # the step numbers hold), then one more kill while stage results are being cached, and finish
    # over what that left (a cache entry may be half-saved).
    out = tmp_path / "killed"
    points = _spread(cold_steps, 7)
    for n in points:
        shutil.rmtree(out / ".dsc-cache", ignore_errors=True)
        code, _ = _run(out, n)
        log.append((f"cold step {n}/{cold_steps}", code, _consistent(out)))
    shutil.rmtree(out / ".dsc-cache", ignore_errors=True)
    code, _ = _run(out, points[1] + 1)
    log.append((f"cold step {points[1] + 1}/{cold_steps}", code, _consistent(out)))
    _, warm_steps = _run(out)
    assert _outputs(out) == expected

    # A rerun over a complete folder: cached stages, every output replaced.
    for n in _spread(warm_steps, 5):
        code, _ = _run(out, n)
        log.append((f"rerun step {n}/{warm_steps}", code, _consistent(out)))
    _run(out)
    assert _outputs(out) == expected

    # Plain `python -m dsc run`, killed after delays spread over a cold run, in a fresh folder.
    fresh = tmp_path / "timed"
    rng = random.Random(12)
    for i in range(3):
        delay = cold * (i + rng.random()) / 3
        proc = subprocess.Popen([sys.executable, "-m", "dsc", "run", str(SPEC), "--out", str(fresh)],
                                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO)
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
        log.append((f"time {delay:.3f}s of {cold:.3f}s", proc.wait(timeout=60), _consistent(fresh)))
    _run(fresh)
    assert _outputs(fresh) == expected

    leftovers = sorted(k for d in (out, fresh) for k in _tree(d) if LEFTOVER.search(k))
    print(f"\nhidden temp files left after the reruns: {leftovers}")
    for where, code, what in log:
        print(f"  kill at {where}: rc {code}; {what}")
    assert sum(code == -signal.SIGKILL for _, code, _ in log) >= 12


@pytest.mark.slow
def test_a_rerun_leaves_no_temp_file_of_a_killed_run(tmp_path):
    out = tmp_path / "out"
    _run(out)
    _, steps = _run(out)  # a warm rerun's steps: its last ones write and rename the manifest
    reference = _tree(out)
    for kill_at in range(steps - 2, steps + 1):
        code, _ = _run(out, kill_at)
        assert code == -signal.SIGKILL
        _run(out)
        assert _tree(out) == reference  # hidden temp files included: none may be left behind
