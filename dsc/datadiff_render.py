"""The reports of `dsc diff` (`dsc.datadiff`) as text, Markdown (a pull-request comment) or JSON.

Markdown puts the summary line first, then a table per section, with the example rows folded in
`<details>`; it stays under GitHub's comment limit (65,536 characters): past it the examples go
first, then the tail, with a note saying so. JSON is the report itself (docs/datadiff.schema.json).
"""
from __future__ import annotations

import html
import json
import os

COMMENT_LIMIT = 65_536  # GitHub's limit on a pull-request comment, in characters

_SYMBOL = {"added": "+", "removed": "-", "changed": "~", "moved": "↕"}


def render(report: dict, fmt: str) -> str:
    """The report in `fmt`: text, markdown or json."""
    if fmt == "json":
        return json.dumps(report, indent=2, ensure_ascii=False) + "\n"
    if fmt == "markdown":
        return markdown(report)
    return text(report)


# ---- words shared by both renderings -----------------------------------------------------------------------------

def _n(value: int) -> str:
    return f"{value:,}"


def _plural(count: int, one: str, many: str | None = None) -> str:
    return f"{_n(count)} {one if count == 1 else (many or one + 's')}"


def summary_line(report: dict) -> str:
    """One line: what changes, in counts (the first line of every rendering)."""
    s = report.get("summary")
    if s is None:
        n = len(report["policy"])
        if not n:
            return "no policy change: the plans are identical"
        impacts: dict[str, int] = {}
        for c in report["policy"]:
            impacts[c["impact"]] = impacts.get(c["impact"], 0) + 1
        return f"{_plural(n, 'policy change')}: " + ", ".join(f"{v} × {k}" for k, v in impacts.items())
    parts = []
    if not report["old"]["ran"]:
        kept = s["kept_new"]
        parts.append(f"no old side to compare: all {_plural(s['rows_new'], 'row')} are new "
                     f"({_n(kept)} kept, {_n(s['rows_new'] - kept)} dropped)")
    elif s["fate_changed"]:
        moves = [(s["moved_split"], "move between splits"), (s["newly_dropped"], "newly dropped"),
                 (s["newly_kept"], "newly kept"), (s["dropped_by_other_rule"], "dropped by another rule")]
        parts.append(f"{_n(s['fate_changed'])} of {_plural(s['rows_both'], 'row')} change fate: "
                     + ", ".join(f"{_n(c)} {w}" for c, w in moves if c))
    if report["old"]["ran"] and (s["read_only_old"] or s["read_only_new"]):
        reads = ((s["read_only_new"], "newly read"), (s["read_only_old"], "no longer read"))
        parts.append(", ".join(f"{_plural(c, 'row')} {w}" for c, w in reads if c))
    if s["values_changed"]:
        parts.append(f"{_plural(s['values_changed'], 'row')} change values")
    if s["generated_changed_total"]:
        parts.append("generated rows: " + ", ".join(f"{_n(c)} {w}" for c, w in (
            (s["generated_added"], "added"), (s["generated_removed"], "removed"), (s["generated_changed"], "changed"))
            if c))
    if not report["old"]["ran"] and report["gates"]:
        verdicts = [g["new"]["verdict"] for g in report["gates"] if g["new"] is not None]
        parts.append("gates: " + ", ".join(f"{verdicts.count(v)} {v}" for v in ("pass", "fail", "warn")
                                           if verdicts.count(v)))
    elif s["gates_changed"]:
        parts.append(f"{_plural(s['gates_changed'], 'gate verdict')} change"
                     + (f" ({_n(s['gates_now_failing'])} now failing)" if s["gates_now_failing"] else ""))
    if not parts:
        return f"no data change: all {_plural(s['rows_both'], 'row')} keep their fate and values" + \
            ("; no gate verdict changes" if report["gates"] else "")
    return "; ".join(parts)


def notes(report: dict) -> list[str]:
    """What the reader must know besides the counts: a missing old side, changed inputs."""
    out = []
    old = report["old"]
    if old["problem"] == "absent":
        where = "there is no old spec" if old["spec"] == os.devnull else f"{old['spec']} does not exist"
        out.append(f"{where}: the spec is new, everything is added")
    elif old["problem"]:
        out.append(f"the old side ({old['spec']}) {old['problem']}: the new side is shown alone")
    inputs = report.get("inputs")
    if inputs and inputs["changed"]:
        changed = [f"{f['path']} ({f['status']})" for f in inputs["files"] if f["status"] != "same"]
        out.append("the data changed too: " + ", ".join(changed) + "; rows read by one side only are the inputs' "
                   "doing, and fate changes may be too")
    effects = report.get("effects")
    if effects:
        if effects["separated"]:
            policy, inputs = (summary_line(_as_report(report, effects[k])) for k in ("policy", "inputs"))
            out.append(f"policy effect (both policies over the old inputs): {policy}")
            out.append(f"input effect (the new policy, old inputs → new inputs): {inputs}")
        else:
            out.append(f"policy and input effects not separated: {effects['why']}")
    return out


