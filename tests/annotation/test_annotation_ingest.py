"""Reading annotation files: both formats, the roster, and files with gaps — a reason per bad
record, a clear message for an unreadable file, never a traceback."""
import json
from pathlib import Path

import pytest

from dsc.annotation.ingest import AnnotationFileError, read_annotations, roster_path

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "annotation"
LABELS = ["bug", "billing", "account", "other"]


def triples(ingested):
    return [(a.item, a.annotator, a.label, a.role) for a in ingested.annotations]


def reasons(ingested):
    return [(p.source, p.reason) for p in ingested.problems]


def test_long_jsonl_reads_every_record_in_file_order():
    got = read_annotations(FIXTURES / "long_ok.jsonl", labels=LABELS)
    assert got.records == 14 and got.problems == ()
    assert triples(got)[:3] == [("t1", "ann", "bug", "crowd"), ("t1", "bob", "bug", "crowd"),
                                ("t1", "eve", "bug", "domain_expert")]
    assert got.annotations[3].source == "long_ok.jsonl:4"


def test_long_file_with_gaps_gives_a_reason_per_bad_record():
    got = read_annotations(FIXTURES / "long_gaps.jsonl", field="category", labels=LABELS)
    assert triples(got) == [("t1", "ann", "bug", "crowd"), ("t2", "ann", "billing", None),
                            ("t9", "ann", "bug", None), ("3", "ann", "other", None)]
    assert reasons(got) == [
        ("long_gaps.jsonl:2", "not valid JSON (Expecting ',' delimiter at column 50)"),
        ("long_gaps.jsonl:3", "no item id"),
        ("long_gaps.jsonl:4", "no annotator (unknown annotator)"),
        ("long_gaps.jsonl:5", "no label"),
        ("long_gaps.jsonl:6", "label 'bugs' is not one of {bug, billing, account, other}: did you mean 'bug'?"),
        ("long_gaps.jsonl:7", "the label must be one value, not a list or an object"),
        ("long_gaps.jsonl:8", "a record must be an object, not list"),
        ("long_gaps.jsonl:10", "repeats the label annotator 'ann' gave item 't2' (counted once)"),
        ("long_gaps.jsonl:11", "annotator 'bob' gave item 't2' different labels (billing, bug); none is used"),
        ("long_gaps.jsonl:12", "annotator 'bob' gave item 't2' different labels (billing, bug); none is used"),
    ]
    # line 13 is about another field: skipped, not a problem
    assert got.records == 15


def test_without_declared_labels_any_label_is_taken():
    got = read_annotations(FIXTURES / "long_gaps.jsonl")
    assert ("t1", "dee", "bugs", None) in triples(got)
    assert ("t2", "eve", "billing", None) in triples(got)  # no field asked for: every record counts


def test_csv_with_a_roster():
    assert roster_path(FIXTURES / "roster_case.csv").name == "roster_case.annotators.csv"
    got = read_annotations(FIXTURES / "roster_case.csv")
    assert triples(got) == [("t1", "ann", "bug", "crowd"), ("t1", "bob", "bug", "crowd"),
                            ("t1", "eve", "bug", "domain_expert"), ("t2", "ann", "billing", "crowd")]
    assert reasons(got) == [
        ("roster_case.csv:6", "role 'crowd' contradicts the roster, which lists 'eve' as 'domain_expert'"),
        ("roster_case.csv:7", "unknown annotator 'zed' (not on the roster)"),
    ]


def test_label_studio_export():
    got = read_annotations(FIXTURES / "label_studio_export.json", "label_studio", "category", LABELS)
    # completed_by as an id, or as the user object of older exports (its email); roles from the roster
    assert triples(got) == [("t1", "1", "bug", "crowd"), ("t1", "bob@example.org", "bug", "crowd"),
                            ("t1", "3", "billing", "domain_expert"), ("t2", "3", "billing", "domain_expert")]
    task = "label_studio_export.json task "
    assert reasons(got) == [
        (task + "102 annotation 4", "the annotation was cancelled (skipped) in Label Studio"),
        (task + "102 annotation 5", "several labels (account, billing); a label column takes one"),
        (task + "102 annotation 7", "no completed_by (unknown annotator)"),
        (task + "103 annotation 8", "label 'refund' is not one of {bug, billing, account, other}"),
        (task + "103 annotation 9", "no label in the annotation's result"),
        (task + "104", "no data._dsc_id to join the task to a row"),
    ]


