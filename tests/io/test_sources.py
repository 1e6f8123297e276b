"""Tests for dsc.io: reading declared sources into tables with row ids."""

import json
import os
from pathlib import Path

# Hub tests load local folders only; make sure nothing tries the network,
# even if these run before anything else imports datasets.
os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("HF_DATASETS_OFFLINE", "1")

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dsc.io import HubRef, SourceError, SourceSpec, read_source
from dsc.io.model import MAX_DEPTH
from hypothesis_budget import examples

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "io"
EXAMPLES = REPO / "examples" / "data"


def read(*files, base=FIXTURES, **options):
    return read_source(SourceSpec("s", files=tuple(files), **options), base)


def column(result, name):
    return result.table.column(name).to_pylist()


def reasons(result):
    return [(r.source, r.reason) for r in result.rejects]


# --- jsonl -----------------------------------------------------------------


def test_jsonl_reads_nested_values_and_skips_blank_lines():
    result = read("good.jsonl")
    table = result.table
    assert table.column_names == ["prompt", "completion", "meta", "_dsc_id", "_dsc_src"]
    assert column(result, "_dsc_src") == ["good.jsonl:1", "good.jsonl:2", "good.jsonl:4", "good.jsonl:5"]
    assert table.schema.field("meta").type == pa.struct(
        [("lang", pa.string()), ("tags", pa.list_(pa.string()))]
    )
    assert column(result, "meta")[3] == {"lang": None, "tags": []}
    assert column(result, "completion")[3] == "é"
    assert result.rejects == []
    (source,) = result.inputs
    assert (source.path, source.bytes, source.rows) == ("good.jsonl", 294, 4)
    assert len(source.sha256) == 64


def test_jsonl_rejects_bad_lines_with_line_numbers_and_loads_the_rest():
    result = read("broken.jsonl")
    assert column(result, "id") == [1, 7]
    assert column(result, "_dsc_src") == ["broken.jsonl:1", "broken.jsonl:10"]
    assert column(result, "extra") == [None, {"k": [1, 2]}]
    assert reasons(result) == [
        ("broken.jsonl:2", "malformed JSON: Expecting ',' delimiter at column 27"),
        ("broken.jsonl:4", "line is not a JSON object"),
        ("broken.jsonl:5", "invalid UTF-8 at byte 23 of the line"),
        ("broken.jsonl:7", "malformed JSON: duplicate key 'text'"),
        ("broken.jsonl:8", "malformed JSON: NaN is not valid JSON"),
        ("broken.jsonl:9", "column 'id': expected number, got string"),
    ]
    assert {r.rule for r in result.rejects} == {"source:s"}
    assert result.rejects[0].row == '{"id": 2, "text": "second"'
    assert "\ufffd" in result.rejects[2].row  # bad byte shown, not hidden
    # Every non-blank line is a row or a reject, never both or neither.
    assert result.inputs[0].rows == 8 == result.table.num_rows + len(result.rejects)


def test_type_disagreeing_with_column_majority_is_rejected_not_converted(tmp_path):
    lines = [{"x": "a"}, {"x": 1}, {"x": "b", "n": 1}, {"x": "c", "n": 2.5}, {"x": "d", "n": True}]
    (tmp_path / "t.jsonl").write_text("\n".join(json.dumps(r) for r in lines))
    result = read("t.jsonl", base=tmp_path)
    assert column(result, "x") == ["a", "b", "c"]
    assert result.table.schema.field("n").type == pa.float64()  # ints and floats share "number"
    assert reasons(result) == [
        ("t.jsonl:2", "column 'x': expected string, got int"),
        ("t.jsonl:5", "column 'n': expected number, got bool"),
    ]


def test_nested_conflicts_and_unstorable_values_are_rejected_with_the_place(tmp_path):
    lines = [
        '{"m": {"lang": "en"}}',
        '{"m": {"lang": 3}}',
        '{"m": {"tags": [1, "a"]}}',
        '{"m": {"big": 99999999999999999999}}',
        '{"m": {"s": "\\ud800"}}',
    ]
    (tmp_path / "t.jsonl").write_text("\n".join(lines))
    result = read("t.jsonl", base=tmp_path)
    assert column(result, "m") == [{"lang": "en"}]
    assert reasons(result) == [
        ("t.jsonl:2", "column 'm' at m.lang: expected string, got int"),
        ("t.jsonl:3", "column 'm' at m.tags[]: expected int, got string"),
        ("t.jsonl:4", "column 'm' at m.big: integer 99999999999999999999 is outside the 64-bit range"),
        ("t.jsonl:5", "column 'm' at m.s: string holds an unpaired surrogate"),
    ]


