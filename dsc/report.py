"""The run report, built from saved data (stats first, rendering second).

`summary_table(manifest)` is the short rich table `dsc run` prints. `render_report(stats)` turns
the stats a run saved (`stats.json`) into `report.md` — Markdown for a pull-request comment —
and `report.html` — one self-contained page (inline CSS, charts as inline SVG, no scripts, no
external assets). `rerender(out_dir)` does it again for a finished run (`dsc report DIR`),
from `read_stats(path)`, which refuses a damaged file with a `StatsError`.
The templates are `dsc/templates/report.md.j2` and `report.html.j2`; they only format, every
number comes from the stats.

Everything in the stats is data, hostile or not. The HTML environment escapes it as HTML; the
Markdown environment passes every `{{ … }}` through `_inert` (its `finalize`), so data prints as
the text it is, wherever a template puts it. Only Markdown that dsc builds itself from data it
has made inert (`Markdown`: the `code` and `html_code` filters) prints as it is.
"""
from __future__ import annotations

import html
import json
import re
from functools import lru_cache
from pathlib import Path

from rich.markup import escape
from rich.table import Table

from dsc.errors import DscError

TEMPLATES = Path(__file__).parent / "templates"
# What a character of data becomes in Markdown text: HTML's `<`, `>`, `&` entities, Markdown's
# syntax anywhere in a line (GFM's, and GitHub's `$` math) escaped with a backslash.
_ESCAPED = {"&": "&amp;", "<": "&lt;", ">": "&gt;", **{c: "\\" + c for c in "\\`*_[]!|~$#"}}
# Syntax at the start of a line, where any value may stand: a list item, a setext underline, the
# period or parenthesis after an ordered list's number. Its last character gets a backslash.
_LINE_START = re.compile(r"[-+=]|\d{1,9}[.)](?= |$)")
# What GitHub turns into a link, a notification or an image in rendered text: a mention or e-mail
# address, a URL, a `www.` address, an issue reference, an emoji code (`:octocat:` is an image; the
# closing colon may be the template's). A zero-width space (an entity) after each match breaks it.
_LIVE = re.compile(r"@|:(?=//|[\w+-]+(?::|$))|www(?=\.)|#(?=\d)|gh-(?=\d)", re.IGNORECASE)


def summary_table(manifest: dict) -> Table:
    """A rich table: one row per stage with rows in/out and removed, then the totals."""
    counts = manifest["counts"]
    title = (f"{manifest['dataset']['name']} — {counts['input']:,} rows in, {counts['kept']:,} kept, "
             f"{counts['rejected']:,} rejected ({manifest['plan_fingerprint'][:19]})")
    table = Table(title=escape(title), title_justify="left")
    table.add_column("rule", overflow="fold")
    flagged = any(rule["flagged"] for rule in manifest["rules"])  # the column only when a rule flags rows
    for name in ("line", "in", "out", "removed", "share", "flagged")[:None if flagged else -1]:
        table.add_column(name, justify="right")
    for rule in manifest["rules"]:
        share = f"{100 * rule['removed'] / rule['rows_in']:.1f}%" if rule["rows_in"] else "-"
        cells = [escape(rule["id"]), str(rule["line"] or ""), f"{rule['rows_in']:,}", f"{rule['rows_out']:,}",
                 f"{rule['removed']:,}", share]
        table.add_row(*cells, *([f"{rule['flagged']:,}" if rule["flagged"] else ""] if flagged else []))
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
        _env(True).get_template("report.html.j2").render(s=full, charts=_charts(full))


def rerender(out_dir: Path) -> tuple[Path, Path]:
    """Render `report.md` and `report.html` again from a finished run's `stats.json`
    (`StatsError` when that file is damaged: nothing is written then)."""
    from dsc.atomic import replace_bytes

    markdown, html_text = render_report(read_stats(Path(out_dir) / "stats.json"))
    paths = Path(out_dir) / "report.md", Path(out_dir) / "report.html"
    for path, text in zip(paths, (markdown, html_text)):
        replace_bytes(path, text.encode("utf-8"))
    return paths


class StatsError(DscError, ValueError):
    """A stats.json the report cannot be rendered from; the message names the file and what is wrong."""

    default_code = "DSC302"


