"""What `dsc lsp` answers, in process (tests/test_lsp.py speaks to the real server): positions in
every encoding, hover text for every keyword of the grammar, completion words read from the
registry and the grammar, go to definition on every column use of the shipped specs."""
from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis_budget import examples

from dsc import ast
from dsc.lsp import docs
from dsc.lsp.features import (Document, block_statements, completions, definition, diagnostics, formatted,
                              grammar_words, hover)
from dsc.lsp.positions import UTF8, UTF16, UTF32, Lines, span_offsets
from dsc.ops import OPERATORS
from dsc.syntax.source import SourceFile

ROOT = Path(__file__).resolve().parents[1]
SPECS = sorted((ROOT / "specs").glob("*.dspec"))
TEXTS = st.lists(st.sampled_from(["a", "é", "\U0001F600", "\n", "\r", "\r\n", " ", "#"]), max_size=30).map("".join)


def _expected(text: str, offset: int, encoding: str) -> tuple[int, int]:
    """The protocol position of an offset, counted the plain way."""
    head = text[:offset]
    breaks = head.replace("\r\n", "\n").replace("\r", "\n")
    line_start = max(head.rfind("\n"), head.rfind("\r")) + 1
    prefix = head[line_start:]
    size = {UTF8: len(prefix.encode("utf-8")), UTF16: len(prefix.encode("utf-16-le")) // 2, UTF32: len(prefix)}
    return breaks.count("\n"), size[encoding]


@settings(max_examples=examples(), deadline=None)
@given(TEXTS, st.sampled_from([UTF8, UTF16, UTF32]))
def test_offsets_and_positions_agree_in_every_encoding(text, encoding):
    lines = Lines(text, encoding)
    for offset in range(len(text) + 1):
        if 0 < offset < len(text) and text[offset - 1] == "\r" and text[offset] == "\n":
            continue  # between the two characters of a \r\n: not a place a cursor can be
        assert lines.position(offset) == _expected(text, offset, encoding)
        assert lines.offset(*lines.position(offset)) == offset


@settings(max_examples=examples(), deadline=None)
@given(TEXTS, st.data())
def test_a_dsc_span_maps_to_its_offsets(text, data):
    source = SourceFile("x.dspec", text)
    start = data.draw(st.integers(0, len(text)))
    end = data.draw(st.integers(start, len(text)))
    got = span_offsets(source.span(start, end), source)
    widened = end == start and start < len(text) and text[start] not in "\r\n"
    assert got == (start, end + 1 if widened else end)


@pytest.mark.parametrize("word", sorted(grammar_words() | {op.keyword for op in OPERATORS.values()}))
def test_every_keyword_has_hover_text_from_the_language_reference(word):
    piece = docs.lookup(word)
    assert piece is not None, f"docs/language.md says nothing about '{word}' that hover could show"
    assert word.split()[-1] in docs.render(word, piece)


def test_hover_prefers_the_block_the_cursor_is_in():
    text = "annotate label {\n  resolve majority\n}\nclean {\n  conflicts on a -> b resolve majority\n}\n"
    first, _ = hover(Document(text), text.index("resolve") + 1)
    second, _ = hover(Document(text), text.rindex("resolve") + 1)
    assert "annotate —" in first.splitlines()[0] and "clean —" in second.splitlines()[0]


def test_statement_words_come_from_the_registry_and_the_grammar():
    statements = block_statements()
    assert set(statements["clean"]) == {op.keyword for op in OPERATORS.values()}
    assert set(statements["dataset"]) == {"seed", "locale"}
    assert {"paraphrase", "backtranslate"} <= set(statements["augment"])
    assert {"from", "annotators", "resolve", "tasks"} <= set(statements["annotate"])
    assert {i.label for i in completions(Document("gate {\n  "), 9)} >= {"dropped", "rows", "leakage"}


@pytest.mark.parametrize("spec", SPECS, ids=lambda p: p.name)
def test_every_column_use_of_a_spec_goes_to_its_schema_line(spec):
    doc = Document(spec.read_text(encoding="utf-8"), spec)
    assert diagnostics(doc) == [] and formatted(doc) == doc.text
    uses = list(ast.column_uses(doc.spec))
    assert uses
    for name, _ in uses:
        start, end = definition(doc, name.span.start)
        assert doc.text[start:end] == name.value
        line = doc.text[doc.text.rfind("\n", 0, start) + 1: doc.text.find("\n", end)]
        assert line.split(":")[0].strip() == name.value  # the schema's declaration
        text, where = hover(doc, name.span.start + 1)
        assert where == (name.span.start, name.span.end) and line.strip() in text


def test_a_byte_order_mark_shifts_every_offset_by_one():
    text = "schema {\n  prompt : text\n}\nclean {\n  drop where empty(promt)\n}\n"
    plain, marked = diagnostics(Document(text)), diagnostics(Document("\ufeff" + text))
    shifted = [(d.code, where and (where[0] + 1, where[1] + 1)) for d, where in plain]
    assert shifted == [(d.code, where) for d, where in marked]
    assert ("DSC201", (text.index("promt") + 1, text.index("promt") + 6)) in shifted
    assert formatted(Document("\ufeff" + text)).startswith("\ufeff")


def test_no_completion_inside_a_string_or_a_comment():
    for text in ('clean {\n  replace a "x ', "clean {\n  # drop "):
        assert completions(Document(text), len(text)) == []


def test_the_server_turns_spans_into_utf16_ranges_and_a_crash_into_a_diagnostic(monkeypatch):
    pytest.importorskip("pygls")
    from dsc.lsp import features, server

    text = 'schema {\n  a : text\n}\nclean {\n  replace a "\U0001F600" with "\\\\1"  # no group\n}\n'
    doc = Document(text)
    (diag,) = [d for d in server.lsp_diagnostics(doc, Lines(text)) if d.code == "DSC213"]
    line = text.split("\n")[4]
    start = line.index('"\\\\1"')
    assert (diag.range.start.line, diag.range.start.character) == (4, start + 1)  # the emoji is 2 UTF-16 units
    assert diag.message.split("\nhint: ")[0] and diag.source == "dsc"

    def broken(doc):
        raise ValueError("boom")

    monkeypatch.setattr(features, "diagnostics", broken)
    (crash,) = server.lsp_diagnostics(doc, Lines(text))
    assert crash.message.startswith("internal error: ValueError: boom") and "bug in dsc" in crash.message


@pytest.mark.parametrize("typed, expected", [
    ("clean {\n  normalize prompt, resp", {"prompt", "response"}),
    ("clean {\n  normalize prompt: nf", {"nfc", "nfkc"}),
    ("clean {\n  dedupe exact on prompt ignoring case, wh", {"whitespace", "punctuation"}),
    ("gate {\n  dropped <= 5% wa", {"warn", "error"}),
    ("clean {\n  standardize prompt as date from [de_DE, en_", {"en_US", "de_DE"}),
])
def test_completion_while_a_word_is_half_typed(typed, expected):
    text = "schema {\n  prompt : text\n  response : text\n}\n" + typed
    assert expected <= {i.label for i in completions(Document(text), len(text))}
