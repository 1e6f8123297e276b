"""`dsc run` over JSON Lines and JSON files whose standardized columns mix JSON numbers, text,
booleans and nulls, on the local and the Ray engine: every value is read as the text it is written
as, and each rule gives its column the schema's type (an `int` exactly) or says why it cannot.
Also a parquet column of numbers, which the schema check leaves to its rule."""
import json
import logging
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from dsc.commands import app
from run_outputs import kept_rows

SPEC = """dataset mixed version 1 {{
  seed 3
  locale en_US
}}

source s {{
  files "{file}"
  key id
}}

schema {{
  id : string required
  age : int
  score : float
  price : money
  weight : quantity
  day : date
  ok : bool
}}

clean {{
  standardize age as number
  standardize score as number on_error flag
  standardize price as money USD on_error flag
  standardize weight as quantity kg on_error flag
  standardize day as date order DMY on_error flag
  standardize ok as bool on_error flag
}}
"""

ROWS = [
    '{"id": "a", "age": 4, "score": 0.10, "price": "$5", "weight": "2 kg", "day": "10.1.2019", "ok": true}',
    '{"id": "b", "age": "5", "score": "0.10", "price": 5, "weight": 3, "day": 20190110, "ok": "yes"}',
    '{"id": "c", "age": 1e3, "score": 1e3, "price": "USD 12.50", "weight": "1 lb", "day": "2019-01-10", "ok": 1}',
    '{"id": "d", "age": -0, "score": 12345678901234567890, "price": "5 USD", "weight": 2.5, "day": "1.2.2003", '
    '"ok": 0}',
    '{"id": "e", "age": 2.0, "score": -0, "price": null, "weight": null, "day": null, "ok": false}',
    '{"id": "f", "age": 4.5}',
    '{"id": "g", "age": "4.5"}',
    '{"id": "h", "age": 12345678901234567890}',
    '{"id": "i", "age": [4]}',
    '{"id": "j", "score": "x", "ok": "maybe"}',
]

NONE = dict.fromkeys(["age", "day", "ok", "price", "price_currency", "score", "weight", "weight_unit_original"])
KEPT = [
    {"age": 4, "day": "2019-01-10", "ok": True, "price": "5", "price_currency": "USD", "score": 0.1,
     "weight": "2", "weight_unit_original": "kilogram"},
    {"age": 5, "ok": True, "score": 0.1},
    {"age": 1000, "day": "2019-01-10", "ok": True, "price": "12.50", "price_currency": "USD", "score": 1000.0,
     "weight": "0.45359237", "weight_unit_original": "pound"},
    {"age": 0, "day": "2003-02-01", "ok": False, "price": "5", "price_currency": "USD",
     "score": 12345678901234567890.0},
    {"age": 2, "ok": False, "score": -0.0},
    {},
]
WHOLE = "age as number: not a whole number (4.5), and the schema declares age int"
REJECTED = [  # (row, rule, reason, the row as read)
    ("i", "source:s", "column 'age': standardize age as number reads a string, number or bool, got list",
     {"id": "i", "age": [4]}),
    ("f", "standardize[age]", WHOLE, "4.5"),
    ("g", "standardize[age]", WHOLE, "4.5"),
    ("h", "standardize[age]", "age as number: 12345678901234567890 is beyond the 64-bit range of the int column "
                              "age", "12345678901234567890"),
]
FLAGGED = [  # (row, rule, the value as read, reason)
    ("j", "standardize[score]", "x", "score as number: not a number in en_US"),
    ("b", "standardize[price]", "5", "price as money: no currency: write a code (EUR) or a symbol (€)"),
    ("b", "standardize[weight]", "3", "weight as quantity: no unit: write the unit after the number (e.g. kg)"),
    ("d", "standardize[weight]", "2.5", "weight as quantity: no unit: write the unit after the number (e.g. kg)"),
    ("b", "standardize[day]", "20190110", "day as date: not a date (no day, month and year found)"),
    ("j", "standardize[ok]", "maybe", "ok as bool: not a yes/no word in en"),
]


def lines(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def dsc_run(spec: Path, out: Path, engine: str) -> None:
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(out), "--engine", engine])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def ray_session():
    ray = pytest.importorskip("ray", reason="the ray engine needs Ray Data: pip install 'dsc[ray]'")
    pytest.importorskip("ray.data", reason="the ray engine needs Ray Data: pip install 'dsc[ray]'")
    ray.init(address="local", num_cpus=2, include_dashboard=False, logging_level=logging.ERROR,
             log_to_driver=False)
    yield
    ray.shutdown()


@pytest.mark.slow
@pytest.mark.filterwarnings("ignore::DeprecationWarning:ray.data.context")
@pytest.mark.parametrize("file", ["rows.jsonl", "rows.json"])
def test_mixed_numbers_and_text_through_dsc_run_on_both_engines(tmp_path, file, ray_session):
    text = "\n".join(ROWS) + "\n" if file.endswith(".jsonl") else "[\n" + ",\n".join(ROWS) + "\n]\n"
    (tmp_path / file).write_text(text, encoding="utf-8")
    spec = tmp_path / "mixed.dspec"
    spec.write_text(SPEC.format(file=file), encoding="utf-8")
    dsc_run(spec, tmp_path / "local", "local")
    dsc_run(spec, tmp_path / "ray", "ray")
    for name in ("kept.parquet", "rejects.jsonl", "flags.jsonl"):
        assert (tmp_path / "ray" / name).read_bytes() == (tmp_path / "local" / name).read_bytes(), name

    out = tmp_path / "local"
    kept = kept_rows(out, as_json=True)
    assert [r["_dsc_id"] for r in kept] == ["a", "b", "c", "d", "e", "j"]
    assert [{k: v for k, v in r.items() if k not in ("_dsc_id", "id")} for r in kept] == [
        {**NONE, **row} for row in KEPT]
    types = pq.read_schema(out / "kept.parquet")
    assert (types.field("age").type, types.field("score").type, types.field("ok").type) == (
        pa.int64(), pa.float64(), pa.bool_())
    rejects = lines(out / "rejects.jsonl")
    assert [(r["_dsc_row"]["id"], r["_dsc_rule"], r["_dsc_reason"]) for r in rejects] == [
        (row, rule, reason) for row, rule, reason, _ in REJECTED]
    # the row as read: the source's reject is the record, the rule's holds the text it read
    assert [{k: v for k, v in r["_dsc_row"].items() if v is not None} if r["_dsc_rule"] == "source:s"
            else r["_dsc_row"]["age"] for r in rejects] == [row for *_, row in REJECTED]
    assert [(f["row_id"], f["rule"], f["value"], f["reason"]) for f in lines(out / "flags.jsonl")] == FLAGGED


def test_a_parquet_column_of_numbers_is_left_to_its_rule(tmp_path):
    pq.write_table(pa.table({"id": ["a", "b", "c"], "age": [4.0, 4.5, None]}), tmp_path / "rows.parquet")
    spec = tmp_path / "p.dspec"
    spec.write_text('source s {\n  files "rows.parquet"\n  key id\n}\n\nschema {\n  id : string\n  age : int\n}\n\n'
                    "clean {\n  standardize age as number\n}\n", encoding="utf-8")
    dsc_run(spec, tmp_path / "out", "local")
    assert [(r["id"], r["age"]) for r in kept_rows(tmp_path / "out")] == [("a", 4), ("c", None)]
    assert [(r["_dsc_id"], r["_dsc_reason"]) for r in lines(tmp_path / "out" / "rejects.jsonl")] == [
        ("b", "age as number: not a whole number (4.5), and the schema declares age int")]
