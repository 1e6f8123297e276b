"""Tests for dsc.kernels.fuzzy: dedupe trained from a labelled-pairs file."""

import json
import logging
import os
import random
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip("dedupe")

from dsc.kernels import fuzzy  # noqa: E402
from dsc.kernels.fuzzy import FuzzyError, FuzzyResult, fuzzy_duplicates, load_pairs  # noqa: E402

REPO = Path(__file__).resolve().parents[2]
FIXTURES = REPO / "tests" / "fixtures" / "fuzzy"
PEOPLE = FIXTURES / "people.json"
PEOPLE_PAIRS = FIXTURES / "people_pairs.json"
FIELDS = ["name", "address"]

# people.json: 40 people, some entered twice or three times with a typo, a
# case change or extra spaces, then two rows with nothing in either field.
DUPLICATE_GROUPS = [
    [0, 2], [1, 4], [3, 6], [5, 8], [7, 9], [10, 12], [11, 14], [13, 16],
    [15, 18], [17, 19], [24, 25, 26],
]
# Look-alikes that are different people.
DISTINCT = [(20, 21), (0, 22), (1, 23), (22, 2), (4, 23)]
ALL_EMPTY = [40, 41]


def people():
    return json.loads(PEOPLE.read_text())


@pytest.fixture(scope="module")
def people_result():
    pairs = load_pairs(PEOPLE_PAIRS, FIELDS)
    return fuzzy_duplicates(people(), FIELDS, pairs)


# --------------------------------------------------------------------------
# Clustering the fixture


def test_known_duplicates_cluster_and_nothing_else_does(people_result):
    expected = list(range(len(people())))
    for group in DUPLICATE_GROUPS:
        for i in group:
            expected[i] = min(group)
    assert people_result.cluster.tolist() == expected


def test_known_distinct_rows_stay_apart(people_result):
    for a, b in DISTINCT:
        assert people_result.cluster[a] != people_result.cluster[b], (a, b)
    for i in ALL_EMPTY:
        assert people_result.cluster[i] == i
        assert people_result.scores[i] == 1.0


def test_result_types_and_scores(people_result):
    r = people_result
    assert isinstance(r, FuzzyResult)
    assert r.cluster.dtype == np.int64 and r.scores.dtype == np.float64
    assert len(r.cluster) == len(r.scores) == len(people())
    assert r.pairs_used == 16
    assert np.array_equal(np.round(r.scores, 6), r.scores)
    grouped = [i for g in DUPLICATE_GROUPS for i in g]
    assert ((r.scores[grouped] > 0.5) & (r.scores[grouped] <= 1.0)).all()
    alone = np.setdiff1d(np.arange(len(r.cluster)), grouped)
    assert (r.scores[alone] == 1.0).all()


def test_tiny_inputs():
    pairs = load_pairs(PEOPLE_PAIRS, FIELDS)
    rows = people()
    assert fuzzy_duplicates([], FIELDS, pairs).cluster.tolist() == []
    one = fuzzy_duplicates(rows[:1], FIELDS, pairs)
    assert one.cluster.tolist() == [0] and one.scores.tolist() == [1.0] and one.pairs_used == 0
    two = fuzzy_duplicates([rows[0], rows[2]], FIELDS, pairs)
    assert two.cluster.tolist() == [0, 0] and two.pairs_used == 16


# --------------------------------------------------------------------------
# Determinism


def test_second_call_gives_identical_bytes_and_says_nothing(people_result, caplog, recwarn):
    caplog.set_level(logging.DEBUG)
    again = fuzzy_duplicates(people(), FIELDS, load_pairs(PEOPLE_PAIRS, FIELDS))
    assert again == people_result
    assert again.cluster.tobytes() == people_result.cluster.tobytes()
    assert again.scores.tobytes() == people_result.scores.tobytes()
    # dedupe's chatter and warnings are only in the DEBUG log.
    assert [r for r in caplog.records if r.levelno > logging.DEBUG] == []
    assert len(recwarn) == 0


_SCRIPT = """
import json, sys
from dsc.kernels.fuzzy import fuzzy_duplicates, load_pairs
rows = json.load(open(sys.argv[1]))
r = fuzzy_duplicates(rows, ["name", "address"], load_pairs(sys.argv[2], ["name", "address"]))
print(json.dumps([r.cluster.tolist(), r.scores.tolist(), r.pairs_used, r.scores.tobytes().hex()]))
"""


