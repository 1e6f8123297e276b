"""The schema check: a rejected row leaves with its values as read, its reason naming the column and
the type it should have had; kept rows leave cast to the schema's types."""
import json
from pathlib import Path

import pyarrow as pa
import pytest

from dsc.api import compile_text
from dsc.engines.local import run_plan
from dsc.engines.schema import declared, validate
from dsc.io import Declared
from dsc.plan import ColumnPlan
from dsc.syntax.source import SourceFile


def test_a_value_that_is_not_of_its_type_is_rejected_as_read():
    table = pa.table({"age": ["31", "two", None, "2.5"], "ok": ["true", "yes", "false", "false"],
                      "_dsc_id": ["a", "b", "c", "d"]})
    out = validate(table, [ColumnPlan(name="age", type="int"), ColumnPlan(name="ok", type="bool")])
    assert out.table.column("age").to_pylist() == [31, None] and out.table.column("age").type == pa.int64()
    assert out.table.column("ok").to_pylist() == [True, False]
    assert out.removed.select(["_dsc_id", "age", "ok", "_dsc_reason"]).to_pylist() == [
        {"_dsc_id": "b", "age": "two", "ok": "yes", "_dsc_reason": "column 'age': value is not of type int"},
        {"_dsc_id": "d", "age": "2.5", "ok": "false", "_dsc_reason": "column 'age': value is not of type int"},
    ]


def test_a_column_a_rule_reads_is_left_to_the_rule_whatever_its_type_but_must_be_there():
    # a parquet column of numbers, or text read from JSON: the rule types it and says why not
    table = pa.table({"age": [4.5, 5.0, None], "day": ["x", "", "2019-01-10"], "_dsc_id": ["a", "b", "c"]})
    columns = [ColumnPlan(name="age", type="int"), ColumnPlan(name="day", type="date", required=True)]
    out = validate(table, columns, raw={"age", "day"})
    assert out.table.column("age").to_pylist() == [4.5, None] and out.table.column("day").to_pylist() == [
        "x", "2019-01-10"]
    assert out.removed.select(["_dsc_id", "_dsc_reason"]).to_pylist() == [
        {"_dsc_id": "b", "_dsc_reason": "required column 'day' is empty"}]


HINT = " (text is not read as a number here: use standardize age as number)"

SPEC = """dataset people version 1 {{
  seed 1
  locale en_US
}}

source s {{
  files "{file}"
}}

schema {{
  name : text required
  age  : int
}}
"""


@pytest.mark.parametrize("file, content, rejected", [
    ("p.csv", "name,age\nann,31\nbob,two\ncy,4.5\n",
     {"p.csv:3": ("schema", "column 'age': value is not of type int", {"name": "bob", "age": "two"}),
      "p.csv:4": ("schema", "column 'age': value is not of type int", {"name": "cy", "age": "4.5"})}),
    ("p.jsonl", '{"name": "ann", "age": 31}\n{"name": "bob", "age": "two"}\n{"name": "cy", "age": [1]}\n'
                '{"name": "dee", "age": 2.5}\n{"name": "eve", "age": 40}\n',
     {"p.jsonl:2": ("source:s", "column 'age': declared int, got string" + HINT, {"name": "bob", "age": "two"}),
      "p.jsonl:3": ("source:s", "column 'age': declared int, got list", {"name": "cy", "age": [1]}),
      "p.jsonl:4": ("schema", "column 'age': value is not of type int", {"name": "dee", "age": 2.5})}),
    ("p.json", '[{"name": "ann", "age": 31}, {"name": "bob", "age": "two"}, {"name": "dee", "age": 2.5},'
               ' {"name": "eve", "age": 40}]',
     {"p.json#1": ("source:s", "column 'age': declared int, got string" + HINT, {"name": "bob", "age": "two"}),
      "p.json#2": ("schema", "column 'age': value is not of type int", {"name": "dee", "age": 2.5})}),
    # most ages are text: the declared type decides, not the majority (which rejected the 4 and let "31" be cast)
    ("p.jsonl", '{"name": "ann", "age": "31"}\n{"name": "bob", "age": "two"}\n{"name": "cy", "age": 4}\n'
                '{"name": "dee", "age": "5"}\n',
     {"p.jsonl:1": ("source:s", "column 'age': declared int, got string" + HINT, {"name": "ann", "age": "31"}),
      "p.jsonl:2": ("source:s", "column 'age': declared int, got string" + HINT, {"name": "bob", "age": "two"}),
      "p.jsonl:4": ("source:s", "column 'age': declared int, got string" + HINT, {"name": "dee", "age": "5"})}),
])
def test_every_reject_carries_the_value_as_read(tmp_path: Path, file, content, rejected):
    (tmp_path / file).write_text(content, encoding="utf-8")
    result = compile_text(SourceFile(str(tmp_path / "people.dspec"), SPEC.format(file=file)))
    run_plan(result.plan, tmp_path, tmp_path / "out")
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    # a schema reject holds the row as read; a source reject holds the line (or record) itself
    assert {r["_dsc_src"]: (r["_dsc_rule"], r["_dsc_reason"], r["_dsc_row"]) for r in rejects} == rejected


def test_json_sources_are_read_by_the_declared_types_except_where_a_rule_or_the_labels_say_otherwise():
    spec = SPEC.format(file="p.jsonl").replace("  age  : int\n", """  age  : int
  score : float
  ok : bool
  day : date
  paid : money
  tone : label {calm, angry}
  stars : label {1, 2, 3}
  vote : label {yes, true}
""") + "\nclean {\n  standardize paid as money EUR\n}\n"
    result = compile_text(SourceFile("people.dspec", spec))
    assert result.ok, [d.message for d in result.diagnostics]
    # a column a rule reads is read as the text of each value, named by the rule's kind
    assert declared(result.plan) == (
        Declared("name", "text", "string"), Declared("age", "int", "number"), Declared("score", "float", "number"),
        Declared("ok", "bool", "bool"), Declared("day", "date", "string"), Declared("paid", "money", "text"),
        Declared("tone", "label", "string"))
    # and so without a schema
    bare = compile_text(SourceFile("bare.dspec", 'source s {\n  files "p.jsonl"\n}\n\nclean {\n'
                                                 '  standardize weight as quantity kg\n}\n'))
    assert declared(bare.plan) == (Declared("weight", "quantity", "text"),)