def test_deeply_nested_values_are_rejected_not_crashed_on(tmp_path):
    deep = "[" * 900 + "]" * 900  # parses in Python, but too deep to recurse over safely
    (tmp_path / "t.jsonl").write_text(f'{{"a": [1]}}\n{{"a": {deep}}}\n')
    (tmp_path / "t.json").write_text(f'[{{"a": [1]}}, {{"a": {deep}}}]')
    result = read("t.jsonl", base=tmp_path)
    assert reasons(result) == [("t.jsonl:2", f"value is nested more than {MAX_DEPTH} levels deep")]
    result = read("t.json", base=tmp_path)
    assert reasons(result) == [("t.json#1", f"record 1 is nested more than {MAX_DEPTH} levels deep")]


# --- json, csv, parquet ----------------------------------------------------


def test_json_array_rejects_non_objects_by_record_index():
    result = read("records.json")
    assert column(result, "instruction") == ["Say hi", "Count"]
    assert column(result, "_dsc_src") == ["records.json#0", "records.json#2"]
    assert reasons(result) == [
        ("records.json#1", "record 1 is not an object"),
        ("records.json#3", "malformed JSON: duplicate key 'input'"),
    ]
    assert result.rejects[0].row == '"a stray string"'


@pytest.mark.parametrize(
    "name, message",
    [
        ("not_json.json", "not_json.json:3:11: not valid JSON: Expecting property name"),
        ("lines.json", "lines.json:2:1: not valid JSON: Extra data (it looks like JSON Lines"),
        ("object.json", "object.json: expected a JSON array of records, found an object"),
    ],
)
def test_json_file_that_is_not_an_array_is_a_source_error(name, message):
    with pytest.raises(SourceError) as error:
        read(name)
    assert message in str(error.value)


def test_json_lines_content_reads_when_format_is_declared():
    assert column(read("lines.json", format="jsonl"), "a") == [1, 2]


def test_csv_reads_strings_and_rejects_bad_records():
    result = read("table.csv")
    assert result.table.column_names[:3] == ["question", "answer", "score"]  # BOM stripped
    assert all(t == pa.string() for t in result.table.schema.types)
    assert column(result, "score") == ["007", "1", "3"]  # no type guessing
    assert column(result, "question") == ["What is 2+2?", "Multi\r\nline", "Quoted, comma"]
    assert column(result, "_dsc_src") == ["table.csv:2", "table.csv:3", "table.csv:9"]
    assert reasons(result) == [
        ("table.csv:5", "expected 3 fields, got 4"),
        ("table.csv:7", "expected 3 fields, got 1"),
        ("table.csv:8", "invalid UTF-8 bytes in the record"),
    ]
    assert result.rejects[0].row == "too,many,fields,here"
    assert result.inputs[0].rows == 6


@pytest.mark.parametrize("header", ["a,a\n", "a,\n"])
def test_csv_header_with_repeated_or_empty_name_is_a_source_error(tmp_path, header):
    (tmp_path / "t.csv").write_text(header + "1,2\n")
    with pytest.raises(SourceError, match=r"t\.csv:1: CSV header"):
        read("t.csv", base=tmp_path)


def test_parquet_keeps_its_types_and_sources_are_row_indexes(tmp_path):
    table = pa.table({"q": ["a", "b", "c"], "n": pa.array([1, 2, None], pa.int32())})
    pq.write_table(table, tmp_path / "d.parquet")
    result = read("d.parquet", base=tmp_path)
    assert result.table.schema.field("n").type == pa.int32()
    assert column(result, "n") == [1, 2, None]
    assert column(result, "_dsc_src") == ["d.parquet#0", "d.parquet#1", "d.parquet#2"]
    assert result.inputs[0].rows == 3


def test_parquet_and_jsonl_files_combine_and_must_agree_on_types(tmp_path):
    pq.write_table(pa.table({"q": ["a"], "n": [1]}), tmp_path / "a.parquet")
    (tmp_path / "b.jsonl").write_text('{"q": "b", "extra": true}\n')
    result = read("a.parquet", "b.jsonl", base=tmp_path)
    assert result.table.column_names == ["q", "n", "extra", "_dsc_id", "_dsc_src"]
    assert column(result, "n") == [1, None]
    (tmp_path / "c.jsonl").write_text('{"n": "one"}\n')
    with pytest.raises(SourceError, match="disagree on column types"):
        read("a.parquet", "c.jsonl", base=tmp_path)


