"""apply_annotations: the join, the floors under drop / flag / fail, resolution, task files,
and the laws — no row lost, the same output every run."""
import json
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.annotation import apply_annotations, file_agreement
from dsc.ops.runtime import RunError
from dsc.plan import AnnotationPlan
from hypothesis_budget import examples

ROOT = Path(__file__).resolve().parents[2]
FIXTURES = ROOT / "tests" / "fixtures" / "annotation"
LABELS = ["bug", "billing", "account", "other"]
# long_ok.jsonl: t1 all bug · t2 billing, bug, billing (expert) · t3 account, billing, bug (expert)
# · t4 other, bug (no expert) · t5 all account · t6 has no annotations
ROWS = pa.table({"_dsc_id": [f"t{i}" for i in range(1, 7)], "text": list("abcdef"),
                 "category": ["other", None, "bug", None, None, "bug"]})


def plan(**settings) -> AnnotationPlan:
    base = dict(id="annotate[category]", line=9, field="category", source="long_ok.jsonl", min_annotators=3,
                min_experts=1, expert_role="domain_expert", metric="krippendorff", level="nominal",
                threshold=Decimal("0.3"), item_threshold=Decimal("0.3"), resolve="majority",
                prefer="domain_expert", tie="drop", below_threshold="drop")
    return AnnotationPlan(**{**base, **settings})


def labelled(out):
    return dict(zip(out.table.column("_dsc_id").to_pylist(), out.table.column("category").to_pylist()))


def removed(out):
    return dict(zip(out.removed.column("_dsc_id").to_pylist(), out.removed.column("_dsc_reason").to_pylist()))


def test_below_threshold_drop():
    out = apply_annotations(ROWS, plan(), FIXTURES, LABELS)
    assert labelled(out) == {"t1": "bug", "t2": "billing", "t5": "account"}
    assert removed(out) == {
        "t3": "item agreement 0 is below 0.3",
        "t4": "short of annotations: 2 of 3 annotators, 0 of 1 domain_expert annotators; item agreement 0 is "
              "below 0.3",
        "t6": "short of annotations: no annotations for item",
    }
    assert out.flags == [] and out.failed is None
    # the removed rows keep their data, in the shape removed_rows makes
    assert out.removed.column_names == ROWS.column_names + ["_dsc_reason", "_dsc_cluster", "_dsc_duplicate_of",
                                                            "_dsc_similarity"]
    agreement = out.stats["agreement"]
    assert (agreement["value"], agreement["passed"], agreement["items"], agreement["annotators"]) == \
           (0.320896, True, 5, 3)


def test_below_threshold_flag_keeps_rows_and_says_why():
    out = apply_annotations(ROWS, plan(below_threshold="flag"), FIXTURES, LABELS)
    # t3: a three-way tie, settled by the preferred role (the expert said bug); t6: nobody
    # annotated it, so it keeps the value it had
    assert labelled(out) == {"t1": "bug", "t2": "billing", "t3": "bug", "t5": "account", "t6": "bug"}
    assert out.flags == [{"row_id": "t3", "reason": "item agreement 0 is below 0.3"},
                         {"row_id": "t6", "reason": "short of annotations: no annotations for item"}]
    # flagged for its floors, but its tie is dropped by `tie drop`
    assert removed(out) == {"t4": "short of annotations: 2 of 3 annotators, 0 of 1 domain_expert annotators; "
                                  "item agreement 0 is below 0.3; tie between bug and other (1 vote each)"}


def test_below_threshold_fail_names_the_field_the_value_and_the_threshold():
    out = apply_annotations(ROWS, plan(below_threshold="fail", threshold=Decimal("0.5")), FIXTURES, LABELS)
    assert out.failed == ("agreement for 'category' is 0.320896 (krippendorff nominal), below the threshold 0.5; "
                          "3 items of 'category' fall short (2 short of annotators or experts, 2 below item "
                          "agreement 0.3)")
    good = apply_annotations(ROWS.slice(0, 2), plan(below_threshold="fail", threshold=Decimal("0.2"),
                                                    item_threshold=None), FIXTURES, LABELS)
    assert good.failed is None


def test_an_undefined_agreement_cannot_pass_a_fail_threshold(tmp_path):
    (tmp_path / "same.jsonl").write_text("".join(f'{{"item": "t{i}", "annotator": "{a}", "label": "bug"}}\n'
                                                 for i in (1, 2) for a in "ab"))
    out = apply_annotations(ROWS.slice(0, 2), plan(source="same.jsonl", min_annotators=2, min_experts=0,
                                                   below_threshold="fail"), tmp_path, LABELS)
    assert out.failed == ("agreement for 'category' (krippendorff nominal) is undefined: every label is 'bug', so "
                          "chance agreement is total and krippendorff is undefined (0/0); it cannot reach the "
                          "threshold 0.3")
    assert out.stats["agreement"]["value"] is None