def read_stats(path: Path) -> dict:
    """The stats a run saved, checked to have every part the templates read, of the type they
    read (`_STATS`); a `StatsError` names the file and the first thing wrong with it.

    >>> _STATS({"dataset": {"name": "d", "version": 1}, "plan_fingerprint": "sha256:0",
    ...         "counts": {"input": "many"}, "rules": []}, "")
    'counts.input: a number expected, found "many"'
    """
    try:
        stats = json.loads(Path(path).read_bytes().decode("utf-8"))
    except OSError as err:
        raise StatsError(f"{path}: cannot be read ({err.strerror})", code="DSC301") from None
    except UnicodeDecodeError as err:
        raise StatsError(f"{path}: not UTF-8 text (byte {err.start})") from None
    except json.JSONDecodeError as err:
        raise StatsError(f"{path}: not JSON ({err.msg}, line {err.lineno} column {err.colno})") from None
    except ValueError as err:  # a number of more digits than Python converts
        raise StatsError(f"{path}: not JSON ({err})") from None
    except RecursionError:
        raise StatsError(f"{path}: JSON nested too deeply to read") from None
    problem = _lone_surrogate(stats) or _STATS(stats, "")
    if problem:
        raise StatsError(f"{path}: not the stats of a dsc run: {problem}")
    return stats


def _lone_surrogate(document) -> str | None:
    """A string of the document (key or value) that holds a lone surrogate (a `\\ud800` escape),
    which no report can be written with, in UTF-8."""
    todo = [document]
    while todo:
        value = todo.pop()
        if isinstance(value, dict):
            todo += [*value, *value.values()]
        elif isinstance(value, list):
            todo += value
        elif isinstance(value, str) and re.search("[\ud800-\udfff]", value):
            return f"a string holds a lone surrogate: {_shown(value)}"
    return None


# The shape of stats.json, as the templates read it. A shape is a function of (value, where) that
# says what is wrong there, or None. Fields the templates only print take any scalar; the ones
# they count with, compare, index or slice have to be of that type.
def _scalar(expected: str, test):
    return lambda value, where: None if test(value) else _wrong(where, expected, value)


def _maybe(shape):
    return lambda value, where: None if value is None else shape(value, where)


def _either(*shapes):
    """The first shape that fits; what is wrong for the last one, when none does."""
    def check(value, where):
        for shape in shapes:
            problem = shape(value, where)
            if problem is None:
                return None
        return problem
    return check


def _list(item, length: int | None = None, least: int = 0):
    def check(value, where):
        if not isinstance(value, list):
            return _wrong(where, "a list", value)
        if len(value) < least or length is not None and len(value) != length:
            return _wrong(where, f"a list of {_items(length) if length is not None else f'at least {_items(least)}'}",
                          value)
        return next(filter(None, (item(x, f"{where}[{i}]") for i, x in enumerate(value))), None)
    return check


def _object(fields: dict, then=None):
    """An object with these fields (a name ending in `?` may be missing) and any others; `then`
    checks how the fields fit together."""
    def check(value, where):
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        for key, shape in fields.items():
            name = key.rstrip("?")
            if name not in value:
                if key.endswith("?"):
                    continue
                return f"{_at(where, name)}: missing"
            problem = shape(value[name], _at(where, name))
            if problem:
                return problem
        return then(value, where) if then else None
    return check


def _table(item):
    """An object keyed by data (a field's, a split's, a decision's name)."""
    def check(value, where):
        if not isinstance(value, dict):
            return _wrong(where, "an object", value)
        return next(filter(None, (item(v, _at(where, k)) for k, v in value.items())), None)
    return check


def _at(where: str, key: str) -> str:
    step = key if re.fullmatch(r"\w+", key, re.ASCII) else f"[{json.dumps(key)}]"
    return step if not where else f"{where}{step}" if step.startswith("[") else f"{where}.{step}"


def _wrong(where: str, expected: str, value) -> str:
    return f"{where + ': ' if where else ''}{expected} expected, found {_shown(value)}"


def _shown(value) -> str:
    """A value in a message: a scalar as JSON, ASCII only (no control character reaches the
    terminal), cut short; a list or an object by its kind (it may be huge, or deep)."""
    if isinstance(value, (dict, list)):
        return f"a list of {_items(len(value))}" if isinstance(value, list) else f"an object of {_items(len(value))}"
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:59] + "…"


