"""`dsc diff --data`: what a policy change does to the rows, row by row.

`data_diff(old, new)` executes both plans over their inputs (`dsc.engines.local.execute`: every
stage, the stats and the gate verdicts, no output written) and compares the two outcomes by row id
(`_dsc_id`, stable across policies: the source key or a hash of the row as read). Each input row
has a *fate* on each side — kept (in a split, or `kept` when the spec does not split), or dropped
by a rule — and the report counts, in total and per rule:

- rows **newly dropped** (kept before; the rule and reason that drop them now), **newly kept**
  (dropped before; the rule that no longer drops them), **dropped by another rule**;
- rows that **move between splits** (a from → to table);
- rows kept on both sides whose **values change** (normalize, standardize, replace, strip), per column;
- **generated** (augmented) rows added, removed or changed;
- rows **read by one side only** (the sources or the data files differ);
- each gate's verdict before → after;

with a few examples per change (row id, source file:line, a short excerpt, old fate → new fate).
The counts are exactly what comparing the two runs' `kept.parquet` and `rejects.jsonl` by `_dsc_id`
gives (the tests check it on random policy changes).

Both sides share one stage cache (a temporary folder unless `work_dir` is given), so stages
the two plans have in common — the unchanged prefix of the rule list — run once; with the same
sources over the same folder the data files are read once too. A missing or uncompilable old side
(a spec added, a base that did not compile) or an old side whose run fails is reported as such,
with the new side alone: every row is then "read by the new side only". When the two sides read
different data for the same sources (an old checkout's data files), a third run — the new policy
over the old inputs — separates the policy's effects from the inputs' (`effects`), where it can.
"""
from __future__ import annotations

import json
import math
import re
import shutil
import tempfile
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

import pyarrow as pa
import pyarrow.compute as pc

from dsc.engines.layout import WHOLE
from dsc.reserved import AUG_RULE, AUG_SOURCE, DUPLICATE_OF, ID, LINE, REASON, RESERVED_PREFIX, ROW, RULE, SPLIT, SRC

FORMAT = "dsc-data-diff/1"
EXCERPT = 80  # characters of a row shown in an example

# The change categories `--fail-on` names, each with its count in `summary`.
CATEGORIES = {
    "drops-more": "newly_dropped",
    "keeps-more": "newly_kept",
    "redrops": "dropped_by_other_rule",
    "moves-splits": "moved_split",
    "changes-values": "values_changed",
    "changes-generated": "generated_changed_total",
    "changes-reads": "read_changed_total",
    "fails-gates": "gates_now_failing",
    "changes-gates": "gates_changed",
}
# The categories that are a change of the data itself (`--exit-code`); gate verdicts follow from them.
DATA_CATEGORIES = ("drops-more", "keeps-more", "redrops", "moves-splits", "changes-values", "changes-generated",
                   "changes-reads")


@dataclass
class Side:
    """One side of a data diff: a plan and the folder its paths resolve against, or why there is none.

    `label` names it in the report (a path, or `REF:path`); `problem` is set when there is no plan
    to run: `absent` (the spec did not exist there) or why it does not compile."""

    label: str
    plan: Any = None  # dsc.plan.Plan
    base_dir: Path | None = None
    problem: str | None = None


def data_diff(old: Side, new: Side, *, work_dir: Path | None = None, workers: int = 1,
              progress: Callable[[str], None] | None = None, permissions=None, examples: int = 3) -> dict:
    """Execute both sides and compare them row by row: the report as a JSON-ready dict (its schema:
    docs/datadiff.schema.json). The new side must have a plan; a failure of its run is raised
    (a `dsc.errors.DscError`); a failure of the old side's run is reported, with the new side alone.
    `work_dir` holds the shared stage cache (`work_dir/.dsc-cache`, kept); without it a temporary
    folder is used and removed."""
    from dsc.diff import diff_plans
    from dsc.errors import DscError
    from dsc.plan import Plan, fingerprint

    note = progress or (lambda _msg: None)
    temp = None
    if work_dir is None:
        temp = Path(tempfile.mkdtemp(prefix="dsc-diff-"))
        work_dir = temp
    try:
        runner = _Runner(Path(work_dir), workers, note, permissions)
        new_result = runner.run(new, "new")
        old_result, problem = None, old.problem
        if old.plan is not None:
            try:
                old_result = runner.run(old, "old")
            except DscError as err:
                problem = f"its run failed: {_one_line(err)}"
        policy = diff_plans(old.plan if old.plan is not None else Plan(), new.plan)
        total = compare(old_result, new_result, old.plan, new.plan, examples)
        inputs = _inputs(old_result, new_result)
        effects = None
        if inputs["changed"] and old_result is not None and _same_sources(old.plan, new.plan) \
                and old.base_dir is not None and old.base_dir.resolve() != new.base_dir.resolve():
            effects = _separate(runner, old, new, old_result, new_result, examples)
        total["policy"] = _policy_json(policy, old.plan is None)
        return {
            "format": FORMAT,
            "old": _side_json(old, old_result, problem, fingerprint),
            "new": _side_json(new, new_result, None, fingerprint),
            "inputs": inputs,
            **total,
            "effects": effects,
        }
    finally:
        if temp is not None:
            shutil.rmtree(temp, ignore_errors=True)


