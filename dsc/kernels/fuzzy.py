"""Fuzzy record-level de-duplication with the ``dedupe`` library.

The model is trained from a *labelled-pairs file* that lives in version
control, never from interactive labelling, so that a spec plus its data plus
its pairs file always gives the same clusters.

Labelled-pairs file
    JSON in dedupe's own training format, as written by
    ``dedupe.write_training``::

        {"match":    [[{"instruction": "...", "input": "..."}, {...}], ...],
         "distinct": [[{...}, {...}], ...]}

    Each pair is a two-element list of records (dedupe's tuple encoding
    ``{"__class__": "tuple", "__value__": [...]}`` is accepted as well).  A
    record must carry every field being compared, as a string or null; extra
    keys are ignored.  At least :data:`MIN_EXAMPLES` pairs of each kind are
    needed to train.

Model
    One ``dedupe.variables.String(field)`` per field: affine-gap string
    distance plus dedupe's n-gram, token and TF-IDF blocking predicates.
    ``has_missing=True`` is set for a field exactly when some row or
    labelled record has no value for it, which adds dedupe's "value missing"
    feature instead of leaving the distance undefined.  Empty and
    whitespace-only strings count as missing (``None``); other values are
    compared case-folded with whitespace runs collapsed.  Rows whose fields
    are all missing are never clustered.  A model that does no better on its
    own labelled pairs than always answering the commoner label is refused
    with :class:`FuzzyError`, since dedupe would otherwise score every pair
    about 0.5 and merge most of the data.

Determinism
    dedupe draws from :mod:`random`, from :func:`numpy.random.default_rng`
    (unseeded) and, through sets and dicts keyed by strings, from Python's
    per-process hash randomisation: the order of its blocking predicates, of
    the documents in its TF-IDF indexes and of its sampled record pairs all
    follow ``hash(str)``.  So training runs with :mod:`random`, the global
    numpy generator and dedupe's ``default_rng`` seeded from ``seed`` (the
    global states are restored afterwards), without multiprocessing
    (``num_cores=0``, scikit-learn ``n_jobs=1``), and under
    ``PYTHONHASHSEED=0``: when the calling interpreter hashes differently the
    work is done in a child interpreter started with that setting, which
    costs about a second of start-up.  Clustering scored pairs (integer row
    ids, scipy's linkage) does not depend on string hashes, so clustering
    cached scores runs in the calling interpreter.

Cost and caching
    dedupe learns its blocking rules from the rows: it calls every candidate
    predicate on every row (its TF-IDF and Levenshtein canopy searches
    among them) and counts the row pairs each one blocks together.  Its own
    code also builds every such pair as a tuple in a frozenset, draws pairs
    for active labelling and blocks with an SQLite self-join -- most of its
    time on 2,000 Toolformer rows, and 141 s of 287 on 7,673 for the join.
    This module runs dedupe's training and blocking with those steps
    replaced by equivalents that give the same model and the same pairs
    ("Faster block learning" below), and answers its canopy searches with
    the same results without most of the searching ("Levenshtein canopy
    searches ..." and "TF-IDF canopy searches ..." below); ``python -m
    bench.bench_fuzzy`` measures both paths and asserts equal clusters.
    What is left on 2,000 rows is mostly importing dedupe (scikit-learn and
    scipy.stats, about 2 s), calling the predicates, fitting the classifier,
    and dedupe's affine-gap distances of the blocked pairs for scoring.  dedupe already compares only
    rows that share a blocking key, never all pairs.  The learnt blocking
    rules depend on the rows as well as on the labelled pairs, so a model
    trained on other rows would block other pairs and could give other
    clusters: nothing trained is reused across different rows (a model cached
    by its labelled pairs alone would make one run's clusters depend on which
    rows an earlier run trained on).
    With ``cache_dir``, what training and scoring produce -- dedupe's scored
    pairs -- is stored under a key made of the compared values of every row,
    the labelled pairs, the fields, the seed and the dedupe version
    (:func:`cache_key`), and each threshold's clusters beside it.  A rerun on
    the same compared values (another threshold or keep rule, or a change
    upstream that leaves these columns alone) then skips training and scoring
    and gives the same clusters, byte for byte, as a cold run; an edited
    labelled-pairs file or any changed value is a new key and retrains.  An
    unreadable or inconsistent entry is recomputed, never trusted.

dedupe's log records and warnings are re-emitted on this module's logger at
DEBUG level only.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import itertools
import json
import logging
import math
import os
import pickle
import random
import subprocess
import sys
import traceback
import types
import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator, Mapping, Sequence

import numpy as np

from dsc.errors import DscError

log = logging.getLogger(__name__)

#: Learn blocking rules, search canopies and block with this module's faster
#: equivalents of dedupe's steps (see "Faster block learning" and the canopy
#: search sections); False runs dedupe's own, which the tests and
#: bench/bench_fuzzy.py compare against.
FAST = True

#: Fewest labelled pairs of each kind ("match", "distinct") accepted.
MIN_EXAMPLES = 2

# dedupe's classifier is a 5-fold grid search; fewer folds when there are
# fewer examples of a kind, since stratified folds need one of each per fold.
_MAX_FOLDS = 5

_KINDS = ("match", "distinct")


class FuzzyError(DscError):
    """A bad labelled-pairs file or unusable training data; message is for people."""

    default_code = "DSC302"


@dataclass(frozen=True)
class FuzzyResult:
    """Clusters found by :func:`fuzzy_duplicates`.

    ``cluster[i]`` is the smallest row index in row ``i``'s cluster (``i``
    itself when the row has no duplicate); ``scores[i]`` is dedupe's
    confidence that row ``i`` belongs to its cluster, rounded to 6 decimals
    (1.0 for rows alone); ``pairs_used`` counts the labelled pairs trained on
    (0 when there were fewer than two rows to compare, so nothing was
    trained).
    """

    cluster: np.ndarray
    scores: np.ndarray
    pairs_used: int

    def __eq__(self, other: object) -> bool:
        # The generated __eq__ would compare arrays element-wise and fail.
        if not isinstance(other, FuzzyResult):
            return NotImplemented
        return (
            self.pairs_used == other.pairs_used
            and np.array_equal(self.cluster, other.cluster)
            and np.array_equal(self.scores, other.scores)
        )


# --------------------------------------------------------------------------
# Labelled pairs


def load_pairs(path: str | Path, fields: Sequence[str]) -> dict:
    """Read and check a labelled-pairs file.

    Returns ``{"match": [(rec, rec), ...], "distinct": [...]}`` where each
    record is a dict of exactly ``fields``, empty strings turned into
    ``None``.  Any problem with the file raises :class:`FuzzyError` naming the
    file and the problem.

    >>> import json, os, tempfile
    >>> ann, bob = {"name": "Ann", "city": "Oslo", "id": 7}, {"name": "Bob", "city": "Oslo"}
    >>> pairs = {"match": [[ann, {"name": "ann", "city": ""}]] * 2,
    ...          "distinct": [[ann, bob]] * 2}
    >>> with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as f:
    ...     json.dump(pairs, f)
    >>> load_pairs(f.name, ["name", "city"])["match"][0]
    ({'name': 'Ann', 'city': 'Oslo'}, {'name': 'ann', 'city': None})
    >>> try:
    ...     load_pairs(f.name, ["name", "country"])
    ... except FuzzyError as exc:
    ...     print(str(exc).replace(f.name, "pairs.json"))
    labelled-pairs file pairs.json: match[0][0] has no field "country"
    >>> os.remove(f.name)
    """
    fields = _check_fields(fields)
    where = f"labelled-pairs file {path}"
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise FuzzyError(f"cannot read {where}: {reason}", code="DSC301") from None
    try:
        raw = json.loads(text, object_hook=_untag_tuples)
    except json.JSONDecodeError as exc:
        raise FuzzyError(
            f"{where} is not valid JSON: {exc.msg} (line {exc.lineno}, column {exc.colno})"
        ) from None
    return _check_pairs(raw, fields, where)


def _untag_tuples(obj: dict) -> Any:
    # dedupe.write_training encodes each pair as {"__class__": "tuple", ...}.
    if obj.get("__class__") == "tuple" and "__value__" in obj:
        return list(obj["__value__"])
    return obj


def _check_fields(fields: Sequence[str]) -> tuple[str, ...]:
    if isinstance(fields, str) or not fields:
        raise ValueError("fields must be a non-empty sequence of field names")
    if not all(isinstance(f, str) and f for f in fields) or len(set(fields)) != len(fields):
        raise ValueError(f"fields must be distinct non-empty strings, got {list(fields)!r}")
    return tuple(fields)


def _clean(value: Any) -> str | None:
    """A blank string becomes None, which dedupe reads as "missing"."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    return value


