"""`dedupe exact on COLS [ignoring …] [keep …]`: which row survives (first and last in the order rows were
read, ties to the row read first, never to the row id), what `ignoring` merges, what every removed row
records, and the laws."""
import pyarrow as pa
import pytest

from dsc.reserved import ID
from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, b: text, s: int"
NONE = "exact duplicate (keep none: whole cluster dropped)"


def with_ids(tbl: pa.Table, ids: list[str]) -> pa.Table:
    """Row ids out of position order, like the content hashes a run gives rows."""
    return tbl.set_column(0, ID, pa.array(ids))


def removed(out) -> list[tuple]:
    cols = [out.removed.column(c).to_pylist() for c in (ID, "_dsc_reason", "_dsc_cluster", "_dsc_duplicate_of")]
    return list(zip(*cols))


# "Hi" at e and a; null at g and f (nulls equal nulls); "hi", "" and "Hi " stand alone. A cluster is named
# by its first row in table order (e, g), which need not be the survivor.
ROWS = with_ids(table(q=["Hi", "hi", None, "Hi", None, "", "Hi "], s=[3, 9, 1, 9, None, 2, 5]),
                ["e", "c", "g", "a", "f", "b", "d"])


@pytest.mark.parametrize("params, gone", [
    ({"keep": "first"}, [("a", "exact duplicate", "e", "e"), ("f", "exact duplicate", "g", "g")]),
    ({"keep": "last"}, [("e", "exact duplicate", "e", "a"), ("g", "exact duplicate", "g", "f")]),
    # equal lengths: the row read first wins the tie (not the smallest row id, a and f)
    ({"keep": "longest"}, [("a", "exact duplicate", "e", "e"), ("f", "exact duplicate", "g", "g")]),
    ({"keep": "shortest"}, [("a", "exact duplicate", "e", "e"), ("f", "exact duplicate", "g", "g")]),
    ({"keep": "none"}, [("e", NONE, "e", None), ("g", NONE, "g", None), ("a", NONE, "e", None),
                        ("f", NONE, "g", None)]),
    # s: e 3 and a 9; g 1 and f null, and a null never wins
    ({"keep": "by", "keep_by": "s"}, [("e", "exact duplicate", "e", "a"), ("f", "exact duplicate", "g", "g")]),
    ({"keep": "by", "keep_by": "s", "descending": False},
     [("a", "exact duplicate", "e", "e"), ("f", "exact duplicate", "g", "g")]),
])
def test_keep_rules_choose_by_source_order_not_row_id(monkeypatch, params, gone):
    out = assert_laws("dedupe_exact", ROWS, {"columns": ["q"], **params}, monkeypatch)
    assert removed(out) == gone
    assert out.table.column(ID).to_pylist() == [i for i in ["e", "c", "g", "a", "f", "b", "d"]
                                                if i not in {g[0] for g in gone}]


TEXTS = ["Hello,  World", "hello world", "HELLO WORLD!",
         "\uff48\uff45\uff4c\uff4c\uff4f \uff57\uff4f\uff52\uff4c\uff44",  # full-width "hello world"
         "hello world ", None, "", "h\u00e9llo world"]


@pytest.mark.parametrize("ignoring, gone", [
    ([], []),
    (["whitespace"], [("r4", "r1")]),
    (["case", "punctuation"], [("r2", "r1")]),  # r0 keeps its double space
    (["unicode"], [("r3", "r1")]),  # full-width letters
    (["case", "punctuation", "unicode", "whitespace"], [("r1", "r0"), ("r2", "r0"), ("r3", "r0"), ("r4", "r0")]),
])
def test_ignoring_merges_only_what_it_names(monkeypatch, ignoring, gone):
    out = assert_laws("dedupe_exact", table(q=TEXTS), {"columns": ["q"], "ignoring": ignoring}, monkeypatch)
    assert [(r[0], r[3]) for r in removed(out)] == gone  # None, "" and the accent always stay


@pytest.mark.parametrize("keep, survivor", [("longest", "r0"), ("shortest", "r1")])
def test_longest_and_shortest_measure_the_values_as_written(keep, survivor):
    # compared ignoring everything, kept by the original length: 13, 11, 12, 11 (full-width) and 12 characters
    params = {"columns": ["q"], "ignoring": ["case", "punctuation", "unicode", "whitespace"], "keep": keep}
    out = apply("dedupe_exact", table(q=TEXTS), params)
    assert out.table.column(ID).to_pylist() == [survivor, "r5", "r6", "r7"]
    assert set(out.removed.column("_dsc_duplicate_of").to_pylist()) == {survivor}
    assert set(out.removed.column("_dsc_cluster").to_pylist()) == {"r0"}


def test_two_columns_are_one_key_and_nulls_differ_from_empty_text(monkeypatch):
    tbl = table(a=["x", "x", "x", None, None, ""], b=[None, None, "", "y", "y", "y"])
    out = assert_laws("dedupe_exact", tbl, {"columns": ["a", "b"], "keep": "last"}, monkeypatch)
    assert removed(out) == [("r0", "exact duplicate", "r0", "r1"), ("r3", "exact duplicate", "r3", "r4")]


def test_ignoring_more_never_splits_a_cluster():
    tbl = table(q=["\u2474 item", "(1) item", "1 item"])
    unicode = apply("dedupe_exact", tbl, {"columns": ["q"], "ignoring": ["unicode"]})
    assert unicode.removed.column(ID).to_pylist() == ["r1"]
    both = apply("dedupe_exact", tbl, {"columns": ["q"], "ignoring": ["punctuation", "unicode"]})
    assert both.removed.column(ID).to_pylist() == ["r1", "r2"]


def test_it_compiles_into_the_plan():
    got = compiled(spec(SCHEMA, "dedupe exact on b, a ignoring whitespace, punctuation, case keep by s asc"))
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("dedupe_exact[b,a]", {
        "columns": ["b", "a"], "ignoring": ["case", "punctuation", "whitespace"], "keep": "by", "keep_by": "s",
        "descending": False})


def test_keep_hash_keeps_the_smallest_row_id_in_any_input_order(monkeypatch):
    """`keep hash`: the survivor is the smallest row id (content hash), so re-ordered inputs keep the same rows."""
    out = assert_laws("dedupe_exact", ROWS, {"columns": ["q"], "keep": "hash"}, monkeypatch)
    assert removed(out) == [("e", "exact duplicate", "e", "a"), ("g", "exact duplicate", "g", "f")]
    backwards = assert_laws("dedupe_exact", ROWS.take(pa.array(range(6, -1, -1))), {"columns": ["q"], "keep": "hash"},
                            monkeypatch)
    assert sorted(r[0] for r in removed(backwards)) == ["e", "g"]  # keep first would now remove a and f
    for mode, extra in (("exact", ""), ("near", " jaccard >= 0.9"), ("fuzzy", ' pairs "p.json" threshold 0.5')):
        got = compile_spec(spec(SCHEMA, f"dedupe {mode} on a{extra} keep hash"))
        assert "'keep' policy" not in " ".join(d.message for d in got.diagnostics), got.diagnostics
    [typo] = compile_spec(spec(SCHEMA, "dedupe exact on a keep hsah")).diagnostics
    assert (typo.code, typo.hint, typo.span.line) == ("DSC203", "did you mean 'hash'?", 13)
