"""Reading annotation files: long format (jsonl / csv) and Label Studio's JSON export.

Every good record becomes an `Annotation`; every bad one becomes a `Problem` that says where
it is and why it was not used, so a file with gaps is reported, never half-read in silence.
A file that cannot be read at all (missing, empty, not UTF-8, not the format named) raises
`AnnotationFileError`, whose message is for people.

**Long format** — one record per (item, annotator), as JSON lines (`.jsonl`, `.ndjson`), a JSON
array of objects (`.json`) or CSV with a header (`.csv`, `.tsv`):

    item        the row it labels: the row's `_dsc_id` (the source `key` value, or the content id)
    annotator   who gave the label
    label       the label, one value
    role        optional: the annotator's role, e.g. domain_expert
    field       optional: which annotated column the record is about; records for another
                field are skipped, so one file can carry several fields

Other columns are ignored.

**Label Studio** — the JSON export (a list of tasks). A task's item id is `data._dsc_id`
(what `dsc.annotation.tasks` writes into the import file), each entry of `annotations` is one
annotator's work, `completed_by` names the annotator (a user id, or the user object of
older exports: its `email`, else its `id`), and the label is read from `result[].value` by
the result's type: `choices`, `rating`, `number`, `textarea` (`text`), or a region's
`labels` (`rectanglelabels`, …). When results come from several controls, the one whose
`from_name` is the field is used. Cancelled (skipped) annotations and model
`predictions` are not labels.

**Roster** — an optional file beside the annotation file, named after it with
`.annotators.jsonl` or `.annotators.csv` (`category.jsonl` → `category.annotators.csv`),
lists every annotator with a `role`. With a roster, an annotator who is not on it is
unknown and their records are rejected; a record without a role takes the roster's.
Label Studio exports carry no roles, so a roster is how they name their experts.
"""
from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsc.diagnostics import did_you_mean
from dsc.errors import DscError
from dsc.io.rowids import key_id
from dsc.reserved import ID

LONG_SUFFIXES = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv"}
ROSTER_SUFFIXES = (".annotators.jsonl", ".annotators.csv")
# Label Studio result types whose value holds a label under another key than the type's name.
LS_VALUE_KEY = {"textarea": "text"}
# Without a type, where to look; `text` is left out because a region's `text` is the span itself.
LS_FALLBACK_KEYS = ("choices", "rating", "number")


class AnnotationFileError(DscError):
    """An annotation file that cannot be read at all; the message says which and why."""

    default_code = "DSC304"


@dataclass(frozen=True)
class Annotation:
    """One annotator's label for one item, and where in the file it came from."""

    item: str
    annotator: str
    label: str
    role: str | None = None
    source: str = ""


@dataclass(frozen=True)
class Problem:
    """A record that was not used, with its place in the file and the reason."""

    source: str
    reason: str
    item: str | None = None

    def as_dict(self) -> dict[str, Any]:
        return {"source": self.source, "item": self.item, "reason": self.reason}


@dataclass(frozen=True)
class Ingested:
    """The usable annotations of a file (file order) and the records that were not usable."""

    annotations: tuple[Annotation, ...]
    problems: tuple[Problem, ...]
    records: int


