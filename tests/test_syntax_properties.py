"""Laws of the syntax layer on random specs, and inputs that must never make it raise.

- `fmt` is idempotent, keeps the AST (up to its canonical option order) and keeps every comment;
- whatever the text or bytes, `parse` and `decode_source` answer with a spec or with
  well-formed diagnostics — never an exception.
"""
from __future__ import annotations

import time
from collections import Counter

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
import pytest
from hypothesis_budget import examples
from strategies import mutated_texts, spec_texts, specs, specs_with_texts

from dsc import ast
from dsc.diagnostics import CODES, Diagnostic, render
from dsc.fmt import canonical, format_source, format_spec
from dsc.syntax.comments import extract_comments
from dsc.syntax.load import decode_source, parse
from dsc.syntax.source import NO_SPAN, SourceFile

# Generated specs are large; their time is spent drawing, not in the code under test.
_SLOW_OK = [HealthCheck.too_slow, HealthCheck.data_too_large]
LAWS = settings(max_examples=examples(3), deadline=None, suppress_health_check=_SLOW_OK)
FUZZ = settings(max_examples=examples(10), deadline=None, suppress_health_check=_SLOW_OK)


def source(text: str) -> SourceFile:
    return SourceFile("prop.dspec", text)


def comment_texts(text: str) -> Counter:
    return Counter(c.text for c in extract_comments(source(text)))


def assert_well_formed(diags: list[Diagnostic], src: SourceFile) -> None:
    assert diags, "a failed parse must say why"
    for diag in diags:
        assert diag.code in CODES, diag
        assert diag.message, diag
        assert diag.span == NO_SPAN or 1 <= diag.span.line <= len(src.line_starts), diag
        render(diag, src)  # what users see must render too


# ── fmt laws ────────────────────────────────────────────────────────────────────────────
@LAWS
@given(specs(canonical=False))
def test_a_printed_ast_parses_back_to_its_canonical_form(spec):
    assert parse(source(format_spec(spec))) == (canonical(spec), [])


@LAWS
@given(specs_with_texts())
def test_loosened_layout_and_comments_do_not_change_the_ast(pair):
    spec, text = pair
    assert parse(source(text)) == (spec, [])


@LAWS
@given(spec_texts())
def test_fmt_is_idempotent(text):
    once, diags = format_source(source(text))
    assert diags == []
    assert format_source(source(once)) == (once, [])


@LAWS
@given(spec_texts())
def test_fmt_keeps_the_ast(text):
    once, _ = format_source(source(text))
    assert parse(source(once))[0] == parse(source(text))[0]


@LAWS
@given(spec_texts())
def test_fmt_keeps_every_comment(text):
    once, _ = format_source(source(text))
    assert comment_texts(once) == comment_texts(text)


@LAWS
@given(spec_texts())
def test_fmt_output_is_tidy(text):
    once, _ = format_source(source(text))
    assert once == "" or (once.endswith("\n") and not once.endswith("\n\n"))
    assert "\n\n\n" not in once and not once.startswith("\n")
    assert "\r" not in once
    assert all(line == line.rstrip(" \t") for line in once.split("\n"))


# ── never raise ─────────────────────────────────────────────────────────────────────────
def check_any_text(text: str) -> None:
    """Parse must answer (spec, []) or (None, diagnostics); when it parses, fmt's laws hold."""
    src = source(text)
    spec, diags = parse(src)
    if spec is None:
        assert_well_formed(diags, src)
        assert format_source(src) == (None, diags)
        return
    assert diags == []
    once, _ = format_source(src)
    assert parse(source(once))[0] == canonical(spec)
    assert format_source(source(once))[0] == once
    assert comment_texts(once) == comment_texts(text)


@FUZZ
@given(mutated_texts())
def test_a_damaged_spec_never_makes_the_parser_raise(text):
    check_any_text(text)


@FUZZ
@given(st.text(alphabet=st.one_of(st.characters(), st.sampled_from(list('{}"#\\%\n:,()[]<>=-'))), max_size=200))
def test_random_text_never_makes_the_parser_raise(text):
    check_any_text(text)


@FUZZ
@given(st.binary(max_size=300))
def test_random_bytes_decode_or_explain(data):
    src, diags = decode_source(data, "bytes.dspec")
    if src is None:
        assert [d.code for d in diags] == ["DSC100"]
    else:
        assert diags == [] and "\x00" not in src.text


# ── explicit edge cases ─────────────────────────────────────────────────────────────────
def test_an_empty_file_is_an_empty_spec():
    assert parse(source("")) == (ast.Spec(()), [])
    assert format_source(source("")) == ("", [])
    assert format_source(source(" \n\t\n\n")) == ("", [])


def test_a_file_of_only_comments_keeps_them():
    text = "# one\n\n\n   # two\n#three   \n"
    assert parse(source(text)) == (ast.Spec(()), [])
    assert format_source(source(text)) == ("# one\n\n# two\n#three\n", [])


@pytest.mark.slow
def test_a_one_megabyte_spec_parses_and_formats():
    rules = [f"  drop where words(c_{i}) < {i}  # rule {i}" for i in range(20_000)]
    text = "\n".join(["clean {", *rules, "}"]) + "\n"
    assert len(text) > 900_000
    started = time.perf_counter()
    spec, diags = parse(source(text))
    assert diags == [] and len(spec.blocks[0].rules) == 20_000
    assert format_source(source(text)) == (text, [])  # already canonical
    print(f"1 MB spec parsed and formatted in {time.perf_counter() - started:.1f} s")


def test_ten_thousand_open_braces_are_a_syntax_error():
    for text in ("{" * 10_000, "{\n" * 10_000, "clean {\n" + "{\n" * 10_000):
        src = source(text)
        spec, diags = parse(src)
        assert spec is None
        assert_well_formed(diags, src)


def test_ten_thousand_nots_in_a_drop_predicate():
    text = "clean {\n  drop where " + "not " * 10_000 + "empty(c_x)\n}\n"
    spec, diags = parse(source(text))
    assert diags == [] and spec.blocks[0].rules[0].negations == 10_000
    assert format_source(source(text)) == (text, [])


def test_nul_bytes_are_refused():
    src, diags = decode_source(b"clean {\n  drop where empty(x)\x00\n}\n", "nul.dspec")
    assert src is None and diags[0].code == "DSC100" and "NUL" in diags[0].message
    text_src = source("clean {\n  drop where empty(x)\x00\n}\n")  # a NUL that got past decoding
    spec, diags = parse(text_src)
    assert spec is None and [d.code for d in diags] == ["DSC101"]
    assert_well_formed(diags, text_src)


def test_non_utf8_bytes_are_refused_with_their_position():
    src, diags = decode_source(b"clean {\n  drop where \xc3\x28\n}\n", "latin.dspec")
    assert src is None
    assert diags[0].message == "latin.dspec: not UTF-8 text (invalid byte 0xc3 at line 2, column 14)"


def test_a_byte_order_mark_is_not_part_of_the_text():
    src, diags = decode_source("\ufeffgate {\n  dropped <= 5%\n}\n".encode(), "bom.dspec")
    assert diags == [] and parse(src)[1] == []