def _comparable(value: str | None) -> str | None:
    """What dedupe compares: case-folded, whitespace runs made one space.

    dedupe's string distance counts case and spacing differences as edits;
    like dedupe's own examples, we remove them before it sees the values.
    """
    return None if value is None else " ".join(value.split()).casefold()


def _check_pairs(raw: Any, fields: tuple[str, ...], where: str) -> dict:
    """Validate labelled pairs and normalise each record to ``fields``."""
    if not isinstance(raw, Mapping):
        raise FuzzyError(f'{where} must be a JSON object with "match" and "distinct" lists')
    checked: dict[str, list] = {}
    for kind in _KINDS:
        if kind not in raw:
            raise FuzzyError(f'{where} has no "{kind}" list')
        if not isinstance(raw[kind], (list, tuple)):
            raise FuzzyError(f'{where}: "{kind}" must be a list of record pairs')
        checked[kind] = [_check_pair(pair, fields, f"{where}: {kind}[{i}]")
                         for i, pair in enumerate(raw[kind])]
    counts = {kind: len(checked[kind]) for kind in _KINDS}
    if min(counts.values()) < MIN_EXAMPLES:
        raise FuzzyError(
            f'{where} needs at least {MIN_EXAMPLES} "match" and {MIN_EXAMPLES} "distinct" '
            f'pairs to train on, found {counts["match"]} and {counts["distinct"]}'
        )
    return checked


def _check_pair(pair: Any, fields: tuple[str, ...], where: str) -> tuple[dict, dict]:
    if not isinstance(pair, (list, tuple)) or len(pair) != 2:
        raise FuzzyError(f"{where} is not a pair of two records")
    return tuple(_check_record(rec, fields, f"{where}[{j}]") for j, rec in enumerate(pair))


def _check_record(rec: Any, fields: tuple[str, ...], where: str) -> dict:
    if not isinstance(rec, Mapping):
        raise FuzzyError(f"{where} is not a record (JSON object)")
    out = {}
    for field in fields:
        if field not in rec:
            raise FuzzyError(f'{where} has no field "{field}"')
        if rec[field] is not None and not isinstance(rec[field], str):
            raise FuzzyError(f'{where}: field "{field}" must be a string or null')
        out[field] = _clean(rec[field])
    if all(v is None for v in out.values()):
        # dedupe cannot learn anything from a record with nothing to compare.
        raise FuzzyError(f"{where} has every field empty")
    return out


# --------------------------------------------------------------------------
# Clustering


def fuzzy_duplicates(
    records: Sequence[Mapping[str, str | None]],
    fields: Sequence[str],
    pairs: dict,
    *,
    threshold: float = 0.5,
    seed: int = 0,
    cache_dir: str | Path | None = None,
) -> FuzzyResult:
    """Cluster ``records`` that dedupe, trained on ``pairs``, judges duplicates.

    ``pairs`` is what :func:`load_pairs` returns.  ``threshold`` (0..1) is
    dedupe's clustering threshold: raise it for precision, lower it for
    recall.  The same records, pairs and seed give the same result, byte for
    byte, in any process.  A record lacking a field counts as having it empty.
    Raises :class:`FuzzyError` when ``pairs`` are malformed or teach the
    model nothing (see the module notes).  ``cache_dir``: a folder for scored
    pairs and clusters (see "Cost and caching" in the module notes); the
    result is the same with or without it.

    >>> name = lambda a, b: ({"name": a}, {"name": b})
    >>> pairs = {"match": [name("Ann Lee", "Anne Lee"), name("Bob Stone", "Bob Stoner"),
    ...                    name("Cy Twombly", "Cy Twombley")],
    ...          "distinct": [name("Ann Lee", "Bob Stone"), name("Anne Lee", "Cy Twombly"),
    ...                       name("Bob Stoner", "Cy Twombley")]}
    >>> rows = [{"name": "Ann Lee"}, {"name": "Bob Stone"}, {"name": "ANN  LEE"},
    ...         {"name": ""}, {"name": "Bob Stone"}, {"name": "Dora Maar"}]
    >>> fuzzy_duplicates(rows, ["name"], pairs).cluster.tolist()
    [0, 1, 0, 3, 1, 5]
    """
    fields = _check_fields(fields)
    if not 0.0 <= threshold <= 1.0:
        raise ValueError(f"threshold must be between 0 and 1, got {threshold!r}")
    if not isinstance(seed, int) or not 0 <= seed < 2**32:
        raise ValueError(f"seed must be an integer in [0, 2**32), got {seed!r}")
    checked = _check_pairs(pairs, fields, "labelled pairs")
    rows = [_row(rec, fields, i) for i, rec in enumerate(records)]

    if sum(any(v is not None for v in row) for row in rows) < 2:
        cluster, scores, used = list(range(len(rows))), [1.0] * len(rows), 0
    else:
        cache = _Cache(Path(cache_dir), cache_key(rows, fields, checked, seed)) \
            if cache_dir is not None else None
        done = cache.result(threshold, len(rows)) if cache is not None else None
        if done is not None:
            cluster, scores, used = done
        else:
            scored = cache.scored(len(rows)) if cache is not None else None
            job = (rows, fields, checked, float(threshold), seed, scored, FAST)
            # Clustering scored pairs is hash-seed free (integer ids, scipy's
            # linkage), so only training and scoring need the child interpreter.
            if sys.flags.hash_randomization == 0 or scored is not None:
                cluster, scores, used, fresh = _cluster(*job)
            else:
                cluster, scores, used, fresh = _cluster_in_child(job)
            if cache is not None:
                if scored is None:
                    cache.save_scored(fresh)
                cache.save_result(threshold, cluster, scores, used)
    return FuzzyResult(
        cluster=np.asarray(cluster, dtype=np.int64),
        scores=np.asarray(scores, dtype=np.float64),
        pairs_used=used,
    )


