"""Number literals: read exactly within the limits of `dsc.syntax.numbers`, refused from their text
beyond them (DSC209, where they stand), and never echoed in full by a diagnostic."""
from __future__ import annotations

import time
from decimal import Decimal

import pytest

from dsc.diagnostics import EXCERPT_CHARS, render_all
from dsc.syntax.load import parse
from dsc.syntax.numbers import LIMITS, MAX_DIGITS, number_problem
from dsc.syntax.source import SourceFile


def seed(literal: str):
    source = SourceFile("t.dspec", f"dataset d version 1 {{\n  seed {literal}\n}}\n")
    return source, *parse(source)


@pytest.mark.parametrize("literal", ["0", "-0", "0.000", "007", "1e27", "-1e27", "1e-28", "9" * 28, "9" * 28 + "%",
                                     "0." + "0" * 27 + "1", "1.0e27", "5e+0000000000000000000000001", "0e27"])
def test_a_literal_within_the_limits_is_read_exactly(literal):
    _, spec, diags = seed(literal)
    assert diags == [] and spec.blocks[0].body[0].value.value == Decimal(literal.rstrip("%"))


@pytest.mark.parametrize("literal, problem", [
    ("1e28", "digits before"), ("-1e28", "digits before"), ("9" * 29, "significant"), ("1e-29", "digits after"),
    ("0." + "0" * 28 + "1", "digits after"), ("0e-29", "digits after"), ("0e28", "digits before"),
    ("1e999999999", "digits before"), ("1e-999999999", "digits after"), ("1e" + "9" * 30, "digits before"),
    ("1e-" + "9" * 30, "digits after"),
])
def test_a_literal_beyond_the_limits_is_refused_where_it_stands(literal, problem):
    source, spec, diags = seed(literal)
    assert spec is None
    assert [(d.code, d.span.line, d.span.column, d.hint) for d in diags] == [("DSC209", 2, 8, LIMITS)]
    assert diags[0].message.startswith(f"the number {literal} has more than {MAX_DIGITS} {problem}")


def test_every_refused_literal_is_reported_and_nothing_else_is_checked():
    text = "dataset d version 1e99 {\n  seed 1e-99\n}\ngate {\n  dropped <= 1e999999999%\n}\n"
    spec, diags = parse(SourceFile("t.dspec", text))
    assert spec is None and [(d.code, d.span.line, d.span.column) for d in diags] == [
        ("DSC209", 1, 19), ("DSC209", 2, 8), ("DSC209", 5, 14)]


def test_a_huge_literal_is_refused_cheaply_and_shown_cut():
    """Millions of digits, or an exponent of a million digits: refused from the text in linear
    time; the message shows 40 characters of it, the excerpt a window of the line."""
    for literal in ("7" * 4_000_000, "1e" + "9" * 4_000_000, "0." + "0" * 4_000_000 + "1"):
        start = time.perf_counter()
        source, spec, diags = seed(literal)
        shown = render_all(diags, source)
        assert time.perf_counter() - start < 5 and spec is None
        assert f"the number {literal[:39]}… has more than" in diags[0].message
        assert max(len(line) for line in shown.splitlines()) <= EXCERPT_CHARS + 10


def test_number_problem_reads_only_the_text():
    assert number_problem("1e" + "9" * 10) == f"has more than {MAX_DIGITS} digits before the point"
    assert number_problem("-" + "1" * 28 + "." + "0" * 28) == f"has more than {MAX_DIGITS} significant digits"


def test_a_long_unexpected_token_is_shown_cut():
    text = "dataset d version 1 {\n  seed 7 " + "8" * 100_000 + "\n}\n"
    source = SourceFile("t.dspec", text)
    spec, diags = parse(source)
    assert spec is None and [d.code for d in diags] == ["DSC102"]
    assert diags[0].message == f"unexpected '{'8' * 39}…' in 'dataset' block"
    assert len(render_all(diags, source)) < 1000
