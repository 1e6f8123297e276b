"""JSON sources read by the schema's declared types: a value is rejected only when it does not fit
its declared type, whatever most of the column holds; undeclared columns keep the majority rule."""

import json

import pyarrow as pa
import pytest

import dsc.io.jsonl
from dsc.io.blocks import ColumnBlock
from dsc.io import Declared, SourceSpec, read_source

AGE = Declared("age", "int", "number")
HINT = " (text is not read as a number here: use standardize age as number)"


def read(tmp_path, rows, name="t.jsonl", declared=(AGE,), **options):
    path = tmp_path / name
    if name.endswith(".json"):
        path.write_text(json.dumps(rows))
    else:
        path.write_text("".join(json.dumps(r) + "\n" for r in rows))
    return read_source(SourceSpec("s", files=(name,), declared=declared, **options), tmp_path)


def reasons(result):
    return [(r.source, r.reason) for r in result.rejects]


@pytest.mark.parametrize("name, at", [("t.jsonl", "t.jsonl:{}"), ("t.json", "t.json#{}")])
def test_declared_type_beats_the_majority(tmp_path, name, at):
    # Most ages are text: by majority the valid 4 was the reject ("expected string, got int"),
    # and "5" loaded, to be cast to 5 by the schema.
    rows = [{"age": "31"}, {"age": "two"}, {"age": 4}, {"age": "5"}, {"age": None}]
    result = read(tmp_path, rows, name)
    assert result.table.column("age").to_pylist() == [4, None]
    assert result.table.schema.field("age").type == pa.int64()
    assert reasons(result) == [(at.format(n), "column 'age': declared int, got string" + HINT)
                               for n in ((1, 2, 4) if name == "t.jsonl" else (0, 1, 3))]


def test_each_declared_kind_rejects_the_other_kinds_and_undeclared_columns_keep_the_majority(tmp_path):
    rows = [{"f": 1, "ok": True, "s": "a", "x": 1}, {"f": 2.5, "ok": "yes", "s": 3, "x": 2},
            {"f": [1], "ok": 1, "s": {"k": 1}, "x": "c"}, {"f": "1.5", "ok": False, "s": "b", "x": 3}]
    declared = (Declared("f", "float", "number"), Declared("ok", "bool", "bool"), Declared("s", "date", "string"))
    result = read(tmp_path, rows, declared=declared)
    assert result.table.select(["f", "ok", "s", "x"]).to_pylist() == [{"f": 1.0, "ok": True, "s": "a", "x": 1}]
    assert reasons(result) == [
        ("t.jsonl:2", "column 'ok': declared bool, got string (text is not read as a bool here: use standardize "
                      "ok as bool); column 's': declared date, got int"),
        ("t.jsonl:3", "column 'f': declared float, got list; column 'ok': declared bool, got int; "
                      "column 's': declared date, got object; column 'x': expected number, got string"),
        ("t.jsonl:4", "column 'f': declared float, got string (text is not read as a number here: use "
                      "standardize f as number)"),
    ]


def test_blocks_of_arrow_columns_follow_the_declared_type(tmp_path, monkeypatch):
    # Blocks of one kind each become Arrow columns: text blocks (the majority) around number blocks.
    monkeypatch.setattr(dsc.io.jsonl, "BLOCK_BYTES", 1000)
    rows = [{"age": str(n), "pad": "x" * 60} for n in range(150)] + [{"age": n} for n in range(300)]
    rows += [{"age": str(n)} for n in range(400)]
    result = read(tmp_path, rows)
    blocks = dsc.io.jsonl.read_jsonl(tmp_path / "t.jsonl", "t.jsonl", "source:s").blocks
    assert {b.shapes["age"] for b in blocks if isinstance(b, ColumnBlock)} == {"string", "int"}
    assert result.table.column("age").to_pylist() == list(range(300))
    assert [s for s, _ in reasons(result)] == [f"t.jsonl:{n}" for n in [*range(1, 151), *range(451, 851)]]
    assert {r for _, r in reasons(result)} == {"column 'age': declared int, got string" + HINT}


def test_renamed_columns_are_declared_by_their_schema_name(tmp_path):
    # Swapped: the file's `years` is the schema's `age`, and the file's `age` (text) is not.
    rows = [{"years": "x", "age": "p"}, {"years": 2, "age": "q"}, {"years": "y", "age": "r"}]
    result = read(tmp_path, rows, renames=(("years", "age"), ("age", "years")))
    assert result.table.select(["age", "years"]).to_pylist() == [{"age": 2, "years": "q"}]
    reason = "column 'years' (renamed age): declared int, got string" + HINT
    assert reasons(result) == [("t.jsonl:1", reason), ("t.jsonl:3", reason)]


def test_the_exploded_column_and_its_fields_are_typed_by_the_data(tmp_path):
    rows = [{"k": "a", "v": [1, 2]}, {"k": "b", "v": [3]}]
    declared = (Declared("v", "int", "number"), Declared("k", "text", "string"))
    result = read(tmp_path, rows, declared=declared, explode="v")
    assert result.table.column("v").to_pylist() == [1, 2, 3] and result.rejects == []
    rows = [{"k": "a", "items": [{"age": "1"}, {"age": "2"}]}]
    result = read(tmp_path, rows, explode="items")
    assert result.table.column("age").to_pylist() == ["1", "2"]  # the schema check judges them


def test_csv_sources_are_all_text_and_not_read_by_declared_types(tmp_path):
    (tmp_path / "t.csv").write_text("name,age\nann,31\n")
    (tmp_path / "u.jsonl").write_text('{"name": "bob", "age": "40"}\n')
    for files in (("t.csv",), ("t.csv", "u.jsonl")):
        result = read_source(SourceSpec("s", files=files, declared=(AGE,)), tmp_path)
        assert result.table.column("age").to_pylist() == ["31", "40"][: len(files)] and result.rejects == []