class _Runner:
    """Executes plans in one work folder; reads a set of sources once for every plan that shares it."""

    def __init__(self, work_dir: Path, workers: int, note, permissions):
        self.work_dir, self.workers, self.note, self.permissions = work_dir, workers, note, permissions
        self._read: dict[str, tuple] = {}

    def run(self, side: Side, name: str, base_dir: Path | None = None):
        from dsc.engines.local import execute, read_sources
        from dsc.engines.permissions import Permissions, enforce

        base = Path(base_dir or side.base_dir).resolve()
        note = lambda msg: self.note(f"{name}: {msg}")  # noqa: E731
        enforce(side.plan, base, self.permissions or Permissions())
        key = _sources_key(side.plan, base)
        if key not in self._read:
            self._read[key] = read_sources(side.plan, base, note)
        return execute(side.plan, base, self.work_dir, self.workers, note, self.permissions,
                       sources=self._read[key])


def _sources_key(plan, base: Path) -> str:
    """What `read_sources` depends on: the sources, the schema's declared types and the folder."""
    from dsc.engines.schema import declared

    return json.dumps({"base": str(base), "types": declared(plan),
                       "sources": [s.model_dump(mode="json", exclude={"line"}) for s in plan.sources]},
                      sort_keys=True, default=str)


def _same_sources(old_plan, new_plan) -> bool:
    return old_plan is not None and _sources_key(old_plan, Path()) == _sources_key(new_plan, Path())


def _separate(runner: _Runner, old: Side, new: Side, old_result, new_result, examples: int) -> dict:
    """The policy's effect (old policy vs new policy, both over the old inputs) apart from the inputs'
    (new policy over the old inputs vs over the new ones): a third run, when the new policy can read
    the old side's folder."""
    from dsc.errors import DscError

    try:
        middle = runner.run(new, "new policy over the old inputs", base_dir=old.base_dir)
    except DscError as err:
        return {"separated": False, "why": f"the new policy could not run over the old inputs: {_one_line(err)}"}
    return {"separated": True, "policy": compare(old_result, middle, old.plan, new.plan, examples),
            "inputs": compare(middle, new_result, new.plan, new.plan, examples)}


# ---- one side's rows -------------------------------------------------------------------------------------------

