"""The run report, built from saved data (stats first, rendering second).

`summary_table(manifest)` is the short rich table `dsc run` prints. `render_report(stats)` turns
the stats a run saved (`stats.json`) into `report.md` — Markdown for a pull-request comment —
and `report.html` — one self-contained page (inline CSS, charts as inline SVG, no scripts, no
external assets). `rerender(out_dir)` does it again for a finished run (`dsc report DIR`).
The templates are `dsc/templates/report.md.j2` and `report.html.j2`; they only format, every
number comes from the stats.
"""
from __future__ import annotations

import json
from functools import lru_cache
from pathlib import Path

from rich.markup import escape
from rich.table import Table

TEMPLATES = Path(__file__).parent / "templates"
# Characters that start Markdown syntax inside a line (backslash first: it escapes the others).
_MARKDOWN = frozenset("\\`*_[]!|~")


def summary_table(manifest: dict) -> Table:
    """A rich table: one row per stage with rows in/out and removed, then the totals."""
    counts = manifest["counts"]
    title = (f"{manifest['dataset']['name']} — {counts['input']} rows in, {counts['kept']} kept, "
             f"{counts['rejected']} rejected ({manifest['plan_fingerprint'][:19]})")
    table = Table(title=escape(title), title_justify="left")
    table.add_column("rule", overflow="fold")
    for name in ("line", "in", "out", "removed", "share", "flagged"):
        table.add_column(name, justify="right")
    for rule in manifest["rules"]:
        share = f"{100 * rule['removed'] / rule['rows_in']:.1f}%" if rule["rows_in"] else "-"
        table.add_row(escape(rule["id"]), str(rule["line"] or ""), str(rule["rows_in"]), str(rule["rows_out"]),
                      str(rule["removed"]), share, str(rule["flagged"] or ""))
    return table


def render_report(stats: dict) -> tuple[str, str]:
    """The Markdown and the HTML report of a run's stats.

    >>> md, html = render_report({"dataset": {"name": "demo", "version": "1"}, "plan_fingerprint": "sha256:ab",
    ...     "counts": {"input": 4, "kept": 3, "rejected": 1, "flagged": 0}, "rules": [], "gates": []})
    >>> md.splitlines()[0], "<svg" in html, "http" in html.replace("http://www.w3.org/2000/svg", "")
    ('## demo v1 — dsc report', True, False)
    """
    full = _defaults(stats)
    return _env(False).get_template("report.md.j2").render(s=full), \
        _env(True).get_template("report.html.j2").render(s=full)


def rerender(out_dir: Path) -> tuple[Path, Path]:
    """Render `report.md` and `report.html` again from a finished run's `stats.json`."""
    from dsc.engines.outputs import write_bytes

    stats = json.loads((Path(out_dir) / "stats.json").read_text(encoding="utf-8"))
    markdown, html = render_report(stats)
    paths = Path(out_dir) / "report.md", Path(out_dir) / "report.html"
    for path, text in zip(paths, (markdown, html)):
        write_bytes(path, text.encode("utf-8"))
    return paths


def _defaults(stats: dict) -> dict:
    """Stats with every optional section present, so templates never test for missing keys."""
    empty = {"reasons": [], "examples": [], "clusters": [], "standardisation": [], "splits": None,
             "leakage": [], "annotations": {}, "gates": [], "conflicts": {"groups": 0, "decisions": {}},
             "augment": None, "finetune": None}
    full = {**empty, **{k: v for k, v in stats.items() if v is not None}}
    full["annotations"] = [_annotation(name, entry) for name, entry in sorted(full["annotations"].items())]
    return full


