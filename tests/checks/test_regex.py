from dsc import ast
from dsc.checks.regex import check_pattern
from dsc.kernels.regex import re2_error

SCHEMA = "schema {\n  prompt : text\n}\n"


def test_valid_patterns_are_clean(codes):
    text = SCHEMA + 'clean {\n  drop where prompt matches "^\\\\s*$"\n  drop where prompt matches "(?i)spam|ham"\n}\n'
    assert codes(text) == []


def test_an_invalid_pattern_points_at_the_error(diags):
    (d,) = diags(SCHEMA + 'clean {\n  drop where prompt matches "ab(c"\n}\n')
    assert d.code == "DSC213"
    assert d.message == "invalid regular expression: missing ), unterminated subpattern at position 2"
    assert (d.span.column, d.span.end_column) == (32, 33)  # the '(' inside the literal


def test_positions_map_through_escapes(diags):
    (d,) = diags(SCHEMA + 'clean {\n  drop where prompt matches "\\\\d+\\\\"\n}\n')
    assert d.message.endswith("at position 3")
    assert (d.span.column, d.span.end_column) == (34, 36)  # the trailing backslash, written \\


def test_re2_decides_what_runs():
    # RE2 is linear-time: nested repeats are harmless; its own syntax is accepted even where re's is not.
    for pattern in ["(a+)+", "(?:\\w+\\s?)*$", "\\p{L}+", "[[:alpha:]]+", "\\z"]:
        assert check_pattern(ast.Str(pattern)) == [], pattern
    messages = {p: check_pattern(ast.Str(p))[0].message for p in ["(?<=a)b", "(?!a)b", "(a)\\1", "a\\Z", "a{1001}"]}
    assert messages == {
        "(?<=a)b": "the regex engine (RE2) cannot run lookaround: invalid perl operator: (?<=",
        "(?!a)b": "the regex engine (RE2) cannot run lookaround: invalid perl operator: (?!",
        "(a)\\1": "the regex engine (RE2) cannot run a backreference: invalid escape sequence: \\1",
        "a\\Z": "the regex engine (RE2) cannot run this pattern: invalid escape sequence: \\Z",
        "a{1001}": "the regex engine (RE2) cannot run this pattern: invalid repetition size: {1001}",
    }


def test_re2_error_is_what_the_drop_operator_hits():
    assert re2_error("a+") is None
    assert re2_error("(") is not None
