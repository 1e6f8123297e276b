"""`sample rows N` / `sample fraction F` [from SOURCE] and `cap per COL N`: seeded, stable choices
that depend only on the seed and each row's id — the same rows whatever the order, the workers or
the other rows — with every row not kept rejected with its reason."""
import json
from decimal import Decimal
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.api import compile_text
from dsc.engines.local import run_plan
from dsc.ops import OPERATORS
from dsc.ops.runtime import RunContext
from dsc.reserved import ID
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples
from laws import assert_laws, table


def run(op: str, tbl: pa.Table, params: dict, seed: int = 7, base_dir: Path = Path(".")):
    full = OPERATORS[op].Params(**params).model_dump(mode="python")
    return OPERATORS[op].apply(tbl, full, RunContext(base_dir=base_dir, seed=seed))


def kept_ids(outcome) -> list[str]:
    return outcome.table.column(ID).to_pylist()


def shuffled(tbl: pa.Table, seed: int) -> pa.Table:
    order = list(range(tbl.num_rows))
    random.Random(seed).shuffle(order)
    return tbl.take(pa.array(order))


ROWS = table(text=[f"t{i}" for i in range(200)], label=[["a", "b", "c", None][i % 4] for i in range(200)])
SAMPLE_ROWS = {"mode": "rows", "rows": 30}
SAMPLE_FRACTION = {"mode": "fraction", "fraction": "0.25"}
CAP = {"columns": ["label"], "limit": 7}


# --------------------------------------------------------------------------- sample


@pytest.mark.parametrize("params", [SAMPLE_ROWS, SAMPLE_FRACTION])
def test_sampling_keeps_the_laws(params, monkeypatch):
    out = assert_laws("sample", ROWS, params, monkeypatch)
    assert all(r.startswith("sampled out: ") for r in out.removed.column("_dsc_reason").to_pylist())


def test_sample_rows_keeps_exactly_n_in_input_order():
    out = run("sample", ROWS, SAMPLE_ROWS)
    ids = kept_ids(out)
    assert len(ids) == 30 and ids == sorted(ids, key=lambda i: int(i[1:]))
    assert out.removed.column("_dsc_reason")[0].as_py() == "sampled out: not among the 30 rows kept of 200 (seed 7)"
    assert kept_ids(run("sample", ROWS, {"mode": "rows", "rows": 500})) == ROWS.column(ID).to_pylist()


def test_sample_fraction_keeps_about_f_and_each_row_on_its_own():
    ids = kept_ids(run("sample", ROWS, SAMPLE_FRACTION))
    assert 30 <= len(ids) <= 70  # 50 expected; binomial, sd about 6
    half = kept_ids(run("sample", ROWS.slice(0, 100), SAMPLE_FRACTION))
    assert half == [i for i in ids if int(i[1:]) < 100]  # other rows do not change a row's fate
    assert kept_ids(run("sample", ROWS, {"mode": "fraction", "fraction": 1})) == ROWS.column(ID).to_pylist()


def test_a_smaller_sample_is_inside_a_larger_one():
    small, large = (set(kept_ids(run("sample", ROWS, {"mode": "rows", "rows": n}))) for n in (10, 40))
    assert small < large
    small, large = (set(kept_ids(run("sample", ROWS, {"mode": "fraction", "fraction": f}))) for f in ("0.1", "0.5"))
    assert small < large


def test_the_seed_chooses_the_sample():
    assert kept_ids(run("sample", ROWS, SAMPLE_ROWS, seed=7)) == kept_ids(run("sample", ROWS, SAMPLE_ROWS, seed=7))
    assert kept_ids(run("sample", ROWS, SAMPLE_ROWS, seed=7)) != kept_ids(run("sample", ROWS, SAMPLE_ROWS, seed=8))


