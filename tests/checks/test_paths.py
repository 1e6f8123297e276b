from pathlib import Path

import pytest

from dsc.paths import unsafe

SCHEMA = "schema {\n  name : string\n  c : label {a, b}\n}\n"


@pytest.mark.parametrize("path, why", [
    ("data/*.jsonl", None),
    ("data/x..y.jsonl", None),
    ("/etc/passwd", "it is absolute"),
    ("\\\\server\\share\\x", "it is absolute"),
    ("C:\\data\\x.csv", "it is absolute"),
    ("c:/data", "it is absolute"),
    ("~/x", "it is absolute"),
    ("../data/x.jsonl", None),
    ("..", None),
    ("a/../../../b", "it leaves the project with '..'"),
    ("..\\..\\b", "it leaves the project with '..'"),
    ("", "it is empty"),
])
def test_unsafe(path, why):
    # the spec is in /p/specs and the project is /p
    assert unsafe(path, Path("/p/specs"), Path("/p")) == why


def test_dotdot_is_not_judged_without_the_spec_folder():
    assert unsafe("../../../x") is None


def test_every_referenced_path_is_checked(diags, tmp_path: Path):
    text = 'source b {\n  files "../x.jsonl"\n}\n' + SCHEMA + """\
clean {
  dedupe fuzzy on name pairs "/p.json"
}
annotate c {
  from "../a.jsonl"
  tasks "/t.jsonl"
}
split by name {
  train 1
}
augment train {
  paraphrase name ratio 0.1 endpoint "http://h" model "m" template "/t.j2"
}
export jsonl "/out/{split}.jsonl" template "../t.j2"
"""
    found = [d for d in diags(text, base_dir=tmp_path) if d.code == "DSC218"]
    assert [d.message.split(" '")[0] for d in found] == [
        "file pattern", "labelled-pairs file", "annotation file", "task file", "prompt template", "export path",
        "export template"]
    assert found[0].hint.startswith("paths resolve inside the project")


def test_files_read_at_compile_time_must_exist_when_the_folder_is_known(diags, tmp_path: Path):
    (tmp_path / "pairs.json").write_text("[]")
    text = SCHEMA + """\
clean {
  dedupe fuzzy on name pairs "pairs.json"
  dedupe fuzzy on name pairs "nope.json"
}
annotate c {
  from "nope.jsonl"
  tasks "later.jsonl"
}
export jsonl "out/all.jsonl" template "nope.j2"
"""
    found = diags(text, base_dir=tmp_path)
    assert [(d.code, d.message) for d in found] == [
        ("DSC211", "labelled-pairs file 'nope.json' does not exist"),
        ("DSC212", "annotation file 'nope.jsonl' does not exist"),
        ("DSC212", "export template 'nope.j2' does not exist"),
    ]
    assert diags(text) == []  # without a folder, nothing is looked up


def test_a_symlink_out_of_the_project_is_refused_where_it_is_read(diags, tmp_path: Path):
    project, outside = tmp_path / "p", tmp_path / "outside"
    (project / "in").mkdir(parents=True)
    outside.mkdir()
    (outside / "secret.json").write_text("[]")
    (project / "in" / "t.j2").write_text("{{ name }}")
    (project / "dsc.toml").write_text("")
    for name, target in [("pairs.json", outside / "secret.json"), ("a.jsonl", outside / "secret.json"),
                         ("d.jsonl", outside / "secret.json"), ("up", outside), ("t.j2", project / "in" / "t.j2"),
                         ("out.jsonl", outside / "secret.json")]:
        (project / name).symlink_to(target)
    text = 'source b {\n  files "d.jsonl", "up/*.json"\n}\n' + SCHEMA + """\
clean {
  dedupe fuzzy on name pairs "up/secret.json"
  dedupe fuzzy on name pairs "pairs.json"
}
annotate c {
  from "a.jsonl"
}
export jsonl "out.jsonl" template "t.j2"
"""
    found = [(d.code, d.message) for d in diags(text, base_dir=project)]
    out = "is not allowed: a symlink leads it out of the project"
    assert found == [("DSC218", f"file pattern 'd.jsonl' {out}"),
                     ("DSC218", f"labelled-pairs file 'up/secret.json' {out}"),
                     ("DSC218", f"labelled-pairs file 'pairs.json' {out}"), ("DSC218", f"annotation file 'a.jsonl' {out}")]
    # a glob's matches are a run-time matter (listing a folder is reading it); a link inside the
    # project is fine; an export path is written under the output folder, not the spec's
