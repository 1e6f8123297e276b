"""Tests for the near-duplicate kernel (dsc.kernels.near) and components()."""

from __future__ import annotations

import ast
import inspect
import itertools
from collections import deque

import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from bench.bench_near import exact_pairs
from bench.corpus import make_corpus
from dsc.kernels import near
from dsc.kernels.near import NearResult, lsh_params, near_duplicates, shingle_hashes
from dsc.kernels.unionfind import components
from hypothesis_budget import examples

WORDS = [f"w{i}" for i in range(40)]


def text(*idx: int) -> str:
    return " ".join(WORDS[i] for i in idx)


def ref_shingles(s: str | None, n: int, unit: str = "word") -> set:
    """Independent reference: Python str.split / code-point slicing."""
    if s is None:
        return set()
    units = s.split() if unit == "word" else list(s)
    if not units:
        return set()
    if len(units) < n:
        return {tuple(units)}
    return {tuple(units[k : k + n]) for k in range(len(units) - n + 1)}


def brute_pairs(texts, threshold: float, n: int, unit: str = "word") -> set[tuple[int, int]]:
    sets = [ref_shingles(t, n, unit) for t in texts]
    return {
        (i, j)
        for i, j in itertools.combinations(range(len(texts)), 2)
        if sets[i] and sets[j] and len(sets[i] & sets[j]) / len(sets[i] | sets[j]) >= threshold
    }


def pair_set(res: NearResult) -> set[tuple[int, int]]:
    return set(map(tuple, res.pairs.tolist()))


# --------------------------------------------------------------------------- basic behaviour


def test_identical_texts_cluster_and_result_shape():
    texts = [text(*range(20)), text(*range(20, 40)), text(*range(20)), text(*range(20))]
    res = near_duplicates(texts)
    assert res.pairs.dtype == np.int64 and res.pairs.shape == (3, 2)
    assert res.pairs.tolist() == [[0, 2], [0, 3], [2, 3]]
    assert res.cluster.dtype == np.int64
    assert res.cluster.tolist() == [0, 1, 0, 0]
    assert res.verified_pairs == 3 and res.candidate_pairs >= 3


def test_pair_just_above_threshold_is_found():
    # 20 distinct words -> 16 word 5-grams.  Changing the last word alters only
    # the last window: |A & B| = 15, |A | B| = 17, J = 15/17 = 0.882.
    a = text(*range(20))
    b = text(*range(19), 39)
    res = near_duplicates([a, b], threshold=0.8)
    assert pair_set(res) == {(0, 1)}
    assert near_duplicates([a, b], threshold=15 / 17).verified_pairs == 1  # boundary is inclusive
    assert near_duplicates([a, b], threshold=15 / 17 + 1e-9).verified_pairs == 0


def test_pair_below_threshold_is_rejected():
    # Changing word 10 touches windows 6..10: |A & B| = 11, |A | B| = 21, J = 0.524.
    a = text(*range(20))
    b = text(*range(10), 39, *range(11, 20))
    assert near_duplicates([a, b], threshold=0.8).verified_pairs == 0
    assert near_duplicates([a, b], threshold=0.5, bands=64).pairs.tolist() == [[0, 1]]


def test_exact_ratio_at_threshold_counts():
    # Unigrams: {a,b,c,d} vs {a,b,c,d,e} -> J = 4/5, exactly the threshold.
    res = near_duplicates(["a b c d", "a b c d e"], threshold=0.8, ngram=1, bands=64)
    assert res.pairs.tolist() == [[0, 1]]
    assert near_duplicates(["a b c d", "a b c d e"], threshold=0.81, ngram=1, bands=64).verified_pairs == 0


def test_duplicate_shingles_are_a_set():
    # "x x x x" as unigrams is the set {x}: identical to "x".
    assert near_duplicates(["x x x x", "x"], ngram=1).verified_pairs == 1


def test_short_texts_form_one_shingle():
    res = near_duplicates(["hi there", "hi there", "hi there you", "hi"], ngram=5)
    assert res.pairs.tolist() == [[0, 1]]  # whole-text shingles: equal only for equal texts