@settings(max_examples=examples(1), deadline=None)
@given(order_seed=st.integers(0, 2 ** 32), n=st.integers(1, 210), seed=st.integers(0, 2 ** 63))
def test_shuffled_input_selects_the_same_ids(order_seed, n, seed):
    for params in ({"mode": "rows", "rows": n}, {"mode": "fraction", "fraction": str(n / 210)}, CAP):
        op = "cap" if "limit" in params else "sample"
        straight = run(op, ROWS, params, seed=seed)
        mixed = run(op, shuffled(ROWS, order_seed), params, seed=seed)
        assert sorted(kept_ids(straight)) == sorted(kept_ids(mixed))
        assert sorted(straight.removed.column("_dsc_reason").to_pylist()) == \
            sorted(mixed.removed.column("_dsc_reason").to_pylist())


def test_rows_sharing_an_id_are_told_apart_by_where_they_were_read():
    tbl = pa.table({ID: ["same"] * 4 + ["other"], "_dsc_src": ["f:1", "f:2", "f:3", "f:4", "f:5"]})
    picked = {tuple(r.values()) for r in run("sample", tbl, {"mode": "rows", "rows": 2}).table.to_pylist()}
    again = {tuple(r.values()) for r in run("sample", tbl.take([4, 3, 2, 1, 0]), {"mode": "rows", "rows": 2}).table
             .to_pylist()}
    assert picked == again and len(picked) == 2


# --------------------------------------------------------------------------- cap


def test_cap_keeps_the_laws_and_at_most_n_per_value(monkeypatch):
    out = assert_laws("cap", ROWS, CAP, monkeypatch)
    counts = dict(zip(*[c.to_pylist() for c in pc.value_counts(out.table.column("label").combine_chunks()).flatten()]))
    assert counts == {"a": 7, "b": 7, "c": 7, None: 7}
    reasons = set(out.removed.column("_dsc_reason").to_pylist())
    assert reasons == {f"over the cap of 7 for label={v}" for v in ("a", "b", "c", "null")}


def test_cap_leaves_small_groups_whole_and_a_lower_cap_keeps_a_subset():
    tbl = table(label=["x"] * 5 + ["y"] * 2)
    kept = kept_ids(run("cap", tbl, {"columns": ["label"], "limit": 3}))
    assert len(kept) == 5 and {"r5", "r6"} <= set(kept)
    low, high = (set(kept_ids(run("cap", ROWS, {"columns": ["label"], "limit": n}))) for n in (3, 9))
    assert low < high


def test_cap_groups_numbers_and_shows_them_as_json():
    out = run("cap", table(n=[1, 1, 2, 1, 2]), {"columns": ["n"], "limit": 1})
    assert sorted(out.removed.column("_dsc_reason").to_pylist()) == ["over the cap of 1 for n=1"] * 2 + \
        ["over the cap of 1 for n=2"]


def test_cap_decides_each_value_alone_so_the_ray_engine_may_cap_each_group_where_it_lands():
    whole = set(kept_ids(run("cap", ROWS, CAP)))
    labels = ROWS.column("label")
    parts = [ROWS.filter(pc.is_in(labels, pa.array(["a", "c"]))), ROWS.filter(pc.invert(pc.fill_null(
        pc.is_in(labels, pa.array(["a", "c"])), False)))]
    assert set().union(*(kept_ids(run("cap", part, CAP)) for part in parts)) == whole


def test_cap_on_a_column_that_cannot_be_grouped_is_a_run_error():
    from dsc.ops.runtime import RunError

    with pytest.raises(RunError, match="cannot be grouped") as err:
        run("cap", table(n=[[1], [2]]), {"columns": ["n"], "limit": 1})
    assert err.value.code == "DSC303"


# --------------------------------------------------------------------------- the language and a run


SPEC = """dataset d version 1 {{
  seed 3
}}
source web {{
  files "web/*.jsonl"
}}
source books {{
  files "books.jsonl"
}}
schema {{
  text : text
  label : string
}}
clean {{
{rules}
}}
"""


def compiled(*rules: str):
    return compile_text(SourceFile("x.dspec", SPEC.format(rules="\n".join("  " + r for r in rules))))


