"""Stable hash splits: a row's split never moves, fractions hold, keys never straddle splits."""
import json
import math
from decimal import Decimal

import pyarrow as pa
import pytest
import xxhash
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.api import compile_text
from dsc.engines.local import run_plan
from dsc.engines.splits import assign_splits
from dsc.ops.runtime import RunError
from dsc.plan import SplitPart, SplitPlan
from dsc.reserved import SPLIT
from dsc.syntax.source import SourceFile
from hypothesis_budget import examples


def plan_of(text: str):
    result = compile_text(SourceFile("t.dspec", text))
    assert result.ok, [d.message for d in result.diagnostics]
    return result.plan


def plan(fractions=("0.8", "0.1", "0.1"), seed=7, stratify=None, key="k") -> SplitPlan:
    names = ["train", "validation", "test", "extra"][: len(fractions)]
    return SplitPlan(key=key, seed=seed, stratify=stratify,
                     parts=[SplitPart(name=n, fraction=Decimal(f)) for n, f in zip(names, fractions)])


def splits_of(keys, split: SplitPlan, **columns) -> list[str]:
    table = pa.table({"k": pa.array(keys, pa.string()), **columns})
    return assign_splits(table, split).column(SPLIT).to_pylist()


def within_bound(count: int, n: int, p: float, sigmas: float = 5.0) -> bool:
    """A binomial count within `sigmas` standard deviations of n*p (false alarm < 1e-6 at 5)."""
    return abs(count - n * p) <= sigmas * math.sqrt(n * p * (1 - p)) + 1


keys = st.text(alphabet="abcdefgh0123456789 é", min_size=0, max_size=8)


@settings(max_examples=examples(3), deadline=None)
@given(rows=st.lists(keys, max_size=60), added=st.lists(keys, max_size=60), data=st.data())
def test_adding_or_removing_rows_never_moves_a_surviving_row(rows, added, data):
    split = plan(seed=data.draw(st.integers(0, 2**64 + 5), label="seed"))
    before = splits_of(rows, split)
    kept = sorted(data.draw(st.sets(st.sampled_from(range(len(rows)))) if rows else st.just(set()), label="kept"))
    mixed = data.draw(st.permutations([rows[i] for i in kept] + added), label="order")
    after = dict(zip(mixed, splits_of(mixed, split)))
    for i in kept:
        assert after[rows[i]] == before[i]


@settings(max_examples=examples(2), deadline=None)
@given(rows=st.lists(st.one_of(st.none(), keys), min_size=1, max_size=80))
def test_no_key_appears_in_two_splits(rows):
    seen = {}
    for key, name in zip(rows, splits_of(rows, plan(("0.5", "0.5")))):
        assert seen.setdefault(key, name) == name


def test_fractions_hold_within_a_binomial_bound_on_a_large_input():
    n = 200_000
    names = splits_of([f"row-{i}" for i in range(n)], plan(("0.8", "0.15", "0.05")))
    for name, p in (("train", 0.8), ("validation", 0.15), ("test", 0.05)):
        assert within_bound(names.count(name), n, p), (name, names.count(name))


@settings(max_examples=examples(0.25), deadline=None)
@given(cuts=st.lists(st.integers(1, 99), min_size=1, max_size=3, unique=True), seed=st.integers(0, 10**9))
def test_any_declared_fractions_hold(cuts, seed):
    edges = [0, *sorted(cuts), 100]
    fractions = [Decimal(b - a) / 100 for a, b in zip(edges, edges[1:])]
    n = 20_000
    names = splits_of([f"{seed}:{i}" for i in range(n)], plan([str(f) for f in fractions], seed=seed))
    for part, p in zip(plan([str(f) for f in fractions]).parts, fractions):
        assert within_bound(names.count(part.name), n, float(p))


