"""A column a `standardize` rule reads is read as the text of each value as written in the file:
strings as they are, numbers as their literal (never through a float), true/false as text, null as
null; a list or an object is rejected naming the column and the rule. CSV is text already."""

import json

import pyarrow as pa
import pytest

import dsc.io.jsonl
from dsc.io import Declared, SourceSpec, read_source
from dsc.io.blocks import ColumnBlock

AGE = Declared("age", "number", "text")
# One value per line, as written, and the text the column holds for it.
WRITTEN = [('"4"', "4"), ("4", "4"), ("1e3", "1e3"), ("0.10", "0.10"), ("1E-2", "1E-2"),
           ("12345678901234567890", "12345678901234567890"), ("-12345678901234567890123", "-12345678901234567890123"),
           ("-0", "-0"), ("0", "0"), ("-0.0", "-0.0"), ("true", "true"), ("false", "false"), ("null", None),
           ('"\\u00e9"', "é"), ('" 5 "', " 5 ")]


def write(tmp_path, name, values, extra=""):
    rows = [f'{{"age": {value}{extra}}}' for value in values]
    text = "[" + ",\n".join(rows) + "]" if name.endswith(".json") else "\n".join(rows) + "\n"
    (tmp_path / name).write_text(text, encoding="utf-8")


def read(tmp_path, name, declared=(AGE,), **options):
    return read_source(SourceSpec("s", files=(name,), declared=declared, **options), tmp_path)


@pytest.mark.parametrize("name, extra", [("t.jsonl", ""), ("t.jsonl", ', "n": [1]'), ("t.json", "")],
                         ids=["jsonl-columns", "jsonl-records", "json"])
def test_each_value_is_read_as_the_text_it_is_written_as(tmp_path, name, extra):
    # jsonl-records: a nested column keeps the rows as records, typed one by one
    write(tmp_path, name, [value for value, _ in WRITTEN], extra)
    result = read(tmp_path, name)
    assert result.rejects == []
    assert result.table.schema.field("age").type == pa.string()
    assert result.table.column("age").to_pylist() == [text for _, text in WRITTEN]


@pytest.mark.parametrize("name, at", [("t.jsonl", "t.jsonl:{}"), ("t.json", "t.json#{}")])
def test_a_list_or_an_object_is_rejected_naming_the_column_and_the_rule(tmp_path, name, at):
    write(tmp_path, name, ["4", "[4]", '"5"', '{"v": 6}', "7.5"])
    result = read(tmp_path, name, declared=(Declared("years", "number", "text"),), renames=(("age", "years"),))
    assert result.table.column("years").to_pylist() == ["4", "5", "7.5"]
    first = 1 if name == "t.jsonl" else 0
    rule = "column 'age' (renamed years): standardize years as number reads a string, number or bool, got {}"
    assert [(r.source, r.reason) for r in result.rejects] == [
        (at.format(first + 1), rule.format("list")), (at.format(first + 3), rule.format("object"))]


def test_a_renamed_column_is_read_as_text_by_its_name_in_the_file(tmp_path):
    (tmp_path / "t.jsonl").write_text('{"years": 4, "age": 5}\n{"years": "6", "age": 7}\n')
    result = read(tmp_path, "t.jsonl", renames=(("years", "age"), ("age", "old")))
    assert result.table.select(["age", "old"]).to_pylist() == [{"age": "4", "old": 5}, {"age": "6", "old": 7}]


@pytest.mark.parametrize("values, parsed_again", [
    ([str(n) for n in range(1, 200)], 0),                       # ints: Arrow writes their digits
    (["true", "false", "null"] * 60, 0),                         # bools
    ([f'"{n}"' for n in range(200)], 0),                         # text
    ([f"{n}.50" for n in range(100)], 100),                      # floats: each line is read again
    (["0", "-0"] + [str(n) for n in range(1, 100)], 2),          # a 0 may be written -0
    ([f'"{n}"' if n % 2 else str(n) for n in range(1, 100)], 0),  # text and ints
])
def test_blocks_of_arrow_columns_stay_columns_and_only_floats_and_zeros_are_read_again(
        tmp_path, monkeypatch, values, parsed_again):
    write(tmp_path, "t.jsonl", values)
    seen = []
    real = dsc.io.jsonl.as_written
    monkeypatch.setattr(dsc.io.jsonl, "as_written", lambda text: seen.append(text) or real(text))
    parsed = dsc.io.jsonl.read_jsonl(tmp_path / "t.jsonl", "t.jsonl", "source:s", frozenset({"age"}))
    [block] = parsed.blocks
    assert isinstance(block, ColumnBlock) and block.shapes == {"age": "string"}
    assert block.columns["age"].to_pylist() == [None if v == "null" else json.loads(v) if v[0] == '"' else v
                                                for v in values]
    assert len(seen) == parsed_again


def test_the_rows_of_a_block_read_again_are_read_as_text_too(tmp_path, monkeypatch):
    # Blocks of one kind each: the typer reads the int block again row by row (its `n` is a string
    # where most rows have a number); its ages come back as text all the same.
    monkeypatch.setattr(dsc.io.jsonl, "BLOCK_BYTES", 400)
    rows = [{"age": 0.5 + n, "n": n} for n in range(40)] + [{"age": n, "n": str(n)} for n in range(1, 20)]
    (tmp_path / "t.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    result = read(tmp_path, "t.jsonl")
    assert result.table.column("age").to_pylist() == [str(0.5 + n) for n in range(40)]
    assert {r.reason for r in result.rejects} == {"column 'n': expected number, got string"}
    assert len(result.rejects) == 19


def test_csv_is_text_already_and_a_csv_beside_json_keeps_the_rule_columns_text(tmp_path):
    (tmp_path / "t.csv").write_text("name,age\nann,31\nbob,0.10\ncy,\n")
    (tmp_path / "u.jsonl").write_text('{"name": "dee", "age": 0.10}\n{"name": "eve", "age": 40}\n'
                                      '{"name": "fay", "age": "41"}\n')
    declared = (AGE, Declared("name", "text", "string"))
    csv = read_source(SourceSpec("s", files=("t.csv",), declared=declared), tmp_path)
    assert csv.table.column("age").to_pylist() == ["31", "0.10", ""] and csv.rejects == []
    both = read_source(SourceSpec("s", files=("t.csv", "u.jsonl"), declared=declared), tmp_path)
    assert both.table.column("age").to_pylist() == ["31", "0.10", "", "0.10", "40", "41"] and both.rejects == []