def test_dataset_shortfall_under_drop_is_recorded_not_acted_on():
    out = apply_annotations(ROWS, plan(threshold=Decimal("0.9")), FIXTURES, LABELS)
    assert out.failed is None and out.stats["agreement"]["passed"] is False
    assert out.stats["warnings"][0].startswith("agreement for 'category' is 0.320896, below the threshold 0.9")


def test_policies_unanimous_and_expert():
    out = apply_annotations(ROWS, plan(resolve="unanimous", tie="flag", item_threshold=None, min_annotators=2,
                                       min_experts=0), FIXTURES, LABELS)
    assert labelled(out) == {"t1": "bug", "t2": None, "t3": "bug", "t4": None, "t5": "account"}
    assert [f["row_id"] for f in out.flags] == ["t2", "t3", "t4"]
    out = apply_annotations(ROWS, plan(resolve="expert", item_threshold=None, min_annotators=2, min_experts=0,
                                       prefer=None), FIXTURES, LABELS)
    assert labelled(out) == {"t1": "bug", "t2": "billing", "t3": "bug", "t5": "account"}
    assert removed(out)["t4"] == "no domain_expert label to resolve by"


def test_tasks_are_written_in_both_forms(tmp_path):
    out = apply_annotations(ROWS, plan(tasks="todo/category.jsonl"), FIXTURES, LABELS, tasks_dir=tmp_path)
    assert out.stats["tasks"] == {"items": 2, "files": ["todo/category.jsonl", "todo/category.json"]}
    lines = [json.loads(x) for x in (tmp_path / "todo" / "category.jsonl").read_text().splitlines()]
    assert lines[0] == {"item": "t4", "field": "category", "annotators": {"have": 2, "need": 3},
                        "experts": {"role": "domain_expert", "have": 0, "need": 1}, "annotated_by": ["ann", "bob"],
                        "data": {"text": "d", "category": None}}
    assert [x["item"] for x in lines] == ["t4", "t6"]
    studio = json.loads((tmp_path / "todo" / "category.json").read_text())
    assert studio[1] == {"data": {"_dsc_id": "t6", "text": "f", "category": "bug"},
                         "meta": {"dsc_field": "category", "annotators": {"have": 0, "need": 3},
                                  "experts": {"role": "domain_expert", "have": 0, "need": 1}, "annotated_by": []}}


def test_a_task_path_may_not_leave_the_output_folder(tmp_path):
    with pytest.raises(RunError, match="task path '../todo.jsonl' leads out of the output folder"):
        apply_annotations(ROWS, plan(tasks="../todo.jsonl"), FIXTURES, LABELS, tasks_dir=tmp_path / "out")


def test_tie_first_and_item_floors_under_fail():
    out = apply_annotations(ROWS, plan(tie="first", prefer=None, min_annotators=2, min_experts=0,
                                       item_threshold=Decimal("0.2"), below_threshold="fail", threshold=None),
                            FIXTURES, LABELS)
    # t3 (account, billing, bug) and t4 (other, bug) tie; the first in the schema's order wins
    assert labelled(out)["t3"] == "bug" and labelled(out)["t4"] == "bug"
    assert out.failed == "3 items of 'category' fall short (1 short of annotators or experts, 2 below item " \
                         "agreement 0.2)"
    assert out.stats["resolution"]["first"] == 2
    engine = out.as_outcome()
    # label resolutions are no conflict decisions: the engines write them apart (labels.jsonl)
    assert engine.table is out.table and engine.flags == out.flags and engine.decisions == []
    assert out.resolutions[0] == {"field": "category", "row_id": "t1", "votes": {"bug": 3}, "item_agreement": 1.0,
                                  "status": "resolved", "method": "majority", "label": "bug", "kept": True,
                                  "reason": None}
    assert out.resolutions[2]["status"] == "first" and out.resolutions[2]["reason"] == (
        "item agreement 0 is below 0.2; tie between bug, billing and account (1 vote each); took 'bug', first in "
        "label order")