def test_null_and_empty_never_match():
    texts = [None, None, "", "", "   \n\t", "same words here ok", None, "same words here ok"]
    res = near_duplicates(texts)
    assert res.pairs.tolist() == [[5, 7]]
    assert res.cluster.tolist() == [0, 1, 2, 3, 4, 5, 6, 5]
    char = near_duplicates([None, "", None, ""], unit="char")
    assert char.verified_pairs == 0 and char.candidate_pairs == 0


def test_empty_input():
    res = near_duplicates([])
    assert res.cluster.shape == (0,) and res.pairs.shape == (0, 2)
    assert res.candidate_pairs == res.verified_pairs == 0


def test_input_kinds_agree():
    corpus = make_corpus(300, seed=7, words=40)["text"]
    texts = corpus[:150] + [None] + corpus[150:]
    base = near_duplicates(texts)
    assert base.verified_pairs > 0
    for variant in (
        pa.array(texts, type=pa.string()),
        pa.array(texts, type=pa.large_string()),
        pa.chunked_array([pa.array(texts[:97]), pa.array(texts[97:])]),
        pa.array([None] + texts, type=pa.string()).slice(1),
    ):
        other = near_duplicates(variant)
        np.testing.assert_array_equal(other.pairs, base.pairs)
        np.testing.assert_array_equal(other.cluster, base.cluster)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError):
        near_duplicates(["a"], unit="token")
    with pytest.raises(ValueError):
        near_duplicates(["a"], threshold=0)
    with pytest.raises(ValueError):
        near_duplicates(["a"], bands=0)
    with pytest.raises(TypeError):
        near_duplicates(pa.array([1, 2]))


# --------------------------------------------------------------------------- determinism


def test_deterministic_and_order_independent(monkeypatch):
    corpus = make_corpus(1500, seed=11, words=60)
    texts = corpus["text"]
    first, second = near_duplicates(texts), near_duplicates(texts)
    for field in ("cluster", "pairs"):
        np.testing.assert_array_equal(getattr(first, field), getattr(second, field))
    assert first.candidate_pairs == second.candidate_pairs

    # Shuffle rows: same pairs once indices are mapped back.
    perm = np.random.default_rng(3).permutation(len(texts))
    shuffled = near_duplicates([texts[k] for k in perm])
    mapped = {tuple(sorted((int(perm[i]), int(perm[j])))) for i, j in shuffled.pairs.tolist()}
    assert mapped == pair_set(first)
    assert shuffled.candidate_pairs == first.candidate_pairs

    # Chunking, slicing and threads are implementation details.
    monkeypatch.setattr(near, "_CHUNK_ROWS", 97)
    monkeypatch.setattr(near, "_SIGNATURE_ROWS", 101)
    monkeypatch.setattr(near, "_VERIFY_PAIRS", 7)
    for workers in (1, 3):
        small = near_duplicates(texts, workers=workers)
        np.testing.assert_array_equal(small.pairs, first.pairs)
        np.testing.assert_array_equal(small.jaccard, first.jaccard)
        assert small.candidate_pairs == first.candidate_pairs


def test_verified_pairs_do_not_depend_on_minhash_seed():
    texts = make_corpus(800, seed=2, words=80)["text"]
    # Exact verification: seeds can only change which borderline pairs LSH finds.
    a, b = near_duplicates(texts, seed=1, bands=32), near_duplicates(texts, seed=2, bands=32)
    assert pair_set(a) == pair_set(b) == exact_pairs(texts, 0.8, 5)


# --------------------------------------------------------------------------- shingling


@settings(max_examples=examples(0.6), deadline=None)
@given(
    st.lists(st.text(alphabet="ab é\t\n\u3000\x1c日", max_size=30) | st.none(), min_size=2, max_size=6),
    st.integers(1, 4),
    st.sampled_from(["word", "char"]),
)
def test_shingle_sets_match_python_reference(texts, n, unit):
    h, off = shingle_hashes(pa.array(texts, type=pa.string()), n, unit)
    sets = [set(h[off[i] : off[i + 1]].tolist()) for i in range(len(texts))]
    ref = [ref_shingles(t, n, unit) for t in texts]
    assert [len(s) for s in sets] == [len(r) for r in ref]
    for i, j in itertools.combinations(range(len(texts)), 2):
        assert len(sets[i] & sets[j]) == len(ref[i] & ref[j])