def _items(count: int) -> str:
    return f"{count} item{'s' if count != 1 else ''}"


def _every_split_counted(splits, where):
    names = [p["name"] for p in splits["parts"]]
    for i, label in enumerate((splits["strata"] or {"labels": []})["labels"]):
        for name in names:
            if name not in label["splits"]:
                return f"{where}.strata.labels[{i}].splits: no count for the split {_shown(name)}"
    return None


def _a_label_for_every_row(pairs, where):
    labels, matrix = pairs.get("labels", []), pairs.get("matrix", [])
    return None if len(matrix) <= len(labels) else f"{where}.matrix: {len(matrix)} rows for {len(labels)} labels"


_ANY = _scalar("anything", lambda value: True)
_PRINTED = _scalar("text, a number, true, false or null", lambda value: not isinstance(value, (dict, list)))
_TEXT = _scalar("text", lambda value: isinstance(value, str))
_FLAG = _scalar("true or false", lambda value: isinstance(value, bool))
# Any float; an integer within 64 bits, so shares and charts never overflow a float.
_NUMBER = _scalar("a number", lambda value: isinstance(value, float) or (
    isinstance(value, int) and not isinstance(value, bool) and -2 ** 63 <= value < 2 ** 63))
_REASONS = _list(_object({"reason": _PRINTED, "rows": _NUMBER}))
_RESOLUTION = _object({"policy": _TEXT, "tie": _TEXT, "prefer?": _maybe(_TEXT), "by?": _maybe(_table(_NUMBER)),
                       **{f"{k}?": _maybe(_NUMBER) for k in ("rows", "resolved", "first", "drop", "flag",
                                                              "below_floor", "unannotated")}})