def test_text_file_named_parquet_is_a_source_error():
    with pytest.raises(SourceError, match="good.jsonl is not a readable parquet file"):
        read("good.jsonl", format="parquet")


# --- files as a whole ------------------------------------------------------


def test_glob_expands_sorted_in_pattern_order_each_file_once():
    result = read("parts/*.jsonl")
    assert [i.path for i in result.inputs] == ["parts/a.jsonl", "parts/b.jsonl", "parts/c.jsonl"]
    assert column(result, "n") == [1, 2, 3, 4]
    result = read("parts/c.jsonl", "parts/*.jsonl")
    assert [i.path for i in result.inputs] == ["parts/c.jsonl", "parts/a.jsonl", "parts/b.jsonl"]
    assert column(result, "n") == [3, 4, 1, 2]


def test_labels_are_relative_to_base_dir_unless_outside_it_by_absolute_path(tmp_path):
    outside = (FIXTURES / "parts" / "a.jsonl").as_posix()
    assert read(outside, base=tmp_path).inputs[0].path == outside
    assert read(outside, base=FIXTURES).inputs[0].path == "parts/a.jsonl"
    result = read("../good.jsonl", base=FIXTURES / "parts")
    assert result.inputs[0].path == "../good.jsonl"
    assert column(result, "_dsc_src")[0] == "../good.jsonl:1"


@pytest.mark.parametrize(
    "files, options, message",
    [
        (("missing.jsonl",), {}, "no file matches 'missing.jsonl' (relative to "),
        (("nothing/*.jsonl",), {}, "no file matches 'nothing/*.jsonl'"),
        (("binary.jsonl",), {}, "binary.jsonl looks like a binary file"),
        (("empty.jsonl",), {}, "empty.jsonl is empty"),
        (("good.jsonl",), {"format": "xml"}, "unknown format 'xml'"),
        ((), {}, "declares neither files nor hub"),
    ],
)
def test_problems_with_the_input_as_a_whole_are_source_errors(files, options, message):
    with pytest.raises(SourceError) as error:
        read(*files, **options)
    assert message in str(error.value)


def test_stray_control_bytes_in_a_text_file_reject_only_their_line(tmp_path):
    (tmp_path / "t.jsonl").write_bytes(b'{"a": "x"}\n{"a": "\x00y"}\n{"a": "z"}\n')
    result = read("t.jsonl", base=tmp_path)
    assert column(result, "a") == ["x", "z"]
    assert reasons(result) == [("t.jsonl:2", "malformed JSON: Invalid control character at column 8")]


def test_unknown_extension_asks_for_a_declared_format(tmp_path):
    (tmp_path / "data.txt").write_text('{"a": 1}\n')
    with pytest.raises(SourceError, match="cannot tell the format from the extension '.txt'"):
        read("data.txt", base=tmp_path)
    assert column(read("data.txt", base=tmp_path, format="jsonl"), "a") == [1]


def test_source_with_every_row_rejected_is_a_source_error(tmp_path):
    (tmp_path / "t.jsonl").write_text("nope\n[1]\n")
    with pytest.raises(SourceError, match=r"source 's' produced no rows \(2 rejected\)"):
        read("t.jsonl", base=tmp_path)


def test_reserved_column_names_are_refused(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"_dsc_id": "mine"}\n')
    with pytest.raises(SourceError, match="reserved prefix"):
        read("t.jsonl", base=tmp_path)


# --- renames and explode ---------------------------------------------------


def test_renames_apply_together_and_check_their_columns():
    result = read("good.jsonl", renames=(("prompt", "completion"), ("completion", "prompt")))
    assert column(result, "prompt")[1] == "Paris"
    with pytest.raises(SourceError) as error:
        read("good.jsonl", renames=(("question", "q"),))
    assert "cannot rename 'question': no such column (columns: prompt, completion, meta)" in str(error.value)
    with pytest.raises(SourceError, match="two columns named 'completion'"):
        read("good.jsonl", renames=(("prompt", "completion"),))


def test_explode_objects_into_columns_rejecting_empty_and_null():
    result = read("tasks.jsonl", explode="instances", renames=(("output", "response"),))
    assert result.table.column_names == ["id", "instruction", "input", "response", "_dsc_id", "_dsc_src"]
    assert column(result, "id") == ["t1", "t1", "t3", "t5"]
    assert column(result, "response") == ["2", "4", "a", "b"]
    ids = column(result, "_dsc_id")
    assert ids[0].endswith("/0") and ids[1] == ids[0][:-1] + "1"
    assert column(result, "_dsc_src") == ["tasks.jsonl:1", "tasks.jsonl:1", "tasks.jsonl:3", "tasks.jsonl:5"]
    assert reasons(result) == [
        ("tasks.jsonl:2", "explode 'instances': empty list"),
        ("tasks.jsonl:4", "explode 'instances': null list"),
        ("tasks.jsonl:5", "explode 'instances': element 1 is null"),
    ]