def test_row_tokens_do_not_depend_on_chunk_neighbours():
    # An all-ASCII chunk takes a faster splitter; 0x1C-0x1F must still split.
    rows = ["a\x1cb c d", " lead and trail ", "x"]
    alone, _ = shingle_hashes(pa.array(rows), 1, "word")
    mixed, off = shingle_hashes(pa.array(rows + ["日本 語"]), 1, "word")
    assert alone.tolist() == mixed[: off[3]].tolist()
    assert len(alone) == 4 + 3 + 1


def test_char_unit_pairs():
    # 11 chars -> 9 trigrams; appending "!" adds one: J = 9/10.
    res = near_duplicates(["hello world", "hello world!", "jello wor", "héllo wörld", "héllo wörld"],
                          unit="char", ngram=3)
    assert res.pairs.tolist() == [[0, 1], [3, 4]]
    assert near_duplicates(["hello world", "hello world!"], unit="char", ngram=3, threshold=0.91).verified_pairs == 0


# --------------------------------------------------------------------------- LSH parameters


def test_lsh_params_matches_datasketch_objective():
    datasketch_lsh = pytest.importorskip("datasketch.lsh")
    for t, k in [(0.5, 64), (0.7, 128), (0.8, 128), (0.9, 256)]:
        assert lsh_params(t, k, 0.5, 0.5) == datasketch_lsh._optimal_param(t, k, 0.5, 0.5)
    b, r = lsh_params(0.8, 128)
    assert b * r <= 128
    assert 1 - (1 - 0.8**r) ** b > 0.98  # recall-weighted default: J=0.8 pairs nearly always become candidates


def test_kernel_does_not_import_datasketch():
    tree = ast.parse(inspect.getsource(near))
    imported = {a.name.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.Import) for a in node.names}
    imported |= {node.module.split(".")[0] for node in ast.walk(tree) if isinstance(node, ast.ImportFrom) and node.module}
    assert "datasketch" not in imported and "scipy" not in imported


# --------------------------------------------------------------------------- quality


def test_prefix_filter_reference_is_exact():
    # The benchmark's fast all-pairs ground truth must agree with brute force.
    texts = make_corpus(300, seed=5, words=30, exact_dup_rate=0.1, near_dup_rate=0.2)["text"]
    texts += ["a b c d e f", "a b c d e g", "a b c d e f g", None, ""]
    for t in (0.5, 0.8):
        assert exact_pairs(texts, t, 5) == brute_pairs(texts, t, 5)


def test_precision_recall_on_synthetic_corpus():
    corpus = make_corpus(2000, seed=4, words=60)
    texts = corpus["text"]
    truth = exact_pairs(texts, 0.8, 5)
    assert len(truth) >= 100  # the corpus really contains near and exact dups
    found = pair_set(near_duplicates(texts))
    precision = len(found & truth) / len(found)
    recall = len(found & truth) / len(truth)
    assert precision >= 0.98 and recall >= 0.95, (precision, recall)


def test_corpus_near_dups_land_in_target_band():
    corpus = make_corpus(400, seed=9)
    js = []
    for i in np.flatnonzero(corpus["near_of"] >= 0).tolist():
        a = ref_shingles(corpus["text"][i], 5)
        b = ref_shingles(corpus["text"][corpus["near_of"][i]], 5)
        js.append(len(a & b) / len(a | b))
    assert 0.84 <= min(js) and max(js) <= 0.96


# --------------------------------------------------------------------------- components


def bfs_labels(n: int, edges: list[tuple[int, int]]) -> list[int]:
    adj = [[] for _ in range(n)]
    for u, v in edges:
        adj[u].append(v)
        adj[v].append(u)
    label = [-1] * n
    for s in range(n):  # ascending start: the first node reached is the smallest
        if label[s] >= 0:
            continue
        label[s] = s
        queue = deque([s])
        while queue:
            for w in adj[queue.popleft()]:
                if label[w] < 0:
                    label[w] = s
                    queue.append(w)
    return label


def test_components_small_graphs():
    assert components(0, np.zeros((0, 2), np.int64)).tolist() == []
    assert components(3, np.zeros((0, 2), np.int64)).tolist() == [0, 1, 2]
    path = np.array([[k, k + 1] for k in range(99)])[::-1]  # long path, edges reversed
    assert components(100, path).tolist() == [0] * 100
    assert components(5, np.array([[3, 4], [4, 3], [1, 1]])).tolist() == [0, 1, 2, 3, 3]
    with pytest.raises(ValueError):
        components(2, np.array([[0, 2]]))