def test_each_stratum_is_split_in_the_declared_proportions():
    n = 60_000
    labels = [("rare", "common", "common", "mid")[i % 4] for i in range(n)]
    names = splits_of([f"k{i}" for i in range(n)], plan(("0.9", "0.1"), stratify="label"),
                      label=pa.array(labels))
    for label in ("rare", "mid", "common"):
        in_stratum = [s for s, lab in zip(names, labels) if lab == label]
        assert within_bound(in_stratum.count("validation"), len(in_stratum), 0.1)


def test_a_key_is_hashed_as_text_so_types_do_not_matter():
    split = plan(("0.5", "0.5"))
    as_ints = assign_splits(pa.table({"k": pa.array(list(range(200)))}), split).column(SPLIT).to_pylist()
    assert as_ints == splits_of([str(i) for i in range(200)], split)


def test_pinned_assignments_never_change():
    # A changed hash would silently move rows between splits of every existing dataset.
    rows = ["alpha", "beta", "gamma", "delta", "epsilon", ""]
    assert splits_of(rows + [None], plan(seed=1234)) == [
        "train", "train", "validation", "train", "test", "test", "validation"]
    # The documented rule, computed independently: xxh3-64 of b"dsc-split\0" + key, seeded, read as [0, 1).
    position = [xxhash.xxh3_64_intdigest(b"dsc-split\x00" + r.encode(), 1234) / 2**64 for r in rows]
    assert [("train" if u < 0.8 else "validation" if u < 0.9 else "test") for u in position] == \
        splits_of(rows, plan(seed=1234))


def test_the_seed_reshuffles():
    rows = [f"r{i}" for i in range(2000)]
    a, b = splits_of(rows, plan(("0.5", "0.5"), seed=1)), splits_of(rows, plan(("0.5", "0.5"), seed=2))
    assert within_bound(sum(x != y for x, y in zip(a, b)), 2000, 0.5)


def test_nulls_share_one_split_and_reassigning_replaces_the_column():
    table = assign_splits(pa.table({"k": pa.array([None, "x", None, None], pa.string())}), plan())
    again = assign_splits(table, plan())
    assert again.column_names == ["k", SPLIT] and again.column(SPLIT).equals(table.column(SPLIT))
    nulls = [s for s, k in zip(table.column(SPLIT).to_pylist(), [None, "x", None, None]) if k is None]
    assert len(set(nulls)) == 1


def test_missing_key_or_label_column_is_an_input_error():
    with pytest.raises(RunError, match="'nope', which the data lacks") as err:
        assign_splits(pa.table({"k": ["a"]}), plan(key="nope"))
    assert err.value.exit_code == 4
    with pytest.raises(RunError, match="'label'"):
        assign_splits(pa.table({"k": ["a"]}), plan(stratify="label"))


def test_a_split_with_no_rows_is_an_error_and_nothing_is_written(tmp_path):
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"q": f"q{i}"}) + "\n" for i in range(3)))
    spec = ('source s {\n  files "rows.jsonl"\n}\n\nsplit by q {\n  train 0.98\n  validation 0.01\n'
            '  test 0.01\n}\n\nexport jsonl "{split}.jsonl"\n')
    with pytest.raises(RunError, match=r"splits 'validation' \(0.01\), 'test' \(0.01\) have no rows") as err:
        run_plan(plan_of(spec), tmp_path, tmp_path / "out")
    assert err.value.exit_code == 4
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").glob("*.jsonl"))


@settings(max_examples=examples(), deadline=None)
@given(chunks=st.lists(st.lists(st.one_of(st.none(), keys), max_size=7), min_size=1, max_size=4))
def test_keys_hashed_a_slice_at_a_time_split_as_each_row_alone(chunks, monkeypatch_slices):
    """Chunks and slices (3 rows here) change nothing: a row's split is its key's alone."""
    split = plan()
    table = pa.table({"k": pa.chunked_array(chunks, pa.string())})
    alone = [splits_of([key], split)[0] for chunk in chunks for key in chunk]
    assert assign_splits(table, split).column(SPLIT).to_pylist() == alone


@pytest.fixture(scope="module")
def monkeypatch_slices():
    from dsc.engines import splits

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(splits, "_KEYS_AT_ONCE", 3)
        yield
