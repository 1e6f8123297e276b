"""`dedupe near on COLS jaccard >= T ngram N words|chars`: a pair at the threshold is a duplicate and one
just above it is not, a chain is one cluster whose removed rows name its survivor, nulls and empty text never
match, and the laws. Small data: MinHash over a handful of rows is quick."""
from decimal import Decimal

from dsc.api import compile_text
from dsc.reserved import ID
from dsc.syntax.source import SourceFile
from laws import assert_laws, table

SPEC = """dataset d version 1 {{
  seed 1
}}
source s {{
  files "rows.jsonl"
}}
schema {{
  a : text
  b : text
}}
clean {{
  {rule}
}}
"""

# ten words give nine word bigrams
RIVER = "the river rose over the old stone bridge before dawn"
TEXTS = [
    RIVER,
    RIVER + " today",  # one bigram more: J = 9/10
    RIVER.replace("before", "after"),  # two bigrams changed: J = 7/11
    None, None, "", "   ",  # no shingles: never anyone's duplicate, not even each other's
    "\u00dcber den Fluss f\u00fchrt eine alte Br\u00fccke aus Stein",
    "\u00fcber den Fluss f\u00fchrt eine alte Br\u00fccke aus Stein",  # first bigram differs: J = 7/9
]


def gone(out) -> list[tuple]:
    cols = [out.removed.column(c).to_pylist() for c in (ID, "_dsc_reason", "_dsc_cluster", "_dsc_duplicate_of")]
    return list(zip(*cols))


def test_a_pair_exactly_at_the_threshold_is_a_duplicate(monkeypatch):
    out = assert_laws("dedupe_near", table(a=TEXTS), {"columns": ["a"], "threshold": "0.9", "ngram": 2}, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0")]
    assert out.table.column("a").to_pylist() == [TEXTS[i] for i in (0, 2, 3, 4, 5, 6, 7, 8)]


def test_just_above_the_threshold_everything_is_kept(monkeypatch):
    out = assert_laws("dedupe_near", table(a=TEXTS), {"columns": ["a"], "threshold": "0.91", "ngram": 2}, monkeypatch)
    assert out.removed.num_rows == 0 and out.table.num_rows == len(TEXTS)


def test_a_lower_threshold_reaches_the_farther_texts_and_case_counts(monkeypatch):
    out = assert_laws("dedupe_near", table(a=TEXTS), {"columns": ["a"], "threshold": "0.6", "ngram": 2}, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0"), ("r2", "near duplicate", "r0", "r0"),
                         ("r8", "near duplicate", "r7", "r7")]


def test_a_chain_is_one_cluster_and_every_member_names_the_survivor(monkeypatch):
    # J(r0, r1) = 10/11 and J(r1, r2) = 11/12 pass 0.9; J(r0, r2) = 10/12 does not, yet all three merge
    chain = table(a=["a b c d e f g h i j", "a b c d e f g h i j k", "a b c d e f g h i j k l",
                     "z y x w v u t s r q"])
    params = {"columns": ["a"], "threshold": "0.9", "ngram": 1}
    first = assert_laws("dedupe_near", chain, params, monkeypatch)
    assert gone(first) == [("r1", "near duplicate", "r0", "r0"), ("r2", "near duplicate", "r0", "r0")]
    longest = assert_laws("dedupe_near", chain, {**params, "keep": "longest"}, monkeypatch)
    assert gone(longest) == [("r0", "near duplicate", "r0", "r2"), ("r1", "near duplicate", "r0", "r2")]
    assert longest.table.column(ID).to_pylist() == ["r2", "r3"]


def test_characters_shingle_non_ascii_text(monkeypatch):
    tbl = table(a=["na\u00efve caf\u00e9", "naive caf\u00e9", "na\u00efve cafe", "totally other"])
    out = assert_laws("dedupe_near", tbl, {"columns": ["a"], "threshold": "0.5", "ngram": 3, "unit": "chars"},
                      monkeypatch)
    assert gone(out) == [("r2", "near duplicate", "r0", "r0")]  # 'ï' breaks more trigrams than 'é' at the end


def test_several_columns_are_compared_as_one_text(monkeypatch):
    tbl = table(a=["hello world", None, "hello", None], b=[None, "hello world", "world", None])
    out = assert_laws("dedupe_near", tbl, {"columns": ["a", "b"], "threshold": "1", "ngram": 1}, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0"), ("r2", "near duplicate", "r0", "r0")]


def test_it_compiles_into_the_plan():
    got = compile_text(SourceFile("x.dspec", SPEC.format(
        rule="dedupe near on b, a jaccard >= 0.75 ngram 3 chars permutations 64 keep shortest")))
    assert got.ok, got.diagnostics
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("dedupe_near[b,a]", {
        "columns": ["b", "a"], "threshold": Decimal("0.75"), "ngram": 3, "unit": "chars", "permutations": 64,
        "bands": None, "keep": "shortest", "keep_by": None, "descending": True})
