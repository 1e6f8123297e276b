"""Golden diagnostics: each `tests/fixtures/check/NAME.dspec` and the exact text `dsc check`
prints for it, in `NAME.expected`.

One runner covers syntax errors (DSC1xx, from the parser) and meaning errors (DSC2xx, from
the checks): a spec that does not parse shows its syntax diagnostics; one that does shows
every semantic one. Paths in the fixtures are resolved against the fixture folder, so the
file-existence checks run too.

To rewrite the expected files after an intended change of wording:

    DSC_UPDATE_GOLDEN=1 pytest tests/test_check_golden.py

and review the diff.
"""
from __future__ import annotations

import os
import re
from pathlib import Path

import pytest

from dsc.checks import CheckContext, check
from dsc.diagnostics import CODES, render_all
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "check"
CASES = sorted(FIXTURES.glob("*.dspec"))
UPDATE = os.environ.get("DSC_UPDATE_GOLDEN") == "1"


def diagnose(path: Path) -> str:
    """What `dsc check` prints for one spec file: parse, then check when it parsed."""
    source = SourceFile(path.name, path.read_text(encoding="utf-8"))
    spec, diags = parse(source)
    if spec is not None:
        diags = diags + check(spec, CheckContext(base_dir=path.parent))
    return render_all(diags, source) + "\n"


@pytest.mark.parametrize("path", CASES, ids=[p.stem for p in CASES])
def test_golden(path: Path) -> None:
    assert path.read_text(encoding="utf-8").startswith("# title: "), "a fixture starts with '# title: …'"
    actual = diagnose(path)
    expected_path = path.with_suffix(".expected")
    if UPDATE:
        expected_path.write_text(actual, encoding="utf-8")
    assert expected_path.exists(), f"no {expected_path.name}; run with DSC_UPDATE_GOLDEN=1 to create it"
    assert actual == expected_path.read_text(encoding="utf-8")


def test_every_expected_file_has_a_spec() -> None:
    orphans = [p.name for p in FIXTURES.glob("*.expected") if not p.with_suffix(".dspec").exists()]
    assert orphans == []


def test_fixtures_cover_the_codes() -> None:
    """The fixtures show at least 20 distinct codes, and every DSC2xx code appears somewhere but
    DSC221, which needs a package missing: tests/checks/test_extras.py pins its words, with the
    package hidden."""
    shown = set()
    for path in FIXTURES.glob("*.expected"):
        shown |= set(re.findall(r"\[(DSC\d{3})\]", path.read_text(encoding="utf-8")))
    assert len(shown) >= 20
    assert {c for c in CODES if c.startswith("DSC2")} - {"DSC221"} <= shown
    assert {"DSC101", "DSC103", "DSC104", "DSC105"} <= shown