def _as_report(report: dict, comparison: dict) -> dict:
    return {**comparison, "old": {**report["old"], "ran": True}, "policy": report["policy"]}


def fate_text(fate: dict | None, reason: bool = False) -> str:
    if fate is None:
        return "not read"
    if fate["kept"]:
        return fate["split"] or "kept"
    text = f"dropped by {fate['rule']}"
    if reason and fate.get("reason"):
        why = fate["reason"] + (f" of {fate['duplicate_of']}" if fate.get("duplicate_of") else "")
        text += f" ({why})"
    return text


def _lines(old_line, new_line) -> str:
    """A line, or `old → new` when it moved; none for a rule without one (the schema's checks: 0)."""
    old_line, new_line = old_line or None, new_line or None
    if old_line is None or new_line is None or old_line == new_line:
        return str(new_line or old_line or "")
    return f"{old_line} → {new_line}"


def _verdict(gate: dict | None) -> str:
    return "—" if gate is None else gate["verdict"]


def _measured_change(old: dict | None, new: dict | None) -> str:
    before, after = _measured(old), _measured(new)
    return after if before == after else f"{before} → {after}"


def _measured(gate: dict | None) -> str:
    if gate is None:
        return "—"
    message = gate.get("message") or ""
    return message.split(": ", 1)[1] if ": " in message else message


# ---- text --------------------------------------------------------------------------------------------------------

def _table(rows: list[list[str]], indent: str = "  ") -> list[str]:
    if not rows:
        return []
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    return [indent + "  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip() for r in rows]


def _head(report: dict) -> str:
    def side(s):
        fp = s["fingerprint"].removeprefix("sha256:")[:12] if s["fingerprint"] else s["problem"] or "none"
        return f"{s['spec']} ({fp})"
    data = " --data" if report.get("summary") is not None else ""
    return f"dsc diff{data}: {side(report['old'])} → {side(report['new'])}"


def text(report: dict) -> str:
    out = [_head(report), "", summary_line(report)]
    out += [f"note: {n}" for n in notes(report)]
    if report["policy"]:
        out += ["", "policy"]
        out += _table([[_SYMBOL[c["kind"]], c["section"], c["id"], _lines(c["old_line"], c["new_line"]),
                        f"{c['impact']}: {c['detail']}"] for c in report["policy"]])
    if report.get("summary") is None:
        return "\n".join(out) + "\n"
    if report["rules"]:
        out += ["", "rows per rule"]
        out += _table([["rule", "line", "dropped before → after", "now drops", "no longer drops", "policy change"]]
                      + [[r["rule"], _lines(r["old_line"], r["new_line"]),
                          f"{_n(r['dropped_old'])} → {_n(r['dropped_new'])}", _n(r["now_drops"]),
                          _n(r["no_longer_drops"]), r["policy_change"] or ""] for r in report["rules"]])
    for key, title, label in (("dropped", "newly dropped", lambda g: f"by {g['rule']}{_at(g)}"),
                              ("kept", "newly kept", lambda g: f"no longer dropped by {g['rule']}{_at(g)}"),
                              ("redropped", "dropped by another rule",
                               lambda g: f"{g['old_rule']} → {g['new_rule']}"),
                              ("moves", "moved between splits",
                               lambda g: f"{g['from'] or 'kept'} → {g['to'] or 'kept'}"),
                              ("only_old", "read by the old side only", lambda g: f"were {fate_text(g['fate'])}"),
                              ("only_new", "read by the new side only", lambda g: f"now {fate_text(g['fate'])}")):
        groups = report[key]
        if not groups:
            continue
        out += ["", f"{title}: {_n(sum(g['rows'] for g in groups))}"]
        for g in groups:
            out.append(f"  {label(g)}: {_n(g['rows'])}")
            out += _table([[e["id"], e["source"] or "", e["excerpt"],
                            f"{fate_text(e['old'], True)} → {fate_text(e['new'], True)}"] for e in g["examples"]],
                          indent="    ")
    if report["values"]:
        out += ["", f"values changed: {_n(report['summary']['values_changed'])} rows"]
        for v in report["values"]:
            out.append(f"  {v['column']}: {_n(v['rows'])}" + (f" ({', '.join(v['rules'])})" if v["rules"] else ""))
            out += _table([[e["id"], e["source"] or "", f"{e['old']} → {e['new']}"] for e in v["examples"]],
                          indent="    ")
    gen = report["generated"]
    if gen["old"] or gen["new"]:
        out += ["", f"generated rows: {_n(gen['old'])} → {_n(gen['new'])} ({_n(gen['added'])} added, "
                    f"{_n(gen['removed'])} removed, {_n(gen['changed'])} changed)"]
        out += _table([[r["rule"], f"+{r['added']}", f"-{r['removed']}", f"~{r['changed']}"] for r in gen["rules"]])
        out += _table([[e["change"], e["id"], e["split"] or "", e["excerpt"]] for e in gen["examples"]], indent="    ")
    if report["splits"]:
        out += ["", "kept rows per split"]
        out += _table([[s["split"], _n(s["old"]), "→", _n(s["new"]), _delta(s["new"] - s["old"])]
                       for s in report["splits"]])
    if report["gates"]:
        out += ["", "gates"]
        out += _table([[g["gate"], _lines(*_gate_lines(g)), f"{_verdict(g['old'])} → {_verdict(g['new'])}",
                        _measured_change(g["old"], g["new"])] for g in report["gates"]])
    return "\n".join(out) + "\n"


def _at(group: dict) -> str:
    lines = _lines(group["old_line"], group["new_line"])
    return f" (line {lines})" if lines else ""


def _gate_lines(g: dict) -> tuple:
    return (g["old"] or {}).get("line"), (g["new"] or {}).get("line")


def _delta(d: int) -> str:
    return f"+{_n(d)}" if d > 0 else ("±0" if d == 0 else f"−{_n(-d)}")


# ---- markdown ----------------------------------------------------------------------------------------------------

def _cell(value) -> str:
    """Text safe in a Markdown table cell, also inside HTML (`<details>`)."""
    text = html.escape("" if value is None else str(value), quote=False)
    return text.replace("|", "\\|").replace("\n", " ").replace("`", "'")


def _code(value) -> str:
    return f"`{str(value).replace('`', chr(39))}`"


def _md_table(head: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)] + ["| " + " | ".join(r) + " |" for r in rows]


