"""The fuzzy kernel's fast block learning and blocking give what dedupe's own path gives.

dsc.kernels.fuzzy replaces two steps of dedupe's training (building every covered record pair,
drawing pairs for active labelling) and its SQLite blocking with equivalents that must not change
the model: same scored pairs (so the same blocking rules and classifier) and same clusters.  It
also answers dedupe's Levenshtein and TF-IDF canopy searches without most of the searching; those
answers are held here against dedupe's own searches, on data made to sit near their edge cases.
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


# --------------------------------------------------------------------------
# Canopy searches answered without dedupe's search (fuzzy._faster_searches)


def _near_strings(seed, n=300):
    """Strings over a small alphabet, many a few edits from another: plenty of
    neighbours at edit distance 1 to 4, short strings, repeats and non-ASCII."""
    rng = random.Random(seed)
    alphabet = "abcd é"
    base = ["".join(rng.choice(alphabet) for _ in range(rng.choice([2, 5, 9, 16, 30, 60])))
            for _ in range(n // 3)]
    out = list(base)
    while len(out) < n:
        s = list(rng.choice(out))
        for _ in range(rng.randint(0, 5)):
            op, at = rng.randrange(3), rng.randrange(len(s) + 1)
            if op == 0:
                s.insert(at, rng.choice(alphabet))
            elif s and op == 1:
                del s[min(at, len(s) - 1)]
            elif s:
                s[min(at, len(s) - 1)] = rng.choice(alphabet)
        out.append("".join(s) or "a")
    return out


@pytest.mark.parametrize("seed", range(4))
@pytest.mark.parametrize("limits", [None, (60, 3)])
def test_levenshtein_shortcut_answers_as_the_trie_walk(seed, limits, monkeypatch):
    import dedupe.canopy_index
    import dedupe.levenshtein
    import dedupe.tfidf
    import Levenshtein_search

    if limits:  # small limits: many strings are left to the real lookup
        monkeypatch.setattr(fuzzy, "_LEV_HOLDERS", limits[0])
        monkeypatch.setattr(fuzzy, "_LEV_CANDIDATES", limits[1])
    docs = _near_strings(seed)
    answered = 0
    with fuzzy._faster_searches(dedupe.levenshtein, dedupe.tfidf, dedupe.canopy_index):
        index = dedupe.levenshtein.LevenshteinIndex()
        for doc in docs:
            index.index(doc)
        index.initSearch()
        for doc in docs:
            for k in range(5):
                real = {index._doc_to_id[m] for m, _, _ in Levenshtein_search.lookup(index.index_key, doc, k)}
                answered += index._fast_docs.alone(doc, k)
                assert set(index.search(doc, k)) == real, (doc, k)
    # The shortcut answered many searches itself; with small limits it left the
    # strings with too many candidates to the trie walk.
    assert answered > (len(docs) // 2 if limits else len(docs))
    left = sum(near is None for near in index._fast_docs.near.values())
    assert left > (len(docs) // 2 if limits else 0)
    # Outside the context the class is dedupe's again and the record answers nothing.
    assert "_fast_docs" not in vars(dedupe.levenshtein.LevenshteinIndex())
    assert not index._fast_docs.alone(docs[0], 4)


def test_levenshtein_shortcut_never_answers_for_strings_it_has_not_seen():
    import dedupe.canopy_index
    import dedupe.levenshtein
    import dedupe.tfidf

    with fuzzy._faster_searches(dedupe.levenshtein, dedupe.tfidf, dedupe.canopy_index):
        index = dedupe.levenshtein.LevenshteinIndex()
        index._doc_to_id["queried before indexed"]  # as CanopyPredicate does; the trie never gets it
        index.index("queried before indexed")
        index.index("something else entirely")
        assert not index._fast_docs.alone("queried before indexed", 1)
        assert index.search("queried before indexed", 1) == []  # the trie walk's answer
        assert index._fast_docs.alone("something else entirely", 1)
        index.unindex("something else entirely")
        assert not index._fast_docs.alone("something else entirely", 1)


def _tfidf_docs(seed, n=300):
    rng = random.Random(seed)
    words = [f"w{i}" for i in range(40)] + ["the", "a", "of"] * 10
    base = [tuple(rng.choice(words) for _ in range(rng.randint(1, 12))) for _ in range(n // 2)]
    return base + [tuple(w for w in rng.choice(base) if rng.random() < 0.8) or ("w1",)
                   for _ in range(n - len(base))]


@pytest.mark.parametrize("seed", range(4))
def test_tfidf_table_answers_as_the_weighted_union(seed):
    import dedupe.canopy_index
    import dedupe.labeler
    import dedupe.levenshtein
    import dedupe.tfidf

    rng = random.Random(seed)
    docs = _tfidf_docs(seed)
    thresholds = [0.2, 0.4, 0.6, 0.8] + [rng.random() for _ in range(4)]
    with fuzzy._seeded_dedupe(0, dedupe.labeler, dedupe.canopy_index), \
            fuzzy._faster_searches(dedupe.levenshtein, dedupe.tfidf, dedupe.canopy_index):
        index = dedupe.tfidf.TfIdfIndex()
        for doc in docs:
            index.index(doc)
        index.initSearch()
        table = index._index._fast_table
        queries = docs + [("w1", "unknown"), ("unknown",)]
        answered = 0
        for doc in queries:
            for threshold in thresholds:
                real = {c for _, c in index._index.apply(index._parseTerms(doc), threshold)}
                assert set(index.search(doc, threshold)) == real, (doc, threshold)
                answered += table.apply(index._parseTerms(doc), threshold) is not None
            # A cut-off exactly at a document's score cannot be told from float64
            # sums: the table declines and the real search answers.
            query = index._parseTerms(doc)
            table.apply(query, 0.5)
            _, scores, _, norm = table.last
            if scores is not None:
                at = scores[scores > 0][0] / norm
                assert table.apply(query, at) is None
                real = {c for _, c in index._index.apply(query, at)}
                assert set(index.search(doc, at)) == real
        # The table answered nearly every search itself (a score within float32
        # rounding of the cut-off is rare, though it happens on so few words).
        assert answered > 0.99 * len(queries) * len(thresholds)
        # Any change to the index drops the table until the next initSearch.
        index.index(("w1", "w2", "new"))
        assert "_fast_table" not in vars(index._index)
        index.initSearch()
        assert "_fast_table" in vars(index._index)
    assert "_fast_table" not in vars(index._index)
    assert "index_doc" not in vars(dedupe.canopy_index.CanopyIndex)


def _full_distance(a, b):
    row = list(range(len(b) + 1))
    for i, x in enumerate(a, 1):
        prev, row = row, [i] + [0] * len(b)
        for j, y in enumerate(b, 1):
            row[j] = min(prev[j] + 1, row[j - 1] + 1, prev[j - 1] + (x != y))
    return row[-1]


@pytest.mark.parametrize("seed", range(3))
def test_bounded_distance_is_levenshtein_on_bytes_capped(seed):
    strings = [s.encode() for s in _near_strings(seed, n=60)] + [b"", b"a", "é".encode()]
    for a in strings:
        for b in strings:
            full = _full_distance(a, b)
            for cap in range(6):
                assert fuzzy._bounded_distance(a, b, cap) == min(full, cap + 1), (a, b, cap)