_ANNOTATION = _object({
    "agreement?": _maybe(_either(_NUMBER, _object({
        "metric?": _PRINTED, "level?": _PRINTED, "value?": _maybe(_NUMBER), "threshold?": _PRINTED,
        "passed?": _PRINTED, "reason?": _PRINTED, "items?": _PRINTED, "annotators?": _PRINTED}))),
    "metric?": _PRINTED, "items?": _PRINTED,
    "annotators?": _maybe(_either(_NUMBER, _list(_object({
        "annotator": _PRINTED, "role": _PRINTED, "labels": _PRINTED, "agrees_with_resolved": _maybe(_NUMBER)})))),
    "label_pairs?": _maybe(_object({"labels?": _list(_PRINTED), "matrix?": _list(_list(_PRINTED))},
                                   then=_a_label_for_every_row)),
    "resolution?": _maybe(_RESOLUTION),
    "warnings?": _list(_PRINTED),
    "item_agreement?": _maybe(_object({"histogram?": _table(_NUMBER), "scored?": _maybe(_NUMBER),
                                       "below?": _PRINTED, "threshold?": _PRINTED})),
    "coverage?": _maybe(_object({**{f"{k}?": _maybe(_NUMBER) for k in (
        "items", "annotated", "unannotated", "short_of_annotators", "short_of_experts")},
        "min_annotators?": _PRINTED, "min_experts?": _PRINTED, "expert_role?": _PRINTED})),
})
_HISTOGRAM = _list(_object({"upto": _maybe(_NUMBER), "rows": _NUMBER}), least=1)
_STATS = _object({
    "dataset": _object({"name": _PRINTED, "version": _PRINTED}),
    "plan_fingerprint": _TEXT,
    "counts": _object({"input": _NUMBER, "kept": _NUMBER, "rejected": _NUMBER, "flagged": _NUMBER,
                       "generated?": _NUMBER}),
    "rules": _list(_object({"id": _TEXT, "line": _PRINTED, "rows_in": _NUMBER, "rows_out": _NUMBER,
                            "removed": _NUMBER, "flagged": _PRINTED})),
    "gates?": _maybe(_list(_object({
        "passed": _FLAG, "severity": _PRINTED, "label": _PRINTED, "line": _PRINTED, "unit": _PRINTED,
        "op": _PRINTED, "measured": _maybe(_NUMBER), "limit": _maybe(_NUMBER), "message": _PRINTED}))),
    "reasons?": _maybe(_list(_object({"rule": _PRINTED, "line": _PRINTED, "reason": _PRINTED, "rows": _NUMBER}))),
    "examples?": _maybe(_list(_object({"rule": _PRINTED, "line": _PRINTED, "rows": _list(_object({
        "id": _PRINTED, "reason": _PRINTED, "duplicate_of": _PRINTED, "row": _ANY}))}))),
    "clusters?": _maybe(_list(_object({"rule": _PRINTED, "size": _NUMBER, "kept": _PRINTED,
                                       "removed": _list(_PRINTED), "example": _ANY}))),
    "standardisation?": _maybe(_list(_object({"rule": _PRINTED, "line": _PRINTED, "rows_in": _PRINTED,
                                              "rejected": _PRINTED, "flagged": _PRINTED, "reasons": _REASONS}))),
    "splits?": _maybe(_object({
        "key": _PRINTED, "seed": _PRINTED, "stratify": _PRINTED, "rows": _NUMBER,
        "parts": _list(_object({"name": _TEXT, "fraction": _NUMBER, "rows": _NUMBER, "share": _NUMBER})),
        "strata": _maybe(_object({"column": _PRINTED, "more": _PRINTED, "labels": _list(_object({
            "label": _PRINTED, "rows": _NUMBER, "splits": _table(_NUMBER)}))})),
    }, then=_every_split_counted)),
    "leakage?": _maybe(_list(_object({
        "left": _PRINTED, "right": _PRINTED, "jaccard": _PRINTED, "columns": _list(_PRINTED), "pairs": _NUMBER,
        "compared": _PRINTED, "examples": _list(_list(_PRINTED, length=2))}))),
    "contamination?": _maybe(_list(_object({
        "rule": _PRINTED, "line": _PRINTED, "ngram": _PRINTED, "rows_in": _NUMBER, "removed": _NUMBER,
        "evals": _list(_object({"pattern": _PRINTED, "rows": _NUMBER,
                                "files": _list(_object({"file": _PRINTED, "rows": _NUMBER}))}))}))),
    "annotations?": _maybe(_table(_ANNOTATION)),
    "conflicts?": _maybe(_object({"groups": _NUMBER, "decisions": _table(_PRINTED)})),
    "augment?": _maybe(_object({"generated": _NUMBER, "rejected": _NUMBER, "rules": _list(_object({
        "rule": _PRINTED, "line": _PRINTED, "method": _PRINTED, "selected": _PRINTED, "requests": _PRINTED,
        "generated": _PRINTED, "rejected": _PRINTED, "reasons": _REASONS}))})),
    "tokens?": _maybe(_either(_object({"error": _PRINTED}), _object({
        "base": _PRINTED, "tokenizer": _PRINTED, "fingerprint": _PRINTED, "export": _PRINTED,
        "chat_template?": _PRINTED, "max_length": _NUMBER, "max_length_from": _PRINTED,
        "splits": _list(_object({
            "name": _PRINTED, "rows": _NUMBER, "tokens": _NUMBER, "truncated": _NUMBER, "truncated_share": _NUMBER,
            **{f"{k}?": _maybe(_NUMBER) for k in ("min", "p50", "p90", "p99", "max", "without_text")},
            "histogram": _HISTOGRAM}))}))),
    "near_similarity?": _maybe(_list(_object({
        "rule": _PRINTED, "line?": _PRINTED, "threshold?": _PRINTED, "rows": _NUMBER, "below_threshold?": _PRINTED,
        "min?": _PRINTED, "median?": _PRINTED, "bins": _list(_object({"bin": _PRINTED, "rows": _NUMBER}))}))),
    "text_lengths?": _maybe(_list(_object({
        "column": _PRINTED, "rows": _NUMBER, **{f"{k}?": _maybe(_NUMBER) for k in ("empty", "min", "p50", "p90", "max")},
        "histogram": _HISTOGRAM}))),
    "finetune?": _maybe(_either(_object({"error": _PRINTED}), _object({"table": _object({
        "title": _PRINTED, "columns": _list(_PRINTED), "rows": _list(_list(_PRINTED, least=1)),
        "notes": _list(_PRINTED)})}))),
})


