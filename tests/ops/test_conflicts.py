"""`conflicts on KEYS -> TARGET resolve POLICY [else drop|flag]`: rows that share a key but disagree on the
target, each group resolved by its policy and its decision logged, and the laws."""
import pytest

from dsc.reserved import ID
from laws import apply, assert_laws, compiled, spec, table

SCHEMA = "a: text, b: text, c: text"

# Three groups: "2+2?" (r0, r1, r10: 4; r2: 5; read in that order, though by id r10 sorts before r2), "capital of France?" (Paris
# and paris: case counts), "Ünï" (a null answer and "ja"). Null questions share no key; "solo" is alone.
ROWS = table(q=["2+2?", "2+2?", "2+2?", "capital of France?", "capital of France?", None, None, "\u00dcn\u00ef",
                "\u00dcn\u00ef", "solo", "2+2?"],
             a=["4", "4", "5", "Paris", "paris", "x", "y", None, "ja", "z", "4"])
MAJORITY = "kept the majority value (3 of 4 rows)"
FOUR, TWO = "conflict: 4 rows share q but disagree on a; ", "conflict: 2 rows share q but disagree on a; "
GROUPS = [["r0", "r1", "r2", "r10"], ["r3", "r4"], ["r7", "r8"]]


@pytest.mark.parametrize("resolve, otherwise, removed, flagged, decisions", [
    ("majority", None, {"r2": FOUR + MAJORITY, "r3": TWO + "no majority: all dropped",
                        "r4": TWO + "no majority: all dropped", "r7": TWO + "no majority: all dropped",
                        "r8": TWO + "no majority: all dropped"}, [],
     [(["r0", "r1", "r10"], MAJORITY), ([], "no majority: all dropped"), ([], "no majority: all dropped")]),
    ("majority", "drop", {"r2": FOUR + MAJORITY, "r3": TWO + "no majority: all dropped",
                          "r4": TWO + "no majority: all dropped", "r7": TWO + "no majority: all dropped",
                          "r8": TWO + "no majority: all dropped"}, [],
     [(["r0", "r1", "r10"], MAJORITY), ([], "no majority: all dropped"), ([], "no majority: all dropped")]),
    ("majority", "flag", {"r2": FOUR + MAJORITY}, ["r3", "r4", "r7", "r8"],
     [(["r0", "r1", "r10"], MAJORITY), (["r3", "r4"], "no majority: flagged, all kept"),
      (["r7", "r8"], "no majority: flagged, all kept")]),
    ("first", None, {i: (FOUR if i in GROUPS[0] else TWO) + "kept the first row read"
                     for i in ["r1", "r2", "r4", "r8", "r10"]}, [],
     [(["r0"], "kept the first row read"), (["r3"], "kept the first row read"),
      (["r7"], "kept the first row read")]),
    ("drop", None, {i: (FOUR if i in GROUPS[0] else TWO) + "all dropped"
                    for i in ["r0", "r1", "r2", "r3", "r4", "r7", "r8", "r10"]}, [],
     [([], "all dropped")] * 3),
    ("flag", None, {}, ["r0", "r1", "r2", "r10", "r3", "r4", "r7", "r8"],
     [(rows, "flagged, all kept") for rows in GROUPS]),
])
def test_each_policy_resolves_every_group_and_logs_it(monkeypatch, resolve, otherwise, removed, flagged, decisions):
    params = {"columns": ["q"], "target": "a", "resolve": resolve, "otherwise": otherwise}
    out = assert_laws("conflicts", ROWS, params, monkeypatch)
    assert dict(zip(out.removed.column(ID).to_pylist(), out.removed.column("_dsc_reason").to_pylist())) == removed
    heads = {i: group[0] for group in GROUPS for i in group}
    assert out.removed.column("_dsc_cluster").to_pylist() == [heads[i] for i in out.removed.column(ID).to_pylist()]
    assert out.removed.column("_dsc_duplicate_of").null_count == len(removed)
    assert [f["row_id"] for f in out.flags] == flagged
    assert all(f["reason"].endswith("flagged, all kept") for f in out.flags)
    assert [(d["rows"], d["kept"], d["decision"]) for d in out.decisions] == [
        (rows, kept, decision) for rows, (kept, decision) in zip(GROUPS, decisions)]
    assert "r5" in out.table.column(ID).to_pylist() and "r9" in out.table.column(ID).to_pylist()


