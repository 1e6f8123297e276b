"""`dsc fmt`: golden fixtures (input → exact expected text) and the placement rules they rely on."""
from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from dsc import ast
from dsc.fmt import canonical, format_source, format_spec
from dsc.syntax.comments import extract_comments
from dsc.syntax.load import parse
from dsc.syntax.source import SourceFile

FIXTURES = Path(__file__).parent / "fixtures" / "fmt"
INPUTS = sorted(p for p in FIXTURES.glob("*.dspec") if not p.name.endswith(".expected.dspec"))


def read(path: Path) -> SourceFile:
    return SourceFile(path.name, path.read_text(encoding="utf-8"))


def fmt(text: str) -> str:
    formatted, diags = format_source(SourceFile("t.dspec", text))
    assert diags == []
    return formatted


def test_there_are_golden_fixtures():
    assert len(INPUTS) >= 8


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_golden(path):
    source = read(path)
    assert source.text.startswith("# title: ")
    expected = path.with_name(path.stem + ".expected.dspec").read_text(encoding="utf-8")
    assert format_source(source) == (expected, [])


@pytest.mark.parametrize("path", INPUTS, ids=lambda p: p.stem)
def test_golden_expected_is_a_fixed_point_with_the_same_meaning(path):
    expected = read(path.with_name(path.stem + ".expected.dspec"))
    assert format_source(expected) == (expected.text, [])
    assert parse(expected)[0] == canonical(parse(read(path))[0])
    assert sorted(c.text for c in extract_comments(expected)) == sorted(c.text for c in extract_comments(read(path)))


# ── rules the fixtures show, one at a time ───────────────────────────────────────────────
def test_a_syntax_error_gives_no_text_and_the_diagnostics():
    text, diags = format_source(SourceFile("bad.dspec", "gate {\n  dropped <=\n}\n"))
    assert text is None and [d.code for d in diags] == ["DSC105"]


def test_trailing_comments_get_two_spaces_and_keep_their_text():
    assert fmt("gate {\n  dropped <= 5%#tight\t\n}\n") == "gate {\n  dropped <= 5%  #tight\n}\n"


def test_a_comment_on_a_continued_statement_stays_on_its_line():
    text = "clean {\n  dedupe near on prompt \\\n    ngram 5  # short\n}\n"
    assert fmt(text) == "clean {\n  dedupe near on prompt ngram 5  # short\n}\n"


def test_crlf_line_ends_become_lf():
    assert fmt("gate {\r\n  dropped <= 5%  # x\r\n}\r\n") == "gate {\n  dropped <= 5%  # x\n}\n"


def test_a_missing_final_newline_is_added():
    assert fmt("gate {\n  dropped <= 5%\n}") == "gate {\n  dropped <= 5%\n}\n"


def test_options_are_printed_in_canonical_order_and_repeats_keep_their_order():
    text = "clean {\n  dedupe near on a keep last ngram 3 keep first\n}\n"
    assert fmt(text) == "clean {\n  dedupe near on a ngram 3 keep last keep first\n}\n"


def test_a_century_window_is_printed_with_its_dots_after_the_order():
    text = "clean {\n  standardize d as date on_error flag years 1950 .. 2049 order DMY\n}\n"
    assert fmt(text) == "clean {\n  standardize d as date order DMY years 1950..2049 on_error flag\n}\n"


def test_repeated_hub_split_and_export_options_are_kept():
    """Nothing collapses to its last value: a repeat is printed back, for `dsc check` to report."""
    text = ('source s {\n  hub "o/n" revision "b" split train config c split test revision "a"\n}\n'
            'split by id seed 2 stratify c seed 1 {\n  train 1\n}\n'
            'export jsonl "x.jsonl" template "t.j2" shape chat shape instruction\n')
    once = fmt(text)
    assert once == ('source s {\n  hub "o/n" split train split test revision "b" revision "a" config c\n}\n\n'
                    'split by id stratify c seed 2 seed 1 {\n  train 1\n}\n\n'
                    'export jsonl "x.jsonl" shape chat shape instruction template "t.j2"\n')
    assert fmt(once) == once


def test_consecutive_exports_stay_together_and_blocks_are_set_apart():
    text = 'export jsonl "a"\nexport parquet "b"\ngate {\n  dropped <= 1%\n}\nexport jsonl "c"\n'
    assert fmt(text) == 'export jsonl "a"\nexport parquet "b"\n\ngate {\n  dropped <= 1%\n}\n\nexport jsonl "c"\n'


def test_numbers_print_as_their_decimal():
    num = ast.Num
    settings = tuple(ast.Setting(ast.Name(f"s{i}"), (v,)) for i, v in enumerate(
        [num(Decimal("0.10")), num(Decimal("0.0002")), num(Decimal("1E+3")), num(Decimal("12.5"), True)]))
    assert format_spec(ast.Spec((ast.FinetuneBlock(ast.Name("lora"), settings),))) == (
        "finetune lora {\n  s0 0.10\n  s1 0.0002\n  s2 1e+3\n  s3 12.5%\n}\n"
    )


def test_strings_are_escaped():
    value = ast.Str('say "hi"\\\n\tthen # not a comment')
    export = ast.Export(ast.Name("jsonl"), value)
    assert format_spec(ast.Spec((export,))) == 'export jsonl "say \\"hi\\"\\\\\\n\\tthen # not a comment"\n'


def test_format_spec_without_source_guesses_the_brace_of_an_empty_block_by_indent():
    # format_source reads where the `}` is; from the AST and comments alone, an indented comment
    # is taken to be inside an empty block and one in column 1 to follow it.
    text = "gate {\n}\n  # inside?\n# after\n"
    src = SourceFile("t.dspec", text)
    spec, _ = parse(src)
    assert format_spec(spec, extract_comments(src)) == "gate {\n  # inside?\n}\n\n# after\n"
    assert format_source(src)[0] == "gate {\n}\n\n# inside?\n# after\n"


def test_an_empty_spec_is_the_empty_text():
    assert format_spec(ast.Spec(())) == ""
    assert format_spec(ast.Spec(()), [ast.Comment("# hi")]) == "# hi\n"
