"""Task files: the items still short of annotators or experts, ready to be sent out.

The `tasks` path of an annotate block names one file; both forms are written:

- **jsonl** (a path not ending in `.json`): one line per item —
  `{"item", "field", "annotators": {"have", "need"}, "experts": {"role", "have", "need"},
  "annotated_by", "data"}`, `data` being the row's columns.
- **Label Studio import** (a path ending in `.json`): a JSON list of tasks
  `{"data": {"_dsc_id": item, …row columns}, "meta": {…the same counts…}}`. Label Studio
  keeps `data` in its export, so an export of these tasks joins back to the rows by
  `data._dsc_id` (see `dsc.annotation.ingest`).

The other form goes beside it with the suffix swapped (`todo.jsonl` ↔ `todo.json`,
`dsc.engines.layout.task_files`, which `dsc check` and the run's output checks use too). Items
appear in row order; an empty list still writes both files, so a stale list never lingers. In a
run they are written to the staging folder and put in place, and in the manifest, with the run's
other outputs (`dsc.engines.outputs`).
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dsc.engines.layout import task_files
from dsc.io.rowids import row_json
from dsc.reserved import ID


@dataclass(frozen=True)
class Task:
    """An item short of labels: what it has, what it needs, and the row to show."""

    item: str
    field: str
    have: int
    need: int
    experts_have: int
    experts_need: int
    expert_role: str | None
    annotated_by: tuple[str, ...]
    data: dict[str, Any]

    def counts(self) -> dict[str, Any]:
        return {"annotators": {"have": self.have, "need": self.need},
                "experts": {"role": self.expert_role, "have": self.experts_have, "need": self.experts_need},
                "annotated_by": list(self.annotated_by)}


def jsonl_text(tasks: list[Task]) -> str:
    """The jsonl form, one task per line.

    >>> t = Task("t1", "category", 1, 3, 0, 1, "expert", ("ann",), {"prompt": "hi"})
    >>> line = json.loads(jsonl_text([t]))
    >>> line["item"], line["annotators"], line["experts"], line["data"]
    ('t1', {'have': 1, 'need': 3}, {'role': 'expert', 'have': 0, 'need': 1}, {'prompt': 'hi'})
    """
    lines = [json.dumps({"item": t.item, "field": t.field, **t.counts(), "data": _plain(t.data)},
                        ensure_ascii=False) for t in tasks]
    return "".join(line + "\n" for line in lines)


def label_studio_text(tasks: list[Task]) -> str:
    """The Label Studio import form: a JSON list of tasks with `data` and `meta`.

    >>> t = Task("t1", "category", 1, 3, 0, 0, None, (), {"prompt": "hi"})
    >>> json.loads(label_studio_text([t]))[0]["data"]
    {'_dsc_id': 't1', 'prompt': 'hi'}
    """
    body = [{"data": {ID: t.item, **_plain(t.data)}, "meta": {"dsc_field": t.field, **t.counts()}}
            for t in tasks]
    return json.dumps(body, ensure_ascii=False, indent=2) + "\n"


def write_tasks(tasks: list[Task], path: Path) -> list[Path]:
    """Write `tasks` to `path` in the form its suffix names, and the other form beside it.

    Returns the two paths, the declared one first."""
    other = path.with_name(task_files(path.name)[1])
    path.parent.mkdir(parents=True, exist_ok=True)
    for target in (path, other):
        text = label_studio_text(tasks) if target.suffix == ".json" else jsonl_text(tasks)
        tmp = target.with_name(f".{target.name}.tmp")
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(target)
    return [path, other]


def _plain(data: dict[str, Any]) -> dict[str, Any]:
    """Row values as plain JSON (dates, decimals and bytes spelt as rejects spell them)."""
    return json.loads(row_json(data))