def _annotation(name: str, entry: dict) -> dict:
    """One annotated field, in the shape the templates read, from the annotation step's summary
    (`agreement` a dict with metric, level, value, items, annotators, threshold, passed, reason;
    `annotators` a list; `label_pairs` the confusion matrix) or from a bare `agreement` number.
    """
    agreement = entry.get("agreement")
    a = agreement if isinstance(agreement, dict) else {"value": agreement, "metric": entry.get("metric")}
    people = entry.get("annotators")
    pairs = entry.get("label_pairs") or {}
    return {
        "field": name,
        "metric": " ".join(str(x) for x in (a.get("metric"), a.get("level")) if x),
        "value": a.get("value"),
        "threshold": a.get("threshold"),
        "passed": a.get("passed"),
        "reason": a.get("reason"),
        "item_count": a.get("items", entry.get("items")),
        "annotator_count": a.get("annotators", len(people) if isinstance(people, list) else people),
        "people": people if isinstance(people, list) else [],
        "labels": pairs.get("labels", []),
        "matrix": pairs.get("matrix", []),
        "resolution": _resolution(entry.get("resolution")),
        "warnings": entry.get("warnings", []),
    }


def _resolution(saved: dict | None) -> dict | None:
    """What happened to each row's label, in the shape the templates read: the policy as the spec
    writes it, a count per status (None where older stats lack one) and the resolved ones by
    method (`dsc.annotation.resolve.Resolution.method`), in words."""
    if not isinstance(saved, dict):
        return None
    from dsc.annotation.summary import STATUSES

    prefer = saved.get("prefer")
    words = {"majority": "majority", "unanimous": "unanimous", "expert": "experts' majority",
             "prefer": f"{prefer} tie-break"}
    policy = " ".join([saved["policy"]] + ([f"prefer {prefer}"] if prefer else []) + [f"tie {saved['tie']}"])
    return {"policy": policy, "by": ", ".join(f"{n} {words[m]}" for m, n in (saved.get("by") or {}).items()),
            **{k: saved.get(k) for k in ("rows", *STATUSES)}}


@lru_cache(maxsize=2)
def _env(html: bool):
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=html, undefined=StrictUndefined,
                      trim_blocks=True, lstrip_blocks=True, keep_trailing_newline=True)
    env.filters.update(pct=_pct, value=_value, cell=_cell, code=_code, compact=_compact, op=_op, number=_number)
    return env


def _pct(part: float, whole: float | None = None) -> str:
    """A share as a percentage, one decimal: `_pct(1, 8)` is '12.5%'; no whole gives '-'."""
    share = part if whole is None else (part / whole if whole else None)
    return "-" if share is None else f"{100 * share:.1f}%"


def _value(value, unit: str) -> str:
    """A gate's measured value or limit in its unit."""
    if value is None:
        return "not measured"
    if unit == "fraction":
        text = f"{100 * value:.2f}".rstrip("0").rstrip(".")
        return f"{text}%"
    if isinstance(value, float) and not value.is_integer():
        return f"{value:.4g}"
    return str(int(value))


def _number(value: int | None) -> str:
    """A count, or nothing where the stats (saved by an older dsc) lack it."""
    return "" if value is None else str(value)


def _op(op: str) -> str:
    return {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}.get(op, op)


def _compact(value) -> str:
    """A row or value on one line: JSON for objects, the text itself for strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def _cell(value) -> str:
    r"""Data as inert Markdown text on one line: HTML neutralised, and the characters that would make
    links, images, emphasis, code or table cells escaped, so rows in a PR comment render as the
    text they are.

    >>> print(_cell("![x](http://a) *b* | <i>"))
    \!\[x\](http://a) \*b\* \| &lt;i&gt;
    """
    text = _compact(value) if value is not None else ""
    text = " ".join(text.split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    return "".join("\\" + ch if ch in _MARKDOWN else ch for ch in text)


def _code(value: str) -> str:
    """Text for a Markdown code span in a table cell: entities are not decoded there, so only pipes
    are escaped (and a backtick, which would end the span, becomes a quote)."""
    return " ".join(str(value).split()).replace("|", "\\|").replace("`", "'")