def test_every_row_has_one_label_resolution_and_the_counts_add_up():
    out = apply_annotations(ROWS, plan(), FIXTURES, LABELS)
    status = {r["row_id"]: (r["status"], r["method"], r["label"], r["kept"]) for r in out.resolutions}
    # removed by a floor before resolution: no label is written, whatever the votes say
    assert status == {"t1": ("resolved", "majority", "bug", True), "t2": ("resolved", "majority", "billing", True),
                      "t3": ("below_floor", None, None, False), "t4": ("below_floor", None, None, False),
                      "t5": ("resolved", "majority", "account", True), "t6": ("below_floor", None, None, False)}
    assert [r["reason"] for r in out.resolutions if not r["kept"]] == list(removed(out).values())
    assert out.resolutions[5]["votes"] == {} and out.resolutions[5]["item_agreement"] is None
    assert out.stats["resolution"] == {"policy": "majority", "prefer": "domain_expert", "tie": "drop", "rows": 6,
                                       "resolved": 3, "first": 0, "drop": 0, "flag": 0, "below_floor": 3,
                                       "unannotated": 0, "by": {"majority": 3}}
    flagged = apply_annotations(ROWS, plan(below_threshold="flag"), FIXTURES, LABELS)
    status = {r["row_id"]: (r["status"], r["method"], r["label"], r["kept"]) for r in flagged.resolutions}
    assert status["t3"] == ("resolved", "prefer", "bug", True)  # the expert broke the three-way tie
    assert status["t4"] == ("drop", None, None, False) and status["t6"] == ("unannotated", None, None, True)
    counts = flagged.stats["resolution"]
    assert (counts["resolved"], counts["drop"], counts["unannotated"], counts["by"]) == \
           (4, 1, 1, {"majority": 3, "prefer": 1})
    statuses = ("resolved", "first", "drop", "flag", "below_floor", "unannotated")
    assert sum(counts[k] for k in statuses) == counts["rows"] == ROWS.num_rows


def test_label_studio_with_a_roster_of_experts():
    table = pa.table({"_dsc_id": ["t1", "t2", "t3", "t4"], "text": ["a", "b", "c", "d"]})
    out = apply_annotations(table, plan(source="label_studio_export.json", format="label_studio", min_annotators=1,
                                        item_threshold=None, threshold=None, metric=None, resolve="expert"),
                            FIXTURES, LABELS)
    # t1: the crowd says bug twice, the expert (user 3, per the roster) says billing
    assert labelled(out) == {"t1": "billing", "t2": "billing"}
    assert removed(out) == {"t3": "short of annotations: no annotations for item",
                            "t4": "short of annotations: no annotations for item"}
    assert out.stats["agreement"]["metric"] == "percent"  # no metric declared: reported, not gated
    assert len(out.stats["problems"]) == 6


def test_items_join_rows_by_the_source_key(tmp_path):
    from dsc.io import SourceSpec, read_source

    (tmp_path / "tickets.jsonl").write_text('{"ticket_id": "T-1", "body": "x"}\n{"ticket_id": "T-2", "body": "y"}\n')
    (tmp_path / "ann.csv").write_text("item,annotator,label\nT-1,a,bug\nT-1,b,bug\nT-2,a,other\nT-3,a,bug\n")
    table = read_source(SourceSpec(name="t", files=("tickets.jsonl",), key=("ticket_id",)), tmp_path).table
    out = apply_annotations(table, plan(source="ann.csv", min_annotators=1, min_experts=0, item_threshold=None),
                            tmp_path, LABELS)
    assert labelled(out) == {"T-1": "bug", "T-2": "other"}
    assert out.stats["problems"] == [{"source": "ann.csv:5", "item": "T-3", "reason": "item 'T-3' is not in the data"}]


def test_run_errors_are_for_people():
    with pytest.raises(RunError) as err:
        apply_annotations(ROWS, plan(source="missing.jsonl"), FIXTURES, LABELS)
    assert (err.value.exit_code, err.value.code, err.value.line) == (4, "DSC304", 9)  # the line: structured, not text
    assert str(err.value) == f"annotate category: annotation file '{FIXTURES}/missing.jsonl' does not exist"
    with pytest.raises(RunError) as err:
        apply_annotations(ROWS, plan(level="interval"), FIXTURES, LABELS)
    assert (err.value.exit_code, err.value.code, err.value.line) == (2, "DSC304", 9)
    assert str(err.value) == "annotate category: interval agreement needs numeric labels; 'bug' is not a number"


def test_stats_report_annotators_pairs_and_coverage():
    stats = apply_annotations(ROWS, plan(), FIXTURES, LABELS).stats
    assert stats["annotators"][2] == {"annotator": "eve", "role": "domain_expert", "labels": 4,
                                      "agrees_with_resolved": 1.0}
    assert stats["coverage"] == {"items": 6, "annotated": 5, "unannotated": 1, "short_of_annotators": 2,
                                 "short_of_experts": 2, "min_annotators": 3, "min_experts": 1,
                                 "expert_role": "domain_expert"}
    assert stats["label_pairs"]["labels"] == LABELS
    assert sum(map(sum, stats["label_pairs"]["matrix"])) == 3 * 2 * 4 + 2  # 4 items of 3 labels, 1 of 2
    assert stats["rows"] == {"in": 6, "kept": 3, "removed": 3, "flagged": 0}
    assert json.loads(json.dumps(stats)) == stats  # JSON-ready