class _Outcome:
    """One run's rows by id: each input row's fate and where its data is; generated rows apart."""

    def __init__(self, result):
        kept, rejects = result.kept, result.rejects
        ids = kept.column(ID).to_pylist()
        # A spec without a split block keeps its rows in one split, named as the run names it.
        splits = kept.column(SPLIT).to_pylist() if SPLIT in kept.column_names else [WHOLE] * len(ids)
        generated = kept.column(AUG_RULE).to_pylist() if AUG_RULE in kept.column_names else [None] * len(ids)
        self.kept, self.rejects = kept, rejects
        self.fate: dict[str, tuple] = {}  # id -> ("kept", split) | ("dropped", rule)
        self.where: dict[str, tuple[str, int]] = {}  # id -> ("kept" | "rejects", row index)
        self.generated: dict[str, tuple[str, str | None, int]] = {}  # id -> (augment rule, split, row index)
        for i, (rid, split, aug) in enumerate(zip(ids, splits, generated)):
            if aug is not None:
                self.generated[_unique(self.generated, rid)] = (aug, split, i)
            else:
                rid = _unique(self.fate, rid)
                self.fate[rid], self.where[rid] = ("kept", split), ("kept", i)
        for i, (rid, rule) in enumerate(zip(rejects.column(ID).to_pylist(),
                                            rejects.column(RULE).to_pylist())):
            rid = _unique(self.fate, rid)
            self.fate[rid], self.where[rid] = ("dropped", rule), ("rejects", i)
        self.lines = dict(zip(rejects.column(RULE).to_pylist(), rejects.column(LINE).to_pylist()))
        self.data_columns = [c for c in kept.column_names if not c.startswith(RESERVED_PREFIX)]

    def row(self, rid: str) -> tuple[dict, str | None, dict | None]:
        """(the row's data, its source file:line, why it was dropped) for an example."""
        table, i = self.where[rid]
        if table == "kept":
            row = self.kept.slice(i, 1).to_pylist()[0]
            return {c: row[c] for c in self.data_columns}, row.get(SRC), None
        row = self.rejects.slice(i, 1).to_pylist()[0]
        try:
            data = json.loads(row[ROW]) if row[ROW] else {}
        except ValueError:
            data = {"row": row[ROW]}
        data = data if isinstance(data, dict) else {"row": data}
        order = {c: n for n, c in enumerate(self.data_columns)}  # the schema's order, as kept rows have it
        data = dict(sorted(data.items(), key=lambda kv: order.get(kv[0], len(order))))
        why = {"reason": row[REASON]}
        if row.get(DUPLICATE_OF):
            why["duplicate_of"] = row[DUPLICATE_OF]
        return data, row[SRC], why


def _unique(seen: dict, rid: str) -> str:
    """`rid`, or `rid#n` for its n-th repeat (ids are unique within a run; this only keeps a count exact)."""
    if rid not in seen:
        return rid
    n = 2
    while f"{rid}#{n}" in seen:
        n += 1
    return f"{rid}#{n}"


# ---- the comparison --------------------------------------------------------------------------------------------

def compare(old_result, new_result, old_plan, new_plan, examples: int = 3) -> dict:
    """The row-level comparison of two runs (`old_result` None: no old side, every row is new)."""
    new = _Outcome(new_result)
    old = _Outcome(old_result) if old_result is not None else None
    old_fate = old.fate if old is not None else {}
    groups: dict[str, dict[tuple, list[str]]] = {k: defaultdict(list) for k in
                                                 ("dropped", "kept", "redropped", "moved", "only_old", "only_new")}
    both_kept: list[str] = []
    for rid, now in new.fate.items():
        was = old_fate.get(rid)
        if was is None:
            groups["only_new"][now].append(rid)
        elif was == now:
            if now[0] == "kept":
                both_kept.append(rid)
        elif was[0] == "kept" and now[0] == "kept":
            groups["moved"][(was[1], now[1])].append(rid)
            both_kept.append(rid)
        elif was[0] == "kept":
            groups["dropped"][(now[1],)].append(rid)
        elif now[0] == "kept":
            groups["kept"][(was[1],)].append(rid)
        else:
            groups["redropped"][(was[1], now[1])].append(rid)
    for rid, was in old_fate.items():
        if rid not in new.fate:
            groups["only_old"][was].append(rid)
    values = _value_changes(old, new, both_kept) if old is not None else {}
    ex = _Examples(old, new, examples)
    report = {
        "summary": None,
        "rules": _rules(old, new, old_plan, new_plan),
        "dropped": [dict(ex.rule(k[0], new, old_plan, new_plan), rows=len(ids), examples=ex.fates(ids))
                    for k, ids in _largest(groups["dropped"])],
        "kept": [dict(ex.rule(k[0], old, old_plan, new_plan), rows=len(ids), examples=ex.fates(ids))
                 for k, ids in _largest(groups["kept"])],
        "redropped": [{"old_rule": k[0], "new_rule": k[1], "rows": len(ids), "examples": ex.fates(ids)}
                      for k, ids in _largest(groups["redropped"])],
        "moves": [{"from": k[0], "to": k[1], "rows": len(ids), "examples": ex.fates(ids)}
                  for k, ids in _largest(groups["moved"])],
        "values": [{"column": col, "rows": len(ids), "rules": _value_rules(old_plan, new_plan, col),
                    "examples": ex.values(ids, col)}
                   for col, ids in sorted(values.items(), key=lambda kv: (-len(kv[1]), kv[0]))],
        "only_old": [{"fate": _fate_json(k), "rows": len(ids), "examples": ex.fates(ids)}
                     for k, ids in _largest(groups["only_old"])],
        "only_new": [{"fate": _fate_json(k), "rows": len(ids), "examples": ex.fates(ids)}
                     for k, ids in _largest(groups["only_new"])],
        "generated": _generated(old, new, examples),
        "splits": _splits(old, new, old_plan, new_plan),
        "gates": _gates(old_result, new_result),
    }
    report["summary"] = _summary(old, new, groups, set().union(*values.values()) if values else set(), report)
    return report