def _details(examples: list[list[str]], head: list[str]) -> list[str]:
    if not examples:
        return []
    return ["", f"<details><summary>{_plural(len(examples), 'example')}</summary>", ""] + _md_table(head, examples) \
        + ["", "</details>"]


def markdown(report: dict, limit: int = COMMENT_LIMIT) -> str:
    """The report as a pull-request comment, cut to `limit` characters with a note when it must be."""
    full = _markdown(report, examples=True)
    if len(full) <= limit:
        return full
    lean = _markdown(report, examples=False)
    note = (f"\n> **Cut**: the full report is {_n(len(full))} characters, over GitHub's {_n(limit)}-character "
            "comment limit; {what}. `dsc diff --data --format json` gives all of it.\n")
    if len(lean) + len(note) + 40 <= limit:
        return lean + note.format(what="the example rows are left out")
    budget = limit - len(note) - 60
    kept, size, open_details = [], 0, False
    for line in lean.splitlines(keepends=True):
        if size + len(line) > budget:
            break
        kept.append(line)
        size += len(line)
        open_details = (open_details or line.startswith("<details>")) and not line.startswith("</details>")
    tail = "\n</details>\n" if open_details else "\n"
    return "".join(kept) + tail + note.format(what="the example rows and the end of the report are left out")


