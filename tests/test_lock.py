"""requirements.txt, which `make install` installs with hashes, agrees with pyproject.toml:
every requirement of dsc and of each extra is pinned there, at a version its range admits."""
import re
import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parents[1]


def pins() -> dict[str, str]:
    text = (ROOT / "requirements.txt").read_text(encoding="utf-8")
    return {canonicalize_name(name): version
            for name, version in re.findall(r"^([A-Za-z0-9._-]+)(?:\[[^\]]*\])?==(\S+)", text, re.M)}


def test_every_pin_carries_a_hash():
    entries = re.split(r"\n(?=[A-Za-z0-9])", (ROOT / "requirements.txt").read_text(encoding="utf-8"))
    unhashed = [e.split()[0] for e in entries if "==" in e.split("\n")[0] and "--hash=sha256:" not in e]
    assert unhashed == []


def test_every_requirement_of_pyproject_is_pinned_within_its_range():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    required = project["dependencies"] + [r for extra in project["optional-dependencies"].values() for r in extra]
    locked = pins()
    wrong = []
    for requirement in map(Requirement, required):
        version = locked.get(canonicalize_name(requirement.name))
        # A local build (torch's +cpu) satisfies its public version's range.
        if version is None or not requirement.specifier.contains(version.split("+")[0], prereleases=True):
            wrong.append(f"{requirement} (locked: {version})")
    assert wrong == []