def _defaults(stats: dict) -> dict:
    """Stats with every optional section present, so templates never test for missing keys."""
    empty = {"reasons": [], "examples": [], "clusters": [], "standardisation": [], "splits": None,
             "leakage": [], "contamination": [], "annotations": {}, "gates": [],
             "conflicts": {"groups": 0, "decisions": {}},
             "augment": None, "finetune": None, "tokens": None, "text_lengths": [],
             "near_similarity": []}
    full = {**empty, **{k: v for k, v in stats.items() if v is not None}}
    full["annotations"] = [_annotation(name, entry) for name, entry in sorted(full["annotations"].items())]
    # A reviewer reads text, not row ids: each reason with a row it removed, each cluster by its text.
    seen: dict[tuple, str] = {}
    for e in full["examples"]:
        for r in e["rows"]:
            seen.setdefault((_line(e["rule"]), _line(r["reason"])), _excerpt(r["row"], 120))
    full["reasons"] = [{**r, "example": seen.get((_line(r["rule"]), _line(r["reason"])), "")} for r in full["reasons"]]
    full["clusters"] = [{**k, "excerpt": _excerpt(k["example"], 120),
                         "removed_rows": _minus(k["size"], 1 if k["kept"] else 0)} for k in full["clusters"]]
    return full


def _charts(s: dict) -> dict:
    """Every chart of the HTML report, as SVG markup (`dsc.report_charts`), by section; a list
    where a section draws one chart per split, field or column. Built from the stats alone."""
    from markupsafe import Markup

    from dsc.report_charts import Bar, bar_chart, share

    def chart(*args, **kwargs) -> Markup:
        return Markup(bar_chart(*args, **kwargs))

    c = s["counts"]
    reasons: dict[str, list[dict]] = {}
    for r in s["reasons"]:
        reasons.setdefault(str(r["rule"]), []).append(r)
    funnel = []
    for r in s["rules"]:
        line = f" (line {r['line']})" if r["line"] else ""
        funnel.append(Bar(f"{r['id']}{line}", r["removed"], share(r["removed"], r["rows_in"]) + f" of {r['rows_in']}"))
        funnel += [Bar(str(x["reason"]), x["rows"], share(x["rows"], r["rows_in"]), level=1)
                   for x in sorted(reasons.get(r["id"], []), key=lambda x: -_finite(x["rows"]))]
    out = {"funnel": chart("Rows removed by each rule, and why", funnel,
                           f"Of {c['input']} rows read, {c['rejected']} were removed; a share is of the rows "
                           f"the rule read. Light bars: the rule's reasons (rejects.jsonl has each row).")}
    splits = s["splits"]
    if splits:
        out["splits"] = chart("Rows per split", [Bar(str(p["name"]), p["rows"], share(p["rows"], splits["rows"]))
                                                 for p in splits["parts"]])
        if splits["strata"]:
            bars = []
            for label in splits["strata"]["labels"]:
                bars.append(Bar("(null)" if label["label"] is None else str(label["label"]), None))
                bars += [Bar(str(p["name"]), label["splits"].get(p["name"]), share(label["splits"].get(p["name"]),
                                                                                    p["rows"]), level=1)
                         for p in splits["parts"]]
            out["labels"] = chart(f"Labels of {splits['strata']['column']} in each split", bars,
                                  "A share is of the split's rows: equal shares mean the split kept the label balance.")
    if s["clusters"]:
        rules = {_line(k["rule"]) for k in s["clusters"]}
        one = f" of {next(iter(rules))}" if len(rules) == 1 else ""  # else each label names its rule
        out["clusters"] = chart(f"Largest duplicate clusters{one}: rows in each, the survivor included", [
            Bar(_excerpt(k["example"]) if one else f"{k['rule']}: {_excerpt(k['example'])}", k["size"])
            for k in s["clusters"]], "Each cluster by a row it removed.")
    out["similarity"] = [chart(f"{n['rule']}: similarity of each removed row to its survivor", [
        Bar(str(b["bin"]), b["rows"], share(b["rows"], n["rows"])) for b in n["bins"]],
        f"Jaccard similarity, {n['rows']} rows removed: min {_number(n.get('min'))}, median "
        f"{_number(n.get('median'))}; {_number(n.get('below_threshold'))} below the rule's threshold "
        f"{_number(n.get('threshold'))}.") for n in s["near_similarity"]]
    out["standardisation"] = [chart(f"{r['rule']}: values read", [
        Bar("standardised", _minus(r["rows_in"], r["rejected"], r["flagged"]),
            share(_minus(r["rows_in"], r["rejected"], r["flagged"]), r["rows_in"])),
        Bar("flagged (kept)", r["flagged"], share(r["flagged"], r["rows_in"])),
        Bar("rejected", r["rejected"], share(r["rejected"], r["rows_in"]))]) for r in s["standardisation"]]
    out["annotations"] = {}
    for a in s["annotations"]:
        drawn = []
        spread = a["item_agreement"]
        if spread and spread.get("histogram"):
            scored = spread.get("scored")
            drawn.append(chart(f"{a['field']}: agreement per item", [
                Bar(str(bucket), n, share(n, scored)) for bucket, n in spread["histogram"].items()],
                f"{_number(spread.get('below'))} item(s) under the item floor of {_number(spread.get('threshold'))}"
                if spread.get("threshold") is not None else ""))
        cover = a["coverage"]
        if cover:
            items = cover.get("items")
            drawn.append(chart(f"{a['field']}: annotation coverage of {_number(items)} items", [
                Bar(label, cover.get(key), share(cover.get(key), items)) for key, label in (
                    ("annotated", "annotated"), ("unannotated", "not annotated"),
                    ("short_of_annotators", f"fewer than {_number(cover.get('min_annotators'))} annotators"),
                    ("short_of_experts", f"fewer than {_number(cover.get('min_experts'))} "
                                         f"{_number(cover.get('expert_role')) or 'expert'} annotators"))
                if key in cover]))
        out["annotations"][a["field"]] = drawn
    tokens = s["tokens"]
    out["tokens"] = [] if not tokens or "error" in tokens else [
        chart(f"Tokens per row: {p['name']}", [Bar(label, n, share(n, p["rows"])) for label, n in _bins(p["histogram"], " (truncated)")])
        for p in tokens["splits"]]
    out["lengths"] = [chart(f"Characters per row: {t['column']}",
                            [Bar(label, n, share(n, _minus(t["rows"], t.get("empty") or 0)))
                             for label, n in _bins(t["histogram"])],
                            f"A share is of the {_number(_minus(t['rows'], t.get('empty') or 0))} rows with text "
                            f"in {t['column']}." if t.get("empty") else "")
                      for t in s["text_lengths"]]
    return out