def _row(rec: Mapping[str, Any], fields: tuple[str, ...], i: int) -> tuple:
    values = tuple(_clean(rec.get(f)) for f in fields)
    for f, v in zip(fields, values):
        if v is not None and not isinstance(v, str):
            raise TypeError(
                f'record {i}: field "{f}" must be a string or None, got {type(v).__name__}'
            )
    return values


def _cluster(
    rows: list[tuple], fields: tuple[str, ...], pairs: dict, threshold: float, seed: int,
    scored: np.ndarray | None = None, fast: bool = True,
) -> tuple[list[int], list[float], int, np.ndarray | None]:
    """Train dedupe and cluster two or more non-empty rows; reproducible only
    under ``PYTHONHASHSEED=0``.

    ``scored``: the scored pairs of an earlier call with the same rows, pairs,
    fields and seed (from the cache), which skips training and scoring.
    Returns the clusters, confidences, labelled pairs used, and the scored
    pairs as a plain array (None when they were given).  ``fast``: see
    :func:`_train` and :func:`_faster_searches`; the same result either way."""
    cluster = list(range(len(rows)))
    scores = [1.0] * len(rows)
    data = {i: {f: _comparable(v) for f, v in zip(fields, row)}
            for i, row in enumerate(rows) if any(v is not None for v in row)}
    pairs = {kind: [tuple({f: _comparable(v) for f, v in rec.items()} for rec in pair)
                    for pair in pairs[kind]]
             for kind in _KINDS}

    try:
        import dedupe
        import dedupe.api
        import dedupe.blocking
        import dedupe.canopy_index
        import dedupe.clustering
        import dedupe.core
        import dedupe.labeler
        import dedupe.levenshtein
        import dedupe.tfidf
    except ImportError as exc:
        raise ImportError("fuzzy de-duplication needs dedupe: pip install 'dsc[fuzzy]'") from exc

    given = scored is not None
    faster = (_faster_searches(dedupe.levenshtein, dedupe.tfidf, dedupe.canopy_index)
              if fast else contextlib.nullcontext())
    with _quiet_dedupe(), _seeded_dedupe(seed, dedupe.labeler, dedupe.canopy_index), faster:
        if not given:
            deduper = _train(dedupe, data, pairs, fields, fast)
            try:
                blocked = _blocked_pairs(deduper, data) if fast else deduper.pairs(data)
                scored = deduper.score(blocked)
            except dedupe.core.BlockingError:
                scored = _NO_SCORES  # the learnt blocking rules put no two rows together
        # cluster() fails on an empty score array; there is nothing to cluster then.
        # It is a plain function of the scores and threshold: no model needed.
        clusters = dedupe.clustering.cluster(scored, threshold) if len(scored) else ()
        found = [([int(i) for i in ids], [float(c) for c in confidences])
                 for ids, confidences in clusters]
        plain = None if given else _plain_scores(scored)
        # dedupe scores into a temporary memory-mapped file that it leaves behind.
        score_file = getattr(scored, "filename", None)
        del scored
        if score_file:
            with contextlib.suppress(OSError):
                os.remove(score_file)

    for ids, confidences in found:
        for i, conf in zip(ids, confidences):
            cluster[i] = min(ids)
            scores[i] = round(conf, 6)
    return cluster, scores, sum(len(pairs[kind]) for kind in _KINDS), plain


def _train(dedupe: types.ModuleType, data: dict, pairs: dict, fields: tuple[str, ...],
           fast: bool = True) -> Any:
    """A ``dedupe.Dedupe`` trained on ``pairs``, or FuzzyError if it learns nothing.

    ``fast``: learn blocking rules with :func:`_prepare_training` and
    :func:`_learn_blocking` rather than dedupe's ``prepare_training`` and
    ``train`` -- the same model in a fraction of the time (see "Faster block
    learning" below); False runs dedupe's own path, kept to check that claim."""
    labelled = [rec for kind in _KINDS for pair in pairs[kind] for rec in pair]
    records = [*data.values(), *labelled]
    variables = [
        dedupe.variables.String(f, has_missing=any(r[f] is None for r in records))
        for f in fields
    ]
    deduper = dedupe.Dedupe(variables, num_cores=0, in_memory=True)
    deduper.classifier.n_jobs = 1  # no joblib worker processes
    deduper.classifier.cv = min(_MAX_FOLDS, *(len(pairs[kind]) for kind in _KINDS))
    try:
        deduper.mark_pairs(pairs)
        # Fit the pair classifier first, exactly as train() does: cheap, and it
        # lets a useless model fail before the costly blocking-rule learning.
        _check_classifier_learns(dedupe, deduper, fields)
        sample = _training_sample(data, labelled)
        if fast:
            _prepare_training(dedupe, deduper, sample)
            _learn_blocking(dedupe, deduper)
        else:
            deduper.prepare_training(sample)
            deduper.train(recall=1.0, index_predicates=True)
    except (ValueError, AssertionError, UserWarning) as exc:
        log.debug("dedupe training failed", exc_info=True)
        raise FuzzyError(f"dedupe could not train on the labelled pairs: {exc}") from None
    return deduper


def _check_classifier_learns(dedupe: types.ModuleType, deduper: Any, fields: tuple[str, ...]) -> None:
    # dedupe happily fits a model that cannot tell the labels apart, then
    # gives every pair of rows about the same score near 0.5, which at the
    # default threshold merges most of the data.  Refuse such a model: on its
    # own labelled pairs it must beat always answering the commoner label.
    # The fit is train()'s own (same examples, order and labels), so the fast
    # path can keep it instead of fitting again.
    examples, y = dedupe.api.flatten_training(deduper.training_pairs)
    features = deduper.data_model.distances(examples)
    deduper.classifier.fit(features, y)
    predicted = deduper.classifier.predict_proba(features)[:, 1] > 0.5
    right = int((predicted == (y == 1)).sum())
    counts = {"match": int((y == 1).sum()), "distinct": int((y == 0).sum())}
    commoner = "match" if counts["match"] >= counts["distinct"] else "distinct"
    if right <= counts[commoner]:
        raise FuzzyError(
            f"the labelled pairs teach dedupe nothing: comparing {', '.join(fields)} by string "
            f"similarity, the trained model gets {right} of {len(examples)} labelled pairs right, "
            f'no better than calling every pair "{commoner}"'
        )


def _training_sample(data: dict, labelled: list[dict]) -> dict:
    """The rows plus the labelled records, which blocking rules are learnt from.

    dedupe wants labelled records known to it anyway (see Dedupe.mark_pairs),
    and with only a handful of rows every rule would cover all of them, which
    leaves dedupe no rule to choose (it then fails inside frozenset.union).
    """
    sample = dict(data)
    seen = {tuple(rec.values()) for rec in data.values()}
    new_ids = itertools.count(max(data) + 1)
    for rec in labelled:
        if tuple(rec.values()) not in seen:
            seen.add(tuple(rec.values()))
            sample[next(new_ids)] = rec
    return sample


