"""Hub and model ids: a hub id or a folder inside the project, nothing else (dsc.checks.hub_ids)."""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dsc.checks import CheckContext
from dsc.checks.hub_ids import check_hub_ids
from dsc.diagnostics import render
from dsc.hub_ids import model_id_problem, repo_id_problem
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

HEAD = "dataset demo version 1 {\n  seed 1\n}\n"


def hub(dataset_id: str) -> str:
    return HEAD + f'source h {{\n  hub "{dataset_id}" revision "r"\n}}\n'


def using(ref: str) -> str:
    return HEAD + f'augment train {{\n  paraphrase q ratio 0.5 using "{ref}"\n}}\n'


def base(ref: str) -> str:
    return HEAD + f'finetune full {{\n  base "{ref}"\n}}\n'


def found(text: str, base_dir: Path | None) -> list[tuple[str, str]]:
    spec, syntax = parse(SourceFile("t.dspec", text))
    assert spec is not None, syntax
    return [(d.code, d.message) for d in check_hub_ids(spec, CheckContext(base_dir=base_dir))]


@pytest.fixture
def project(tmp_path) -> Path:
    (tmp_path / "dsc.toml").write_text("", encoding="utf-8")
    (tmp_path / "data" / "local_ds").mkdir(parents=True)
    (tmp_path / "models" / "t5").mkdir(parents=True)
    return tmp_path


@pytest.mark.parametrize("text, expected", [
    (hub("org/name"), []),
    (hub("data/local_ds"), []),
    (hub("secret_ds"), [("DSC209", "hub dataset 'secret_ds' is neither a hub id nor a folder in the project: "
                                   "a hub id is owner/name")]),
    (hub("a/b/c"), [("DSC209", "hub dataset 'a/b/c' is neither a hub id nor a folder in the project: "
                               "a hub id is owner/name")]),
    (hub("http://203.0.113.9/x"), [("DSC209", "hub dataset 'http://203.0.113.9/x' is neither a hub id nor a "
                                              "folder in the project: a hub id is owner/name")]),
    (hub("org/na--me"), [("DSC209", "hub dataset 'org/na--me' is neither a hub id nor a folder in the project: "
                                    "Cannot have -- or .. in repo_id: 'org/na--me'.")]),
    (hub("/etc"), [("DSC218", "hub dataset '/etc' is not allowed: it is absolute")]),
    (hub("../../x/y"), [("DSC218", "hub dataset '../../x/y' is not allowed: it leaves the project with '..'")]),
    (hub("a" * 5000), [("DSC209", f"hub dataset '{'a' * 5000}' is neither a hub id nor a folder in the project: "
                                  "a hub id is owner/name")]),
    (using("models/t5"), []),
    (using("models/not-yet-there"), []),  # a folder: the run says whether it holds a model
    (using("models/opus-mt-{src}-{tgt}"), []),
    (using("Helsinki-NLP/opus-mt-{src}-{tgt}@main"), []),
    (using("org/t5@0123abc"), []),
    (using("t5@0123abc"), [("DSC209", "model 't5@0123abc' is not a hub id at a revision: a hub id is owner/name")]),
    (using("org/t5@"), [("DSC209", "model 'org/t5@' is not a hub id at a revision: it names no revision after '@'")]),
    (using("~/models/t5"), [("DSC218", "model path '~/models/t5' is not allowed: it is absolute")]),
    (base("org/tiny@main"), []),
    (base("models/t5"), []),
    (base("secret@main"), [("DSC209", "base model 'secret@main' is not a hub id at a revision: "
                                      "a hub id is owner/name")]),
    (base("../../elsewhere"), [("DSC218", "base model path '../../elsewhere' is not allowed: "
                                          "it leaves the project with '..'")]),
])
def test_an_id_is_a_hub_id_or_a_folder_in_the_project(project, text, expected):
    assert found(text, project) == expected


def test_a_symlink_out_of_the_project_is_refused(project, tmp_path_factory):
    outside = tmp_path_factory.mktemp("outside")
    (outside / "name").mkdir()
    os.symlink(outside, project / "org")
    assert found(hub("org/name"), project) == [
        ("DSC218", "hub dataset 'org/name' is not allowed: a symlink leads it out of the project")]
    assert found(base("org/name"), project) == [
        ("DSC218", "base model path 'org/name' is not allowed: a symlink leads it out of the project")]


def test_without_the_spec_folder_no_folder_is_looked_for():
    assert found(hub("secret_ds"), None) == []
    assert found(using("t5@0123abc"), None) == []
    assert found(hub("/etc"), None) == [("DSC218", "hub dataset '/etc' is not allowed: it is absolute")]


def test_the_diagnostic_points_at_the_id_with_a_hint(project):
    source = SourceFile("t.dspec", hub("secret_ds"))
    spec, _ = parse(source)
    (diag,) = check_hub_ids(spec, CheckContext(base_dir=project))
    assert render(diag, source).splitlines()[0] == (
        "t.dspec:5:7: error[DSC209]: hub dataset 'secret_ds' is neither a hub id nor a folder in the project: "
        "a hub id is owner/name")
    assert 'hint: write a hub dataset as "owner/name", or name a folder relative to the spec\'s folder' \
        in render(diag, source)


def test_repo_id_problem():
    assert repo_id_problem("tatsu-lab/alpaca") is None
    assert repo_id_problem("json") == "a hub id is owner/name"  # a builder's name: it reads the working directory
    for bad in ("org/", "/name", "org/name.git", "org/ünï", "./x", "org/name@main"):
        assert repo_id_problem(bad) is not None, bad


def test_model_id_problem():
    assert model_id_problem("org/tiny@main") is None
    assert model_id_problem("org/tiny") == "it names no revision (owner/name@revision)"