def test_file_agreement_for_the_cli():
    found, ingested = file_agreement(FIXTURES / "long_ok.jsonl", metric="krippendorff", level="nominal")
    assert found.as_dict() == {"metric": "krippendorff", "level": "nominal", "value": 0.320896, "items": 5,
                               "annotators": 3, "reason": None}


# ── laws ──────────────────────────────────────────────────────────────────────────────
ANNOTATIONS = st.lists(st.tuples(st.sampled_from([f"t{i}" for i in range(1, 9)]), st.sampled_from("abcde"),
                                 st.sampled_from(["bug", "billing", "other"]), st.sampled_from(["", "x"])),
                       min_size=1, max_size=30)
PLANS = st.fixed_dictionaries({
    "min_annotators": st.integers(1, 3), "min_experts": st.integers(0, 1),
    "metric": st.sampled_from(["percent", "fleiss", "krippendorff", "cohen"]),
    "item_threshold": st.sampled_from([None, Decimal("0.5")]), "resolve": st.sampled_from(["majority", "unanimous",
                                                                                          "expert"]),
    "tie": st.sampled_from(["drop", "flag", "first"]), "below_threshold": st.sampled_from(["drop", "flag", "fail"]),
})


@settings(max_examples=examples(0.4), deadline=None)
@given(ANNOTATIONS, PLANS, st.randoms())
def test_no_row_is_lost_and_the_output_does_not_depend_on_annotation_order(tmp_path_factory, records, knobs, rnd):
    folder = tmp_path_factory.mktemp("law")
    table = pa.table({"_dsc_id": [f"t{i}" for i in range(1, 7)], "n": list(range(6))})
    block = plan(source="a.jsonl", expert_role="x", prefer=None, level=None, **knobs)
    outs = []
    for attempt in range(2):
        lines = [json.dumps({"item": i, "annotator": a, "label": label, "role": role or None})
                 for i, a, label, role in records]
        if attempt:
            rnd.shuffle(lines)
        (folder / "a.jsonl").write_text("\n".join(lines) + "\n")
        outs.append(apply_annotations(table, block, folder, ["bug", "billing", "other"]))
    first, again = outs
    ids = first.table.column("_dsc_id").to_pylist() + first.removed.column("_dsc_id").to_pylist()
    assert sorted(ids) == table.column("_dsc_id").to_pylist()
    assert first.table.equals(again.table) and first.removed.equals(again.removed)
    assert first.flags == again.flags and first.failed == again.failed
    strip = {"problems", "records"}  # where a problem is in the file moves with the shuffle
    assert {k: v for k, v in first.stats.items() if k not in strip} == \
           {k: v for k, v in again.stats.items() if k not in strip}


# ── the example spec ──────────────────────────────────────────────────────────────────
def test_the_example_annotations_are_reproducible(tmp_path):
    import importlib.util

    script = ROOT / "examples" / "annotations" / "make_annotations.py"
    spec = importlib.util.spec_from_file_location("make_annotations", script)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in ("cosmos_question_type.jsonl", "cosmos_question_type.annotators.csv"):
        assert (tmp_path / name).read_bytes() == (script.parent / name).read_bytes()


def test_the_example_spec_end_to_end(tmp_path):
    from dsc.api import compile_file
    from dsc.io import SourceSpec, read_source

    spec = ROOT / "specs" / "annotated.dspec"
    compiled = compile_file(spec).plan
    src = compiled.sources[0]
    table = read_source(SourceSpec(name=src.name, files=tuple(src.files)), spec.parent).table
    (block,) = compiled.annotations
    labels = next(c.labels for c in compiled.columns if c.name == block.field)
    out = apply_annotations(table, block, spec.parent, labels, tasks_dir=tmp_path)
    assert out.failed is None
    assert out.stats["agreement"]["value"] == 0.681993 and out.stats["agreement"]["passed"] is True
    assert out.stats["rows"] == {"in": 200, "kept": 180, "removed": 20, "flagged": 0}
    assert out.stats["tasks"]["items"] == 14
    assert [p["reason"].split(" (")[0] for p in out.stats["problems"]] == [
        "annotator 'sim_crowd_2' gave item '83733cb83285997d' different labels",
        "label 'causal' is not one of {cause, consequence, other}: did you mean 'cause'?",
        "unknown annotator 'sim_crowd_9'",
        "annotator 'sim_crowd_2' gave item '83733cb83285997d' different labels",
        "item 'not-a-row-id' is not in the data",
    ]
