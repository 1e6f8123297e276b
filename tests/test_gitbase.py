"""`dsc.gitbase.materialize`: a spec as of a git revision, with what it reads, in a temporary mirror
of the repository — tried on throwaway repositories (commit, change, ask for HEAD~1)."""
from __future__ import annotations

import hashlib
import os
import subprocess
from pathlib import Path

import pytest

from dsc.api import compile_file
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_SPEC_ERROR
from dsc.gitbase import FROM_REF, FROM_WORKTREE, GitBaseError, SpecNotAtRef, _match, materialize

SPEC = """\
dataset t version 1 {
  seed 1
}

source s {
  files "../data/*.jsonl"
}

schema {
  prompt : text required
  label  : label {a, b}
}

clean {
  dedupe fuzzy on prompt pairs "../labels/pairs.json" threshold 0.5
}

annotate label {
  from "../ann/label.jsonl" format long
}

export jsonl "{split}.jsonl" template "../templates/t.j2"
"""


@pytest.fixture(autouse=True)
def _quiet_git(monkeypatch, tmp_path):
    """git without the machine's configuration, and a tidy identity for the commits."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    for name in ("GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE"):
        monkeypatch.delenv(name, raising=False)
    for who in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{who}_NAME", "t")
        monkeypatch.setenv(f"GIT_{who}_EMAIL", "t@example.com")


def git(repo: Path, *args: str) -> str:
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True).stdout


def write(repo: Path, files: dict[str, str]) -> None:
    for name, text in files.items():
        (repo / name).parent.mkdir(parents=True, exist_ok=True)
        (repo / name).write_text(text, encoding="utf-8")


def commit(repo: Path, message: str = "c") -> None:
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "--no-gpg-sign", "-m", message)


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    """A repository whose first commit has specs/t.dspec and everything it reads (data tracked)."""
    root = tmp_path / "project"
    root.mkdir()
    git(root, "init", "-q")
    write(root, {"specs/t.dspec": SPEC, "data/a.jsonl": '{"prompt": "old", "label": "a"}\n',
                 "labels/pairs.json": "[]\n", "ann/label.jsonl": '{"id": "1", "annotator": "u", "label": "a"}\n',
                 "ann/label.annotators.csv": "annotator,role\nu,expert\n", "templates/t.j2": "{{ prompt }}\n",
                 "README.md": "not read\n"})
    commit(root, "one")
    return root


def state(repo: Path) -> tuple[str, str, str]:
    """What a read must leave alone: HEAD, the index's bytes, and the status of the working tree."""
    index = hashlib.sha256((repo / ".git" / "index").read_bytes()).hexdigest()
    return git(repo, "rev-parse", "HEAD"), index, git(repo, "status", "--porcelain", "--ignored")


def test_the_old_spec_and_what_it_read_as_they_were(repo: Path, tmp_path: Path):
    """The data moved and changed since: the copy reads the old files at their old places."""
    git(repo, "mv", "data", "inputs")
    write(repo, {"specs/t.dspec": SPEC.replace("../data/", "../inputs/").replace("threshold 0.5", "threshold 0.7"),
                 "inputs/a.jsonl": '{"prompt": "new", "label": "b"}\n', "templates/t.j2": "{{ prompt }}!\n"})
    commit(repo, "two")
    before = state(repo)
    (tmp_path / "tmp").mkdir()
    with materialize("HEAD~1", repo / "specs" / "t.dspec", tmp_dir=tmp_path / "tmp") as old:
        assert old.spec == old.root / "specs" / "t.dspec" and os.fspath(old) == str(old.spec)
        assert old.spec.read_text() == SPEC and old.path == "specs/t.dspec" and old.compiled
        assert (old.root / "data" / "a.jsonl").read_text() == '{"prompt": "old", "label": "a"}\n'
        assert (old.root / "templates" / "t.j2").read_text() == "{{ prompt }}\n"
        assert old.from_ref == ["ann/label.annotators.csv", "ann/label.jsonl", "data/a.jsonl", "labels/pairs.json",
                                "specs/t.dspec", "templates/t.j2"]
        assert old.from_worktree == [] and old.missing == []
        assert not (old.root / "README.md").exists()  # what the spec does not read is not copied
        assert old.commit == git(repo, "rev-parse", "HEAD~1").strip()
        assert old.changed_since() == ["data/a.jsonl", "templates/t.j2"]  # moved away, and edited
        compiled = compile_file(old.spec)  # its paths resolve: no DSC212/DSC218
        assert compiled.ok, compiled.diagnostics
        assert compiled.plan.fingerprint == compile_file(_at(repo, "HEAD~1", tmp_path)).plan.fingerprint
        root = old.root
    assert not root.exists() and list((tmp_path / "tmp").iterdir()) == []
    assert state(repo) == before  # no checkout, no worktree, not even a refreshed index


def _at(repo: Path, ref: str, tmp_path: Path) -> Path:
    """The whole repository as of `ref`, the slow way (a clone), to compare with."""
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(repo), str(clone)], check=True)
    git(clone, "checkout", "-q", git(repo, "rev-parse", ref).strip())
    return clone / "specs" / "t.dspec"