@settings(max_examples=examples(1.5), deadline=None)
@given(st.integers(1, 40).flatmap(
    lambda n: st.tuples(st.just(n), st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60))
))
def test_components_match_bfs(case):
    n, edges = case
    got = components(n, np.array(edges, dtype=np.int64).reshape(-1, 2))
    assert got.tolist() == bfs_labels(n, edges)


# --------------------------------------------------------------------------- star clusters


def greedy_stars(n: int, edges: list[tuple[int, int]], order: list[int]) -> list[int]:
    """Reference: visit rows in order; an unclaimed row claims itself and its unclaimed partners."""
    adj = [set() for _ in range(n)]
    for u, v in edges:
        adj[u].add(v)
        adj[v].add(u)
    center = [-1] * n
    for r in order:
        if center[r] >= 0:
            continue
        center[r] = r
        for w in adj[r]:
            if center[w] < 0:
                center[w] = r
    return center


@settings(max_examples=examples(1.5), deadline=None)
@given(st.integers(1, 30).flatmap(lambda n: st.tuples(
    st.just(n),
    st.lists(st.tuples(st.integers(0, n - 1), st.integers(0, n - 1)), max_size=60),
    st.permutations(range(n)),
)))
def test_star_clusters_match_the_greedy_reference(case):
    n, edges, order = case
    edges = [(u, v) for u, v in edges if u != v]
    arr = np.array(edges, dtype=np.int64).reshape(-1, 2)
    got = near.star_clusters(n, arr, np.array(order))
    assert got.tolist() == greedy_stars(n, edges, list(order))
    pairs = {frozenset(e) for e in edges}
    rank = {r: k for k, r in enumerate(order)}
    centers = [i for i in range(n) if got[i] == i]
    for i in range(n):
        if got[i] != i:  # a member is paired with its center, which comes first in the order
            assert frozenset((i, int(got[i]))) in pairs and rank[int(got[i])] < rank[i]
    assert not any(frozenset((a, b)) in pairs for a, b in itertools.combinations(centers, 2))
    if not order or list(order) == list(range(n)):
        assert near.star_clusters(n, arr).tolist() == got.tolist()


def test_a_chain_is_split_and_similarity_is_recorded():
    # unigrams: J(0,1) = 10/11, J(1,2) = 11/12, J(0,2) = 10/12 < 0.9
    texts = ["a b c d e f g h i j", "a b c d e f g h i j k", "a b c d e f g h i j k l"]
    res = near_duplicates(texts, threshold=0.9, ngram=1, bands=64)
    assert res.pairs.tolist() == [[0, 1], [1, 2]] and res.jaccard.tolist() == [10 / 11, 11 / 12]
    assert res.cluster.tolist() == [0, 0, 2]
    assert np.isnan(res.similarity[[0, 2]]).all() and res.similarity[1] == 10 / 11
    backwards = near_duplicates(texts, threshold=0.9, ngram=1, bands=64, order=np.array([2, 1, 0]))
    assert backwards.cluster.tolist() == [0, 2, 2] and backwards.similarity[1] == 11 / 12
    with pytest.raises(ValueError, match="order"):
        near_duplicates(texts, order=np.array([0, 0, 1]))


def test_recorded_similarity_is_the_exact_jaccard():
    corpus = make_corpus(600, seed=13, words=40, exact_dup_rate=0.1, near_dup_rate=0.3)["text"]
    order = np.random.default_rng(1).permutation(len(corpus))
    res = near_duplicates(corpus, threshold=0.7, order=order)
    assert res.verified_pairs > 20
    ref = [ref_shingles(t, 5) for t in corpus]
    jac = lambda i, j: len(ref[i] & ref[j]) / len(ref[i] | ref[j])  # noqa: E731
    for (i, j), got in zip(res.pairs.tolist(), res.jaccard.tolist()):
        assert got == jac(i, j) >= 0.7
    members = np.flatnonzero(res.cluster != np.arange(len(corpus)))
    assert members.size > 10
    for i in members.tolist():
        assert res.similarity[i] == jac(i, int(res.cluster[i])) >= 0.7


