"""The laws every operator keeps, as one function each operator's test file calls on its own
parameters and data (tests/ops/test_<op>.py):

- conservation: every input row is either kept or removed, once, with a reason;
- workers: the same bytes with 1 or 2 worker processes (the table really split in two);
- a map keeps every row and its order; only the declared columns change.
"""
from __future__ import annotations

from pathlib import Path

import pyarrow as pa

from dsc.ops import OPERATORS, runtime
from dsc.ops.runtime import Outcome, RunContext
from dsc.reserved import ID


def table(**columns) -> pa.Table:
    """A table with row ids r0, r1, … and the given columns."""
    n = len(next(iter(columns.values())))
    return pa.table({ID: [f"r{i}" for i in range(n)], **columns})


def apply(op: str, tbl: pa.Table, params: dict, workers: int = 1) -> Outcome:
    """Run an operator as the engine does: parameters completed and validated by its Params."""
    full = OPERATORS[op].Params(**params).model_dump(mode="python")
    return OPERATORS[op].apply(tbl, full, RunContext(base_dir=Path("."), workers=workers))


def assert_laws(op: str, tbl: pa.Table, params: dict, monkeypatch) -> Outcome:
    """Check the laws on one input; return the 1-worker outcome for the test's own assertions."""
    one = apply(op, tbl, params)
    ids = tbl.column(ID).to_pylist()
    kept, removed = one.table.column(ID).to_pylist(), one.removed.column(ID).to_pylist()
    assert sorted(kept + removed) == sorted(ids), "every row is kept or removed, once"
    assert all(one.removed.column("_dsc_reason").to_pylist()), "every removed row has a reason"
    monkeypatch.setattr(runtime, "PARALLEL_MIN_ROWS", 2)  # 2 workers really split the table
    two = apply(op, tbl, params, workers=2)
    assert two.table.equals(one.table) and two.removed.equals(one.removed), "1 and 2 workers agree"
    if OPERATORS[op].effect == "changes values":
        assert kept == ids, "a map keeps every row, in order"
        changed = set(OPERATORS[op].columns_of(OPERATORS[op].Params(**params).model_dump()))
        for name in tbl.column_names:
            if name not in changed:
                assert one.table.column(name).equals(tbl.column(name)), f"{name} is not the rule's to change"
    return one