def _largest(group: dict[tuple, list[str]]) -> list[tuple[tuple, list[str]]]:
    """Groups by size, largest first, then by key (None keys first)."""
    return sorted(group.items(), key=lambda kv: (-len(kv[1]), [str(k) if k is not None else "" for k in kv[0]]))


def _fate_json(fate: tuple | None) -> dict | None:
    if fate is None:
        return None
    if fate[0] == "kept":
        return {"kept": True, "split": fate[1]}
    return {"kept": False, "rule": fate[1]}


def _summary(old, new, groups, value_ids: set[str], report: dict) -> dict:
    count = {k: sum(len(v) for v in g.values()) for k, g in groups.items()}
    gen = report["generated"]
    gates = report["gates"]
    s = {
        "rows_old": len(old.fate) if old is not None else 0,
        "rows_new": len(new.fate),
        "rows_both": len(new.fate) - count["only_new"],
        "kept_old": sum(1 for f in (old.fate.values() if old is not None else ()) if f[0] == "kept"),
        "kept_new": sum(1 for f in new.fate.values() if f[0] == "kept"),
        "newly_dropped": count["dropped"],
        "newly_kept": count["kept"],
        "dropped_by_other_rule": count["redropped"],
        "moved_split": count["moved"],
        "values_changed": len(value_ids),
        "read_only_old": count["only_old"],
        "read_only_new": count["only_new"],
        "generated_old": gen["old"],
        "generated_new": gen["new"],
        "generated_added": gen["added"],
        "generated_removed": gen["removed"],
        "generated_changed": gen["changed"],
        "gates_changed": sum(1 for g in gates if g["changed"]),
        "gates_now_failing": sum(1 for g in gates if g["new"] is not None and g["new"]["verdict"] != "pass"
                                 and (g["old"] is None or g["old"]["verdict"] == "pass")),
    }
    s["fate_changed"] = s["newly_dropped"] + s["newly_kept"] + s["dropped_by_other_rule"] + s["moved_split"]
    s["generated_changed_total"] = s["generated_added"] + s["generated_removed"] + s["generated_changed"]
    s["read_changed_total"] = s["read_only_old"] + s["read_only_new"]
    changed = set(value_ids)
    for key in ("dropped", "kept", "redropped", "moved"):
        for ids in groups[key].values():
            changed.update(ids)
    s["rows_changed"] = len(changed) + s["read_changed_total"]  # fate or values, or read by one side only
    return s


def _value_changes(old: _Outcome, new: _Outcome, ids: list[str]) -> dict[str, list[str]]:
    """For rows kept on both sides: {column: ids whose value in it differs}."""
    if not ids:
        return {}
    old_idx = pa.array([old.where[i][1] for i in ids], pa.int64())
    new_idx = pa.array([new.where[i][1] for i in ids], pa.int64())
    changed: dict[str, list[str]] = {}
    for col in sorted(set(old.data_columns) | set(new.data_columns), key=_column_order(old, new)):
        a = old.kept.column(col).take(old_idx) if col in old.data_columns else pa.nulls(len(ids))
        b = new.kept.column(col).take(new_idx) if col in new.data_columns else pa.nulls(len(ids))
        diff = _differs(a, b)
        hits = [ids[i] for i in diff]
        if hits:
            changed[col] = hits
    return changed


def _value_rules(old_plan, new_plan, column: str) -> list[str]:
    """The rules that rewrite `column` and changed between the plans (added, removed, changed or
    moved): the likely cause of its value changes."""
    from dsc.diff import diff_plans
    from dsc.ops import OPERATORS

    if old_plan is None:
        return []
    steps = {s.id: s for s in [*old_plan.steps, *new_plan.steps]}
    found = []
    for c in diff_plans(old_plan, new_plan):
        step = steps.get(c.id) if c.section == "clean" else None
        if step is None:
            continue
        op = OPERATORS.get(step.op)
        if op is None or op.effect == "drops rows":
            continue
        names = []
        for field in op.reads:
            value = step.params.get(field)
            names += value if isinstance(value, list) else [value]
        if column in names:
            found.append(c.id)
    return list(dict.fromkeys(found))


