"""The standardize operator: what it writes per kind, the three on_error policies, one parse
per distinct value, and a messy file through the local engine (kept + rejected == input,
flags written, the same bytes with 1 or 2 workers)."""
import json
from pathlib import Path

import pyarrow as pa
import pytest

import dsc.locale
from dsc.api import compile_text
from dsc.engines.local import run_plan
from dsc.ops import runtime
from dsc.ops.runtime import RunContext, RunError
from dsc.ops.standardize import Standardize
from dsc.syntax.source import SourceFile
from run_outputs import kept_by_id

CTX = RunContext(base_dir=Path("."))


def table(**columns):
    n = len(next(iter(columns.values())))
    return pa.table({"_dsc_id": [f"r{i}" for i in range(n)], **columns})


def run(tbl, **params):
    return Standardize.apply(tbl, params, CTX)


def test_dates_become_iso_text_and_failures_are_rejected_with_their_reason():
    out = run(table(d=["10.1.2019", None, "03/04/2019", "x", "10.1.2019"]), column="d", kind="date",
              locales=["de_DE"], order="DMY")
    assert out.table.column("d").to_pylist() == ["2019-01-10", None, "2019-04-03", "2019-01-10"]
    assert out.removed.column("_dsc_id").to_pylist() == ["r3"]
    assert out.removed.column("d").to_pylist() == ["x"]  # the rejected row as it was read
    assert out.removed.column("_dsc_reason").to_pylist() == ["d as date: not a date in de"]
    assert out.flags == []


def test_a_century_window_reads_two_digit_years():
    out = run(table(d=["18.10.14", "31.12.99"]), column="d", kind="date", locales=["de_DE"], years=[1950, 2049])
    assert out.table.column("d").to_pylist() == ["2014-10-18", "1999-12-31"]
    rejected = run(table(d=["18.10.14"]), column="d", kind="date", locales=["de_DE"])
    assert rejected.removed.column("_dsc_reason").to_pylist() == [
        "d as date: two-digit year: the century is not written; declare the century window, e.g. years 1950..2049"]
    with pytest.raises(RunError) as backwards:  # a hand-written plan: the check would have said so
        run(table(d=["18.10.14"]), column="d", kind="date", years=[2049, 1950])
    assert backwards.value.exit_code == 2 and "runs backwards" in str(backwards.value)


def test_flag_keeps_the_row_with_a_null_and_records_the_value():
    out = run(table(d=["03/04/2019", "2019-01-10"]), column="d", kind="date", on_error="flag")
    assert out.table.column("d").to_pylist() == [None, "2019-01-10"]
    assert out.removed.num_rows == 0
    assert out.flags == [{"row_id": "r0", "column": "d", "value": "03/04/2019",
                          "reason": "d as date: ambiguous: 2019-03-04 (MDY) or 2019-04-03 (DMY); declare the order"}]


def test_null_keeps_the_row_with_a_null_and_records_nothing():
    out = run(table(d=["03/04/2019", "2019-01-10"]), column="d", kind="date", on_error="null")
    assert out.table.column("d").to_pylist() == [None, "2019-01-10"] and out.flags == []
    assert out.removed.num_rows == 0


def test_money_writes_the_amount_and_a_currency_column_beside_it():
    out = run(table(m=["1.099,98 €", "$5", None]), column="m", kind="money", locales=["de_DE"], target="EUR",
              rates={"USD": "0.92"})
    assert out.table.column_names == ["_dsc_id", "m", "m_currency", "m_currency_original"]
    assert out.table.to_pylist()[:2] == [
        {"_dsc_id": "r0", "m": "1099.98", "m_currency": "EUR", "m_currency_original": "EUR"},
        {"_dsc_id": "r1", "m": "4.60", "m_currency": "EUR", "m_currency_original": "USD"}]
    assert run(table(m=["5 EUR"]), column="m", kind="money").table.column_names == ["_dsc_id", "m", "m_currency"]


def test_quantity_writes_the_value_and_the_unit_it_was_written_in():
    out = run(table(w=["1 lb", "2,5 kg"]), column="w", kind="quantity", target="kg", locales=["de"])
    assert out.table.to_pylist() == [{"_dsc_id": "r0", "w": "0.45359237", "w_unit_original": "pound"},
                                     {"_dsc_id": "r1", "w": "2.5", "w_unit_original": "kilogram"}]