def test_the_rules_compile_into_the_plan():
    got = compiled("sample rows 100 from web", "sample fraction 10%", "sample fraction 0.5 from web, books",
                   "cap per label 20")
    assert got.ok, got.diagnostics
    assert [(s.id, s.params) for s in got.plan.steps] == [
        ("sample[web]", {"mode": "rows", "rows": 100, "fraction": None, "sources": ["web"],
                         "files": ["web/*.jsonl"], "hubs": []}),
        ("sample[fraction]", {"mode": "fraction", "rows": None, "fraction": Decimal("0.1"), "sources": [],
                              "files": [], "hubs": []}),
        ("sample[web,books]", {"mode": "fraction", "rows": None, "fraction": Decimal("0.5"),
                               "sources": ["web", "books"], "files": ["web/*.jsonl", "books.jsonl"], "hubs": []}),
        ("cap[label]", {"columns": ["label"], "limit": 20}),
    ]


@pytest.mark.parametrize("rule, code, words", [
    ("sample rows 0", "DSC209", "whole number of rows from 1 to 1e+12, not 0"),
    ("sample rows 2.5", "DSC209", "not 2.5"),
    ("sample rows 10%", "DSC209", "not 10%"),
    ("sample fraction 0", "DSC209", "above 0 and at most 1, not 0"),
    ("sample fraction 1.5", "DSC209", "not 1.5"),
    ("sample fraction 120%", "DSC209", "not 120%"),
    ("sample rows 10 from news", "DSC203", "unknown source 'news'"),
    ("sample rows 10 from web, web", "DSC202", "'web' is listed twice"),
    ("cap per label 0", "DSC209", "whole number of rows from 1 to 1e+12"),
    ("cap per lable 5", "DSC201", "unknown column 'lable'"),
])
def test_bad_rules_are_check_errors(rule, code, words):
    got = compiled(rule)
    errors = [d for d in got.diagnostics if d.is_error]
    assert [(d.code, words in d.message) for d in errors] == [(code, True)], errors
    assert errors[0].span.line == 15 and errors[0].hint


def write(path: Path, rows: list[dict]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r) + "\n" for r in rows))


def test_a_mixture_by_source_in_a_run_with_one_or_two_workers(tmp_path, monkeypatch):
    from dsc.ops import runtime

    write(tmp_path / "web" / "a.jsonl", [{"text": f"web {i}", "label": "w"} for i in range(60)])
    write(tmp_path / "web" / "b.jsonl", [{"text": f"web b {i}", "label": "w"} for i in range(40)])
    write(tmp_path / "books.jsonl", [{"text": f"book {i}", "label": ["x", "y"][i % 2]} for i in range(50)])
    plan = compiled("sample rows 30 from web", "sample fraction 0.5 from books", "cap per label 10").plan
    one = run_plan(plan, tmp_path, tmp_path / "out1")
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 2)
    two = run_plan(plan, tmp_path, tmp_path / "out2", workers=2)
    for name in ("kept.parquet", "rejects.jsonl", "stats.json"):
        assert (tmp_path / "out1" / name).read_bytes() == (tmp_path / "out2" / name).read_bytes(), name
    assert one.kept.num_rows + one.rejects.num_rows == 150
    labels = one.kept.column("label").to_pylist()
    assert labels.count("w") == 10 and labels.count("x") <= 10 and labels.count("y") <= 10
    stats = json.loads((tmp_path / "out1" / "stats.json").read_text())
    funnel = {r["id"]: (r["rows_in"], r["removed"]) for r in stats["rules"]}
    assert funnel["sample[web]"] == (150, 70)
    assert funnel["sample[books]"][0] == 80 and 10 <= funnel["sample[books]"][1] <= 40
    reasons = {r["reason"] for r in stats["reasons"]}
    assert "sampled out: not among the 30 rows of web kept of 100 (seed 3)" in reasons
    assert "over the cap of 10 for label=w" in reasons
    assert two.kept.num_rows == one.kept.num_rows