def _run_with_hash_seed(hash_seed: str) -> str:
    env = dict(os.environ, PYTHONHASHSEED=hash_seed, PYTHONPATH=str(REPO))
    proc = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(PEOPLE), str(PEOPLE_PAIRS)],
        capture_output=True, text=True, env=env, check=True,
    )
    return proc.stdout


@pytest.mark.slow
def test_processes_with_different_hash_seeds_agree(people_result):
    # Seed 0 runs dedupe in that process; seed 2 hands it to a child
    # interpreter started with PYTHONHASHSEED=0, because dedupe orders its
    # blocking predicates and index documents by string hash.
    outputs = {seed: _run_with_hash_seed(seed) for seed in ("0", "2")}
    assert len(set(outputs.values())) == 1, outputs
    cluster, scores, _, _ = json.loads(outputs["0"])
    assert cluster == people_result.cluster.tolist()
    assert scores == people_result.scores.tolist()


def test_global_random_state_is_restored():
    import dedupe.canopy_index
    import dedupe.labeler

    random.seed(123)
    np.random.seed(456)
    before = (random.getstate(), np.random.get_state()[1].copy())
    with fuzzy._seeded_dedupe(0, dedupe.labeler, dedupe.canopy_index):
        random.random()
        np.random.random()
        assert dedupe.labeler.numpy.random.default_rng().integers(1 << 30) == \
            np.random.default_rng(0).integers(1 << 30)
    assert random.getstate() == before[0]
    assert np.array_equal(np.random.get_state()[1], before[1])
    assert dedupe.labeler.numpy is np


# --------------------------------------------------------------------------
# Quiet dedupe


def test_dedupe_logging_and_warnings_go_to_debug(caplog):
    caplog.set_level(logging.DEBUG)
    with warnings.catch_warnings(record=True) as leaked:
        warnings.simplefilter("always")
        with fuzzy._quiet_dedupe():
            logging.getLogger("dedupe.api").warning("from dedupe")
            warnings.warn("from sklearn", UserWarning)
    assert not leaked
    relayed = [(r.name, r.levelno, r.getMessage()) for r in caplog.records]
    assert ("dsc.kernels.fuzzy", logging.DEBUG, "dedupe: from dedupe") in relayed
    assert ("dsc.kernels.fuzzy", logging.DEBUG,
            "warning during fuzzy dedupe: UserWarning: from sklearn") in relayed
    assert not any(name.startswith("dedupe") for name, _, _ in relayed)
    assert logging.getLogger("dedupe").propagate


# --------------------------------------------------------------------------
# Bad labelled pairs


def _write(tmp_path, content) -> Path:
    path = tmp_path / "pairs.json"
    path.write_text(content if isinstance(content, str) else json.dumps(content))
    return path


def _pair(a="Ann Lee|1 Main St", b="Anne Lee|1 Main St"):
    return [dict(zip(FIELDS, a.split("|"))), dict(zip(FIELDS, b.split("|")))]


GOOD = {"match": [_pair(), _pair()], "distinct": [_pair(b="Bob|2 High St")] * 2}


@pytest.mark.parametrize(
    "content, message",
    [
        ('{"match": [}', "is not valid JSON: Expecting value (line 1, column 12)"),
        ([_pair()], 'must be a JSON object with "match" and "distinct" lists'),
        ({"distinct": GOOD["distinct"]}, 'has no "match" list'),
        ({"match": GOOD["match"]}, 'has no "distinct" list'),
        ({**GOOD, "match": "oops"}, '"match" must be a list of record pairs'),
        ({**GOOD, "match": [_pair(), _pair()[:1]]}, "match[1] is not a pair of two records"),
        ({**GOOD, "distinct": [_pair(), [{"name": "Bob"}, _pair()[0]]]},
         'distinct[1][0] has no field "address"'),
        ({**GOOD, "match": [_pair(), [_pair()[0], "Ann"]]},
         "match[1][1] is not a record (JSON object)"),
        ({**GOOD, "match": [_pair(), [_pair()[0], {"name": 7, "address": None}]]},
         'match[1][1]: field "name" must be a string or null'),
        ({**GOOD, "match": [_pair(), [_pair()[0], {"name": " ", "address": None}]]},
         "match[1][1] has every field empty"),
        ({**GOOD, "match": GOOD["match"][:1]},
         'needs at least 2 "match" and 2 "distinct" pairs to train on, found 1 and 2'),
        ({**GOOD, "distinct": []},
         'needs at least 2 "match" and 2 "distinct" pairs to train on, found 2 and 0'),
    ],
)
def test_bad_pairs_file(tmp_path, content, message):
    path = _write(tmp_path, content)
    with pytest.raises(FuzzyError) as err:
        load_pairs(path, FIELDS)
    assert str(err.value).startswith(f"labelled-pairs file {path}")
    assert message in str(err.value)


