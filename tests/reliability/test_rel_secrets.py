"""Secrets: the API key named by `key_env` reaches the endpoint's Authorization header and nowhere
else — not an output file, the manifest, stats, the report, the cache, stdout or stderr — even when
the endpoint echoes it back, refuses it (401) or rejects requests (400), and with DSC_DEBUG=1.

`dsc run` runs as a real subprocess (its true stdout and stderr) against the loopback server of
tests/augment/aug_support.py.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "augment"))  # aug_support's folder
from aug_support import ChatServer  # noqa: E402

ENV = "DSC_REL_SECRET_KEY"
WORDS = "alpha bravo charlie delta echo foxtrot golf hotel india juliet kilo lima".split()


def _project(tmp: Path, url: str) -> Path:
    rows = [{"id": f"t{i}", "prompt": " ".join(WORDS[(i + k) % len(WORDS)] for k in range(5)) + "?",
             "answer": f"answer {i}"} for i in range(24)]
    (tmp / "rows.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    spec = tmp / "aug.dspec"
    spec.write_text(
        "dataset aug version 1 {\n  seed 5\n  locale en_US\n}\n\n"
        'source rows {\n  files "rows.jsonl"\n  key id\n}\n\n'
        "schema {\n  id : string required\n  prompt : text required\n  answer : text\n}\n\n"
        "split by id {\n  train 0.8\n  validation 0.2\n}\n\n"
        "augment train {\n"
        f'  paraphrase prompt ratio 0.5 endpoint "{url}" model "fake" key_env {ENV} concurrency 2\n'
        "}\n\n"
        'export jsonl "{split}.jsonl"\n', encoding="utf-8")
    return spec


def _run(spec: Path, out: Path, key: str, url: str, debug: bool = False) -> subprocess.CompletedProcess:
    env = dict(os.environ, **{ENV: key})
    env.pop("DSC_DEBUG", None)
    if debug:
        env["DSC_DEBUG"] = "1"
    return subprocess.run([sys.executable, "-m", "dsc", "run", str(spec), "--out", str(out),
                           "--allow-endpoint", f"{url}#{ENV}"], env=env,
                          capture_output=True, timeout=120)


def _leaks(key: str, out: Path, proc: subprocess.CompletedProcess) -> list[str]:
    found = [str(p) for p in out.rglob("*") if p.is_file() and key.encode() in p.read_bytes()]
    found += [name for name, text in (("stdout", proc.stdout), ("stderr", proc.stderr)) if key.encode() in text]
    return found


@pytest.mark.parametrize("scenario", ["echo-key", "refused-401", "rejected-400-debug"])
def test_the_key_appears_in_no_output_log_or_message(scenario, tmp_path):
    key = f"sk-rel-{uuid.uuid4().hex}"
    with ChatServer() as server:
        spec = _project(tmp_path, server.url)
        if scenario == "echo-key":
            server.plan.extend(["echo-key"] * 6)
        elif scenario == "refused-401":
            server.plan.append(401)
        else:
            server.plan.extend([400, "echo-key", 400])
        proc = _run(spec, tmp_path / "out", key, server.url, debug=scenario.endswith("debug"))
        assert server.auth and set(server.auth) == {f"Bearer {key}"}  # the key did reach the endpoint
    if scenario == "refused-401":
        assert proc.returncode == 4 and b"refused the API key" in proc.stderr + proc.stdout
    else:
        assert proc.returncode == 0, proc.stderr.decode()[-2000:]
        assert (tmp_path / "out" / "manifest.json").exists()
        names = {p.name for p in (tmp_path / "out").iterdir()}
        assert {"stats.json", "report.md", "report.html", "kept.jsonl", "augment_rejects.jsonl"} <= names
    assert not _leaks(key, tmp_path, proc), _leaks(key, tmp_path, proc)
