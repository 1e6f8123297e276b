"""`dsc.io.files.glob` reads a pattern as `glob.glob(recursive=True)` does, but ends on link cycles."""
from __future__ import annotations

import glob as pyglob
import os
import random
from pathlib import Path

import pytest

from dsc.io.files import broken_link, glob

NAMES = ["a", "b", ".h", "x.jsonl", "y.json", ".z.jsonl", "d1", "a.b.jsonl", "[x]"]
PATTERNS = ["*", "*.jsonl", "**", "**/*.jsonl", "d1/**", "*/*.jsonl", "**/d1/*", ".*", "**/.*", "d1/**/x.jsonl",
            "x.jsonl", "d1/x.jsonl", "nothing", "*/", "**/", "?.jsonl", "[ab]", "[[]x]", "**/**/*.jsonl",
            "./d1/*.jsonl", "d1/../*.jsonl", "a/**/*.json", "*/*/*", "b/**", "d1//*.jsonl"]


def random_tree(base: Path, rng: random.Random, links: bool) -> None:
    """Folders and files named from NAMES; with `links`, links to folders that are not above them."""
    folders = [base]
    for _ in range(rng.randint(1, 25)):
        parent = rng.choice(folders)
        path = parent / rng.choice(NAMES)
        if os.path.lexists(path):
            continue
        roll = rng.random()
        if roll < 0.4:
            path.mkdir()
            folders.append(path)
        elif roll < 0.85 or not links:
            path.write_text("{}")
        else:
            target = rng.choice(folders)
            if not parent.is_relative_to(target):
                path.symlink_to(target)


def files(matches: list[str], base: Path) -> set[str]:
    return {os.path.normpath(m) for m in matches if (base / m).is_file()}


@pytest.mark.parametrize("seed", range(40))
def test_without_links_the_files_are_those_python_glob_finds(tmp_path, seed):
    random_tree(tmp_path, random.Random(seed), links=False)
    for pattern in PATTERNS:
        expected = files(pyglob.glob(pattern, root_dir=tmp_path, recursive=True), tmp_path)
        assert files(glob(pattern, tmp_path), tmp_path) == expected, pattern


@pytest.mark.parametrize("seed", range(40))
def test_with_links_the_same_files_come_each_under_one_of_its_names(tmp_path, seed):
    random_tree(tmp_path, random.Random(seed), links=True)
    for pattern in PATTERNS:
        theirs = files(pyglob.glob(pattern, root_dir=tmp_path, recursive=True), tmp_path)
        ours = files(glob(pattern, tmp_path), tmp_path)
        assert ours <= theirs, pattern
        assert {os.path.realpath(tmp_path / m) for m in ours} == {os.path.realpath(tmp_path / m) for m in theirs}


def test_an_absolute_pattern_gives_absolute_paths(tmp_path):
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "a.jsonl").write_text("{}")
    assert glob(f"{tmp_path}/**/*.jsonl", Path("/nowhere")) == [f"{tmp_path}/d/a.jsonl"]


def test_a_folder_reached_by_many_links_is_walked_once(tmp_path):
    """Ten links to `.` in one folder: Python's glob would follow 10 ** 40 paths."""
    (tmp_path / "a.jsonl").write_text("{}")
    for n in range(10):
        (tmp_path / f"l{n}").symlink_to(".")
    assert glob("**/*.jsonl", tmp_path) == ["a.jsonl"]


def test_broken_links_say_why(tmp_path):
    (tmp_path / "loop").symlink_to("loop")
    (tmp_path / "gone").symlink_to("missing")
    (tmp_path / "fine").write_text("")
    assert [broken_link(tmp_path / n) for n in ("loop", "gone", "fine", "missing")] == [
        "a symlink loop", "a symlink to a file that does not exist", None, None]
