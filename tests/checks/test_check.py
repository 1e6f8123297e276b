"""`check` itself: every pass runs, order is stable, and it never raises on a parsed spec."""
from __future__ import annotations

import sys
from pathlib import Path

from hypothesis import HealthCheck, given, settings

from dsc.checks import PASSES, check
from dsc.syntax.load import parse, read_source
from hypothesis_budget import examples

FULL = Path(__file__).parents[1] / "fixtures" / "full.dspec"

sys.path.insert(0, str(Path(__file__).parents[1]))  # the shared strategies live in tests/
from strategies import mutated_texts, specs  # noqa: E402


def test_the_full_fixture_checks_clean():
    source, _ = read_source(FULL)
    spec, syntax = parse(source)
    assert syntax == [] and check(spec) == []


def test_passes_are_named_and_documented():
    for run in PASSES:
        assert run.__name__.startswith("check_") and run.__doc__, run


def test_order_is_position_then_code(diags):
    found = diags("schema {\n  a : strng\n}\nclean {\n  drop where words(b) > 1\n  normalize a: x\n}\n",
                  frame=False)
    keys = [(d.span.line, d.span.column, d.code) for d in found]
    assert keys == sorted(keys)
    assert keys[0][0] == 0  # spec-level diagnostics first


@settings(max_examples=examples(0.6), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(specs(max_blocks=8))
def test_never_raises_on_any_valid_ast(spec):
    for diag in check(spec):
        assert diag.code.startswith("DSC2") and diag.message


@settings(max_examples=examples(0.6), deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(mutated_texts(max_blocks=4))
def test_never_raises_on_damaged_text_that_still_parses(text):
    from dsc.syntax.source import SourceFile

    spec, _ = parse(SourceFile("m.dspec", text))
    if spec is not None:
        check(spec)