def _template_heavy(rows: int = 400, seed: int = 5) -> list[str]:
    """Rows sharing a long preamble (huge LSH buckets), with a few near copies of each tail."""
    rng = np.random.default_rng(seed)
    preamble = " ".join(WORDS[:30])
    tails = [" ".join(rng.choice(WORDS, size=12).tolist()) for _ in range(rows // 4)]
    return [f"{preamble} {tails[i // 4]} (copy {i % 4})" for i in range(rows)]


def _all_pairs_reference(texts, threshold, ngram=5, num_perm=128):
    """Candidates as every pair of every bucket at once, listed in plain Python (what the kernel
    did before it streamed), verified by the public `verify`."""
    bands, rows = lsh_params(threshold, num_perm)
    keys, has = near.signatures(texts, bands=bands, rows=rows, ngram=ngram, threads=1)
    buckets: dict = {}
    for j in range(bands):
        for i in np.flatnonzero(has).tolist():
            buckets.setdefault((j, int(keys[j, i])), []).append(i)
    cands = np.array(sorted({p for rows_ in buckets.values() for p in itertools.combinations(rows_, 2)}),
                     dtype=np.int64).reshape(-1, 2)
    passed, jac = near.verify(texts, cands, threshold=threshold, ngram=ngram)
    return cands.shape[0], cands[passed], jac[passed]


@pytest.mark.parametrize("chunk", [1, 7, 1 << 20])
def test_streamed_candidates_are_exactly_the_all_pairs_candidates(monkeypatch, chunk):
    texts = _template_heavy()
    count, pairs, jac = _all_pairs_reference(texts, 0.8)
    assert count > 10 * len(texts)  # the template puts most rows in shared buckets
    monkeypatch.setattr(near, "_CAND_CHUNK", chunk)  # 1: every slice holds one member's pairs
    monkeypatch.setattr(near, "_EQUAL_PAIRS", 3)
    got = near_duplicates(texts, threshold=0.8)
    assert got.candidate_pairs == count  # each candidate counted (and verified) once, in its first band
    np.testing.assert_array_equal(got.pairs, pairs)
    np.testing.assert_array_equal(got.jaccard, jac)
    assert pair_set(got) == brute_pairs(texts, 0.8, 5)


def test_row_sets_are_each_rows_distinct_shingles_in_increasing_order(monkeypatch):
    monkeypatch.setattr(near, "_CHUNK_ROWS", 3)  # several chunks, one CSR
    texts = ["a b c a b c", "b c d", "", "c d e f", "a b c", "x", None]
    arr = pa.array(texts, type=pa.large_string())
    rows = np.array([0, 1, 2, 3, 4, 5, 6])
    seg, hashes, _ = near._row_sets(arr, rows, 2, "word", workers=2)
    flat, off = shingle_hashes(arr, 2, "word")
    for r, t in zip(rows, texts):
        mine = hashes[seg[r]:seg[r + 1]].tolist()
        assert mine == sorted(set(flat[off[r]:off[r + 1]].tolist()))  # a set, in increasing order
        assert len(mine) == len(ref_shingles(t, 2))


def test_compiled_minhash_is_the_documented_permutation_family():
    # The one-pass kernel must give what the module docstring promises: per permutation the
    # minimum of ((a * x + b) mod 2**64) >> 32 over the row's folded shingle hashes, each band's
    # values chained into one key (written here in plain numpy).
    texts = ["one two three four five six seven", "x y", None, "héllo wörld\u3000again and again"]
    bands, rows, seed = 4, 3, 9
    keys, has = near.signatures(texts, bands=bands, rows=rows, ngram=3, seed=seed, workers=2)
    a, b = near._permutations(bands * rows, seed)
    h, off = shingle_hashes(pa.array(texts), 3, "word")
    with np.errstate(over="ignore"):
        for r in range(len(texts)):
            x = h[off[r]:off[r + 1]]
            x = (x ^ (x >> np.uint64(32))) & np.uint64(0xFFFFFFFF)
            sig = ((np.multiply.outer(a, x) + b[:, None]).min(axis=1, initial=np.uint64(2**64 - 1))
                   >> np.uint64(32))
            for j in range(bands):
                acc = np.uint64(j + 1) * near._LEN_MUL
                for c in range(j * rows, (j + 1) * rows):
                    acc = (acc ^ sig[c]) * near._CHAIN_MUL
                acc ^= acc >> np.uint64(33)
                acc *= near._FMIX_C1
                acc ^= acc >> np.uint64(33)
                acc *= near._FMIX_C2
                acc ^= acc >> np.uint64(33)
                assert keys[j, r] == acc
    assert has.tolist() == [True, True, False, True]


@pytest.mark.parametrize("unit", ["word", "char"])
def test_workers_give_the_same_bytes(unit):
    corpus = make_corpus(3000, seed=4, words=40)
    texts = corpus["text"] + ["", None, " \u2003 ", "ünï cödé wörds hère ünï cödé wörds hère"] * 3
    one = near_duplicates(texts, ngram=5 if unit == "word" else 9, unit=unit, workers=1)
    two = near_duplicates(texts, ngram=5 if unit == "word" else 9, unit=unit, workers=2)
    assert one.verified_pairs > 100
    for field in ("cluster", "pairs", "jaccard", "similarity"):
        assert getattr(one, field).tobytes() == getattr(two, field).tobytes()
    k1, h1 = near.signatures(texts, bands=9, rows=3, unit=unit, workers=1)
    k2, h2 = near.signatures(texts, bands=9, rows=3, unit=unit, workers=5)
    assert k1.tobytes() == k2.tobytes() and h1.tobytes() == h2.tobytes()
    h_1, o_1 = shingle_hashes(pa.array(texts), 3, unit)
    h_2, o_2 = shingle_hashes(pa.array(texts), 3, unit, workers=2)
    assert h_1.tobytes() == h_2.tobytes() and o_1.tobytes() == o_2.tobytes()


def test_every_unicode_space_splits_words_like_str_split():
    spaces = [chr(c) for c in range(0x110000) if chr(c).isspace()]
    assert len(spaces) == 29
    text = "w" + "w".join(spaces) + "w"  # 30 one-letter words, each separator a different space
    h, off = shingle_hashes(pa.array([text, "w", "w\u200bw"]), 1, "word")  # U+200B is not a space
    assert off.tolist() == [0, 30, 31, 32]
    assert len(set(h[:30].tolist())) == 1 and h[30] == h[0] and h[31] != h[0]


def test_components_in_order_label_each_component_by_its_first_row():
    pairs = np.array([[0, 1], [1, 2], [3, 4]])
    assert near.components_in_order(6, pairs).tolist() == [0, 0, 0, 3, 3, 5]
    order = np.array([5, 4, 2, 1, 0, 3])
    assert near.components_in_order(6, pairs, order).tolist() == [2, 2, 2, 4, 4, 5]


def test_components_clustering_records_the_exact_jaccard_of_chained_rows():
    chain = ["a b c d e f g h i j", "a b c d e f g h i j k", "a b c d e f g h i j k l"]
    star = near_duplicates(chain, threshold=0.9, ngram=1, bands=64, num_perm=128)
    comp = near_duplicates(chain, threshold=0.9, ngram=1, bands=64, num_perm=128, clustering="components")
    assert star.cluster.tolist() == [0, 0, 2] and comp.cluster.tolist() == [0, 0, 0]
    assert comp.similarity[1:].tolist() == [10 / 11, 10 / 12]  # r2 is below the threshold from r0, and says so
    with pytest.raises(ValueError, match="clustering"):
        near_duplicates(chain, clustering="chains")


def test_similarity_histogram_bins_are_fixed_and_skip_edges_below_the_threshold():
    h = near.similarity_histogram(np.array([0.5, 0.9, 0.95, 0.999, 1.0, 1.0, np.nan]), 0.9)
    assert [(b["bin"], b["rows"]) for b in h["bins"]] == [
        ("[0, 0.9)", 1), ("[0.9, 0.95)", 1), ("[0.95, 0.99)", 1), ("[0.99, 1)", 1), ("= 1", 2)]
    assert (h["rows"], h["below_threshold"], h["min"], h["median"]) == (6, 1, 0.5, 0.9745)
    empty = near.similarity_histogram([], 0.8)
    assert (empty["rows"], empty["min"], empty["median"]) == (0, None, None)
    assert sum(b["rows"] for b in empty["bins"]) == 0


# --------------------------------------------------------------------------- the public staged API


def test_the_stages_compose_to_near_duplicates():
    """signatures -> candidate_pairs -> verify -> cluster_rows is what near_duplicates does."""
    texts = _template_heavy(200)
    bands, rows = near.lsh_shape(0.8, 128)
    keys, has = near.signatures(texts, bands=bands, rows=rows, threads=1)
    slices = list(near.candidate_pairs(keys, np.flatnonzero(has), chunk=500))
    assert len(slices) > 1 and all(s.shape[0] <= 500 for s in slices)
    cands = np.concatenate(slices)
    assert len({tuple(p) for p in cands.tolist()}) == cands.shape[0]  # each candidate once
    assert (cands[:, 0] < cands[:, 1]).all()
    passed, jac = near.verify(texts, cands, threshold=0.8)
    order = np.lexsort((cands[passed][:, 1], cands[passed][:, 0]))
    pairs, jaccard = cands[passed][order], jac[passed][order]
    whole = near_duplicates(texts, threshold=0.8)
    assert whole.candidate_pairs == cands.shape[0]
    np.testing.assert_array_equal(pairs, whole.pairs)
    np.testing.assert_array_equal(jaccard, whole.jaccard)
    cluster, sim = near.cluster_rows(texts, pairs, jaccard)
    np.testing.assert_array_equal(cluster, whole.cluster)
    np.testing.assert_array_equal(sim, whole.similarity)
    found = near.similar_pairs(texts, threshold=0.8)
    np.testing.assert_array_equal(found.pairs, whole.pairs)
    assert found.candidate_pairs == whole.candidate_pairs


def test_signatures_of_a_subset_are_its_rows_signatures():
    """A row's band keys do not depend on its neighbours: a Ray group recomputes the same keys."""
    texts = _template_heavy(120)
    keys, has = near.signatures(texts, bands=18, rows=7)
    pick = [5, 90, 17, 3]
    sub_keys, sub_has = near.signatures([texts[i] for i in pick], bands=18, rows=7, threads=1)
    np.testing.assert_array_equal(sub_keys, keys[:, pick])
    np.testing.assert_array_equal(sub_has, has[pick])


def test_verify_gives_exact_jaccard_in_the_callers_order():
    texts = ["a b c d e", "a b c d f", None, "a b c d e", "x y", " ", " ", None]
    pairs = np.array([[3, 0], [1, 0], [2, 4], [0, 1], [5, 6], [2, 7], [5, 0]])
    keep, jac = near.verify(texts, pairs, threshold=0.0, ngram=2)
    # Nulls and blank texts have no shingles and match nothing, not even a copy, even at threshold 0.
    assert keep.tolist() == [True, True, False, True, False, False, False]
    assert jac[0] == 1.0 and jac[1] == jac[3] == 3 / 5 and np.isnan(jac[[2, 4, 5, 6]]).all()
    with pytest.raises(ValueError, match="pair indices"):
        near.verify(texts, np.array([[0, 8]]), threshold=0.5)


def test_bucket_links_connect_what_the_bucket_pairs_connect():
    rng = np.random.default_rng(3)
    keys = rng.integers(0, 6, 300).astype(np.uint64)
    ids = rng.permutation(1000)[:300].astype(np.int64)
    links = near.bucket_links(keys, ids)
    assert links.shape[0] == 300 - np.unique(keys).size  # k - 1 edges per bucket: linear, not k(k-1)/2
    pairs = [(a, b) for k in np.unique(keys) for a, b in itertools.combinations(ids[keys == k].tolist(), 2)]
    nodes = np.unique(ids)
    at = lambda e: np.searchsorted(nodes, np.asarray(e, dtype=np.int64).reshape(-1, 2))  # noqa: E731
    np.testing.assert_array_equal(components(nodes.size, at(links)), components(nodes.size, at(pairs)))


def test_lsh_shape_clips_threshold_one_and_checks_bands():
    assert near.lsh_shape(1.0, 128) == lsh_params(0.999, 128)
    assert near.lsh_shape(0.5, 64, bands=10) == (10, 6)
    with pytest.raises(ValueError, match="bands"):
        near.lsh_shape(0.8, 64, bands=65)


@settings(max_examples=examples(0.6), deadline=None)
@given(
    st.lists(st.lists(st.integers(0, 40), max_size=60), min_size=2, max_size=8),
    st.sampled_from([0.0, 0.3, 0.5, 0.8, 0.9, 1.0]),
)
def test_verify_pruning_is_exact(word_lists, threshold):
    # Word unigrams over a small vocabulary: sets overlap in every proportion, and sets of up to
    # 41 words fill much of the 256-bit bitmaps, so the length, bitmap and early-exit filters
    # all get tried against the plain Python Jaccard.
    texts = [" ".join(f"w{k}" for k in words) for words in word_lists]
    pairs = np.array(list(itertools.combinations(range(len(texts)), 2)), dtype=np.int64)
    keep, jac = near.verify(texts, pairs, threshold=threshold, ngram=1, workers=2)
    for (i, j), ok, got in zip(pairs.tolist(), keep.tolist(), jac.tolist()):
        a, b = ref_shingles(texts[i], 1), ref_shingles(texts[j], 1)
        exact = len(a & b) / len(a | b) if a and b else None
        assert ok == (exact is not None and exact >= threshold), (i, j, exact)
        if ok:
            assert got == exact


def _ref_word_shingle(word: bytes) -> int:
    """A one-word shingle's hash as the module docstring defines it, in plain Python integers:
    the word's bytes in 8-byte little-endian words folded into a seeded state, the last partial
    word and the length folded in, fmix64; then the shingle chain of one token."""
    mask = 2**64 - 1

    def fmix(x):
        x ^= x >> 33
        x = (x * int(near._FMIX_C1)) & mask
        x ^= x >> 33
        x = (x * int(near._FMIX_C2)) & mask
        return x ^ (x >> 33)

    h = int(near._TOKEN_SEED)
    full = len(word) // 8 * 8
    for p in range(0, full, 8):
        h = ((h ^ int.from_bytes(word[p:p + 8], "little")) * int(near._CHAIN_MUL)) & mask
        h ^= h >> 29
    tail = int.from_bytes(word[full:], "little")
    token = fmix((((h ^ tail) * int(near._CHAIN_MUL)) & mask) ^ len(word))
    return fmix((((int(near._LEN_MUL) ^ token) * int(near._CHAIN_MUL)) & mask))


@given(st.lists(st.text(alphabet="aé日\U0001f600\u200b\x01\x7f", min_size=1, max_size=40), min_size=1, max_size=8),
       st.sampled_from([" ", "\u3000", "\t\x1c ", "\xa0"]))
def test_word_hashes_are_the_documented_hash_at_any_length_and_position(words, space):
    # Words are read 8 bytes at a time, then masked or byte by byte near the end of the buffer:
    # every length and position must give the same documented hash.
    row = space.join(words)
    h, off = shingle_hashes(pa.array(["lead " + row, row]), 1, "word")
    want = [_ref_word_shingle(w.encode()) for w in row.split()]
    assert h[off[1]:off[2]].tolist() == want  # the last row: its last words end the buffer
    assert h[off[0]:off[1]].tolist() == [_ref_word_shingle(b"lead")] + want


@given(st.integers(0, 400), st.integers(1, 50), st.integers(0, 2**32 - 1))
def test_band_buckets_are_a_stable_sort_of_the_keys(n, distinct, seed):
    # The counting sort on the keys' top bits plus the sort inside each partition must give the
    # buckets a stable sort of the keys gives: members in key order, each bucket in row order.
    rng = np.random.default_rng(seed)
    keys = rng.integers(0, distinct, size=n).astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    keys[: n // 3] = np.uint64(5)  # a bucket large enough for the merge sort path
    ids = np.sort(rng.choice(n, size=n * 3 // 4, replace=False)).astype(np.int64) if n else np.zeros(0, np.int64)
    for bits in (1, 4, max(1, n.bit_length() - 3)):
        members, after = near._band_buckets(keys, ids, bits)
        k = keys[ids]
        order = np.argsort(k, kind="stable")
        runs = np.split(ids[order], np.flatnonzero(np.diff(k[order])) + 1) if ids.size else []
        want = [r for r in runs if r.size >= 2]
        assert members.tolist() == [int(x) for r in want for x in r]
        assert after.tolist() == [r.size - 1 - t for r in want for t in range(r.size)]
