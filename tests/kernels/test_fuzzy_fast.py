"""The fuzzy kernel's fast block learning and blocking give what dedupe's own path gives.

dsc.kernels.fuzzy replaces two steps of dedupe's training (building every covered record pair,
drawing pairs for active labelling) and its SQLite blocking with equivalents that must not change
the model: same scored pairs (so the same blocking rules and classifier) and same clusters.
"""

import itertools
import json
import random
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dedupe")

from dsc.kernels import fuzzy  # noqa: E402
from dsc.kernels.fuzzy import _count_pairs, _CoveredPairs, load_pairs  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "fuzzy"


def _brute_pairs(blocks):
    return {pair for ids in blocks for pair in itertools.combinations(sorted(ids), 2)}


@pytest.mark.parametrize("seed", range(30))
def test_count_pairs_counts_each_shared_pair_once(seed):
    rng = random.Random(seed)
    n = rng.choice([5, 70, 200])
    blocks = []
    for _ in range(rng.randint(1, 40)):
        size = rng.choice([2, 3, 5, 66, n])  # small blocks, and ones above the 64-member bit-mask switch
        blocks.append(rng.sample(range(n), min(size, n)))
    assert _count_pairs(blocks) == len(_brute_pairs(blocks))


def test_count_pairs_when_every_record_is_in_one_block():
    assert _count_pairs([[0, 1, 2], [3, 4], [7, 5, 6, 8]]) == 3 + 1 + 6
    assert _count_pairs([]) == 0


def test_covered_pairs_reads_as_dedupes_frozenset():
    from dedupe.training import InfiniteSet

    blocks = [[3, 1, 2], [2, 4]]
    covered = _CoveredPairs(blocks, _count_pairs(blocks))
    full = frozenset(_brute_pairs(blocks))
    assert len(covered) == len(full) == 4
    assert set(covered) == full and (1, 3) in covered and (1, 4) not in covered
    # How dedupe's random-forest candidates combine covers: InfiniteSet() & c, then c & c, f & c.
    assert InfiniteSet() & covered is covered
    other = _CoveredPairs([[1, 2, 4]], 3)
    assert covered & other == full & {(1, 2), (1, 4), (2, 4)}
    assert frozenset({(2, 4), (9, 10)}) & covered == {(2, 4)}


def _both_paths(rows, fields, pairs, seed):
    """(fast, dedupe's own) results of one training run each, in PYTHONHASHSEED=0 children."""
    out = []
    for fast in (True, False):
        cluster, scores, used, scored = fuzzy._cluster_in_child(
            (rows, tuple(fields), pairs, 0.5, seed, None, fast))
        order = np.lexsort((scored["pairs"][:, 1], scored["pairs"][:, 0]))
        out.append((cluster, scores, used, scored[order]))
    return out


def _assert_same(fast, slow):
    assert fast[0] == slow[0]  # clusters
    assert fast[1] == slow[1]  # confidences
    assert fast[2] == slow[2]
    # The same blocked pairs with the same scores: the same blocking rules and classifier.
    assert np.array_equal(fast[3]["pairs"], slow[3]["pairs"])
    assert fast[3]["score"].tobytes() == slow[3]["score"].tobytes()


@pytest.mark.slow
def test_fast_path_matches_dedupes_own_on_people():
    fields = ["name", "address"]
    pairs = load_pairs(FIXTURES / "people_pairs.json", fields)
    rows = [fuzzy._row(r, tuple(fields), i)
            for i, r in enumerate(json.loads((FIXTURES / "people.json").read_text()))]
    fast, slow = _both_paths(rows, fields, pairs, seed=0)
    _assert_same(fast, slow)
    assert len(fast[3]) > 0 and fast[0] != list(range(len(rows)))


@pytest.mark.slow
def test_fast_path_matches_dedupes_own_on_toolformer_rows():
    # 400 rows of the bench data: enough for n-gram and canopy predicates with big blocks,
    # rows in several blocks at once, and clusters of rewordings.
    data = json.loads((REPO / "examples" / "data" / "toolformer-dedupe-only-dataset.json").read_text())
    rows = [(r["output"] or None,) for r in data[:400]]
    pairs = load_pairs(REPO / "examples" / "labels" / "toolformer_pairs.json", ["output"])
    fast, slow = _both_paths(rows, ["output"], pairs, seed=11)
    _assert_same(fast, slow)
    assert sum(c != i for i, c in enumerate(fast[0])) > 10
