"""Untrusted specs: `dsc check`, `compile`, `explain`, `fmt` and `diff` open no network connection,
read no data file, label file, template or model, and follow no path out of the project.

Each command runs in-process under an audit hook (`rel_support.Watch`) that records every file
opened for reading, every folder listed and every socket event. Allowed reads: the spec files
given on the command line (and a plan JSON given to `diff`) and library code/package data.
Existence checks of pairs, annotation and template files are `stat`s, which open nothing.
"""
from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import pytest
from rel_support import Watch, library_roots, outside
from typer.testing import CliRunner

from dsc.commands import app

REPO = Path(__file__).resolve().parents[2]
SPECS = sorted((REPO / "specs").glob("*.dspec"))
runner = CliRunner()

# A valid spec that names everything a run would reach: data files (a glob matching a symlink to
# /etc/passwd: only a run lists the folder, and refuses it, see tests/engines/test_permissions.py),
# a hub dataset, a labelled-pairs file, a local model, an endpoint on a link-local metadata address
# with a key from the environment, prompt and export templates.
HOSTILE_OK = """\
dataset evil version 1 {
  seed 5
  locale en_US
}

source rows {
  files "data.jsonl", "data/*.jsonl"
}

source remote {
  hub "org/name" split train revision "0123abcd"
}

schema {
  prompt : text required
  answer : text
}

clean {
  dedupe fuzzy on prompt threshold 0.8 pairs "pairs.json"
}

split by prompt {
  train 0.8
  validation 0.2
}

augment train {
  paraphrase prompt ratio 0.5 endpoint "http://169.254.169.254:80/v1" model "fake" key_env HOME template "t.j2"
  paraphrase answer ratio 0.5 using "models/tiny"
}

export jsonl "{split}.jsonl" template "t.j2"
"""

# A spec whose every path points out of the project (each one a DSC218 diagnostic).
HOSTILE_BAD = """\
dataset evil version 1 {
  seed 5
}

source a {
  files "/etc/passwd", "../../../../../../etc/passwd", "~/.ssh/id_rsa", "link.jsonl"
}

source h {
  hub "http://203.0.113.9/x" revision "r"
}

schema {
  prompt : text required
}

clean {
  dedupe fuzzy on prompt pairs "/etc/shadow"
}

split by prompt {
  train 1
}

augment train {
  paraphrase prompt ratio 0.5 endpoint "http://169.254.169.254/latest/meta-data" model "m" key_env AWS_SECRET_ACCESS_KEY template "/etc/passwd"
}

annotate labels {
  from "../../../../../../etc/passwd" format long
}

export jsonl "/etc/cron.d/x" template "../../../../../../etc/passwd"
"""