def test_resolve_first_keeps_the_row_read_first_not_the_smallest_id(monkeypatch):
    """Rows 2 and 10 share a key: r2 was read first, though the id r10 sorts before it."""
    tbl = table(q=[f"q{i}" for i in range(10)] + ["q2"], a=[str(i) for i in range(10)] + ["other"])
    out = assert_laws("conflicts", tbl, {"columns": ["q"], "target": "a", "resolve": "first", "otherwise": None},
                      monkeypatch)
    assert out.removed.column(ID).to_pylist() == ["r10"] and out.decisions[0]["kept"] == ["r2"]


def test_a_decision_names_the_key_and_counts_each_value_null_first():
    out = apply("conflicts", ROWS, {"columns": ["q"], "target": "a", "resolve": "majority", "otherwise": "flag"})
    assert out.decisions[0] == {"key": {"q": "2+2?"}, "values": [{"value": "4", "rows": 3}, {"value": "5", "rows": 1}],
                                "rows": ["r0", "r1", "r2", "r10"], "kept": ["r0", "r1", "r10"], "decision": MAJORITY}
    assert out.decisions[2]["key"] == {"q": "\u00dcn\u00ef"}
    assert out.decisions[2]["values"] == [{"value": None, "rows": 1}, {"value": "ja", "rows": 1}]


def test_a_key_of_several_columns_with_a_null_part_is_nobody_s_key(monkeypatch):
    tbl = table(q=["x", "x", "x", "x", "x" * 250, "x" * 250], lang=["en", "en", None, None, "de", "de"],
                score=[1.0, 1.5, 2.0, 3.0, 0.5, 0.25])
    out = assert_laws("conflicts", tbl, {"columns": ["q", "lang"], "target": "score", "resolve": "drop"}, monkeypatch)
    assert out.table.column(ID).to_pylist() == ["r2", "r3"]
    assert out.removed.column("_dsc_reason").to_pylist()[0] == (
        "conflict: 2 rows share q, lang but disagree on score; all dropped")
    assert [(d["key"], d["values"]) for d in out.decisions] == [
        ({"q": "x", "lang": "en"}, [{"value": "1", "rows": 1}, {"value": "1.5", "rows": 1}]),
        ({"q": "x" * 200 + "\u2026", "lang": "de"}, [{"value": "0.25", "rows": 1}, {"value": "0.5", "rows": 1}])]


def test_rows_that_agree_are_no_conflict(monkeypatch):
    tbl = table(q=["same", "same", "same", "other"], a=["1", "1", "1", "2"])
    out = assert_laws("conflicts", tbl, {"columns": ["q"], "target": "a", "resolve": "drop"}, monkeypatch)
    assert out.table.num_rows == 4 and out.decisions == [] and out.flags == []


def test_a_numeric_key_is_logged_as_its_value():
    tbl = table(n=[7, 7, 8], a=["x", "y", "z"])
    out = apply("conflicts", tbl, {"columns": ["n"], "target": "a", "resolve": "drop"})
    assert out.removed.column(ID).to_pylist() == ["r0", "r1"]
    assert out.decisions[0]["key"] in ({"n": 7}, {"n": "7"})


def test_it_compiles_into_the_plan():
    got = compiled(spec(SCHEMA, "conflicts on b, a -> c resolve majority else flag"))
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("conflicts[b,a->c]", {"columns": ["b", "a"], "target": "c",
                                                             "resolve": "majority", "otherwise": "flag"})