def test_numbers_are_exact_text_and_numeric_columns_keep_their_type():
    out = run(table(n=["1.099", "1,5"]), column="n", kind="number", locales=["de"])
    assert out.table.column("n").to_pylist() == ["1099", "1.5"]
    floats = run(table(n=[1.5, float("nan"), None]), column="n", kind="number", on_error="flag")
    assert floats.table.column("n").type == pa.float64()
    assert floats.table.column("n").to_pylist() == [1.5, None, None]
    assert floats.flags[0]["value"] == "nan"  # flags.jsonl stays valid JSON
    ints = run(table(n=[1, 2]), column="n", kind="number")
    assert ints.table.column("n").type == pa.int64() and ints.table.column("n").to_pylist() == [1, 2]


def test_a_number_is_written_as_the_schema_type_of_its_column_exactly():
    ints = run(table(n=["31", "1e3", "2.0", "-0", "4.5", "1e30", None, "0.10"]), column="n", kind="number",
               type="int")
    assert ints.table.column("n").type == pa.int64()
    assert ints.table.column("n").to_pylist() == [31, 1000, 2, 0, None]
    assert ints.removed.column("_dsc_reason").to_pylist() == [
        "n as number: not a whole number (4.5), and the schema declares n int",
        "n as number: 1000000000000000000000000000000 is beyond the 64-bit range of the int column n",
        "n as number: not a whole number (0.10), and the schema declares n int"]
    floats = run(table(n=["0.10", "1e3", "12345678901234567890", None]), column="n", kind="number", type="float")
    assert floats.table.column("n").type == pa.float64()
    assert floats.table.column("n").to_pylist() == [0.1, 1000.0, 12345678901234567890.0, None]
    # a column that is typed already (parquet) is written as the schema's type too
    typed = run(table(n=[4.0, 4.5]), column="n", kind="number", type="int", on_error="flag")
    assert typed.table.column("n").to_pylist() == [4, None] and typed.flags[0]["value"] == 4.5


@pytest.mark.parametrize("declaration, written", [("  n : int\n", "int"), ("  n : float\n", "float"), ("", None)])
def test_the_plan_says_the_type_a_number_is_written_as(declaration, written):
    schema = f"schema {{\n{declaration}}}\n\n" if declaration else ""
    result = compile_text(SourceFile("n.dspec", f'source s {{\n  files "n.jsonl"\n}}\n\n{schema}'
                                                "clean {\n  standardize n as number\n}\n"))
    [step] = result.plan.steps
    # left out when the schema does not declare the column: such plans keep their fingerprints
    assert step.model_dump(mode="json")["params"].get("type", "left out") == (written or "left out")


def test_bools_from_words_and_from_a_bool_column():
    out = run(table(b=["ja", "Nein", "vielleicht"]), column="b", kind="bool", locales=["de_DE"])
    assert out.table.column("b").to_pylist() == [True, False]
    assert run(table(b=[True, None]), column="b", kind="bool").table.column("b").to_pylist() == [True, None]


def test_each_distinct_value_is_read_once(monkeypatch):
    seen = []
    real = dsc.locale.standardize

    def counting(kind, value, **options):
        seen.append(value)
        return real(kind, value, **options)

    monkeypatch.setattr(dsc.locale, "standardize", counting)
    run(table(d=["2019-01-10"] * 500 + ["2019-01-11"] * 500 + [None] * 10), column="d", kind="date")
    assert sorted(seen) == ["2019-01-10", "2019-01-11"]


def test_empty_and_all_null_columns():
    empty = run(pa.table({"_dsc_id": pa.array([], pa.string()), "w": pa.array([], pa.string())}),
                column="w", kind="quantity", target="kg")
    assert empty.table.num_rows == 0 and empty.table.column_names == ["_dsc_id", "w", "w_unit_original"]
    nulls = run(table(w=pa.nulls(2)), column="w", kind="quantity", target="kg")
    assert nulls.table.column("w").to_pylist() == [None, None] and nulls.removed.num_rows == 0


def test_spec_errors_found_at_run_time_are_run_errors_for_the_spec():
    with pytest.raises(RunError) as bad_base:
        run(table(d=["yesterday"]), column="d", kind="date", locales=["en"], base="last week")
    assert bad_base.value.exit_code == 2 and "base 'last week'" in str(bad_base.value)
    with pytest.raises(RunError) as taken:
        run(table(m=["5 EUR"], m_currency=["x"]), column="m", kind="money")
    assert taken.value.exit_code == 2 and "m_currency" in str(taken.value)


SPEC = """dataset shop version 1 {
  locale de_DE
}

source s {
  files "rows.jsonl"
  key id
}

schema {
  id : string required unique
  opened : date
  amount : money
  weight : quantity
}

clean {
  standardize opened as date from [de_DE, en_US] order DMY on_error reject
  standardize amount as money EUR rates {USD 0.92, GBP 1.17} on_error flag
  standardize weight as quantity kg on_error null
}
"""