def test_explode_scalar_list_keeps_the_column_name(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"k": "a", "v": [1, 2]}\n{"k": "b", "v": [3]}\n')
    result = read("t.jsonl", base=tmp_path, explode="v", key=("k",))
    assert column(result, "v") == [1, 2, 3]
    assert column(result, "_dsc_id") == ["a/0", "a/1", "b/0"]


def test_explode_needs_a_list_column():
    with pytest.raises(SourceError, match="explode 'prompt': the column holds string, not lists"):
        read("good.jsonl", explode="prompt")
    with pytest.raises(SourceError, match="explode 'nope': no such column"):
        read("good.jsonl", explode="nope")


# --- row ids ---------------------------------------------------------------


def test_content_ids_mark_repeats_in_read_order():
    ids = column(read("good.jsonl"), "_dsc_id")
    assert ids[2] == ids[0] + "~2"
    assert len(ids[0]) == 16 and int(ids[0], 16) >= 0
    assert len(set(ids)) == 4


def test_content_id_depends_only_on_the_row(tmp_path):
    (tmp_path / "a.jsonl").write_text('{"x": 1, "y": "a"}\n')
    (tmp_path / "b.jsonl").write_text('{"y": "a", "x": 1}\n{"x": 2.5, "z": [1]}\n')
    alone = column(read("a.jsonl", base=tmp_path), "_dsc_id")[0]
    # b.jsonl turns x into floats and adds z; the first row's id must not move.
    assert column(read("b.jsonl", base=tmp_path), "_dsc_id")[0] == alone
    # ...and renames do not change content ids either.
    assert column(read("a.jsonl", base=tmp_path, renames=(("x", "w"),)), "_dsc_id")[0] == alone


def test_key_ids_reject_null_and_repeated_keys(tmp_path):
    rows = ['{"k": "a", "n": 1}', '{"k": null, "n": 2}', '{"k": "a", "n": 3}', '{"k": "b", "n": 4}']
    (tmp_path / "t.jsonl").write_text("\n".join(rows))
    result = read("t.jsonl", base=tmp_path, key=("k",))
    assert column(result, "_dsc_id") == ["a", "b"]
    assert reasons(result) == [
        ("t.jsonl:2", "key column 'k' is null"),
        ("t.jsonl:3", "duplicate key 'a' (first at t.jsonl:1)"),
    ]
    with pytest.raises(SourceError, match="key column 'nope' is not in the data"):
        read("t.jsonl", base=tmp_path, key=("nope",))


def test_multi_column_keys_join_with_escaped_pipes(tmp_path):
    rows = ['{"a": "x|y", "b": "1"}', '{"a": "x", "b": "y|1"}', '{"a": "z", "b": "2"}']
    (tmp_path / "t.jsonl").write_text("\n".join(rows))
    result = read("t.jsonl", base=tmp_path, key=("a", "b"))
    assert column(result, "_dsc_id") == ["x\\|y|1", "x|y\\|1", "z|2"]


def test_key_may_name_a_renamed_column():
    result = read("tasks.jsonl", explode="instances", renames=(("id", "task"),), key=("task",))
    assert column(result, "_dsc_id") == ["t1/0", "t1/1", "t3/0", "t5/0"]


def test_reading_twice_gives_identical_tables_and_rejects():
    first = read("broken.jsonl", "good.jsonl", "table.csv")
    second = read("broken.jsonl", "good.jsonl", "table.csv")
    assert first.table.equals(second.table, check_metadata=True)
    assert first.rejects == second.rejects
    assert first.inputs == second.inputs


# --- property: every non-blank line is accounted for -----------------------

_scalars = (
    st.none()
    | st.booleans()
    | st.integers()  # some beyond 64 bits: rejected, still accounted for
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=8)
)
_values = st.recursive(
    _scalars,
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from("pq"), inner, max_size=2),
    max_leaves=6,
)
_records = st.dictionaries(st.sampled_from(["a", "b", "c", "d"]), _values, max_size=4)
# Control characters are left out: a file made mostly of them is binary (a
# whole-file error), which the NUL-line test below covers separately.
_garbage = st.text(st.characters(exclude_categories=("Cs", "Cc")), min_size=1, max_size=20).filter(
    lambda s: s.encode().strip()
)
_lines = st.lists(
    st.one_of(_records.map(lambda r: json.dumps(r)), _garbage, st.sampled_from(["", "   ", "\t"])),
    min_size=1,
    max_size=25,
)