def read_annotations(path: Path, fmt: str = "long", field: str | None = None,
                     labels: list[str] | None = None) -> Ingested:
    """Read `path` in format `long` or `label_studio`; check labels against `labels` when given.

    Repeated (item, annotator) pairs keep one record when label and role match and none when
    they differ — a person who said two things about one item has not said which they meant.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.jsonl"
    >>> _ = p.write_text('{"item": "t1", "annotator": "ann", "label": "bug"}\\n'
    ...                  '{"item": "t1", "annotator": "bob", "label": "bugg"}\\n')
    >>> got = read_annotations(p, labels=["bug", "billing"])
    >>> [a.annotator for a in got.annotations], got.problems[0].reason
    (['ann'], "label 'bugg' is not one of {bug, billing}: did you mean 'bug'?")
    """
    if fmt not in ("long", "label_studio"):
        raise AnnotationFileError(f"unknown annotation format '{fmt}' (use long or label_studio)")
    text = _text(path)
    if fmt == "long":
        parsed = [_long_record(rec, where, field) for rec, where in _long_records(text, path)]
    else:
        parsed = list(_ls_records(text, path, field))
    if not parsed:
        raise AnnotationFileError(f"annotation file '{path}' has no annotation records")
    roster = read_roster(path)
    allowed = list(labels) if labels is not None else None
    good: list[tuple[int, Annotation]] = []
    problems: list[tuple[int, Problem]] = []
    for index, result in enumerate(parsed):
        if result is None:
            continue  # a record about another field
        if not isinstance(result, Problem):
            result = _check(result, allowed, roster)
        (problems if isinstance(result, Problem) else good).append((index, result))
    kept, repeats = _dedupe(good)
    return Ingested(tuple(kept), tuple(p for _, p in sorted(problems + repeats, key=lambda x: x[0])),
                    len(parsed))


def roster_path(path: Path) -> Path | None:
    """The roster file beside `path`, if there is one (`x.jsonl` → `x.annotators.jsonl|csv`)."""
    stem = path.name[: -len(path.suffix)] if path.suffix else path.name
    for suffix in ROSTER_SUFFIXES:
        candidate = path.with_name(stem + suffix)
        if candidate.is_file():
            return candidate
    return None


def read_roster(path: Path) -> dict[str, str | None] | None:
    """annotator → role from the roster beside `path`, or None when there is no roster."""
    found = roster_path(path)
    if found is None:
        return None
    roster: dict[str, str | None] = {}
    for rec, where in _long_records(_text(found), found, required=("annotator",)):
        if isinstance(rec, Problem) or not isinstance(rec, dict) or _scalar(rec.get("annotator")) is None:
            raise AnnotationFileError(f"roster {where}: each record needs an 'annotator' (and a 'role')")
        roster[_scalar(rec["annotator"])] = _scalar(rec.get("role"))
    return roster


# ── file text and records ──────────────────────────────────────────────────────────────
def _text(path: Path) -> str:
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise AnnotationFileError(f"annotation file '{path}' does not exist") from None
    except OSError as err:
        raise AnnotationFileError(f"cannot read annotation file '{path}': {err.strerror}") from None
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise AnnotationFileError(f"annotation file '{path}' is not UTF-8 (byte {err.start})") from None
    if not text.strip():
        raise AnnotationFileError(f"annotation file '{path}' is empty")
    return text


def _long_records(text: str, path: Path, required: tuple[str, ...] = ("item", "annotator", "label"),
                  ) -> Iterator[tuple[Any, str]]:
    """(record or Problem, 'file:line') for each record of a long-format file."""
    kind = LONG_SUFFIXES.get(path.suffix.lower())
    name = path.name
    if kind is None:
        raise AnnotationFileError(f"cannot tell the layout of '{path}' from its extension; "
                                  f"use one of {', '.join(LONG_SUFFIXES)}")
    if kind == "jsonl":
        for number, line in enumerate(text.splitlines(), 1):
            if not line.strip():
                continue
            where = f"{name}:{number}"
            try:
                yield json.loads(line), where
            except json.JSONDecodeError as err:
                yield Problem(where, f"not valid JSON ({err.msg} at column {err.colno})"), where
    elif kind == "json":
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise AnnotationFileError(f"'{path}' is not valid JSON ({err.msg} at line {err.lineno})") from None
        if not isinstance(data, list):
            raise AnnotationFileError(f"'{path}' must hold a JSON array of annotation records")
        yield from ((rec, f"{name}#{i}") for i, rec in enumerate(data))
    else:
        reader = csv.DictReader(io.StringIO(text, newline=""), delimiter="," if kind == "csv" else "\t")
        header = reader.fieldnames or []
        lacking = [c for c in required if c not in header]
        if lacking:
            raise AnnotationFileError(f"'{path}' has no {', '.join(repr(c) for c in lacking)} column "
                                      f"(columns: {', '.join(header) or 'none'})")
        for rec in reader:
            # the reader's line_num is the line the record ends on; records are one line here
            yield {k: v for k, v in rec.items() if k is not None}, f"{name}:{reader.line_num}"


