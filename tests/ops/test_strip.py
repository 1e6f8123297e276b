"""`strip COLS suffix|prefix "text"`: a literal end or start removed once, and the laws."""
import pytest

from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, n: int"


def test_the_suffix_is_removed_once_where_present(monkeypatch):
    tbl = table(a=["ok<|endoftext|>", "twice<|endoftext|><|endoftext|>", "none", None, "<|endoftext|>", "é<|e"],
                n=[1, 2, 3, 4, 5, 6])
    out = assert_laws("strip", tbl, {"columns": ["a"], "side": "suffix", "text": "<|endoftext|>"}, monkeypatch)
    assert out.table.column("a").to_pylist() == ["ok", "twice<|endoftext|>", "none", None, "", "é<|e"]


def test_a_prefix_counts_characters_not_bytes():
    out = apply("strip", table(a=["Écho: é", "x: y", "Éc"]), {"columns": ["a"], "side": "prefix", "text": "Écho: "})
    assert out.table.column("a").to_pylist() == ["é", "x: y", "Éc"]


def test_it_compiles_into_the_plan():
    got = compiled(spec(SCHEMA, 'strip a suffix "</s>"'))
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("strip[a]", {"columns": ["a"], "side": "suffix", "text": "</s>"})


@pytest.mark.parametrize("rule, code, words", [
    ('strip a suffix ""', "DSC209", "needs some text to remove"),
    ('strip n prefix "1"', "DSC207", "strip needs a text column"),
    ('strip b suffix "x"', "DSC201", "unknown column 'b'"),
])
def test_bad_rules_are_check_errors(rule, code, words):
    got = compile_spec(spec(SCHEMA, rule))
    assert [(d.code, words in d.message) for d in got.diagnostics if d.is_error] == [(code, True)]


def test_a_side_other_than_suffix_or_prefix_does_not_parse():
    got = compile_spec(spec(SCHEMA, 'strip a middle "x"'))
    assert not got.ok and got.diagnostics[0].code.startswith("DSC1")