@pytest.fixture(scope="module")
def project(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("untrusted")
    (root / "pyproject.toml").write_text("", encoding="utf-8")  # the project root for the path checks
    (root / "data.jsonl").write_text('{"prompt": "a", "answer": "b"}\n', encoding="utf-8")
    (root / "data").mkdir()
    (root / "data" / "x.jsonl").write_text('{"prompt": "c"}\n', encoding="utf-8")
    os.symlink("/etc/passwd", root / "link.jsonl")
    os.symlink("/etc/passwd", root / "data" / "link.jsonl")
    (root / "pairs.json").write_text("[]", encoding="utf-8")
    (root / "t.j2").write_text("{{ prompt }}", encoding="utf-8")
    (root / "models" / "tiny").mkdir(parents=True)
    (root / "models" / "tiny" / "config.json").write_text("{}", encoding="utf-8")
    (root / "ok.dspec").write_text(HOSTILE_OK, encoding="utf-8")
    (root / "bad.dspec").write_text(HOSTILE_BAD, encoding="utf-8")
    specs = root / "specs"
    specs.mkdir()
    for spec in SPECS:  # copies, so that `fmt` may rewrite them; their data paths then lead nowhere
        shutil.copy(spec, specs / spec.name)
    return root


def _commands(project: Path) -> list[tuple[list[str], set[Path]]]:
    """(argv, the files it may read) for every command over every spec, real and hostile."""
    specs = [project / "ok.dspec", project / "bad.dspec"] + sorted((project / "specs").glob("*.dspec"))
    specs += SPECS  # the originals in place: their data paths exist there
    out = []
    for spec in specs:
        allowed = {spec.resolve()}
        out += [(["check", str(spec)], allowed), (["compile", str(spec)], allowed),
                (["explain", str(spec)], allowed), (["fmt", "--check", str(spec)], allowed),
                (["diff", str(spec), str(project / "ok.dspec")], allowed | {(project / "ok.dspec").resolve()})]
    out.append((["check", *map(str, SPECS)], {s.resolve() for s in SPECS}))
    # fmt that rewrites (the copies only)
    out += [(["fmt", str(s)], {s.resolve()}) for s in sorted((project / "specs").glob("*.dspec"))]
    return out


def test_static_commands_open_no_socket_and_read_no_data(project):
    roots = library_roots()
    checked = 0
    for argv, allowed in _commands(project):
        with Watch() as watch:
            result = runner.invoke(app, argv, catch_exceptions=True)
        assert result.exit_code in (0, 2, 4), (argv, result.output, result.exception)
        assert not watch.network, (argv, watch.network)
        unexpected = [p for p in outside(watch.reads, roots) if Path(p).resolve() not in allowed]
        assert not unexpected, (argv, unexpected)
        assert any(Path(p).resolve() in allowed for p in watch.reads), (argv, "the spec itself was not seen")
        # No glob of the data is expanded: nothing in the project (or /etc) is listed.
        # (the import system lists the folders on sys.path; those are not data)
        imports = {Path(p or ".").resolve() for p in sys.path}
        listed = [p for p in outside(watch.listings, roots) if Path(p).resolve() not in imports]
        assert not listed, (argv, listed)
        checked += 1
    assert checked >= 5 * (2 + 2 * len(SPECS))


def test_hostile_specs_fail_with_path_diagnostics_not_reads(project):
    result = runner.invoke(app, ["check", str(project / "bad.dspec")])
    assert result.exit_code == 2
    # every escaping path is a diagnostic (absolute, '~', '..', a symlink out, a hub id is not a path)
    assert result.output.count("DSC218") >= 8, result.output
    assert "file pattern 'link.jsonl' is not allowed: a symlink leads it out of the project" in result.output
    assert "root:" not in result.output  # nothing of /etc/passwd is shown
    ok = runner.invoke(app, ["check", str(project / "ok.dspec")])
    assert ok.exit_code == 0, ok.output


def test_a_plan_json_given_to_diff_is_the_only_other_file_read(project, tmp_path):
    plan = tmp_path / "ok.plan.json"
    compiled = runner.invoke(app, ["compile", str(project / "ok.dspec"), "-o", str(plan)])
    assert compiled.exit_code == 0, compiled.output
    with Watch() as watch:
        result = runner.invoke(app, ["diff", str(plan), str(project / "ok.dspec")])
    assert result.exit_code == 0, result.output
    assert not watch.network
    unexpected = [p for p in outside(watch.reads, library_roots())
                  if Path(p).resolve() not in {plan.resolve(), (project / "ok.dspec").resolve()}]
    assert not unexpected, unexpected


def test_the_watch_does_see_reads_and_sockets(tmp_path):
    """The audit hook is not blind: a data read and a socket are recorded."""
    import socket

    (tmp_path / "d.jsonl").write_text("{}\n")
    with Watch() as watch:
        (tmp_path / "d.jsonl").read_text()
        socket.socket().close()
        os.listdir(tmp_path)
    assert str(tmp_path / "d.jsonl") in watch.reads
    assert any(e == "socket.__new__" for e, _ in watch.network)
    assert str(tmp_path) in watch.listings
