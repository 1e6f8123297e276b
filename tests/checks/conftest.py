"""Shared helper for the check tests: run the checks on a spec written inline."""
from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from dsc.checks import CheckContext, check
from dsc.diagnostics import Diagnostic
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

# A header and a source, so that a test's own blocks are the only thing being judged.
FRAME = """\
dataset demo version 1 {
  seed 1
}
source tickets {
  files "data/*.jsonl"
}
"""


def run_checks(text: str, *, frame: bool = True, base_dir: Path | None = None) -> list[Diagnostic]:
    """Parse `text` (dedented, after the frame) and return every check diagnostic."""
    body = (FRAME if frame else "") + textwrap.dedent(text)
    spec, syntax = parse(SourceFile("t.dspec", body))
    assert spec is not None, syntax
    return check(spec, CheckContext(base_dir=base_dir))


@pytest.fixture
def diags():
    """`diags(text, …)` → the diagnostics of a spec; see `run_checks`."""
    return run_checks


@pytest.fixture
def codes():
    """`codes(text, …)` → just the codes, in order."""
    return lambda text, **kw: [d.code for d in run_checks(text, **kw)]