# --------------------------------------------------------------------------
# Faster block learning and blocking, same predicates and same pairs
#
# Profiled on 2,000 Toolformer rows (34 s of dedupe's prepare_training under
# cProfile), most of dedupe's training went to two things its result does
# not need: ``coveredPairs`` building, for every candidate blocking predicate,
# the frozenset of every record pair it puts in a block (20 million tuples,
# 20 s), where block learning only reads how many there are unless it builds
# random-forest rules; and drawing 10,000 record pairs, weighted by those
# sets, for *active* labelling (``_sample_indices`` plus featurising the
# draw, 9 s), which a fixed labelled-pairs file never asks for.  The classes
# below are dedupe's own with those two steps replaced: the pairs are counted
# with bit sets and only built if a rule needs them, and no pairs are drawn.
# The learnt predicates are the same: every predicate is still called on
# every sampled record in dedupe's order (its canopy predicates remember who
# asked first), the counts are exact, no shared random state is drawn from,
# and the drawn pairs served only to re-index records that are already
# indexed (``TfIdfIndex.index`` and ``LevenshteinIndex.index`` skip known
# documents) and to freeze canopy answers of sampled records, which
# coveredPairs has already fixed, ahead of the labelled records, which are
# still frozen in the same order.  ``tests/kernels/test_fuzzy_fast.py`` and
# ``bench/bench_fuzzy.py`` check scored pairs and clusters against dedupe's
# own path (2,000 and 7,673 Toolformer rows: identical).  Blocking likewise:
# dedupe self-joins a (block key, record) table in SQLite, which took 141 s
# of 287 on 7,673 rows; :func:`_blocked_pairs` finds the same distinct pairs
# with a sparse matrix product.

# dedupe.labeler.DedupeBlockLearner's sample sizes (local constants there).
_INDEX_SAMPLE, _COVER_SAMPLE = 50000, 5000


def _bit_mask(ids: Sequence[int]) -> int:
    """The set ``ids`` as a Python int with bit ``i`` set for each ``i``."""
    if len(ids) <= 64:
        mask = 0
        for i in ids:
            mask |= 1 << i
        return mask
    bits = np.zeros(max(ids) + 1, dtype=bool)
    bits[np.asarray(ids)] = True
    return int.from_bytes(np.packbits(bits, bitorder="little").tobytes(), "little")


