"""Parquet text that is not UTF-8: the row is rejected naming its column, never a traceback.

pyarrow reads a parquet string column without checking its bytes; the first Python value made
of them raised UnicodeDecodeError (exit 1, "internal error"). Now a row holding such text, in a
top-level or a nested column, is rejected (source `file#row`, reason naming the column) and the
other rows load; a file with no row left, or a column name that is not UTF-8, stops the run
with exit 4.
"""
from __future__ import annotations

import json
import random
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
from typer.testing import CliRunner

from dsc.commands import app
from dsc.exitcodes import EXIT_INPUT_ERROR, EXIT_OK
from dsc.io import SourceSpec, read_source

SPEC = 'dataset pq version 1 {\n  seed 7\n}\nsource s {\n  files "data.parquet"\n}\n' \
       "schema {\n  prompt : text required\n}\n"


def unchecked(values: list[bytes]) -> pa.Array:
    """Strings made of `values` as they are: Arrow does not check them here either."""
    return pa.array(values, pa.binary()).view(pa.string())


def write(folder: Path, table: pa.Table, **options) -> Path:
    pq.write_table(table, folder / "data.parquet", **options)
    (folder / "pq.dspec").write_text(SPEC, encoding="utf-8")
    return folder / "pq.dspec"


def run(spec: Path):
    result = CliRunner().invoke(app, ["run", str(spec), "--out", str(spec.parent / "out")])
    assert "internal error" not in result.output and "Traceback" not in result.output
    return result


def test_a_row_whose_text_is_not_utf8_is_rejected_naming_its_column(tmp_path):
    tags = pa.array([["x"], ["y"], ["z"], ["w"]], pa.list_(pa.string()))
    tags = pa.ListArray.from_arrays(tags.offsets, unchecked([b"x", b"y", b"\xc3(", b"w"]))
    table = pa.table({"prompt": unchecked([b"good", b"bad \xff here", b"fine", b"ok"]), "tags": tags})
    spec = write(tmp_path, table)
    result = run(spec)
    assert result.exit_code == EXIT_OK, result.output
    rejects = [json.loads(line) for line in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert [(r["_dsc_src"], r["_dsc_reason"]) for r in rejects] == [
        ("data.parquet#1", "column 'prompt' holds text that is not UTF-8"),
        ("data.parquet#2", "column 'tags' holds text that is not UTF-8")]
    kept = read_source(SourceSpec("s", files=("data.parquet",)), tmp_path)
    assert kept.table.column("prompt").to_pylist() == ["good", "ok"]
    assert kept.table.column("_dsc_src").to_pylist() == ["data.parquet#0", "data.parquet#3"]


def test_scattered_bad_rows_across_row_groups_are_each_found(tmp_path):
    rng = random.Random(5)
    bad = set(rng.sample(range(5000), 40))
    values = [b"\xed\xa0\x80" if i in bad else f"row {i}".encode() for i in range(5000)]
    write(tmp_path, pa.table({"prompt": unchecked(values)}), row_group_size=700)
    result = read_source(SourceSpec("s", files=("data.parquet",)), tmp_path)
    assert sorted(int(r.source.split("#")[1]) for r in result.rejects) == sorted(bad)
    assert result.table.num_rows == 5000 - len(bad)
    assert result.table.column("prompt").to_pylist() == [f"row {i}" for i in range(5000) if i not in bad]


def test_a_file_with_no_readable_row_or_name_stops_the_run_with_exit_4(tmp_path):
    def refused(says: str) -> None:
        result = run(tmp_path / "pq.dspec")
        assert result.exit_code == EXIT_INPUT_ERROR and says in result.output, result.output

    write(tmp_path, pa.table({"prompt": unchecked([b"\xff", b"\xfe"])}))
    refused("source 's' produced no rows (2 rejected)")
    # Dictionaries (pandas categoricals) the parquet reader checks itself: the whole file.
    write(tmp_path, pa.table({"prompt": pa.DictionaryArray.from_arrays(pa.array([0, 1]), unchecked([b"a", b"\xe2"]))}))
    refused("data.parquet is not a readable parquet file: Invalid UTF8 payload")
    write(tmp_path, pa.table({"prompt": ["a", "b"]}), store_schema=False)  # the name is in the footer only
    path = tmp_path / "data.parquet"
    path.write_bytes(path.read_bytes().replace(b"prompt", b"pr\xffmpt"))
    refused("data.parquet: a column name is not UTF-8 text")