def _long_record(rec: Any, where: str, field: str | None) -> Annotation | Problem | None:
    if isinstance(rec, Problem):
        return rec
    if not isinstance(rec, dict):
        return Problem(where, f"a record must be an object, not {type(rec).__name__}")
    if field is not None and _scalar(rec.get("field")) not in (None, field):
        return None
    item = _item(rec.get("item"))
    if item is None:
        return Problem(where, "no item id")
    annotator = _scalar(rec.get("annotator"))
    if annotator is None:
        return Problem(where, "no annotator (unknown annotator)", item)
    if isinstance(rec.get("label"), (list, dict)):
        return Problem(where, "the label must be one value, not a list or an object", item)
    label = _scalar(rec.get("label"))
    if label is None:
        return Problem(where, "no label", item)
    return Annotation(item, annotator, label, _scalar(rec.get("role")), where)


def _ls_records(text: str, path: Path, field: str | None) -> Iterator[Annotation | Problem]:
    name = path.name
    try:
        tasks = json.loads(text)
    except json.JSONDecodeError as err:
        raise AnnotationFileError(f"'{path}' is not valid JSON ({err.msg} at line {err.lineno})") from None
    if isinstance(tasks, dict):
        tasks = [tasks]  # a single-task export
    if not isinstance(tasks, list):
        raise AnnotationFileError(f"'{path}' is not a Label Studio JSON export (expected a list of tasks)")
    for index, task in enumerate(tasks):
        if not isinstance(task, dict):
            yield Problem(f"{name} task #{index}", "a task must be an object")
            continue
        where = f"{name} task {task.get('id', '#' + str(index))}"
        data = task.get("data") if isinstance(task.get("data"), dict) else {}
        item = _item(data.get(ID))
        annotations = task.get("annotations") or []
        if item is None:
            if annotations:
                yield Problem(where, f"no data.{ID} to join the task to a row")
            continue
        for n, ann in enumerate(annotations if isinstance(annotations, list) else []):
            place = f"{where} annotation {ann.get('id', n) if isinstance(ann, dict) else n}"
            yield _ls_annotation(ann, item, place, field)


def _ls_annotation(ann: Any, item: str, where: str, field: str | None) -> Annotation | Problem:
    if not isinstance(ann, dict):
        return Problem(where, "an annotation must be an object", item)
    if ann.get("was_cancelled"):
        return Problem(where, "the annotation was cancelled (skipped) in Label Studio", item)
    who = ann.get("completed_by")
    if isinstance(who, dict):
        who = who.get("email") or who.get("id")
    annotator = _scalar(who)
    if annotator is None:
        return Problem(where, "no completed_by (unknown annotator)", item)
    results = [r for r in ann.get("result") or [] if isinstance(r, dict)]
    names = sorted({str(r.get("from_name")) for r in results})
    if field is not None and field in names:
        results = [r for r in results if r.get("from_name") == field]
    elif len(names) > 1:
        wanted = f"none is named '{field}'" if field else "name the field to choose one"
        return Problem(where, f"results come from several controls ({', '.join(names)}); {wanted}", item)
    found: list[str] = []
    for result in results:
        value = result.get("value") if isinstance(result.get("value"), dict) else {}
        key = _ls_key(str(result.get("type", "")), value)
        if key is not None:
            got = value[key] if isinstance(value[key], list) else [value[key]]
            found += [t for t in (_scalar(v) for v in got) if t is not None]
    distinct = sorted(set(found))
    if not distinct:
        return Problem(where, "no label in the annotation's result", item)
    if len(distinct) > 1:
        return Problem(where, f"several labels ({', '.join(distinct)}); a label column takes one", item)
    return Annotation(item, annotator, distinct[0], None, where)