def _column_order(old: _Outcome, new: _Outcome):
    order = {c: i for i, c in enumerate(new.data_columns + [c for c in old.data_columns if c not in new.data_columns])}
    return lambda c: order[c]


def _differs(a: pa.ChunkedArray | pa.Array, b: pa.ChunkedArray | pa.Array) -> list[int]:
    """Positions where two columns' values differ (nulls equal nulls, NaN equals NaN)."""
    try:
        if a.type != b.type:
            raise pa.ArrowNotImplementedError("types differ")
        same = pc.fill_null(pc.equal(a, b), False)
        same = pc.or_(same, pc.and_(pc.is_null(a), pc.is_null(b)))
        if pa.types.is_floating(a.type):
            same = pc.or_(same, pc.fill_null(pc.and_(pc.is_nan(a), pc.is_nan(b)), False))
        import numpy as np

        return np.flatnonzero(~same.to_numpy(zero_copy_only=False)).tolist()
    except (pa.ArrowNotImplementedError, pa.ArrowInvalid, pa.ArrowTypeError, TypeError):
        return [i for i, (x, y) in enumerate(zip(a.to_pylist(), b.to_pylist())) if not _equal(x, y)]


def _equal(x, y) -> bool:
    if isinstance(x, float) and isinstance(y, float) and math.isnan(x) and math.isnan(y):
        return True
    return type(x) is type(y) and x == y or (x is None and y is None)


def _rules(old: _Outcome | None, new: _Outcome, old_plan, new_plan) -> list[dict]:
    """Per rule that drops a different set of rows (of those both sides read): how many it dropped
    before and after, how many it now drops that it did not, and how many it no longer drops."""
    from dsc.diff import diff_plans

    old_fate = old.fate if old is not None else {}
    before: Counter = Counter(f[1] for f in old_fate.values() if f[0] == "dropped")
    after: Counter = Counter(f[1] for f in new.fate.values() if f[0] == "dropped")
    gained: Counter = Counter()
    lost: Counter = Counter()
    for rid, now in new.fate.items():
        was = old_fate.get(rid)
        if was is None or was == now:
            continue
        if now[0] == "dropped":
            gained[now[1]] += 1
        if was[0] == "dropped":
            lost[was[1]] += 1
    changes = {}
    if old_plan is not None:
        for c in diff_plans(old_plan, new_plan):
            if c.section in ("clean", "annotate", "schema", "source"):
                changes.setdefault(c.id, f"{c.kind}: {c.detail}")
    rules = []
    for rule in set(gained) | set(lost) | {r for r in set(before) | set(after) if before[r] != after[r]}:
        rules.append({"rule": rule, "old_line": _line(old, old_plan, rule), "new_line": _line(new, new_plan, rule),
                      "dropped_old": before[rule], "dropped_new": after[rule], "now_drops": gained[rule],
                      "no_longer_drops": lost[rule], "policy_change": changes.get(rule)})
    return sorted(rules, key=lambda r: (r["new_line"] if r["new_line"] is not None else r["old_line"] or 0, r["rule"]))


def _line(outcome: _Outcome | None, plan, rule: str) -> int | None:
    """A rule's line in the spec of one side: from its plan, or from its rejects (schema: 0)."""
    if plan is None:
        return None
    for step in [*plan.steps, *plan.annotations]:
        if step.id == rule:
            return step.line
    for src in plan.sources:
        if rule.startswith("source") and src.name in rule:
            return src.line
    if outcome is not None and rule in outcome.lines:
        return outcome.lines[rule]
    return None


