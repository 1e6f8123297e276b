"""Golden plans: every spec in `specs/` and the exact canonical plan JSON it compiles to, in
`tests/fixtures/compile/NAME.plan.json`.

A refactor of the compiler, the operators or the checks must leave these bytes (and so every
fingerprint) as they are; an intended change of a plan rewrites them with

    DSC_UPDATE_GOLDEN=1 pytest tests/test_compile_golden.py

and the diff is reviewed like any policy change.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from dsc.api import compile_file
from dsc.plan import canonical_json

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.dspec"))
FIXTURES = Path(__file__).parent / "fixtures" / "compile"
UPDATE = os.environ.get("DSC_UPDATE_GOLDEN") == "1"


@pytest.mark.parametrize("spec", SPECS, ids=[p.stem for p in SPECS])
def test_plan_is_unchanged(spec: Path) -> None:
    compiled = compile_file(spec)
    assert compiled.ok, compiled.diagnostics
    actual = canonical_json(compiled.plan, indent=2) + "\n"
    expected = FIXTURES / f"{spec.stem}.plan.json"
    if UPDATE:
        expected.write_text(actual, encoding="utf-8")
    assert expected.exists(), f"no {expected.name}; run with DSC_UPDATE_GOLDEN=1 to create it"
    assert actual == expected.read_text(encoding="utf-8")


def test_every_golden_plan_has_a_spec() -> None:
    assert sorted(p.name.removesuffix(".plan.json") for p in FIXTURES.glob("*.plan.json")) == [p.stem for p in SPECS]
