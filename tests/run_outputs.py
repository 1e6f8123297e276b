"""Reading a finished run's kept rows in tests, from `kept.parquet`: the one copy every run writes.

`kept.jsonl` is written only with `dsc run --kept-jsonl` (`dsc.engines.outputs`), so tests that
check which rows a run kept read the parquet file through here, and only tests about the jsonl
itself read `kept.jsonl`. Values come back as pyarrow gives them (a `date` column as
`datetime.date`, not the text the jsonl writes).
"""
from __future__ import annotations

import json
from pathlib import Path

import pyarrow.parquet as pq

from dsc.engines.outputs import row_json

def kept_rows(out: Path, as_json: bool = False) -> list[dict]:
    """The kept rows of the run written to `out`, in file order, one dict per row.

    `as_json`: each value as a JSON reader sees it in `kept.jsonl` (`dsc.engines.outputs.row_json`:
    dates, timestamps and decimals as text), for tests that check the text a value became."""
    # pyarrow's default reader, as users open it: rows may nest MAX_DEPTH deep, which it reads.
    rows = pq.read_table(Path(out) / "kept.parquet").to_pylist()
    return [json.loads(row_json(row)) for row in rows] if as_json else rows


def kept_by_id(out: Path, key: str = "_dsc_id", as_json: bool = False) -> dict:
    """The kept rows of the run written to `out`, by the value of column `key` (the row id by default)."""
    return {row[key]: row for row in kept_rows(out, as_json)}