def _generated(old: _Outcome | None, new: _Outcome, examples: int) -> dict:
    """Generated rows by id: added, removed, changed (text or split), per augment rule."""
    before = old.generated if old is not None else {}
    after = new.generated
    added = [i for i in after if i not in before]
    removed = [i for i in before if i not in after]
    common = [i for i in after if i in before]
    changed = []
    if common:
        cols = sorted(set(old.data_columns) | set(new.data_columns))
        for rid in common:
            (_, s1, i1), (_, s2, i2) = before[rid], after[rid]
            r1, r2 = old.kept.slice(i1, 1).to_pylist()[0], new.kept.slice(i2, 1).to_pylist()[0]
            if s1 != s2 or any(not _equal(r1.get(c), r2.get(c)) for c in cols):
                changed.append(rid)
    by_rule: dict[str, dict[str, int]] = defaultdict(lambda: {"added": 0, "removed": 0, "changed": 0})
    for ids, what, side in ((added, "added", after), (removed, "removed", before), (changed, "changed", after)):
        for rid in ids:
            by_rule[side[rid][0]][what] += 1

    def show(rid: str, side: _Outcome) -> dict:
        rule, split, i = side.generated[rid]
        row = side.kept.slice(i, 1).to_pylist()[0]
        return {"id": rid, "rule": rule, "split": split, "source_row": row.get(AUG_SOURCE),
                "excerpt": _excerpt({c: row[c] for c in side.data_columns})}

    return {"old": len(before), "new": len(after), "added": len(added), "removed": len(removed),
            "changed": len(changed), "rules": [dict(rule=r, **c) for r, c in sorted(by_rule.items())],
            "examples": [dict(show(i, new), change="added") for i in added[:examples]]
            + [dict(show(i, old), change="removed") for i in removed[:examples]]
            + [dict(show(i, new), change="changed") for i in changed[:examples]]}


def _splits(old: _Outcome | None, new: _Outcome, old_plan, new_plan) -> list[dict]:
    """Kept input rows per split, before and after (`all` when a side does not split, as `dsc run`
    names that split)."""
    def count(outcome):
        return Counter(f[1] for f in outcome.fate.values() if f[0] == "kept") if outcome is not None else Counter()

    before, after = count(old), count(new)
    names = [p.name for p in new_plan.split.parts] if new_plan is not None and new_plan.split else []
    names += [p.name for p in old_plan.split.parts] if old_plan is not None and old_plan.split else []
    names += [k for k in (*after, *before)]
    return [{"split": n, "old": before.get(n, 0), "new": after.get(n, 0)} for n in dict.fromkeys(names)]


def _gates(old_result, new_result) -> list[dict]:
    """Each gate's verdict before → after, matched by gate id."""
    def verdicts(result):
        if result is None:
            return {}
        return {g["id"]: {"line": g.get("line"), "severity": g.get("severity"), "verdict": _verdict(g),
                          "measured": g.get("measured"), "message": g.get("message")}
                for g in result.stats.get("gates", [])}

    before, after = verdicts(old_result), verdicts(new_result)
    out = []
    for gid in dict.fromkeys([*after, *before]):
        a, b = before.get(gid), after.get(gid)
        changed = a is None or b is None or a["verdict"] != b["verdict"]
        out.append({"gate": gid, "old": a, "new": b, "changed": changed})
    return out


def _verdict(gate: dict) -> str:
    if gate.get("passed"):
        return "pass"
    return "fail" if gate.get("severity") == "error" else "warn"


# ---- examples ----------------------------------------------------------------------------------------------------

class _Examples:
    """A few rows per change: id, source file:line, a short excerpt, old fate → new fate."""

    def __init__(self, old: _Outcome | None, new: _Outcome, limit: int):
        self.old, self.new, self.limit = old, new, max(0, limit)

    def fates(self, ids: list[str]) -> list[dict]:
        out = []
        for rid in ids[: self.limit]:
            side = self.new if rid in self.new.fate else self.old
            data, src, _ = side.row(rid)
            old_fate = self.old.fate.get(rid) if self.old is not None else None
            new_fate = self.new.fate.get(rid)
            out.append({"id": rid, "source": src, "excerpt": _excerpt(data),
                        "old": self._fate(self.old, rid, old_fate), "new": self._fate(self.new, rid, new_fate)})
        return out

    def values(self, ids: list[str], column: str) -> list[dict]:
        out = []
        for rid in ids[: self.limit]:
            before, src, _ = self.old.row(rid)
            after, _, _ = self.new.row(rid)
            old_text, new_text = _value_pair(before.get(column), after.get(column))
            out.append({"id": rid, "source": src, "old": old_text, "new": new_text, "split": self.new.fate[rid][1]})
        return out

    def rule(self, rule: str, side: _Outcome | None, old_plan, new_plan) -> dict:
        return {"rule": rule, "old_line": _line(self.old, old_plan, rule), "new_line": _line(self.new, new_plan, rule)}

    @staticmethod
    def _fate(side: _Outcome | None, rid: str, fate: tuple | None) -> dict | None:
        shown = _fate_json(fate)
        if shown is not None and not shown["kept"]:
            shown.update(side.row(rid)[2])
        return shown


