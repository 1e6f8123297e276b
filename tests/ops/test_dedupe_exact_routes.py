"""`dedupe exact` gives the same outcome (kept rows in order, and every removed row's reason, cluster
and survivor) whichever way its kernel groups the keys: the compiled hash table used from
`_JIT_FROM` rows on, or the numpy sort used below; with 1 or 2 workers; and keeps the rows pandas'
`drop_duplicates` keeps."""
import numpy as np
import pandas as pd
import pyarrow as pa
import pytest

from dsc.kernels import exact
from laws import apply, assert_laws, table

ROUTES = {"hash table": 0, "sort": 1 << 62}


def random_table(n: int, seed: int) -> pa.Table:
    """Text drawn from a small pool (many repeats, nulls, empty text, long values differing only
    in the middle, which share their signature) beside a low-cardinality integer."""
    rng = np.random.default_rng(seed)
    pool = [None, "", "a", "A", "a ", "é", "x" * 40 + "1" + "y" * 40, "x" * 40 + "2" + "y" * 40,
            *(f"row {i}" for i in range(40))]
    q = [pool[i] for i in rng.integers(0, len(pool), n)]
    s = [None if v == 3 else int(v) for v in rng.integers(0, 4, n)]
    return table(q=q, s=s)


@pytest.mark.parametrize("columns", [["q"], ["q", "s"]])
@pytest.mark.parametrize("keep", ["first", "last", "longest", "none", "hash"])
def test_both_routes_give_the_same_outcome(monkeypatch, columns, keep):
    # _SAMPLE_FROM / _ENCODE_UP_TO force the text onto the signature route, the one that groups
    # 64-bit keys (the encoded route is covered by the kernel's tests).
    monkeypatch.setattr(exact, "_ENCODE_UP_TO", 0)
    monkeypatch.setattr(exact, "_SAMPLE_FROM", 1 << 62)
    tbl = random_table(3_000, seed=len(columns))
    outcomes = []
    for jit_from in ROUTES.values():
        monkeypatch.setattr(exact, "_JIT_FROM", jit_from)
        outcomes.append(assert_laws("dedupe_exact", tbl, {"columns": columns, "keep": keep}, monkeypatch))
    table_route, sort_route = outcomes
    assert table_route.table.equals(sort_route.table)
    assert table_route.removed.equals(sort_route.removed)
    assert table_route.removed.num_rows > 0


@pytest.mark.parametrize("jit_from", ROUTES.values(), ids=ROUTES.keys())
def test_keeps_the_rows_pandas_keeps(monkeypatch, jit_from):
    monkeypatch.setattr(exact, "_JIT_FROM", jit_from)
    tbl = random_table(5_000, seed=9)
    out = apply("dedupe_exact", tbl, {"columns": ["q", "s"]})
    frame = pd.DataFrame({"q": tbl.column("q").to_pylist(), "s": tbl.column("s").to_pylist()}, dtype=object)
    expected = [f"r{i}" for i in frame.drop_duplicates().index]
    assert out.table.column("_dsc_id").to_pylist() == expected
    # every removed row names the first row of its key as its cluster and its survivor
    first = {}
    for i, key in enumerate(zip(frame["q"], frame["s"])):
        first.setdefault(key, f"r{i}")
    ids = tbl.column("_dsc_id").to_pylist()
    named = {ids[i]: first[key] for i, key in enumerate(zip(frame["q"], frame["s"]))}
    for rid, cluster, survivor in zip(*(out.removed.column(c).to_pylist()
                                        for c in ("_dsc_id", "_dsc_cluster", "_dsc_duplicate_of"))):
        assert cluster == survivor == named[rid]