ROWS = [
    {"id": "a", "opened": "10.1.2019", "amount": "1.099,98 €", "weight": "2,5 kg"},
    {"id": "b", "opened": "03/04/2019", "amount": "$5", "weight": "1 lb"},
    {"id": "c", "opened": "10. Januar 2019", "amount": "£10", "weight": "2 1/2 lb"},
    {"id": "d", "opened": "March 3, 2020", "amount": "kr 20", "weight": "5 kilos"},
    {"id": "e", "opened": "yesterday", "amount": "1,50 EUR", "weight": "500 g"},
    {"id": "f", "opened": "", "amount": "3 EUR", "weight": "1 kg"},
    {"id": "g", "opened": None, "amount": None, "weight": None},
    {"id": "h", "opened": "2019-02-30", "amount": "7 EUR", "weight": "1 kg"},
    {"id": "i", "opened": "Маrch 3, 2020", "amount": "7 EUR", "weight": "1 kg"},
    {"id": "j", "opened": "2021-06-01", "amount": "€", "weight": "3 m"},
    {"id": "k", "opened": "1.6.2021", "amount": "2 JPY", "weight": "NaN kg"},
]


@pytest.fixture
def messy(tmp_path):
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in ROWS),
                                         encoding="utf-8")
    result = compile_text(SourceFile("shop.dspec", SPEC))
    assert result.ok, [d.message for d in result.diagnostics]
    return tmp_path, result.plan


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_a_messy_file_through_the_engine(messy):
    folder, plan = messy
    result = run_plan(plan, folder, folder / "out")
    counts = result.manifest["counts"]
    assert counts["kept"] + counts["rejected"] == counts["input"] == len(ROWS)

    rejects = {r["_dsc_id"]: r for r in read_jsonl(folder / "out" / "rejects.jsonl")}
    assert sorted(rejects) == ["e", "f", "h", "i"]  # row ids are the `key id` values
    assert rejects["e"]["_dsc_row"]["opened"] == "yesterday" and rejects["e"]["_dsc_line"] == 18
    reasons = sorted(r["_dsc_reason"] for r in rejects.values())
    assert reasons == sorted([
        "opened as date: relative date: the rule needs a base date to read it (base \"YYYY-MM-DD\")",
        "opened as date: empty value",
        "opened as date: not a calendar date: 2019-02-30",
        "opened as date: mixed scripts in the word 'Маrch' (Cyrillic and Latin)",
    ])
    assert all(r["_dsc_rule"] == "standardize[opened]" for r in rejects.values())

    kept = kept_by_id(folder / "out", "id", as_json=True)  # dates and decimals as the text they became
    assert kept["a"]["opened"] == "2019-01-10" and kept["b"]["opened"] == "2019-04-03"
    assert kept["c"]["opened"] == "2019-01-10" and kept["d"]["opened"] == "2020-03-03"
    assert kept["k"]["opened"] == "2021-06-01" and kept["g"]["opened"] is None
    assert (kept["a"]["amount"], kept["a"]["amount_currency"]) == ("1099.98", "EUR")
    assert (kept["b"]["amount"], kept["b"]["amount_currency_original"]) == ("4.60", "USD")
    assert kept["c"]["amount"] == "11.70"
    assert kept["d"]["amount"] is None and kept["j"]["amount"] is None and kept["k"]["amount"] is None
    assert (kept["a"]["weight"], kept["a"]["weight_unit_original"]) == ("2.5", "kilogram")
    assert kept["c"]["weight"] == "1.133980925"
    assert kept["d"]["weight"] is None and kept["j"]["weight"] is None  # on_error null

    flags = read_jsonl(folder / "out" / "flags.jsonl")
    assert [(f["row_id"], f["value"], f["rule"]) for f in flags] == [
        ("d", "kr 20", "standardize[amount]"), ("j", "€", "standardize[amount]"),
        ("k", "2 JPY", "standardize[amount]")]
    assert flags[0]["reason"].startswith("amount as money: ambiguous: the symbol kr")
    assert flags[2]["reason"] == "amount as money: amount in JPY, and the rule has no rate from JPY to EUR"
    rules = {r["id"]: r for r in result.manifest["rules"]}
    assert rules["standardize[amount]"]["flagged"] == 3 and rules["standardize[opened]"]["removed"] == 4


def test_the_same_bytes_with_one_or_two_workers(messy, monkeypatch):
    folder, plan = messy
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 4)  # make 2 workers really split the table
    run_plan(plan, folder, folder / "one", workers=1, kept_jsonl=True)  # kept.jsonl compared too
    run_plan(plan, folder, folder / "two", workers=2, kept_jsonl=True)
    files = ("kept.jsonl", "rejects.jsonl", "flags.jsonl", "kept.parquet")
    assert all((folder / "one" / f).read_bytes() == (folder / "two" / f).read_bytes() for f in files)
