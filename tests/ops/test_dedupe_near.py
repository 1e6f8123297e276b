"""`dedupe near on COLS jaccard >= T ngram N words|chars`: a pair at the threshold is a duplicate and one
just above it is not, a chain is not one cluster (every removed row is similar to the survivor it names, and
says how similar), keep first is the first row read, nulls and empty text never match, and the laws. Small
data: MinHash over a handful of rows is quick."""
import itertools
import random
from decimal import Decimal

import pyarrow as pa
from hypothesis import given, settings
from hypothesis import strategies as st

from dsc.reserved import DUPLICATE_OF, ID, SIMILARITY
from hypothesis_budget import examples
from laws import apply, assert_laws, compile_spec, compiled, spec, table

SCHEMA = "a: text, b: text"

# ten words give nine word bigrams
RIVER = "the river rose over the old stone bridge before dawn"
TEXTS = [
    RIVER,
    RIVER + " today",  # one bigram more: J = 9/10
    RIVER.replace("before", "after"),  # two bigrams changed: J = 7/11
    None, None, "", "   ",  # no shingles: never anyone's duplicate, not even each other's
    "\u00dcber den Fluss f\u00fchrt eine alte Br\u00fccke aus Stein",
    "\u00fcber den Fluss f\u00fchrt eine alte Br\u00fccke aus Stein",  # first bigram differs: J = 7/9
]


def gone(out) -> list[tuple]:
    cols = [out.removed.column(c).to_pylist() for c in (ID, "_dsc_reason", "_dsc_cluster", "_dsc_duplicate_of")]
    return list(zip(*cols))