def _markdown(report: dict, examples: bool) -> str:
    def side(s):
        return _code(s["spec"])

    data = report.get("summary") is not None
    out = [f"**dsc diff{' --data' if data else ''}** {side(report['old'])} → {side(report['new'])}: "
           f"**{_cell(summary_line(report))}**"]
    for n in notes(report):
        out += ["", f"> {_cell(n)}"]
    if report["policy"]:
        out += ["", "#### Policy changes", ""]
        out += _md_table(["", "section", "item", "line", "impact", "change"],
                         [[_SYMBOL[c["kind"]], c["section"], _code(c["id"]), _lines(c["old_line"], c["new_line"]),
                           _cell(c["impact"]), _cell(c["detail"])] for c in report["policy"]])
    if not data:
        return "\n".join(out) + "\n"

    def fates(group) -> list[str]:
        if not examples:
            return []
        return _details([[_code(e["id"]), _cell(e["source"]), _cell(e["excerpt"]),
                          _cell(f"{fate_text(e['old'], True)} → {fate_text(e['new'], True)}")] for e in group],
                        ["row", "source", "excerpt", "old → new"])

    if report["rules"]:
        out += ["", "#### Rows per rule", ""]
        out += _md_table(["rule", "line", "dropped before", "after", "now drops", "no longer drops", "policy change"],
                         [[_code(r["rule"]), _lines(r["old_line"], r["new_line"]), _n(r["dropped_old"]),
                           _n(r["dropped_new"]), _n(r["now_drops"]), _n(r["no_longer_drops"]),
                           _cell(r["policy_change"] or "")] for r in report["rules"]])
    sections = (("dropped", "Newly dropped", ["now dropped by", "line"],
                 lambda g: [_code(g["rule"]), _lines(g["old_line"], g["new_line"])]),
                ("kept", "Newly kept", ["no longer dropped by", "line"],
                 lambda g: [_code(g["rule"]), _lines(g["old_line"], g["new_line"])]),
                ("redropped", "Dropped by another rule", ["dropped before by", "now by"],
                 lambda g: [_code(g["old_rule"]), _code(g["new_rule"])]),
                ("only_old", "Read by the old side only", ["fate before"], lambda g: [_cell(fate_text(g["fate"]))]),
                ("only_new", "Read by the new side only", ["fate now"], lambda g: [_cell(fate_text(g["fate"]))]))
    for key, title, head, cells in sections:
        groups = report[key]
        if not groups:
            continue
        out += ["", f"#### {title} ({_n(sum(g['rows'] for g in groups))})", ""]
        out += _md_table(head + ["rows"], [cells(g) + [_n(g["rows"])] for g in groups])
        out += fates([e for g in groups for e in g["examples"]])
    if report["moves"]:
        moves = report["moves"]
        names = list(dict.fromkeys([m["from"] for m in moves] + [m["to"] for m in moves]))
        count = {(m["from"], m["to"]): m["rows"] for m in moves}
        out += ["", f"#### Split moves ({_n(sum(m['rows'] for m in moves))})", ""]
        out += _md_table(["from \\ to"] + [_cell(n or "kept") for n in names],
                         [[f"**{_cell(a or 'kept')}**"] + [_n(count[(a, b)]) if (a, b) in count else "" for b in names]
                          for a in names if any(k[0] == a for k in count)])
        out += fates([e for m in moves for e in m["examples"]])
    if report["values"]:
        out += ["", f"#### Values changed ({_n(report['summary']['values_changed'])} rows)", ""]
        out += _md_table(["column", "rows", "changed rules on it"],
                         [[_code(v["column"]), _n(v["rows"]), ", ".join(_code(r) for r in v["rules"])]
                          for v in report["values"]])
        if examples:
            out += _details([[_code(e["id"]), _code(v["column"]), _cell(e["old"]), _cell(e["new"])]
                             for v in report["values"] for e in v["examples"]], ["row", "column", "before", "after"])
    gen = report["generated"]
    if gen["old"] or gen["new"]:
        out += ["", f"#### Generated rows ({_n(gen['old'])} → {_n(gen['new'])})", ""]
        out += _md_table(["augment rule", "added", "removed", "changed"],
                         [[_code(r["rule"]), _n(r["added"]), _n(r["removed"]), _n(r["changed"])] for r in gen["rules"]])
        if examples:
            out += _details([[e["change"], _code(e["id"]), _cell(e["split"]), _cell(e["excerpt"])]
                             for e in gen["examples"]], ["change", "row", "split", "excerpt"])
    if report["splits"]:
        out += ["", "#### Kept rows per split", ""]
        out += _md_table(["split", "before", "after", "change"],
                         [[_cell(s["split"]), _n(s["old"]), _n(s["new"]), _delta(s["new"] - s["old"])]
                          for s in report["splits"]])
    if report["gates"]:
        out += ["", "#### Gates", ""]
        out += _md_table(["gate", "line", "before", "after", "measured"],
                         [[_code(g["gate"]), _lines(*_gate_lines(g)),
                           _verdict(g["old"]), f"**{_verdict(g['new'])}**" if g["changed"] else _verdict(g["new"]),
                           _cell(_measured_change(g["old"], g["new"]))] for g in report["gates"]])
    return "\n".join(out) + "\n"