def _text(value) -> str:
    if value is None:
        return "null"
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)


def _excerpt(data: dict) -> str:
    """The row's first non-empty text values, whitespace folded, cut to EXCERPT characters."""
    parts = []
    for value in data.values():
        text = _text(value) if value is not None else ""
        text = re.sub(r"\s+", " ", text).strip()
        if text:
            parts.append(text)
        if sum(len(p) for p in parts) >= EXCERPT:
            break
    return _clip(" | ".join(parts))


def _value_pair(before, after) -> tuple[str, str]:
    """Two values as JSON (whitespace shows: a newline as \\n), each cut to EXCERPT characters from a
    little before where they first differ."""
    a, b = (json.dumps(v, ensure_ascii=False, default=str) for v in (before, after))
    first = next((i for i, (x, y) in enumerate(zip(a, b)) if x != y), min(len(a), len(b)))
    start = max(0, first - EXCERPT // 4)

    def cut(text: str) -> str:
        part = ("…" if start else "") + text[start:]
        return part if len(part) <= EXCERPT else part[: EXCERPT - 1] + "…"
    return cut(a), cut(b)


def _clip(text: str, limit: int = EXCERPT) -> str:
    text = re.sub(r"\s+", " ", text).strip()
    return text if len(text) <= limit else text[: limit - 1] + "…"


# ---- inputs and sides --------------------------------------------------------------------------------------------

def _inputs(old_result, new_result) -> dict:
    """The data files each side read, by path, and whether any differs."""
    before = {i["path"]: i for i in old_result.inputs} if old_result is not None else {}
    after = {i["path"]: i for i in new_result.inputs}
    files = []
    for path in dict.fromkeys([*after, *before]):
        a, b = before.get(path), after.get(path)
        status = "added" if a is None else "removed" if b is None else \
            "same" if a["sha256"] == b["sha256"] else "changed"
        files.append({"path": path, "status": status, "old_sha256": a and a["sha256"], "new_sha256": b and b["sha256"],
                      "old_rows": a and a["rows"], "new_rows": b and b["rows"]})
    changed = old_result is not None and any(f["status"] != "same" for f in files)
    return {"changed": changed, "files": files}


def _side_json(side: Side, result, problem: str | None, fingerprint) -> dict:
    return {"spec": side.label, "fingerprint": fingerprint(side.plan) if side.plan is not None else None,
            "ran": result is not None, "problem": problem}


def _change_json(c) -> dict:
    return {"kind": c.kind, "section": c.section, "id": c.id, "old_line": c.old_line, "new_line": c.new_line,
            "impact": c.impact, "detail": c.detail}


def _policy_json(changes, no_old: bool) -> list[dict]:
    """The policy changes; with no old spec every item is added (a header field too, not changed from
    its default)."""
    out = [_change_json(c) for c in changes]
    if no_old:
        for c in out:
            if c["kind"] != "added":
                c["kind"], c["old_line"] = "added", None
                c["detail"] = c["detail"].rsplit(" → ", 1)[-1]
    return out


def _one_line(err) -> str:
    return str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__


def failing(report: dict, categories: list[str]) -> list[str]:
    """The `categories` (names of CATEGORIES) with a nonzero count in the report: `--fail-on`."""
    s = report["summary"]
    return [c for c in categories if s.get(CATEGORIES[c], 0)]


def data_changed(report: dict) -> bool:
    """True when any row's fate or values differ, or generated rows or the rows read do: `--exit-code`."""
    return bool(failing(report, list(DATA_CATEGORIES)))


def policy_report(old: Side, new: Side) -> dict:
    """The report of `dsc diff` without `--data`: both sides and the policy changes, nothing run."""
    from dsc.diff import diff_plans
    from dsc.plan import Plan, fingerprint

    policy = diff_plans(old.plan if old.plan is not None else Plan(), new.plan)
    return {"format": FORMAT, "old": _side_json(old, None, old.problem, fingerprint),
            "new": _side_json(new, None, None, fingerprint), "inputs": None, "summary": None,
            "policy": _policy_json(policy, old.plan is None), "effects": None}