@settings(
    max_examples=examples(1.5), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(lines=_lines)
def test_rows_plus_rejects_equal_non_blank_lines(tmp_path, lines):
    path = tmp_path / "p.jsonl"
    path.write_text("\n".join(lines), encoding="utf-8")
    expected = {f"p.jsonl:{n}" for n, line in enumerate(lines, 1) if line.encode().strip()}
    try:
        result = read("p.jsonl", base=tmp_path)
    except SourceError as error:
        # Whole-input errors only for input with nothing to load.
        assert "produced no rows" in str(error) or "is empty" in str(error)
        return
    loaded = column(result, "_dsc_src")
    rejected = [r.source for r in result.rejects]
    assert len(loaded) + len(rejected) == len(expected) == result.inputs[0].rows
    assert set(loaded) | set(rejected) == expected
    ids = column(result, "_dsc_id")
    assert len(set(ids)) == len(ids)


# --- real example data -----------------------------------------------------


@pytest.mark.parametrize(
    "name, rows, columns",
    [
        ("common_gen_Example_prompt.jsonl", 200, ["prompt", "completion"]),
        ("code_alpaca_2k.json", 2017, ["instruction", "input", "output"]),
        ("gsm_8k_train.json", 7473, ["instruction", "input", "output"]),
    ],
)
def test_real_files_load_completely_with_unique_ids(name, rows, columns):
    result = read(name, base=EXAMPLES)
    assert result.table.num_rows == rows
    assert result.table.column_names == [*columns, "_dsc_id", "_dsc_src"]
    assert result.rejects == []
    assert result.inputs[0].rows == rows
    assert len(set(column(result, "_dsc_id"))) == rows


def test_real_self_instruct_tasks_explode_to_one_row_per_instance():
    result = read("seed_tasks.jsonl", base=EXAMPLES, explode="instances", key=("id",))
    assert result.table.num_rows == 175
    assert "instances" not in result.table.column_names
    assert {"input", "output", "instruction", "is_classification"} <= set(result.table.column_names)
    ids = column(result, "_dsc_id")
    assert ids[0] == "seed_task_0/0" and len(set(ids)) == 175
    assert result.rejects == []


# --- hub -------------------------------------------------------------------


@pytest.fixture
def offline_hub(tmp_path, monkeypatch):
    """A local dataset folder, and datasets kept offline with its cache in tmp."""
    import datasets.config

    monkeypatch.setattr(datasets.config, "HF_HUB_OFFLINE", True)
    monkeypatch.setattr(datasets.config, "HF_DATASETS_CACHE", tmp_path / "cache")
    folder = tmp_path / "tiny_ds"
    (folder / "data").mkdir(parents=True)
    rows = pa.table({"question": ["q1", "q2", "q1"], "answer": [1, 2, 1]})
    pq.write_table(rows, folder / "data" / "train-00000.parquet")
    return tmp_path


def test_hub_source_loads_a_local_dataset_folder(offline_hub):
    spec = SourceSpec("h", hub=HubRef("tiny_ds"))
    result = read_source(spec, offline_hub)
    assert result.table.column_names == ["question", "answer", "_dsc_id", "_dsc_src"]
    assert column(result, "answer") == [1, 2, 1]
    assert column(result, "_dsc_src") == ["hub:tiny_ds:train#0", "hub:tiny_ds:train#1", "hub:tiny_ds:train#2"]
    ids = column(result, "_dsc_id")
    assert ids[2] == ids[0] + "~2"
    (source,) = result.inputs
    assert (source.path, source.rows) == ("hub:tiny_ds:train", 3)
    assert read_source(spec, offline_hub).inputs == result.inputs  # digest is stable


@pytest.mark.parametrize(
    "ref, message",
    [
        (HubRef("tiny_ds", split="test"), "cannot load hub:tiny_ds:test: ValueError: Unknown split"),
        (HubRef("nobody/no-such-dataset", revision="0" * 40), "cannot load hub:nobody/no-such-dataset:train@000"),
    ],
)
def test_hub_failures_become_source_errors(offline_hub, ref, message):
    with pytest.raises(SourceError) as error:
        read_source(SourceSpec("h", hub=ref), offline_hub)
    assert message in str(error.value)


def test_hub_and_files_together_are_refused():
    with pytest.raises(SourceError, match="both files and hub"):
        read_source(SourceSpec("h", files=("good.jsonl",), hub=HubRef("x")), FIXTURES)