def _count_pairs(blocks: Sequence[Sequence[int]]) -> int:
    """How many distinct unordered pairs of ids share at least one block.

    A record in one block only contributes C(k, 2) pairs per block; where
    records sit in several blocks, each record ORs the bit sets of its blocks
    and counts the members above it, so a pair shared by many blocks counts
    once, without materialising any pair.
    """
    blocks_of: dict[int, list[int]] = {}
    for b, ids in enumerate(blocks):
        for i in ids:
            blocks_of.setdefault(i, []).append(b)
    if all(len(bs) == 1 for bs in blocks_of.values()):
        return sum(len(ids) * (len(ids) - 1) // 2 for ids in blocks)
    masks = [_bit_mask(ids) for ids in blocks]
    total = 0
    for i, bs in blocks_of.items():
        mask = masks[bs[0]]
        for b in bs[1:]:
            mask |= masks[b]
        total += (mask >> (i + 1)).bit_count()
    return total


class _CoveredPairs:
    """The record pairs one predicate blocks together, counted; built on demand.

    Stands in for the frozenset that dedupe's ``coveredPairs`` returns: block
    learning reads its length, and only its random-forest candidates (100 or
    more labelled matches) intersect it with others, which builds the set
    once, exactly as dedupe would have.
    """

    __slots__ = ("_blocks", "_count", "_pairs")

    def __init__(self, blocks: list[list[int]], count: int) -> None:
        self._blocks, self._count, self._pairs = blocks, count, None

    def __len__(self) -> int:
        return self._count

    def pairs(self) -> frozenset:
        if self._pairs is None:
            self._pairs = frozenset(pair for ids in self._blocks
                                    for pair in itertools.combinations(sorted(ids), 2))
        return self._pairs

    def __iter__(self) -> Iterator[tuple[int, int]]:
        return iter(self.pairs())

    def __contains__(self, pair: object) -> bool:
        return pair in self.pairs()

    def __and__(self, other: Any) -> frozenset:
        return self.pairs() & (other.pairs() if isinstance(other, _CoveredPairs) else other)

    __rand__ = __and__


def _covered_pairs(blocker: Any, records: Mapping[int, dict]) -> dict:
    """dedupe's ``training.DedupeBlockLearner.coveredPairs``, counting instead
    of building: the same predicates in the same order, called on the same
    records in the same order, skipped on the same conditions."""
    cover = {}
    n_records = len(records)
    predicates = list(blocker.predicates)
    # Record by record rather than predicate by predicate: each predicate still
    # sees the records in dedupe's order (all a canopy's memory depends on, as
    # predicates share nothing but read-only indexes), and the canopy
    # thresholds' identical searches come one after another (_seeded_dedupe).
    all_blocks: list[dict[str, list[int]]] = [{} for _ in predicates]
    for rid, record in records.items():
        for predicate, blocks in zip(predicates, all_blocks):
            for key in predicate(record):
                blocks.setdefault(key, []).append(rid)
    for predicate, blocks in zip(predicates, all_blocks):
        if not blocks or max(len(ids) for ids in blocks.values()) == n_records:
            continue
        shared = [ids for ids in blocks.values() if len(ids) > 1]
        count = _count_pairs(shared)
        if count:
            cover[predicate] = _CoveredPairs(shared, count)
    return cover


@functools.cache
def _learner_class() -> type:
    """dedupe's ``DedupeDisagreementLearner`` with the two costly steps of its
    block learner replaced (see the section notes); made on first use, as
    dedupe is an optional import."""
    from dedupe import core, labeler, training

    class BlockCover(training.DedupeBlockLearner):
        coveredPairs = staticmethod(_covered_pairs)

    class BlockLearner(labeler.DedupeBlockLearner):
        def __init__(self, candidate_predicates: Any, data: dict, index_include: list) -> None:
            labeler.BlockLearner.__init__(self)
            index_data = labeler.sample_records(data, _INDEX_SAMPLE)
            sampled_records = labeler.sample_records(index_data, _COVER_SAMPLE)
            preds = labeler._filter_canopy_predicates(candidate_predicates, canopies=True)
            self.block_learner = BlockCover(preds, sampled_records, index_data)
            self._candidates = []  # pairs to ask a person about: never asked here
            self._index_predicates(index_include)

    class Learner(labeler.DedupeDisagreementLearner):
        def __init__(self, candidate_predicates: Any, featurizer: Any, data: dict,
                     index_include: list) -> None:
            labeler.DisagreementLearner.__init__(self)
            data = core.index(data)
            random_pair = (random.choice(list(data.values())), random.choice(list(data.values())))
            exact_match = (random_pair[0], random_pair[0])
            index_include = [*index_include, exact_match]
            self.blocker = BlockLearner(candidate_predicates, data, index_include)
            self._candidates = []
            self.matcher = labeler.MatchLearner(featurizer, self.candidates)
            self.mark([exact_match] * 4 + [random_pair], [1] * 4 + [0])

    return Learner


def _prepare_training(dedupe: types.ModuleType, deduper: Any, sample: dict) -> None:
    """``deduper.prepare_training(sample)`` with :func:`_learner_class`'s learner."""
    deduper._checkData(sample)
    examples, y = dedupe.api.flatten_training(deduper.training_pairs)
    learner = _learner_class()
    deduper.active_learner = learner(deduper.data_model.predicates, deduper.data_model.distances,
                                     sample, index_include=examples)
    deduper.active_learner.mark(examples, y)


def _learn_blocking(dedupe: types.ModuleType, deduper: Any) -> None:
    """``deduper.train(recall=1.0, index_predicates=True)`` less its first
    step, fitting the classifier, which :func:`_check_classifier_learns` has
    just done on the same examples."""
    deduper.predicates = deduper.active_learner.learn_predicates(1.0, True)
    deduper._fingerprinter = dedupe.blocking.Fingerprinter(deduper.predicates)
    deduper.fingerprinter.reset_indices()


def _blocked_pairs(deduper: Any, data: dict[int, dict]) -> Iterator[tuple]:
    """The record pairs ``deduper.pairs(data)`` yields -- every two records
    sharing a block key of the learnt predicates, each pair once -- without
    dedupe's SQLite self-join, in ascending (id, id) order.

    With ``M`` the record-by-block incidence matrix, the pairs are the
    nonzero entries of ``M @ M.T`` above the diagonal (scipy's sparse
    product, in C; blocks of one record are left out first)."""
    import scipy.sparse

    fingerprinter = deduper.fingerprinter
    fingerprinter.index_all(data)
    blocks: dict[str, list[int]] = {}
    try:
        for key, rid in fingerprinter(data.items()):
            blocks.setdefault(key, []).append(rid)
    finally:
        fingerprinter.reset_indices()
    members = [ids for ids in blocks.values() if len(ids) > 1]
    del blocks
    if not members:
        return
    rows = np.fromiter(itertools.chain.from_iterable(members), dtype=np.int64)
    cols = np.repeat(np.arange(len(members)), [len(ids) for ids in members])
    n = max(data) + 1
    incidence = scipy.sparse.csr_matrix(
        (np.ones(len(rows), dtype=np.int32), (rows, cols)), shape=(n, len(members)))
    shared = scipy.sparse.triu(incidence @ incidence.T, k=1, format="csr")
    del incidence
    shared.sort_indices()
    indptr, partners = shared.indptr, shared.indices
    for a in range(n):
        start, stop = indptr[a], indptr[a + 1]
        if start != stop:
            record_a = data[a]
            for b in partners[start:stop].tolist():
                yield (a, record_a), (b, data[b])


# --------------------------------------------------------------------------
# Levenshtein canopy searches that need no search
#
# dedupe's Levenshtein canopy predicates (edit distance 1 to 4) ask
# ``Levenshtein_search.lookup`` -- a trie walk in C over every indexed string,
# on UTF-8 bytes -- for each record's neighbours: 2.4 s of 2,000 Toolformer
# rows' training, and on such text nearly every answer (7,300 of 7,500) is
# the record alone.  What the walk reports is a subset of the strings within
# edit distance ``k`` of the query, the query itself always included (each
# step of the walk is an edit), so a string with no other indexed string
# within distance ``k`` is answered without it.  Finding those neighbours:
# split the query's bytes into ``k + 1`` pieces; ``k`` edits leave one piece
# whole, so a string within distance ``k`` contains some piece, is at most
# ``k`` bytes longer or shorter, and lacks at most ``3k`` of the query's
# distinct byte trigrams (an edit breaks at most three trigram occurrences).
# :class:`_LevenshteinDocs` keeps, beside each index, which indexed strings
# hold each trigram, so the strings holding a piece are found from its
# rarest trigram; the few that pass every test get their exact distance from
# a banded dynamic programme.  Candidates are found once per string for the
# largest distance dedupe asks (4) and serve every smaller one.  When another
# string is near, the real lookup runs.  ``tests/kernels/test_fuzzy_fast.py``
# holds this against the real lookup on random strings made to be near each
# other.

# Bytes per trigram of the index below; a piece shorter than this is not looked up.
_GRAM = 3
# Largest edit distance answered from cached neighbours (dedupe asks 1 to 4).
_LEV_CAP = 4
# More candidates than this for one string, or a piece whose rarest trigram is
# in more strings than _LEV_HOLDERS: leave it to the real lookup (bounds the work
# on text where everything looks alike).
_LEV_CANDIDATES = 64
_LEV_HOLDERS = 1024


def _bounded_distance(a: bytes, b: bytes, cap: int) -> int:
    """The Levenshtein distance of ``a`` and ``b``, or ``cap + 1`` when it is more.

    Only cells within ``cap`` of the diagonal can lie on a path of cost at
    most ``cap``; every path crosses each row, so a row with no cell at most
    ``cap`` ends the search."""
    n, m, big = len(a), len(b), cap + 1
    if abs(n - m) > cap:
        return big
    prev = [j if j <= cap else big for j in range(m + 1)]
    for i in range(1, n + 1):
        lo, hi = max(1, i - cap), min(m, i + cap)
        cur = [big] * (m + 1)
        cur[0] = i if i <= cap else big
        ai = a[i - 1]
        for j in range(lo, hi + 1):
            v = prev[j - 1] + (ai != b[j - 1])
            if prev[j] + 1 < v:
                v = prev[j] + 1
            if cur[j - 1] + 1 < v:
                v = cur[j - 1] + 1
            cur[j] = v if v < big else big
        if min(cur[lo - 1:hi + 1]) > cap:
            return big
        prev = cur
    return prev[m]


class _LevenshteinDocs:
    """The strings one ``LevenshteinIndex`` has put in its trie, by byte trigram.

    ``valid`` is cleared when the index may hold strings this record has not
    seen (see :func:`_faster_searches`), after which it answers nothing."""

    __slots__ = ("docs", "number", "grams", "gram_sets", "by_length", "near", "valid")

    def __init__(self) -> None:
        self.docs: list[bytes] = []
        self.number: dict[str, int] = {}
        self.grams: dict[bytes, list[int]] = {}
        self.gram_sets: list[frozenset[bytes]] = []
        self.by_length: dict[int, list[int]] = {}
        # Per string: the distance of every other string within _LEV_CAP, or
        # None when there were too many candidates; emptied by each add().
        self.near: dict[int, list[int] | None] = {}
        self.valid = True

    def add(self, doc: str) -> None:
        raw = doc.encode("utf-8")  # the bytes the C extension stores ("s" format)
        i = self.number[doc] = len(self.docs)
        self.docs.append(raw)
        grams = frozenset(raw[j:j + _GRAM] for j in range(len(raw) - _GRAM + 1))
        self.gram_sets.append(grams)
        for gram in grams:
            self.grams.setdefault(gram, []).append(i)
        self.by_length.setdefault(len(raw), []).append(i)
        self.near.clear()

    def alone(self, doc: str, k: int) -> bool:
        """True when no other string of the index is within edit distance ``k``
        of ``doc``, itself indexed; False when that cannot be ruled out."""
        me = self.number.get(doc)
        if not self.valid or me is None or type(k) is not int or not 0 <= k <= _LEV_CAP:
            return False
        if me not in self.near:
            self.near[me] = self._neighbours(me)
        near = self.near[me]
        return near is not None and all(d > k for d in near)

    def _neighbours(self, me: int) -> list[int] | None:
        """The distances (at most _LEV_CAP) of the strings near string ``me``."""
        raw, docs, mine, cap = self.docs[me], self.docs, self.gram_sets[me], _LEV_CAP
        n = len(raw)
        if n >= (cap + 1) * _GRAM:
            grams = self.grams
            found: set[int] = set()
            cuts = [n * p // (cap + 1) for p in range(cap + 2)]
            for start, stop in zip(cuts, cuts[1:]):
                piece = raw[start:stop]
                holders = min((grams[piece[j:j + _GRAM]] for j in range(len(piece) - _GRAM + 1)),
                              key=len)
                if len(holders) > _LEV_HOLDERS:
                    return None
                found.update(other for other in holders
                             if abs(len(docs[other]) - n) <= cap and piece in docs[other])
            candidates = [other for other in found
                          if other != me and len(mine - self.gram_sets[other]) <= _GRAM * cap]
        else:  # pieces shorter than a trigram: every string of about the same length
            candidates = [other for length in range(max(0, n - cap), n + cap + 1)
                          for other in self.by_length.get(length, ()) if other != me]
        if len(candidates) > _LEV_CANDIDATES:
            return None
        distances = [_bounded_distance(raw, docs[other], cap) for other in candidates]
        return [d for d in distances if d <= cap]


# --------------------------------------------------------------------------
# TF-IDF canopy searches without the weighted union
#
# dedupe's TF-IDF canopy search (``CanopyIndex.apply``) sums, for every
# document, query weight times document weight over the query's terms --
# zope's ``mass_weightedUnion`` of BTrees buckets, in C but one bucket merge
# per term -- and keeps the documents scoring at least ``|q| * threshold``:
# 2.3 s of 2,000 Toolformer rows' training.  :class:`_CosineTable` keeps the
# index's posting lists (as of its last ``initSearch``) as arrays and scores a
# query with one ``numpy.bincount``.  The union works in C floats: each term's
# weight is rounded to float32, the products and sums are float32, so its
# score of a document ``R`` differs from the float64 sum ``S`` of the same
# float32 weights by at most ``m`` float32 roundings of ``S`` for ``m`` query
# terms (all terms are positive).  A document whose ``S`` is further than
# that from the cut-off is kept or dropped exactly as the union would; if any
# document is nearer, the real search runs.  Which documents pass is all
# dedupe reads (canopy and search predicates take them as a set).

# Relative error allowed for a float32 score of m terms: (m + 2) float32 epsilons, twice the bound.
_F32_EPS = 2.0 ** -23


class _CosineTable:
    """One ``CanopyIndex``'s searchable posting lists as numpy arrays."""

    __slots__ = ("wids", "ids", "weights", "size", "last")

    def __init__(self, index: Any) -> None:
        wordinfo = index.index._wordinfo
        self.wids: dict[str, tuple[int, Any]] = dict(index._wids_dict)
        self.ids: dict[int, np.ndarray] = {}
        self.weights: dict[int, np.ndarray] = {}
        size = 0
        for wid, _idf in self.wids.values():
            docs = wordinfo[wid]
            ids = np.fromiter(docs.keys(), dtype=np.int64, count=len(docs))
            self.ids[wid] = ids
            self.weights[wid] = np.fromiter(docs.values(), dtype=np.float64, count=len(docs))
            if len(ids):
                size = max(size, int(ids.max()) + 1)
        self.size = size
        # The last query's terms, scores, relative error bound and norm.
        self.last: tuple[tuple, np.ndarray | None, float, float] | None = None

    def apply(self, query_list: Sequence[str], threshold: float) -> list[int] | None:
        """The ids ``CanopyIndex.apply(query_list, threshold)`` returns, in
        ascending order, or None when a score is too near the cut-off to tell."""
        if not threshold > 0:  # a zero cut-off keeps exactly the union's members: not handled
            return None
        terms = tuple(query_list)
        if self.last is None or self.last[0] != terms:  # each threshold asks the same in a row
            # The query weight exactly as CanopyIndex.apply computes it.
            wids, weights, qw = [], [], 0.0
            for term in terms:
                wid, weight = self.wids.get(term, (None, None))
                if wid is None:
                    continue
                wids.append(wid)
                weights.append(weight)
                qw += float.__pow__(weight, 2)
            scores = None
            if wids:
                w32 = np.asarray(weights, dtype=np.float32).astype(np.float64)  # the C weights
                ids = np.concatenate([self.ids[w] for w in wids])
                products = np.concatenate([self.weights[w] * q for w, q in zip(wids, w32)])
                scores = np.bincount(ids, weights=products, minlength=self.size)
            self.last = (terms, scores, (len(wids) + 2) * _F32_EPS, math.sqrt(qw))
        _, scores, rel, norm = self.last
        if scores is None:  # no searchable term: the union is empty
            return []
        min_value = norm * threshold
        keep = scores * (1 - rel) >= min_value
        if np.any((scores * (1 + rel) >= min_value) & ~keep):
            return None
        return np.flatnonzero(keep).tolist()


@contextlib.contextmanager
def _faster_searches(levenshtein: types.ModuleType, tfidf: types.ModuleType,
                     canopy_index: types.ModuleType) -> Iterator[None]:
    """Answer dedupe's Levenshtein and TF-IDF canopy searches the faster ways
    of the two sections above, falling back to dedupe's own search whenever
    they cannot tell; the classes are put back afterwards.

    Only an index made or (TF-IDF) readied for search while this is in force
    is answered: every string put in a Levenshtein trie then goes through
    ``index`` here and is recorded, and a TF-IDF table is read at
    ``initSearch`` and dropped by any later change to the index.  On leaving,
    or if ``unindex`` rebuilds a trie, the records stop answering."""
    patched: list[tuple[type, str, Any]] = []  # (class, name, own attribute or None)

    def patch(cls: type, name: str, make: Any) -> None:
        own = cls.__dict__.get(name)
        patched.append((cls, name, own))
        setattr(cls, name, make(getattr(cls, name)))

    records: list[_LevenshteinDocs] = []
    tables: list[Any] = []  # CanopyIndex objects given a table

    def lev_init(real: Any) -> Any:
        def __init__(self: Any) -> None:
            real(self)
            self._fast_docs = _LevenshteinDocs()
            records.append(self._fast_docs)
        return __init__

    def lev_index(real: Any) -> Any:
        def index(self: Any, doc: str) -> None:
            new = doc not in self._doc_to_id  # what the real method tests before adding
            real(self, doc)
            record = self.__dict__.get("_fast_docs")
            if new and record is not None:
                record.add(doc)
        return index

    def lev_unindex(real: Any) -> Any:
        def unindex(self: Any, doc: str) -> None:
            record = self.__dict__.get("_fast_docs")
            if record is not None:
                record.valid = False
            real(self, doc)
        return unindex

    def lev_search(real: Any) -> Any:
        def search(self: Any, doc: str, threshold: int = 0) -> list[int]:
            record = self.__dict__.get("_fast_docs")
            if record is not None and record.alone(doc, threshold):
                return [self._doc_to_id[doc]]
            return real(self, doc, threshold)
        return search

    def canopy_init_search(real: Any) -> Any:
        def initSearch(self: Any) -> None:
            self.__dict__.pop("_fast_table", None)
            real(self)
            self._fast_table = _CosineTable(self)
            tables.append(self)
        return initSearch

    def canopy_change(real: Any) -> Any:
        def change(self: Any, *args: Any, **kwargs: Any) -> Any:
            self.__dict__.pop("_fast_table", None)
            return real(self, *args, **kwargs)
        return change

    def tfidf_search(real: Any) -> Any:
        def search(self: Any, doc: Any, threshold: float = 0) -> list[int]:
            table = self._index.__dict__.get("_fast_table")
            if table is not None:
                query_list = self._parseTerms(doc)
                found = table.apply(query_list, threshold) if query_list else []
                if found is not None:
                    return found
            return real(self, doc, threshold)
        return search

    try:
        lev = levenshtein.LevenshteinIndex
        patch(lev, "__init__", lev_init)
        patch(lev, "index", lev_index)
        patch(lev, "unindex", lev_unindex)
        patch(lev, "search", lev_search)
        # The table reproduces _ByValue's cut-off (see _seeded_dedupe), used
        # when the union's result -- a bucket, or a posting list's BTree -- has
        # no byValue of its own.
        import BTrees  # dedupe's dependency: the family mass_weightedUnion works in

        if not any(hasattr(getattr(BTrees.family32.IF, kind), "byValue") for kind in ("Bucket", "BTree")):
            canopy = canopy_index.CanopyIndex
            patch(canopy, "initSearch", canopy_init_search)
            for name in ("index_doc", "unindex_doc", "clear"):
                patch(canopy, name, canopy_change)
            patch(tfidf.TfIdfIndex, "search", tfidf_search)
        yield
    finally:
        for cls, name, own in reversed(patched):
            if own is None:
                delattr(cls, name)
            else:
                setattr(cls, name, own)
        for record in records:
            record.valid = False
        for index in tables:
            index.__dict__.pop("_fast_table", None)


# dedupe's own layout of scored pairs (dedupe.core.scoreDuplicates, integer ids).
_SCORE_DTYPE = np.dtype([("pairs", np.int64, 2), ("score", "f4")])
_NO_SCORES = np.zeros(0, dtype=_SCORE_DTYPE)
# Bump when what is cached, or how it is computed, changes.
_CACHE_FORMAT = 1


def _plain_scores(scored: Any) -> np.ndarray:
    """dedupe's scores (a memory map of a temporary file) as an array in memory."""
    return np.array(scored, dtype=_SCORE_DTYPE) if len(scored) else _NO_SCORES


def cache_key(rows: Sequence[tuple], fields: Sequence[str], pairs: dict, seed: int) -> str:
    """sha256 of everything dedupe's scored pairs depend on.

    That is the compared values of every row in order (blocking rules are
    learnt from the rows and the blocked pairs are theirs), the labelled
    pairs as checked, the fields, the seed and the dedupe version; not the
    threshold, which only the clustering of the scores reads.
    """
    from importlib.metadata import PackageNotFoundError, version

    try:
        dedupe_version = version("dedupe")
    except PackageNotFoundError:
        dedupe_version = None
    digest = hashlib.sha256()
    head = {"format": _CACHE_FORMAT, "dedupe": dedupe_version, "fields": list(fields),
            "seed": seed, "pairs": {kind: pairs[kind] for kind in _KINDS}, "rows": len(rows)}
    digest.update(json.dumps(head, sort_keys=True).encode())
    for row in rows:
        digest.update(b"\n" + json.dumps(row).encode())
    return digest.hexdigest()


class _Cache:
    """One cache entry in ``folder/fuzzy``: ``KEY.scores.npy`` (dedupe's scored
    pairs) and ``KEY.t<threshold>.json`` (each threshold's clusters).

    Files are written to a temporary name and renamed, so a reader sees a
    whole file or none; an entry that cannot be read or does not fit the rows
    counts as absent and is recomputed.
    """

    def __init__(self, folder: Path, key: str) -> None:
        self.root = folder / "fuzzy"
        self.key = key

    def _path(self, suffix: str) -> Path:
        return self.root / f"{self.key}.{suffix}"

    def _write(self, path: Path, write: Any) -> None:
        try:
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
            with tmp.open("wb") as handle:
                write(handle)
            tmp.replace(path)
        except OSError as exc:  # a cache that cannot be written costs time, not results
            log.debug("fuzzy cache not written: %s", exc)

    def scored(self, n_rows: int) -> np.ndarray | None:
        """The cached scored pairs, or None."""
        try:
            scored = np.load(self._path("scores.npy"), allow_pickle=False)
        except (OSError, ValueError) as exc:
            log.debug("fuzzy cache: no scored pairs (%s)", exc)
            return None
        ids, score = (scored["pairs"], scored["score"]) if scored.dtype == _SCORE_DTYPE else (None, None)
        if ids is None or scored.ndim != 1 or (len(scored) and not (
                (ids[:, 0] >= 0).all() and (ids[:, 0] < ids[:, 1]).all() and (ids[:, 1] < n_rows).all()
                and ((score >= 0) & (score <= 1)).all())):
            log.debug("fuzzy cache: scored pairs do not fit the rows; recomputing")
            return None
        log.debug("fuzzy cache: %d scored pairs from %s", len(scored), self._path("scores.npy"))
        return scored

    def save_scored(self, scored: np.ndarray) -> None:
        self._write(self._path("scores.npy"), lambda f: np.save(f, scored, allow_pickle=False))

    def _result_path(self, threshold: float) -> Path:
        return self._path(f"t{float(threshold)!r}.json")

    def result(self, threshold: float, n_rows: int) -> tuple[list[int], list[float], int] | None:
        """The cached clusters for ``threshold``, or None."""
        try:
            got = json.loads(self._result_path(threshold).read_text(encoding="utf-8"))
            cluster, scores, used = got["cluster"], got["scores"], got["pairs_used"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            log.debug("fuzzy cache: no clusters for threshold %r (%s)", threshold, exc)
            return None
        fits = (
            isinstance(cluster, list) and isinstance(scores, list) and isinstance(used, int)
            and len(cluster) == len(scores) == n_rows
            and all(type(c) is int and 0 <= c <= i and cluster[c] == c for i, c in enumerate(cluster))
            and all(type(v) is float and 0.0 <= v <= 1.0 for v in scores)
        )
        if not fits:
            log.debug("fuzzy cache: clusters do not fit the rows; recomputing")
            return None
        return cluster, scores, used

    def save_result(self, threshold: float, cluster: list[int], scores: list[float], used: int) -> None:
        body = json.dumps({"cluster": cluster, "scores": scores, "pairs_used": used}).encode()
        self._write(self._result_path(threshold), lambda f: f.write(body))


class _NumpySeededRng:
    """Stands in for numpy inside ``dedupe.labeler``, whose
    ``numpy.random.default_rng()`` is otherwise seeded from the OS."""

    def __init__(self, seed: int) -> None:
        self.random = types.SimpleNamespace(default_rng=lambda *_: np.random.default_rng(seed))

    def __getattr__(self, name: str) -> Any:
        return getattr(np, name)


# Weighted unions kept by _seeded_dedupe: a few TF-IDF indexes' worth of one record's queries.
_RECENT_UNIONS = 8


class _ByValue:
    """A BTrees bucket with the ``byValue`` method that BTrees 6.5 removed from
    the float-valued families and dedupe 3.0.3's canopy index still calls
    (dedupeio/dedupe#1230).  Its callers only use the keys, in no particular
    order, so scaling and order of the pairs need not match the old method.

    The bucket is read once into arrays, since the same union is filtered at
    each canopy threshold in turn (see ``_seeded_dedupe``).  The values are
    C floats compared as Python floats before; float64 arrays compare them
    the same way (a float32 array would round the threshold instead)."""

    def __init__(self, bucket: Any) -> None:
        self._keys = np.fromiter(bucket.keys(), dtype=np.int64)
        self._values = np.fromiter(bucket.values(), dtype=np.float64)

    def byValue(self, min_value: float) -> list[tuple[float, int]]:
        keep = self._values >= min_value
        return list(zip(self._values[keep].tolist(), self._keys[keep].tolist()))


@contextlib.contextmanager
def _seeded_dedupe(seed: int, labeler: types.ModuleType, canopy_index: types.ModuleType
                   ) -> Iterator[None]:
    """Seed everything dedupe draws random numbers from, and mend its canopy
    index for BTrees >= 6.5; global state is put back afterwards.

    dedupe has one TF-IDF canopy predicate per threshold (0.2 to 0.8), all
    searching one index, and record by record (as dedupe blocks, and as
    :func:`_covered_pairs` learns) they ask it the same query in a row: the
    last few queries' weighted unions -- the costly part of a search -- are
    kept and reused.  The key is the query's (posting list, weight) pairs, by
    the posting lists' identity; the entry holds the lists, so no other list
    can take their id while it is kept."""
    py_state, np_state = random.getstate(), np.random.get_state()
    real_numpy, real_union = labeler.numpy, canopy_index.mass_weightedUnion
    recent: dict[tuple, tuple[list, Any]] = {}  # key -> (posting lists, union), oldest first

    def union(weighted: Any) -> Any:
        key = tuple((id(docs), weight) for docs, weight in weighted)
        if key not in recent:
            if len(recent) >= _RECENT_UNIONS:
                del recent[next(iter(recent))]
            merged = real_union(weighted)
            recent[key] = ([docs for docs, _ in weighted],
                           merged if hasattr(merged, "byValue") else _ByValue(merged))
        return recent[key][1]

    random.seed(seed)
    np.random.seed(seed)
    labeler.numpy = _NumpySeededRng(seed)
    canopy_index.mass_weightedUnion = union
    try:
        yield
    finally:
        labeler.numpy, canopy_index.mass_weightedUnion = real_numpy, real_union
        random.setstate(py_state)
        np.random.set_state(np_state)


class _RelayToDebug(logging.Handler):
    def emit(self, record: logging.LogRecord) -> None:
        try:
            log.debug("dedupe: %s", record.getMessage())
        except Exception:
            self.handleError(record)


@contextlib.contextmanager
def _quiet_dedupe() -> Iterator[None]:
    """Send dedupe's logging and any warnings to this module's DEBUG log."""
    dlog = logging.getLogger("dedupe")
    saved = (dlog.handlers[:], dlog.propagate, dlog.level)
    dlog.handlers = [_RelayToDebug()]
    dlog.propagate = False
    # Below DEBUG nobody listens, so let dedupe skip building the records.
    dlog.setLevel(logging.DEBUG if log.isEnabledFor(logging.DEBUG) else logging.CRITICAL + 1)
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            yield
    finally:
        dlog.handlers, dlog.propagate, _ = saved
        dlog.setLevel(saved[2])
        for w in caught:
            log.debug("warning during fuzzy dedupe: %s: %s", w.category.__name__, w.message)


# --------------------------------------------------------------------------
# Child interpreter with PYTHONHASHSEED=0

_CHILD = "from dsc.kernels.fuzzy import _child_main; _child_main()"


def _cluster_in_child(job: tuple) -> tuple[list[int], list[float], int]:
    package_root = str(Path(__file__).resolve().parents[2])
    env = dict(os.environ, PYTHONHASHSEED="0")
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    if log.isEnabledFor(logging.DEBUG):
        env["DSC_FUZZY_DEBUG"] = "1"
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD], input=pickle.dumps(job), capture_output=True, env=env
    )
    for line in proc.stderr.decode("utf-8", "replace").splitlines():
        log.debug("child: %s", line)
    try:
        status, *payload = pickle.loads(proc.stdout)
    except Exception:
        tail = proc.stderr.decode("utf-8", "replace")[-2000:]
        raise RuntimeError(
            f"fuzzy de-duplication child process failed (exit {proc.returncode}):\n{tail}"
        ) from None
    if status == "ok":
        return tuple(payload)
    if status == "fuzzy":
        raise FuzzyError(payload[0])
    if status == "import":
        raise ImportError(payload[0])
    raise RuntimeError(f"fuzzy de-duplication failed in child process:\n{payload[0]}")


def _child_main() -> None:
    """Entry point of the child: job on stdin, plain-data result on stdout."""
    # dedupe imports haversine (for LatLong fields, never used here), which
    # imports and applies numba when it can: 0.3 s of this process's start-up
    # for nothing, as nothing here is compiled.  Without numba haversine uses
    # plain math; dedupe, scikit-learn and scipy never import it.
    sys.modules.setdefault("numba", None)
    # Keep the real stdout for the result; anything else printed goes to stderr.
    out = os.fdopen(os.dup(1), "wb")
    os.dup2(2, 1)
    if os.environ.get("DSC_FUZZY_DEBUG"):
        handler = logging.StreamHandler(sys.stderr)
        handler.setFormatter(logging.Formatter("%(message)s"))
        log.addHandler(handler)
        log.setLevel(logging.DEBUG)
    try:
        result: tuple = ("ok", *_cluster(*pickle.load(sys.stdin.buffer)))
    except FuzzyError as exc:
        result = ("fuzzy", str(exc))
    except ImportError as exc:
        result = ("import", str(exc))
    except Exception:
        result = ("error", traceback.format_exc())
    with out:
        pickle.dump(result, out)