def test_a_pair_exactly_at_the_threshold_is_a_duplicate(monkeypatch):
    out = assert_laws("dedupe_near", table(a=TEXTS), {"columns": ["a"], "threshold": "0.9", "ngram": 2}, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0")]
    assert out.table.column("a").to_pylist() == [TEXTS[i] for i in (0, 2, 3, 4, 5, 6, 7, 8)]


def test_just_above_the_threshold_everything_is_kept(monkeypatch):
    out = assert_laws("dedupe_near", table(a=TEXTS), {"columns": ["a"], "threshold": "0.91", "ngram": 2}, monkeypatch)
    assert out.removed.num_rows == 0 and out.table.num_rows == len(TEXTS)


def test_a_lower_threshold_reaches_the_farther_texts_and_case_counts(monkeypatch):
    out = assert_laws("dedupe_near", table(a=TEXTS), {"columns": ["a"], "threshold": "0.6", "ngram": 2}, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0"), ("r2", "near duplicate", "r0", "r0"),
                         ("r8", "near duplicate", "r7", "r7")]


def test_a_chain_is_not_one_cluster_every_removed_row_is_similar_to_its_survivor(monkeypatch):
    # J(r0, r1) = 10/11 and J(r1, r2) = 11/12 pass 0.9; J(r0, r2) = 10/12 does not: r2 is not r0's duplicate
    chain = table(a=["a b c d e f g h i j", "a b c d e f g h i j k", "a b c d e f g h i j k l",
                     "z y x w v u t s r q"])
    params = {"columns": ["a"], "threshold": "0.9", "ngram": 1}
    first = assert_laws("dedupe_near", chain, params, monkeypatch)
    assert gone(first) == [("r1", "near duplicate", "r0", "r0")]
    assert first.removed.column(SIMILARITY).to_pylist() == [10 / 11]
    # keep longest visits r2 (12 words) first: it takes r1 (11/12); r0 is 10/12 from r2, so it stays
    longest = assert_laws("dedupe_near", chain, {**params, "keep": "longest"}, monkeypatch)
    assert gone(longest) == [("r1", "near duplicate", "r2", "r2")]
    assert longest.removed.column(SIMILARITY).to_pylist() == [11 / 12]
    assert longest.table.column(ID).to_pylist() == ["r0", "r2", "r3"]
    # keep none drops the star (its center too, with no similarity), named by its center
    none = assert_laws("dedupe_near", chain, {**params, "keep": "none"}, monkeypatch)
    assert [r[0] for r in gone(none)] == ["r0", "r1"] and {r[2] for r in gone(none)} == {"r0"}
    assert none.removed.column(SIMILARITY).to_pylist() == [None, 10 / 11]


def test_keep_first_is_the_first_row_read_not_the_smallest_id(monkeypatch):
    tbl = table(a=["one two three four", "one two three four", "one two three four five", "zz"])
    tbl = tbl.set_column(0, ID, pa.array(["z9", "a1", "m5", "b2"]))  # ids sort unlike positions
    first = assert_laws("dedupe_near", tbl, {"columns": ["a"], "threshold": "0.5", "ngram": 1}, monkeypatch)
    assert gone(first) == [("a1", "near duplicate", "z9", "z9"), ("m5", "near duplicate", "z9", "z9")]
    assert first.removed.column(SIMILARITY).to_pylist() == [1.0, 0.8]
    last = assert_laws("dedupe_near", tbl, {"columns": ["a"], "threshold": "0.5", "ngram": 1, "keep": "last"},
                       monkeypatch)
    assert gone(last) == [("z9", "near duplicate", "m5", "m5"), ("a1", "near duplicate", "m5", "m5")]
    # a tie on length goes to the first row read
    short = assert_laws("dedupe_near", tbl, {"columns": ["a"], "threshold": "0.5", "ngram": 1,
                                             "keep": "shortest"}, monkeypatch)
    assert [r[3] for r in gone(short)] == ["z9", "z9"]


def _jaccard(x: str | None, y: str | None, n: int) -> float:
    def grams(s):
        w = (s or "").split()
        return {tuple(w)} if 0 < len(w) < n else {tuple(w[k:k + n]) for k in range(len(w) - n + 1)}
    a, b = grams(x), grams(y)
    return len(a & b) / len(a | b)


@st.composite
def _families(draw):
    """Rows drawn as edits of a few seed texts, so chains and near pairs are common."""
    rng = random.Random(draw(st.integers(0, 2**32)))
    seeds = [[f"w{rng.randrange(30)}" for _ in range(rng.randint(6, 12))] for _ in range(draw(st.integers(1, 3)))]
    rows = []
    for _ in range(draw(st.integers(2, 24))):
        words = list(rng.choice(seeds))
        for _ in range(rng.randint(0, 3)):
            roll = rng.random()
            if roll < 0.4:
                words.append(f"w{rng.randrange(30)}")
            elif roll < 0.7 and len(words) > 1:
                words.pop(rng.randrange(len(words)))
            else:
                words[rng.randrange(len(words))] = f"w{rng.randrange(30)}"
        rows.append(" ".join(words))
    return rows, draw(st.sampled_from(["0.5", "0.7", "0.9"])), draw(st.sampled_from(["first", "last", "longest"]))


@settings(max_examples=examples(1), deadline=None)
@given(case=_families())
def test_every_removed_row_is_similar_to_the_survivor_it_names(case):
    texts, threshold, keep = case
    out = apply("dedupe_near", table(a=texts), {"columns": ["a"], "threshold": threshold, "ngram": 2, "keep": keep,
                                                "bands": 64})
    text_of = dict(zip([f"r{i}" for i in range(len(texts))], texts))
    kept = set(out.table.column(ID).to_pylist())
    for rid, survivor, sim in zip(*(out.removed.column(c).to_pylist() for c in (ID, DUPLICATE_OF, SIMILARITY))):
        assert survivor in kept
        exact = _jaccard(text_of[rid], text_of[survivor], 2)
        assert sim == exact >= float(threshold), (rid, survivor, sim, exact)
    # and nothing similar is left: every kept pair is below the threshold (LSH recall is 1 here:
    # 64 bands of 2 rows find every pair at J >= 0.5 on these short texts)
    for x, y in itertools.combinations(sorted(kept), 2):
        assert _jaccard(text_of[x], text_of[y], 2) < float(threshold) or not text_of[x].split()


def test_characters_shingle_non_ascii_text(monkeypatch):
    tbl = table(a=["na\u00efve caf\u00e9", "naive caf\u00e9", "na\u00efve cafe", "totally other"])
    out = assert_laws("dedupe_near", tbl, {"columns": ["a"], "threshold": "0.5", "ngram": 3, "unit": "chars"},
                      monkeypatch)
    assert gone(out) == [("r2", "near duplicate", "r0", "r0")]  # 'ï' breaks more trigrams than 'é' at the end


def test_several_columns_are_compared_as_one_text(monkeypatch):
    tbl = table(a=["hello world", None, "hello", None], b=[None, "hello world", "world", None])
    out = assert_laws("dedupe_near", tbl, {"columns": ["a", "b"], "threshold": "1", "ngram": 1}, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0"), ("r2", "near duplicate", "r0", "r0")]


def test_it_compiles_into_the_plan():
    got = compiled(spec(SCHEMA, "dedupe near on b, a jaccard >= 0.75 ngram 3 chars permutations 64 keep shortest"))
    step = got.plan.steps[0]
    assert (step.id, step.params) == ("dedupe_near[b,a]", {
        "columns": ["b", "a"], "threshold": Decimal("0.75"), "ngram": 3, "unit": "chars", "permutations": 64,
        "bands": None, "keep": "shortest", "keep_by": None, "descending": True})


def test_cluster_components_chains_and_records_how_far_each_removed_row_is(monkeypatch):
    # the chain of the star test: J(r0, r1) = 10/11, J(r1, r2) = 11/12, but J(r0, r2) = 10/12 < 0.9
    chain = table(a=["a b c d e f g h i j", "a b c d e f g h i j k", "a b c d e f g h i j k l",
                     "z y x w v u t s r q"])
    params = {"columns": ["a"], "threshold": "0.9", "ngram": 1, "cluster": "components"}
    out = assert_laws("dedupe_near", chain, params, monkeypatch)
    assert gone(out) == [("r1", "near duplicate", "r0", "r0"), ("r2", "near duplicate", "r0", "r0")]
    # the chained row says it is below the threshold from the row it names: a reviewer sees it
    assert out.removed.column(SIMILARITY).to_pylist() == [10 / 11, 10 / 12]
    # the cluster is named by its survivor, whichever the keep rule picks
    longest = assert_laws("dedupe_near", chain, {**params, "keep": "longest"}, monkeypatch)
    assert gone(longest) == [("r0", "near duplicate", "r2", "r2"), ("r1", "near duplicate", "r2", "r2")]
    assert longest.removed.column(SIMILARITY).to_pylist() == [10 / 12, 11 / 12]


def test_cluster_components_removes_a_superset_of_star(monkeypatch):
    texts = [f"w{i} w{i + 1} w{i + 2} w{i + 3} w{i + 4} w{i + 5} w{i + 6} w{i + 7} w{i + 8} w{i + 9}"
             for i in range(6)]  # each row shares 9 of 10 words with the next: a long chain
    base = {"columns": ["a"], "threshold": "0.8", "ngram": 1, "bands": 64}
    star = apply("dedupe_near", table(a=texts), base)
    comp = apply("dedupe_near", table(a=texts), {**base, "cluster": "components"})
    assert star.table.column(ID).to_pylist() == ["r0", "r2", "r4"]
    assert comp.table.column(ID).to_pylist() == ["r0"]
    assert all(s >= 0.8 for s in star.removed.column(SIMILARITY).to_pylist())
    assert min(comp.removed.column(SIMILARITY).to_pylist()) == 5 / 15  # r5 vs r0: 5 shared of 15 words


def _plan_of(rule: str):
    return compile_spec(spec(SCHEMA, rule))


def test_cluster_star_is_the_default_and_keeps_the_plan_fingerprint():
    plain, star = _plan_of("dedupe near on a jaccard >= 0.8"), _plan_of("dedupe near on a jaccard >= 0.8 cluster star")
    assert plain.ok and star.ok, (plain.diagnostics, star.diagnostics)
    assert "cluster" not in star.plan.steps[0].params
    assert star.plan.fingerprint == plain.plan.fingerprint
    comp = _plan_of("dedupe near on a jaccard >= 0.8 cluster components")
    assert comp.ok, comp.diagnostics
    assert comp.plan.steps[0].params["cluster"] == "components"
    assert comp.plan.fingerprint != plain.plan.fingerprint


def test_cluster_option_is_checked():
    bad = _plan_of("dedupe near on a jaccard >= 0.8 cluster stars")
    assert not bad.ok
    (d,) = [d for d in bad.diagnostics if d.code == "DSC203"]
    assert "stars" in d.message and "star" in d.hint and d.span.line == 12
    exact = _plan_of("dedupe exact on a cluster star")
    assert [d.code for d in exact.diagnostics] == ["DSC217"]
    twice = _plan_of("dedupe near on a cluster star cluster components")
    assert "DSC214" in [d.code for d in twice.diagnostics]


def test_stats_json_bins_the_similarity_of_removals(tmp_path):
    import json

    from dsc.engines.local import run_plan

    rows = [RIVER, RIVER + " today", RIVER, "a b c d e f g h i j", "a b c d e f g h i j k",
            "a b c d e f g h i j k l", "z y x w v u t s r q"]
    (tmp_path / "rows.jsonl").write_text("".join(json.dumps({"a": r, "b": None}) + "\n" for r in rows))
    out = {}
    for cluster in ("star", "components"):
        got = compiled(spec(SCHEMA, f"dedupe near on a jaccard >= 0.9 ngram 1 cluster {cluster}"),
                       str(tmp_path / "x.dspec"), tmp_path)
        run_plan(got.plan, tmp_path, tmp_path / cluster)
        (section,) = json.loads((tmp_path / cluster / "stats.json").read_text())["near_similarity"]
        out[cluster] = section
    star, comp = out["star"], out["components"]
    assert (star["rule"], star["threshold"], star["cluster"], star["line"]) == ("dedupe_near[a]", "0.9", "star", 12)
    # r1: 9/10 from r0 ("the" twice), r2: a copy of r0, r4: 10/11 from r3; r5 (11/12 from r4, 10/12 from r3) stays
    assert {b["bin"]: b["rows"] for b in star["bins"]} == {"[0, 0.9)": 0, "[0.9, 0.95)": 2, "[0.95, 0.99)": 0,
                                                           "[0.99, 1)": 0, "= 1": 1}
    assert (star["removed"], star["rows"], star["below_threshold"], star["min"], star["median"]) == (
        3, 3, 0, 0.9, round(10 / 11, 6))
    # components also remove r5, naming r3 at 10/12: below the threshold, and counted as such
    assert (comp["cluster"], comp["removed"], comp["below_threshold"], comp["min"]) == (
        "components", 4, 1, round(10 / 12, 6))
    assert comp["bins"][0] == {"bin": "[0, 0.9)", "from": 0.0, "to": 0.9, "rows": 1}


def test_keep_hash_keeps_the_smallest_row_id_in_any_input_order(monkeypatch):
    tbl = table(a=["one two three four", "one two three four", "one two three four five", "zz"])
    tbl = tbl.set_column(0, ID, pa.array(["z9", "a1", "m5", "b2"]))
    params = {"columns": ["a"], "threshold": "0.5", "ngram": 1, "keep": "hash"}
    out = assert_laws("dedupe_near", tbl, params, monkeypatch)
    # a1 is visited first: its star takes z9 (J = 1) and m5 (J = 0.8)
    assert gone(out) == [("z9", "near duplicate", "a1", "a1"), ("m5", "near duplicate", "a1", "a1")]
    assert out.removed.column(SIMILARITY).to_pylist() == [1.0, 0.8]
    backwards = assert_laws("dedupe_near", tbl.take(pa.array([3, 2, 1, 0])), params, monkeypatch)
    assert sorted(gone(backwards)) == sorted(gone(out))  # keep first would now keep m5
    ok = _plan_of("dedupe near on a jaccard >= 0.8 keep hash")
    assert ok.ok and ok.plan.steps[0].params["keep"] == "hash", ok.diagnostics
    bad = _plan_of("dedupe near on a keep hashes")
    assert not bad.ok and "hash" in " ".join(d.hint or "" for d in bad.diagnostics)


def test_two_workers_remove_the_same_rows_with_the_same_bytes():
    # Enough rows that both worker threads get a share of the shingling, MinHash and verification.
    from bench.corpus import make_corpus

    texts = make_corpus(4000, seed=8, words=30)["text"] + [None, "", "\u00fcber den Fluss \u00fcber den Fluss"]
    params = {"columns": ["a"], "threshold": "0.8", "ngram": 5}
    one, two = (apply("dedupe_near", table(a=texts), params, workers=w) for w in (1, 2))
    assert one.removed.num_rows >= 150  # 5% exact + 5% near copies in the corpus
    assert two.table.equals(one.table) and two.removed.equals(one.removed)