def test_missing_pairs_file(tmp_path):
    path = tmp_path / "nope.json"
    with pytest.raises(FuzzyError, match="cannot read labelled-pairs file .*nope.json: No such"):
        load_pairs(path, FIELDS)


def test_bad_in_memory_pairs_are_refused_before_training():
    with pytest.raises(FuzzyError, match='labelled pairs has no "match" list'):
        fuzzy_duplicates(people(), FIELDS, {"distinct": []})


def test_pairs_written_by_dedupe_itself_load(tmp_path):
    from dedupe.serializer import write_training

    plain = load_pairs(PEOPLE_PAIRS, FIELDS)
    path = tmp_path / "training.json"
    with path.open("w") as f:
        write_training(plain, f)  # tuples become {"__class__": "tuple", ...}
    assert '"__class__": "tuple"' in path.read_text()
    assert load_pairs(path, FIELDS) == plain


def test_pairs_that_teach_nothing_are_refused():
    # The same two records labelled both ways: no model can separate that.
    same = _pair()
    pairs = {"match": [same, same], "distinct": [same, same, same]}
    with pytest.raises(FuzzyError, match="the labelled pairs teach dedupe nothing"):
        fuzzy_duplicates(people(), FIELDS, pairs)


def test_bad_arguments():
    pairs = load_pairs(PEOPLE_PAIRS, FIELDS)
    with pytest.raises(ValueError, match="threshold"):
        fuzzy_duplicates(people(), FIELDS, pairs, threshold=1.5)
    with pytest.raises(ValueError, match="seed"):
        fuzzy_duplicates(people(), FIELDS, pairs, seed=-1)
    with pytest.raises(ValueError, match="fields"):
        load_pairs(PEOPLE_PAIRS, "name")
    with pytest.raises(TypeError, match='record 1: field "name" must be a string'):
        fuzzy_duplicates([{"name": "a"}, {"name": 3}], FIELDS, pairs)


# --------------------------------------------------------------------------
# Real labels a string model cannot learn: tests/fixtures/fuzzy/code_alpaca_paraphrase_pairs.json
# (the working example, examples/labels/toolformer_pairs.json, is tested in tests/ops).


CODE_ALPACA = REPO / "examples" / "data" / "code_alpaca_2k.json"
CODE_ALPACA_PAIRS = FIXTURES / "code_alpaca_paraphrase_pairs.json"
ALPACA_FIELDS = ["instruction", "input"]


def test_code_alpaca_labels_are_real_records():
    pairs = load_pairs(CODE_ALPACA_PAIRS, ALPACA_FIELDS)
    assert (len(pairs["match"]), len(pairs["distinct"])) == (29, 28)
    rows = {(r["instruction"], fuzzy._clean(r["input"]))
            for r in json.loads(CODE_ALPACA.read_text())}
    for kind in ("match", "distinct"):
        for pair in pairs[kind]:
            for rec in pair:
                assert (rec["instruction"], rec["input"]) in rows


def test_code_alpaca_labels_cannot_be_learnt_from_string_similarity():
    # The matches are reworded copies of one task ("Convert a given
    # temperature from Celsius to Fahrenheit" / "Convert the given Celsius
    # temperature to Fahrenheit."); many distinct pairs are closer as strings
    # ("Convert the given Celsius temperature to Fahrenheit." / "Create a
    # function to convert a Fahrenheit temperature to Celsius.").  dedupe's
    # String model cannot separate them and would score every pair of rows
    # about 0.5, merging most of the data set; refusing it is the right outcome.
    rows = json.loads(CODE_ALPACA.read_text())
    pairs = load_pairs(CODE_ALPACA_PAIRS, ALPACA_FIELDS)
    with pytest.raises(FuzzyError, match=r"teach dedupe nothing.* gets 29 of 57 labelled pairs"):
        fuzzy_duplicates(rows, ALPACA_FIELDS, pairs)
