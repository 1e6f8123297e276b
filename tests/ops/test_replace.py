"""`replace COLS "pattern" with "text"`: RE2 rewrites, groups, nulls, checks, and the laws."""
import pytest

from dsc.ops.replace import rewrite_error
from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, n: int"


def test_every_match_is_rewritten_with_groups_and_nulls_stay_null(monkeypatch):
    tbl = table(a=["along lake .", None, "a , b !", "", "no change"], n=[1, 2, 3, 4, 5])
    out = assert_laws("replace", tbl, {"columns": ["a"], "pattern": r" +([.,!?])", "replacement": r"\1"}, monkeypatch)
    assert out.table.column("a").to_pylist() == ["along lake.", None, "a, b!", "", "no change"]


def test_several_columns_and_the_whole_match():
    tbl = table(a=["x1", "y"], b=["2z", None])
    out = apply("replace", tbl, {"columns": ["a", "b"], "pattern": r"\d", "replacement": r"<\0>"})
    assert out.table.column("a").to_pylist() == ["x<1>", "y"]
    assert out.table.column("b").to_pylist() == ["<2>z", None]


def test_it_compiles_into_the_plan_and_prints_back():
    got = compiled(spec(SCHEMA, 'replace a "\\\\s+$" with ""'))
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("replace[a]", {"columns": ["a"], "pattern": r"\s+$", "replacement": ""})


@pytest.mark.parametrize("rule, code, words", [
    ('replace a "(a)" with "\\\\2"', "DSC213", "the replacement does not fit the pattern"),
    ('replace a "(?<=a)b" with ""', "DSC213", "RE2"),
    ('replace n "1" with "2"', "DSC207", "replace needs a text column"),
    ('replace a, a "x" with "y"', "DSC202", "listed twice"),
    ('replace b "x" with "y"', "DSC201", "unknown column 'b'"),
])
def test_bad_rules_are_check_errors(rule, code, words):
    got = compile_spec(spec(SCHEMA, rule))
    assert not got.ok
    assert [(d.code, words in d.message) for d in got.diagnostics if d.is_error] == [(code, True)]


def test_rewrite_error_leaves_a_bad_pattern_to_the_regex_check():
    assert rewrite_error("(", "x") is None
    assert rewrite_error("(a)", r"\1") is None