def test_untracked_data_comes_from_the_working_tree(repo: Path, tmp_path: Path):
    """Data kept out of git is read from the working tree, and said; data committed since the
    revision was not read by the old spec."""
    write(repo, {".gitignore": "data/big*.jsonl\n", "data/big.jsonl": '{"prompt": "big", "label": "a"}\n'})
    commit(repo, "ignore")
    write(repo, {"data/added.jsonl": "{}\n"})
    commit(repo, "added")
    write(repo, {"data/scratch.jsonl": "{}\n"})  # untracked (not ignored)
    with materialize("HEAD~2", repo / "specs" / "t.dspec", tmp_dir=tmp_path) as old:
        assert old.from_worktree == ["data/big.jsonl", "data/scratch.jsonl"]
        assert "data/a.jsonl" in old.from_ref and not (old.root / "data" / "added.jsonl").exists()
        assert [f.origin for f in old.files if f.path == "data/big.jsonl"] == [FROM_WORKTREE]
        assert (old.root / "data" / "big.jsonl").read_text() == '{"prompt": "big", "label": "a"}\n'


def test_a_file_the_spec_names_that_was_added_since_is_missing(repo: Path, tmp_path: Path):
    write(repo, {"specs/u.dspec": SPEC.replace("../labels/pairs.json", "../labels/new.json")})
    commit(repo, "u")
    write(repo, {"labels/new.json": "[]\n"})
    commit(repo, "new")
    with materialize("HEAD~1", repo / "specs" / "u.dspec", tmp_dir=tmp_path) as old:
        assert [(m.what, m.path, m.reason) for m in old.missing] == \
            [("labelled-pairs file", "labels/new.json", "added since HEAD~1")]
        assert [d.code for d in compile_file(old.spec).diagnostics if d.is_error] == ["DSC211"]


def test_patterns_match_the_tree_as_the_glob_matches_the_disk(repo: Path, tmp_path: Path):
    write(repo, {"specs/t.dspec": SPEC.replace("../data/*.jsonl", "../data/**/*.jsonl"),
                 "data/deep/er/b.jsonl": "{}\n", "data/.hidden/c.jsonl": "{}\n", "data/.d.jsonl": "{}\n",
                 "data/e.json": "{}\n"})
    commit(repo, "deep")
    write(repo, {"specs/t.dspec": SPEC})
    with materialize("HEAD", repo / "specs" / "t.dspec", tmp_dir=tmp_path) as old:
        assert [p for p in old.from_ref if p.startswith("data/")] == ["data/a.jsonl", "data/deep/er/b.jsonl"]
    assert _match("data/**/*.jsonl".split("/"), ["data", "a.jsonl"])
    assert not _match("data/*.jsonl".split("/"), ["data", ".d.jsonl"])
    assert _match("data/.*.jsonl".split("/"), ["data", ".d.jsonl"])
    assert not _match("data/*".split("/"), ["data", "x", "y"])


def test_a_spec_whose_base_does_not_compile_still_gets_its_files(repo: Path, tmp_path: Path):
    """Its syntax names the paths: the copy shows the old errors only, not missing files."""
    write(repo, {"specs/t.dspec": SPEC.replace("dedupe fuzzy on prompt", "dedupe fuzzy on promt")})
    commit(repo, "broken")
    write(repo, {"specs/t.dspec": SPEC})
    with materialize("HEAD", repo / "specs" / "t.dspec", tmp_dir=tmp_path) as old:
        assert not old.compiled
        assert {"labels/pairs.json", "ann/label.jsonl", "templates/t.j2", "data/a.jsonl"} <= set(old.from_ref)
        codes = {d.code for d in compile_file(old.spec).diagnostics if d.is_error}
        assert codes and not codes & {"DSC211", "DSC212", "DSC218"}
        compiled = old.compile()  # the same, shown at REF:path
        assert not compiled.ok and compiled.source.path == "HEAD:specs/t.dspec"
        assert {d.code for d in compiled.diagnostics if d.is_error} == codes


def test_a_ref_that_does_not_exist(repo: Path):
    with pytest.raises(GitBaseError, match="revision 'nope' does not exist") as err:
        materialize("nope", repo / "specs" / "t.dspec")
    assert (err.value.code, err.value.exit_code) == ("DSC314", EXIT_INPUT_ERROR)
    for bad in ("--output=x", "", "a\nb"):
        with pytest.raises(GitBaseError, match="is not a git revision"):
            materialize(bad, repo / "specs" / "t.dspec")


def test_not_a_git_repository(tmp_path: Path):
    write(tmp_path / "plain", {"t.dspec": SPEC})
    with pytest.raises(GitBaseError, match="is not in a git repository") as err:
        materialize("HEAD", tmp_path / "plain" / "t.dspec")
    assert err.value.exit_code == EXIT_INPUT_ERROR


