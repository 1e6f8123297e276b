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
    Training is most of the cost (on 2,000 Toolformer rows 26 s of 33 s
    under cProfile: dedupe samples and covers record pairs of the data to
    learn its blocking rules), then blocking and scoring the blocked pairs
    (4 s; ``python -m bench.bench_fuzzy``).  dedupe
    already compares only rows that share a blocking key, never all pairs.
    The learnt blocking rules depend on the rows as well as on the labelled
    pairs, so a model trained on other rows would block other pairs and could
    give other clusters: nothing trained is reused across different rows.
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
import hashlib
import itertools
import json
import logging
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
            job = (rows, fields, checked, float(threshold), seed, scored)
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
    scored: np.ndarray | None = None,
) -> tuple[list[int], list[float], int, np.ndarray | None]:
    """Train dedupe and cluster two or more non-empty rows; reproducible only
    under ``PYTHONHASHSEED=0``.

    ``scored``: the scored pairs of an earlier call with the same rows, pairs,
    fields and seed (from the cache), which skips training and scoring.
    Returns the clusters, confidences, labelled pairs used, and the scored
    pairs as a plain array (None when they were given)."""
    cluster = list(range(len(rows)))
    scores = [1.0] * len(rows)
    data = {i: {f: _comparable(v) for f, v in zip(fields, row)}
            for i, row in enumerate(rows) if any(v is not None for v in row)}
    pairs = {kind: [tuple({f: _comparable(v) for f, v in rec.items()} for rec in pair)
                    for pair in pairs[kind]]
             for kind in _KINDS}

    try:
        import dedupe
        import dedupe.canopy_index
        import dedupe.clustering
        import dedupe.core
        import dedupe.labeler
    except ImportError as exc:
        raise ImportError("fuzzy de-duplication needs dedupe: pip install 'dsc[fuzzy]'") from exc

    given = scored is not None
    with _quiet_dedupe(), _seeded_dedupe(seed, dedupe.labeler, dedupe.canopy_index):
        if not given:
            deduper = _train(dedupe, data, pairs, fields)
            try:
                scored = deduper.score(deduper.pairs(data))
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


def _train(dedupe: types.ModuleType, data: dict, pairs: dict, fields: tuple[str, ...]) -> Any:
    """A ``dedupe.Dedupe`` trained on ``pairs``, or FuzzyError if it learns nothing."""
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
        # Fit the pair classifier first, as train() will again: cheap, and it
        # lets a useless model fail before the costly blocking-rule learning.
        _check_classifier_learns(deduper, pairs, fields)
        deduper.prepare_training(_training_sample(data, labelled))
        deduper.train(recall=1.0, index_predicates=True)
    except (ValueError, AssertionError, UserWarning) as exc:
        log.debug("dedupe training failed", exc_info=True)
        raise FuzzyError(f"dedupe could not train on the labelled pairs: {exc}") from None
    return deduper


def _check_classifier_learns(deduper: Any, pairs: dict, fields: tuple[str, ...]) -> None:
    # dedupe happily fits a model that cannot tell the labels apart, then
    # gives every pair of rows about the same score near 0.5, which at the
    # default threshold merges most of the data.  Refuse such a model: on its
    # own labelled pairs it must beat always answering the commoner label.
    examples = pairs["match"] + pairs["distinct"]
    is_match = np.array([True] * len(pairs["match"]) + [False] * len(pairs["distinct"]))
    features = deduper.data_model.distances(examples)
    deduper.classifier.fit(features, is_match)
    predicted = deduper.classifier.predict_proba(features)[:, 1] > 0.5
    right = int((predicted == is_match).sum())
    commoner = "match" if len(pairs["match"]) >= len(pairs["distinct"]) else "distinct"
    if right <= len(pairs[commoner]):
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


class _ByValue:
    """A BTrees bucket with the ``byValue`` method that BTrees 6.5 removed from
    the float-valued families and dedupe 3.0.3's canopy index still calls
    (dedupeio/dedupe#1230).  Its callers only use the keys, in no particular
    order, so scaling and order of the pairs need not match the old method."""

    def __init__(self, bucket: Any) -> None:
        self._bucket = bucket

    def byValue(self, min_value: float) -> list[tuple[float, int]]:
        return sorted(((v, k) for k, v in self._bucket.items() if v >= min_value), reverse=True)


@contextlib.contextmanager
def _seeded_dedupe(seed: int, labeler: types.ModuleType, canopy_index: types.ModuleType
                   ) -> Iterator[None]:
    """Seed everything dedupe draws random numbers from, and mend its canopy
    index for BTrees >= 6.5; global state is put back afterwards."""
    py_state, np_state = random.getstate(), np.random.get_state()
    real_numpy, real_union = labeler.numpy, canopy_index.mass_weightedUnion

    def union(*args: Any) -> Any:
        merged = real_union(*args)
        return merged if hasattr(merged, "byValue") else _ByValue(merged)

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
