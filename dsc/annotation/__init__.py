"""Annotation quality: read annotations, measure agreement, resolve labels, export missing work.

The engine calls one function per `annotate FIELD { … }` block, after the clean rules and
before the split:

    outcome = apply_annotations(table, plan.annotations[i], base_dir, labels, tasks_dir=folder.staging)

where `labels` are the allowed values the schema declares for FIELD (None without one) and
task files go to the run's staging folder, to be put in place with its other outputs
(`dsc.engines.outputs`).
`outcome.as_outcome()` is the stage's rows kept and removed; `outcome.stats` goes to the
report; `outcome.failed`, when set, fails the run (exit 3) with that message.

`file_agreement` measures a file on its own, for `dsc agreement FILE`.

Modules: `ingest` (long format, Label Studio export, roster), `metrics` (coefficients and
per-item agreement), `resolve` (label resolution), `tasks` (task files), `apply` (the
rules, row by row), `summary` (the stats).
"""
from __future__ import annotations

from pathlib import Path

from dsc.annotation.apply import AnnotationOutcome, apply_annotations
from dsc.annotation.ingest import AnnotationFileError, Ingested, read_annotations
from dsc.annotation.metrics import Agreement, MetricError, agreement

__all__ = ["AnnotationFileError", "AnnotationOutcome", "Agreement", "MetricError", "apply_annotations",
           "file_agreement"]


def file_agreement(path: Path, fmt: str = "long", field: str | None = None, metric: str = "krippendorff",
                   level: str | None = None, labels: list[str] | None = None) -> tuple[Agreement, Ingested]:
    """The agreement of an annotation file on its own (every item in it counts).

    Raises `AnnotationFileError` for an unreadable file and `MetricError` when the metric
    cannot apply to its labels. `Agreement.as_dict()` is what `dsc agreement --json` prints.

    >>> import tempfile
    >>> p = Path(tempfile.mkdtemp()) / "a.csv"
    >>> _ = p.write_text("item,annotator,label\\n1,a,x\\n1,b,x\\n2,a,y\\n2,b,x\\n")
    >>> found, _ = file_agreement(p, metric="percent")
    >>> found.as_dict()
    {'metric': 'percent', 'level': None, 'value': 0.5, 'items': 2, 'annotators': 2, 'reason': None}
    """
    ingested = read_annotations(path, fmt, field, labels)
    units: dict[str, dict[str, str]] = {}
    for ann in ingested.annotations:
        units.setdefault(ann.item, {})[ann.annotator] = ann.label
    return agreement(units, metric, level, labels), ingested