def _ls_key(kind: str, value: dict[str, Any]) -> str | None:
    """Which key of a result's value holds its label: the result type names it.

    >>> _ls_key("labels", {"start": 0, "text": "Paris", "labels": ["LOC"]}), _ls_key("textarea", {"text": ["x"]})
    ('labels', 'text')
    """
    key = LS_VALUE_KEY.get(kind, kind)
    if key and key in value:
        return key
    found = [k for k in LS_FALLBACK_KEYS if k in value] + sorted(k for k in value if k.endswith("labels"))
    return found[0] if found else None


# ── values, checks, repeats ────────────────────────────────────────────────────────────
def _scalar(value: Any) -> str | None:
    """A label, name or role as text: strings stripped, numbers exact; empty and null are none.

    >>> _scalar(" bug "), _scalar(3), _scalar(3.0), _scalar(2.5), _scalar(True), _scalar(""), _scalar(None)
    ('bug', '3', '3', '2.5', 'true', None, None)
    """
    if value is None or isinstance(value, (list, dict)):
        return None
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text or None


def _item(value: Any) -> str | None:
    """An item id spelt as the row id of a key column with that value (see `dsc.io.rowids`)."""
    if value is None or isinstance(value, (list, dict)) or (isinstance(value, str) and not value.strip()):
        return None
    return key_id([value.strip() if isinstance(value, str) else value])


def _check(ann: Annotation, allowed: list[str] | None, roster: dict[str, str | None] | None):
    if allowed is not None and ann.label not in allowed:
        hint = did_you_mean(ann.label, allowed)
        return Problem(ann.source, f"label '{ann.label}' is not one of {{{', '.join(allowed)}}}"
                       + (f": {hint}" if hint else ""), ann.item)
    if roster is None:
        return ann
    if ann.annotator not in roster:
        return Problem(ann.source, f"unknown annotator '{ann.annotator}' (not on the roster)", ann.item)
    listed = roster[ann.annotator]
    if ann.role is not None and listed is not None and ann.role != listed:
        return Problem(ann.source, f"role '{ann.role}' contradicts the roster, which lists "
                                   f"'{ann.annotator}' as '{listed}'", ann.item)
    return Annotation(ann.item, ann.annotator, ann.label, ann.role or listed, ann.source)


def _dedupe(annotations: list[tuple[int, Annotation]]):
    """Keep one record per (item, annotator); report the rest with their file positions."""
    groups: dict[tuple[str, str], list[Annotation]] = {}
    for _, ann in annotations:
        groups.setdefault((ann.item, ann.annotator), []).append(ann)
    kept: list[Annotation] = []
    problems: list[tuple[int, Problem]] = []
    for index, ann in annotations:
        group = groups[(ann.item, ann.annotator)]
        labels = sorted({a.label for a in group})
        roles = sorted({a.role or "no role" for a in group})
        if len(labels) > 1:
            problems.append((index, Problem(ann.source, f"annotator '{ann.annotator}' gave item '{ann.item}' "
                                                        f"different labels ({', '.join(labels)}); none is used",
                                            ann.item)))
        elif len(roles) > 1:
            # which record is first must not decide whether this is an expert's label
            problems.append((index, Problem(ann.source, f"annotator '{ann.annotator}' labelled item '{ann.item}' "
                                                        f"under different roles ({', '.join(roles)}); none is used",
                                            ann.item)))
        elif ann is group[0]:
            kept.append(ann)
        else:
            problems.append((index, Problem(ann.source, f"repeats the label annotator '{ann.annotator}' gave item "
                                                        f"'{ann.item}' (counted once)", ann.item)))
    return kept, problems
