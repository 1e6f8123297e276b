"""`normalize COLS: STEPS`: the steps run in canonical order whatever the listing, nulls stay null,
each column keeps its type, and the laws."""
import pyarrow as pa
import pytest

from laws import apply, assert_laws, compiled, spec, table

SCHEMA = "a: text, b: text"


def test_all_steps_listed_backwards_run_in_canonical_order_and_nulls_stay_null(monkeypatch):
    tbl = table(a=["  \uff23af\u00e9\u00a0\u00a0Bar\u200b ", None, "", "Stra\u00dfe\t\u0130", "\ufb01ne\r\nline",
                   "e\u0301 \x00X", "   "],
                b=["  KEEP  ", "x", None, "Y", "z", "w", " "])
    steps = ["casefold", "strip", "collapse_whitespace", "strip_control", "nfkc"]
    out = assert_laws("normalize", tbl, {"columns": ["a"], "steps": steps}, monkeypatch)
    assert out.table.column("a").to_pylist() == [
        "caf\u00e9 bar", None, "", "strasse i\u0307", "fine line", "\u00e9 x", ""]
    assert out.table.column("b").to_pylist() == ["  KEEP  ", "x", None, "Y", "z", "w", " "]
    assert out.removed.num_rows == 0


@pytest.mark.parametrize("steps", [["strip", "strip_control"], ["strip_control", "strip"]])
def test_controls_are_removed_before_the_ends_are_trimmed_whatever_the_listing(steps):
    tbl = table(a=[" \u200b\u00c9cole\u2003", "\x7f\t x \t", None])
    assert apply("normalize", tbl, {"columns": ["a"], "steps": steps}).table.column("a").to_pylist() == [
        "\u00c9cole", "x", None]
    # trimmed first, the zero-width space (not whitespace) and DEL would shield the text's start
    alone = apply("normalize", tbl, {"columns": ["a"], "steps": ["strip"]}).table.column("a").to_pylist()
    assert alone == ["\u200b\u00c9cole", "\x7f\t x", None]


def test_several_columns_each_keep_their_type(monkeypatch):
    tbl = table(a=pa.array(["\uff21\uff22 \u2474", None, "\u2163"], pa.large_string()),
                b=pa.array(["x\u00b2\u00a0\u00a0y", "\u00c5", None], pa.string()),
                c=["\uff21", "\uff21", "\uff21"])
    out = assert_laws("normalize", tbl, {"columns": ["a", "b"], "steps": ["nfkc", "collapse_whitespace"]}, monkeypatch)
    assert out.table.schema.field("a").type == pa.large_string()
    assert out.table.schema.field("b").type == pa.string()
    assert out.table.column("a").to_pylist() == ["AB (1)", None, "IV"]
    assert out.table.column("b").to_pylist() == ["x2 y", "\u00c5", None]
    assert out.table.column("c").to_pylist() == ["\uff21"] * 3


def test_the_plan_holds_the_steps_in_canonical_order():
    got = compiled(spec(SCHEMA, "normalize b, a: casefold, strip, nfc"))
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("normalize[b,a]", {"columns": ["b", "a"], "steps": ["nfc", "strip", "casefold"]})
