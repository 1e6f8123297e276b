"""`drop where PREDICATE`: measures, tests, matches and `in`, negation, nulls read as empty text, the
reason every removed row carries, and the laws."""
import pytest

from laws import apply, assert_laws, compiled, spec, table

SCHEMA = "a: text, n: int, f: float"

MESSY = ["two words", None, "", "   ", "\u3000", "zero\u200bwidth", "\u00dcn\u00efc\u00f6d\u00e9 \u2713 three",
         " padded one "]


def rule(**params):
    return {"negate": False, **params}


@pytest.mark.parametrize("params, removed, reason", [
    # 15 characters in 21 UTF-8 bytes
    (rule(kind="measure", column="a", func="chars", op="==", value=15), ["r6"], "drop where chars(a) == 15"),
    (rule(kind="measure", column="a", func="chars", op="<", value=1), ["r1", "r2"], "drop where chars(a) < 1"),
    (rule(kind="measure", column="a", func="chars", op=">=", value=1, negate=True), ["r1", "r2"],
     "drop where not chars(a) >= 1"),
    # U+3000 is whitespace; a zero-width space is not
    (rule(kind="test", column="a", func="empty"), ["r1", "r2", "r3", "r4"], "drop where empty(a)"),
    (rule(kind="test", column="a", func="empty", negate=True), ["r0", "r5", "r6", "r7"], "drop where not empty(a)"),
    (rule(kind="test", column="a", func="null"), ["r1"], "drop where null(a)"),
    (rule(kind="test", column="a", func="null", negate=True), ["r0", "r2", "r3", "r4", "r5", "r6", "r7"],
     "drop where not null(a)"),
    (rule(kind="matches", column="a", pattern="^$"), ["r1", "r2"], "drop where a matches '^$'"),
    (rule(kind="matches", column="a", pattern="(?i)\u00fc"), ["r6"], "drop where a matches '(?i)\u00fc'"),
    (rule(kind="matches", column="a", pattern="o", negate=True), ["r1", "r2", "r3", "r4", "r6"],
     "drop where not a matches 'o'"),
    (rule(kind="in", column="a", values=[" padded one ", "two words"]), ["r0", "r7"],
     "drop where a in { padded one , two words}"),
    (rule(kind="in", column="a", values=[""]), ["r1", "r2"], "drop where a in {}"),
    (rule(kind="in", column="a", values=["two words"], negate=True), ["r1", "r2", "r3", "r4", "r5", "r6", "r7"],
     "drop where not a in {two words}"),
])
def test_each_predicate_on_messy_text(monkeypatch, params, removed, reason):
    tbl = table(a=MESSY, n=list(range(len(MESSY))))
    out = assert_laws("drop", tbl, params, monkeypatch)
    assert out.removed.column("_dsc_id").to_pylist() == removed
    assert out.removed.column("_dsc_reason").to_pylist() == [reason] * len(removed)
    assert out.removed.column("a").to_pylist() == [MESSY[int(i[1:])] for i in removed]  # the row as it was
    assert out.removed.column("_dsc_cluster").to_pylist() == [None] * len(removed)


def test_words_are_split_on_unicode_whitespace():
    tbl = table(a=["one", "two words", "three short words", "tab\tand\u00a0nbsp here", "zero\u200bwidth joiner"])
    out = apply("drop", tbl, rule(kind="measure", column="a", func="words", op="<", value=3))
    assert out.table.column("a").to_pylist() == ["three short words", "tab\tand\u00a0nbsp here"]


@pytest.mark.parametrize("op, value, removed", [
    ("<", 1, ["r1", "r2", "r3", "r4"]),  # null, "", "   " and U+3000 hold no word
    (">", 2, ["r6"]),  # " padded one " holds two
])
def test_words_count_like_str_split(op, value, removed):
    out = apply("drop", table(a=MESSY), rule(kind="measure", column="a", func="words", op=op, value=value))
    assert out.removed.column("_dsc_id").to_pylist() == removed


@pytest.mark.parametrize("text, values, negate, removed, reason", [
    ("drop where not not a not in {y, x}", ["x", "y"], True, ["r2", "r3"], "drop where not a in {x, y}"),
    ("drop where not a not in {x}", ["x"], False, ["r0"], "drop where a in {x}"),
    ("drop where not not not empty(a)", None, True, ["r0", "r1"], "drop where not empty(a)"),
])
def test_negations_cancel_in_pairs_in_the_plan(text, values, negate, removed, reason):
    got = compiled(spec(SCHEMA, text))
    params = got.plan.steps[0].params
    assert (params["values"], params["negate"]) == (values, negate)
    out = apply("drop", table(a=["x", "y", "", None], n=[1, 2, 3, 4], f=[1.0, 2.0, 3.0, 4.0]), params)
    assert out.removed.column("_dsc_id").to_pylist() == removed
    assert out.removed.column("_dsc_reason").to_pylist() == [reason] * len(removed)


def test_in_compares_numbers_as_their_text():
    got = compiled(spec(SCHEMA, "drop where f in {1, 2.5}"))
    out = apply("drop", table(a=["x", "y", "z"], n=[1, 2, 3], f=[1.0, 2.5, None]), got.plan.steps[0].params)
    assert out.removed.column("_dsc_id").to_pylist() == ["r0", "r1"]


@pytest.mark.parametrize("text, removed", [
    ("drop where f in {1.0}", ["r0"]),
    ("drop where f in {2.50}", ["r1"]),
    ("drop where n in {1e2}", ["r1"]),
])
def test_in_matches_a_number_however_it_is_written(text, removed):
    got = compiled(spec(SCHEMA, text))
    out = apply("drop", table(a=["x", "y", "z"], n=[1, 100, None], f=[1.0, 2.5, None]), got.plan.steps[0].params)
    assert out.removed.column("_dsc_id").to_pylist() == removed