def _bins(histogram: list[dict], last: str = "") -> list[tuple[str, object]]:
    """A histogram's bins as labels: `≤ 16`, `17–32`, … and `> 4096` (and `last`) for the open one.

    >>> _bins([{"upto": 16, "rows": 1}, {"upto": 32, "rows": 2}, {"upto": None, "rows": 0}], " (cut)")
    [('≤ 16', 1), ('17–32', 2), ('> 32 (cut)', 0)]
    """
    out, prev = [], None
    for b in histogram:
        upto = b["upto"]
        label = (f"> {_number(prev)}{last}" if upto is None else f"{_number(prev + 1)}–{_number(upto)}"
                 if isinstance(prev, (int, float)) else f"≤ {_number(upto)}")
        out.append((label, b["rows"]))
        prev = upto
    return out


def _finite(value) -> float:
    return value if isinstance(value, (int, float)) and value == value and abs(value) != float("inf") else 0


def _minus(whole, *parts):
    """`whole` less the `parts`, when all are counts; None (nothing to draw or print) otherwise."""
    if all(isinstance(x, int) and not isinstance(x, bool) for x in (whole, *parts)):
        return whole - sum(parts)
    return None


def _excerpt(row, limit: int = 60) -> str:
    """A row's text, short: its values joined (JSON for anything else), cut at `limit` characters."""
    if isinstance(row, dict):
        text = " · ".join(_line(v) for v in row.values() if v not in (None, ""))
    else:
        text = _line(row)
    return text if len(text) <= limit else text[:limit - 1] + "…"


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
        "item_agreement": entry.get("item_agreement"),
        "coverage": entry.get("coverage"),
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
    return {"policy": policy, "by": ", ".join(f"{n} {words.get(m, m)}" for m, n in (saved.get("by") or {}).items()),
            **{k: saved.get(k) for k in ("rows", *STATUSES)}}