def test_label_studio_picks_the_control_named_like_the_field():
    path = FIXTURES / "label_studio_regions.json"
    assert triples(read_annotations(path, "label_studio", "sentiment")) == [("7", "5", "LOC", None),
                                                                           ("7", "6", "pos", None)]
    # a region's label, not its text; several controls and no field named: a reason, not a guess
    got = read_annotations(path, "label_studio")
    assert triples(got) == [("7", "5", "LOC", None)]
    assert reasons(got) == [("label_studio_regions.json task 1 annotation 2",
                             "results come from several controls (sentiment, stars); name the field to choose one")]


def test_a_dsc_task_file_round_trips_through_label_studio(tmp_path):
    from dsc.annotation.tasks import Task, label_studio_text

    tasks = json.loads(label_studio_text([Task("t1", "category", 0, 2, 0, 0, None, (), {"text": "hi"})]))
    tasks[0]["annotations"] = [{"id": 1, "completed_by": 4, "result": [
        {"from_name": "category", "to_name": "text", "type": "choices", "value": {"choices": ["bug"]}}]}]
    (tmp_path / "export.json").write_text(json.dumps(tasks))
    assert triples(read_annotations(tmp_path / "export.json", "label_studio", "category")) == [("t1", "4", "bug", None)]


@pytest.mark.parametrize("name, fmt, message", [
    ("empty.jsonl", "long", "annotation file '{dir}/empty.jsonl' is empty"),
    ("header_only.csv", "long", "annotation file '{dir}/header_only.csv' has no annotation records"),
    ("wrong_columns.csv", "long", "'{dir}/wrong_columns.csv' has no 'item', 'annotator' column "
                                  "(columns: id, who, label)"),
    ("not_json.json", "label_studio", "'{dir}/not_json.json' is not valid JSON (Expecting value at line 1)"),
    ("not_json.json", "long", "'{dir}/not_json.json' is not valid JSON (Expecting value at line 1)"),
    ("unknown_extension.txt", "long", "cannot tell the layout of '{dir}/unknown_extension.txt' from its extension; "
                                      "use one of .jsonl, .ndjson, .json, .csv, .tsv"),
    ("missing.jsonl", "long", "annotation file '{dir}/missing.jsonl' does not exist"),
    ("long_ok.jsonl", "labelstudio", "unknown annotation format 'labelstudio' (use long or label_studio)"),
])
def test_unreadable_files_raise_a_message_for_people(name, fmt, message):
    with pytest.raises(AnnotationFileError) as err:
        read_annotations(FIXTURES / name, fmt)
    assert str(err.value) == message.format(dir=FIXTURES)


def test_binary_and_non_utf8_files(tmp_path):
    (tmp_path / "a.jsonl").write_bytes(b'{"item": "\xff"}\n')
    with pytest.raises(AnnotationFileError, match="is not UTF-8"):
        read_annotations(tmp_path / "a.jsonl")
    (tmp_path / "b.json").write_text('{"not": "a list"}')
    with pytest.raises(AnnotationFileError, match="must hold a JSON array"):
        read_annotations(tmp_path / "b.json")
    (tmp_path / "c.json").write_text('"a string"')
    with pytest.raises(AnnotationFileError, match="is not a Label Studio JSON export"):
        read_annotations(tmp_path / "c.json", "label_studio")


def test_item_ids_are_spelt_like_key_row_ids(tmp_path):
    # numbers as key values become row ids through canonical JSON: 7 and 7.0 are "7"
    (tmp_path / "a.jsonl").write_text('{"item": 7, "annotator": "a", "label": 1}\n'
                                      '{"item": 7.0, "annotator": "b", "label": 1.0}\n'
                                      '{"item": " x ", "annotator": "c", "label": " yes "}\n')
    assert triples(read_annotations(tmp_path / "a.jsonl")) == [("7", "a", "1", None), ("7", "b", "1", None),
                                                               ("x", "c", "yes", None)]