def test_git_not_installed(repo: Path, tmp_path: Path, monkeypatch):
    (tmp_path / "empty").mkdir()
    monkeypatch.setenv("PATH", str(tmp_path / "empty"))
    with pytest.raises(GitBaseError, match="git is not installed") as err:
        materialize("HEAD", repo / "specs" / "t.dspec")
    assert err.value.exit_code == EXIT_INPUT_ERROR


def test_a_spec_that_did_not_exist_at_the_ref(repo: Path):
    write(repo, {"specs/new.dspec": SPEC})
    commit(repo, "new spec")
    with pytest.raises(SpecNotAtRef) as err:
        materialize("HEAD~1", repo / "specs" / "new.dspec")
    assert (err.value.path, err.value.ref, err.value.exit_code) == ("specs/new.dspec", "HEAD~1", EXIT_INPUT_ERROR)
    assert "the spec is new" in str(err.value)


def test_a_spec_deleted_since_is_still_read(repo: Path, tmp_path: Path):
    git(repo, "rm", "-q", "-r", "specs")
    commit(repo, "gone")
    with materialize("HEAD~1", repo / "specs" / "t.dspec", tmp_dir=tmp_path) as old:
        assert old.spec.read_text() == SPEC


def test_a_symlink_at_the_ref_is_refused(repo: Path, tmp_path: Path):
    (repo / "data" / "link.jsonl").symlink_to("a.jsonl")
    commit(repo, "link")
    (tmp_path / "tmp").mkdir()
    with pytest.raises(GitBaseError, match=r"'data/link.jsonl' is a symlink at HEAD") as err:
        materialize("HEAD", repo / "specs" / "t.dspec", tmp_dir=tmp_path / "tmp")
    assert (err.value.code, err.value.exit_code) == ("DSC218", EXIT_SPEC_ERROR)
    assert list((tmp_path / "tmp").iterdir()) == []  # the half-made copy is gone


def test_a_spec_under_a_symlinked_folder_at_the_ref_is_refused(repo: Path):
    """At the ref `linked` was a link to specs/; now it is a folder of its own."""
    (repo / "linked").symlink_to("specs")
    commit(repo, "linked folder")
    (repo / "linked").unlink()
    write(repo, {"linked/t.dspec": SPEC})
    commit(repo, "a real folder")
    with pytest.raises(GitBaseError, match="spec 'linked/t.dspec' lies under 'linked', a symlink at HEAD~1"):
        materialize("HEAD~1", repo / "linked" / "t.dspec")


@pytest.mark.parametrize("path, why", [("../../outside.jsonl", "leaves the repository"),
                                       ("/etc/passwd", "it is absolute")])
def test_a_path_leaving_the_repository_is_refused(repo: Path, path: str, why: str):
    write(repo, {"specs/t.dspec": SPEC.replace("../templates/t.j2", path)})
    commit(repo, "escape")
    (repo.parent / "outside.jsonl").write_text("secret\n")
    with pytest.raises(GitBaseError, match=why) as err:
        materialize("HEAD", repo / "specs" / "t.dspec")
    assert (err.value.code, err.value.exit_code) == ("DSC218", EXIT_SPEC_ERROR)


def test_a_working_tree_link_out_of_the_repository_is_refused_unless_allowed(repo: Path, tmp_path: Path):
    (tmp_path / "outside.jsonl").write_text('{"prompt": "far", "label": "a"}\n')
    (repo / "data" / "far.jsonl").symlink_to(tmp_path / "outside.jsonl")  # untracked
    with pytest.raises(GitBaseError, match="leads out of the repository") as err:
        materialize("HEAD", repo / "specs" / "t.dspec")
    assert err.value.exit_code == EXIT_SPEC_ERROR
    with materialize("HEAD", repo / "specs" / "t.dspec", allow_outside_project=True) as old:
        assert old.from_worktree == ["data/far.jsonl"]
        assert not (old.root / "data" / "far.jsonl").is_symlink()


def test_folders_a_spec_reads_by_name(repo: Path, tmp_path: Path):
    """A finetune block's local base model: its tracked files at the ref, its untracked ones (weights
    kept out of git) from the working tree; a hub id names no folder and reads nothing."""
    spec = SPEC + '\nfinetune lora {\n  base "../models/m"\n  r 8\n}\n'
    write(repo, {"specs/t.dspec": spec, "models/m/config.json": "{}\n", ".gitignore": "*.bin\n"})
    write(repo, {"models/m/weights.bin": "w", "models/m/.cache/x": "c"})
    commit(repo, "model")
    with materialize("HEAD", repo / "specs" / "t.dspec", tmp_dir=tmp_path) as old:
        assert "models/m/config.json" in old.from_ref and old.from_worktree == ["models/m/weights.bin"]
        assert not (old.root / "models" / "m" / ".cache").exists()


def test_the_copy_is_removed_when_closed(repo: Path, tmp_path: Path):
    old = materialize("HEAD", repo / "specs" / "t.dspec", tmp_dir=tmp_path)
    assert old.spec.is_file()
    old.close()
    old.close()
    assert not old.root.exists()
