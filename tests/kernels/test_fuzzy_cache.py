"""The fuzzy kernel's cache: a hit skips training and scoring and gives the same clusters as a
cold run, anything dedupe's scores depend on changes the key, and a damaged entry is recomputed."""

import json
import shutil
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dedupe")

from dsc.kernels import fuzzy  # noqa: E402
from dsc.kernels.fuzzy import cache_key, fuzzy_duplicates, load_pairs  # noqa: E402

FIXTURES = Path(__file__).resolve().parents[1] / "fixtures" / "fuzzy"
FIELDS = ["name", "address"]


def people():
    return json.loads((FIXTURES / "people.json").read_text())


def pairs():
    return load_pairs(FIXTURES / "people_pairs.json", FIELDS)


@pytest.fixture
def trainings(monkeypatch):
    """Counts the calls that train and score (no cached scored pairs handed in), wherever they run."""
    calls = []
    real_cluster, real_child = fuzzy._cluster, fuzzy._cluster_in_child

    def in_process(*job):
        calls.append(job[5] is None)
        return real_cluster(*job)

    def in_child(job):
        calls.append(job[5] is None)
        return real_child(job)

    monkeypatch.setattr(fuzzy, "_cluster", in_process)
    monkeypatch.setattr(fuzzy, "_cluster_in_child", in_child)
    return calls


@pytest.fixture(scope="module")
def cold():
    """Results without a cache, at two thresholds: what every cached run must reproduce."""
    return {t: fuzzy_duplicates(people(), FIELDS, pairs(), threshold=t) for t in (0.5, 0.95)}


def _same(a, b):
    return (a == b and a.cluster.tobytes() == b.cluster.tobytes()
            and a.scores.tobytes() == b.scores.tobytes())


ROWS = [fuzzy._row(r, tuple(FIELDS), i) for i, r in enumerate(people())]


@pytest.fixture(scope="module")
def filled(tmp_path_factory, cold):
    """A cache folder after one cold run at threshold 0.5, which must equal the uncached run."""
    folder = tmp_path_factory.mktemp("filled")
    assert _same(fuzzy_duplicates(people(), FIELDS, pairs(), cache_dir=folder), cold[0.5])
    return folder


@pytest.fixture
def cache(tmp_path, filled):
    """A copy of the filled cache folder for one test to use, and damage."""
    shutil.copytree(filled, tmp_path / "cache")
    return tmp_path / "cache"


def test_a_miss_fills_one_entry_named_by_its_key(filled):
    key = cache_key(ROWS, FIELDS, pairs(), 0)
    assert sorted(p.name for p in (filled / "fuzzy").iterdir()) == [f"{key}.scores.npy", f"{key}.t0.5.json"]
    scored = np.load(filled / "fuzzy" / f"{key}.scores.npy", allow_pickle=False)
    assert scored.dtype == fuzzy._SCORE_DTYPE and len(scored) > 0


def test_a_hit_neither_trains_nor_clusters(cache, trainings, cold):
    again = fuzzy_duplicates(people(), FIELDS, pairs(), cache_dir=cache)
    assert _same(again, cold[0.5])
    assert trainings == []  # the clusters came from the cache


def test_another_threshold_clusters_the_cached_scores_without_training(cache, trainings, cold):
    stricter = fuzzy_duplicates(people(), FIELDS, pairs(), threshold=0.95, cache_dir=cache)
    assert trainings == [False]  # clustered cached scores
    assert _same(stricter, cold[0.95])
    assert not _same(stricter, cold[0.5])  # the threshold matters, so this compares something
    assert (cache / "fuzzy" / f"{cache_key(ROWS, FIELDS, pairs(), 0)}.t0.95.json").exists()


def test_a_changed_pairs_file_retrains(cache, trainings):
    fewer = pairs()
    fewer["match"] = fewer["match"][1:]
    changed = fuzzy_duplicates(people(), FIELDS, fewer, cache_dir=cache)
    assert trainings == [True]
    assert changed.pairs_used == 15
    assert len(list((cache / "fuzzy").glob("*.scores.npy"))) == 2


def test_the_key_follows_what_the_scores_depend_on():
    base = cache_key(ROWS, FIELDS, pairs(), 0)
    assert cache_key(list(ROWS), list(FIELDS), pairs(), 0) == base
    edited = list(ROWS)
    edited[3] = (edited[3][0] + "x", edited[3][1])
    fewer = pairs()
    fewer["distinct"] = fewer["distinct"][:-1]
    others = [cache_key(ROWS, FIELDS, pairs(), 1), cache_key(edited, FIELDS, pairs(), 0),
              cache_key(ROWS[:-1], FIELDS, pairs(), 0), cache_key(ROWS, FIELDS, fewer, 0),
              cache_key([r[::-1] for r in ROWS], FIELDS[::-1], pairs(), 0)]
    assert len({base, *others}) == len(others) + 1


def _entry(cache):
    return fuzzy._Cache(cache, cache_key(ROWS, FIELDS, pairs(), 0))


@pytest.mark.parametrize("damage", [
    lambda p: p.write_bytes(b"not numpy"),
    lambda p: np.save(p, np.zeros(3)),  # another dtype
    lambda p: np.save(p, np.array([((5, 500), 0.9)], dtype=fuzzy._SCORE_DTYPE)),  # a row that is not there
    lambda p: np.save(p, np.array([((7, 5), 0.9)], dtype=fuzzy._SCORE_DTYPE)),  # ids out of order
    lambda p: np.save(p, np.array([((5, 7), 1.5)], dtype=fuzzy._SCORE_DTYPE)),  # not a probability
    lambda p: p.unlink(),
])
def test_damaged_scores_count_as_absent(cache, damage):
    entry = _entry(cache)
    assert entry.scored(len(ROWS)) is not None
    damage(entry._path("scores.npy"))
    assert entry.scored(len(ROWS)) is None


@pytest.mark.parametrize("body", [
    "{", "[]", '{"cluster": [0], "scores": [1.0], "pairs_used": 16}',  # not these rows
    json.dumps({"cluster": [1] * 42, "scores": [1.0] * 42, "pairs_used": 16}),  # label after its row
    json.dumps({"cluster": list(range(42)), "scores": [2.0] * 42, "pairs_used": 16}),
    json.dumps({"cluster": list(range(42)), "scores": [1.0] * 42}),
])
def test_damaged_clusters_count_as_absent(cache, body):
    entry = _entry(cache)
    assert entry.result(0.5, len(ROWS)) is not None
    entry._result_path(0.5).write_text(body)
    assert entry.result(0.5, len(ROWS)) is None


def test_damaged_entries_are_recomputed_to_the_cold_result(cache, trainings, cold):
    entry = _entry(cache)
    entry._result_path(0.5).write_text("{")
    assert _same(fuzzy_duplicates(people(), FIELDS, pairs(), cache_dir=cache), cold[0.5])
    entry._path("scores.npy").write_bytes(b"garbage")
    assert _same(fuzzy_duplicates(people(), FIELDS, pairs(), threshold=0.95, cache_dir=cache), cold[0.95])
    assert trainings == [False, True]  # clustered the good scores, then retrained for the bad ones
    assert entry.scored(len(ROWS)) is not None  # and the entry was written again


def test_a_cache_that_cannot_be_written_costs_time_not_results(tmp_path, cold):
    blocked = tmp_path / "file"
    blocked.write_text("a file where the cache folder would go")
    assert _same(fuzzy_duplicates(people(), FIELDS, pairs(), cache_dir=blocked), cold[0.5])
