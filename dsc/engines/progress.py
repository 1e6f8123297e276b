"""What a run tells its `progress` callback: a plain string when a stage starts (what the spinner
shows), and a `StageDone` when one ends, with the rows it took in and handed on.

`StageDone` is a string too (`"dedupe_1: 1000 -> 950 rows"`), so a callback that only shows text
(a spinner, `dsc diff --data`) needs no change; `dsc run`'s progress display reads its fields.
"""
from __future__ import annotations


class StageDone(str):
    """The end of one stage: its id, rows in and out, and whether it came from the stage cache."""

    stage: str
    rows_in: int
    rows_out: int
    cached: bool

    def __new__(cls, stage: str, rows_in: int, rows_out: int, cached: bool = False) -> "StageDone":
        done = super().__new__(cls, f"{stage}: {rows_in} -> {rows_out} rows" + (" (cached)" if cached else ""))
        done.stage, done.rows_in, done.rows_out, done.cached = stage, rows_in, rows_out, cached
        return done