@lru_cache(maxsize=2)
def _env(for_html: bool):
    """The HTML environment autoescapes; the Markdown one makes every printed value inert."""
    from jinja2 import Environment, FileSystemLoader, StrictUndefined

    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=for_html, undefined=StrictUndefined,
                      finalize=None if for_html else _inert, trim_blocks=True, lstrip_blocks=True,
                      keep_trailing_newline=True)
    env.filters.update(pct=_pct, value=_value, compact=_compact, op=_op, number=_number)
    if not for_html:
        env.filters.update(code=_code, html_code=_html_code)
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


def _number(value: int | float | str | None) -> str:
    """A count grouped by thousands, as `dsc run` prints it; another number as it is; nothing
    where the stats (saved by an older dsc) lack it.

    >>> _number(1234567), _number(0), _number(0.820755), _number(None), _number("")
    ('1,234,567', '0', '0.820755', '', '')
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return f"{value:,}"
    return "" if value is None else str(value)


def _op(op: str) -> str:
    return {"<=": "≤", ">=": "≥", "<": "<", ">": ">"}.get(op, op)


def _compact(value) -> str:
    """A row or value on one line: JSON for objects, the text itself for strings."""
    if isinstance(value, str):
        return value
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


class Markdown(str):
    """Markdown that dsc built, from data it made inert: the one kind of value a Markdown template
    prints as it is. Any operation on it (`~`, a filter) gives a plain `str` again, which is data."""


def _inert(value) -> str:
    r"""Every `{{ … }}` of a Markdown template (the environment's `finalize`): data becomes text on
    one line that renders as itself — no heading, list, quote, table cell, link, image, HTML,
    emphasis, code, math, mention, issue reference or emoji of its own. HTML's `<`, `>`, `&` become
    entities, Markdown's syntax gets a backslash, and a zero-width space follows each `@`, the
    `:` of `://` or of an emoji code, `www` before a dot, and `#` or `GH-` before a digit. A
    `Markdown` value is dsc's own.

    >>> print(_inert("# ![x](http://a) *b* | <i> @me"))
    \# \!\[x\](http:&#8203;//a) \*b\* \| &lt;i&gt; @&#8203;me
    >>> print(_inert("1. a"), _inert(["- x"]), _inert(None), _inert(Markdown("`x`")))
    1\. a \["- x"\]  `x`
    """
    if isinstance(value, Markdown):
        return value
    text = _line(value)
    start = _LINE_START.match(text)
    marker = start.end() - 1 if start else -1
    breaks = {m.end() for m in _LIVE.finditer(text)}  # found in the text as it will render
    return "".join(("\\" + c if i == marker else _ESCAPED.get(c, c)) + ("&#8203;" if i + 1 in breaks else "")
                   for i, c in enumerate(text))


def _code(value) -> Markdown:
    """Data as a Markdown code span on one line: fenced by one backtick more than its longest run
    of them (padded where it starts or ends with one; a space when empty, as two backticks alone
    would open a span that a later pair closes), its pipes escaped, which a GFM table reads before
    the span; nothing else is read inside a code span, so nothing else is escaped.

    >>> print(_code("a`b|c"), _code("`"), _code(""))
    ``a`b\\|c`` `` ` `` ` `
    """
    text = _line(value).replace("|", "\\|") or " "
    fence = "`" * (1 + max(map(len, re.findall("`+", text)), default=0))
    pad = " " if text.startswith("`") or text.endswith("`") else ""
    return Markdown(f"{fence}{pad}{text}{pad}{fence}")


def _html_code(value) -> Markdown:
    """Data as an HTML code element, for the HTML blocks of a Markdown report (`<details><summary>`),
    where Markdown syntax is not read: HTML escaped. As in a code span, GitHub makes no link,
    mention or emoji in it."""
    return Markdown(f"<code>{html.escape(_line(value), quote=False)}</code>")


def _line(value) -> str:
    """A value as text on one line: nothing for null, JSON for objects and lists, every run of
    whitespace (line breaks of any kind included) one space."""
    text = "" if value is None else _compact(value) if isinstance(value, (dict, list)) else str(value)
    return " ".join(text.split())

