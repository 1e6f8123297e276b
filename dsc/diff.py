"""`dsc diff`: what changed between two plans, classified the way a reviewer asks about it.

A text diff of two specs shows lines; this shows policy. Items are matched by identity within
each section (clean steps by rule id, columns by name, gates by id, …), so moving a block or
re-wording a comment changes nothing, and every change is labelled with its *impact*: does
the new plan drop more rows, fewer, move rows between splits, loosen a CI gate?

Clean rules run top to bottom, so for them order is policy too: a rule that kept its
parameters but now runs at another place is reported as `moved`.
"""
from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass
from typing import Any, Callable, Literal

from pydantic import BaseModel

from dsc.explain import gate_limit, number, percent, summarize
from dsc.ops import OPERATORS
from dsc.plan import GUARD_BOUNDS, AugmentRule, GatePlan, Plan, Step, bound_text, fingerprint

SECTIONS = ("dataset", "source", "schema", "clean", "annotate", "split", "augment", "export", "gate", "finetune")

DROPS_MORE = "drops more rows"
DROPS_FEWER = "drops fewer rows"
DROPS_UNKNOWN = "may drop more or fewer rows"
SAME_COUNT = "changes which rows survive"
VALUES = "changes values"
REORDERS = "reorders rules (may change which rows survive)"
SPLITS = "moves rows between splits"
REPORT = "changes what the report measures"  # `stratify`: the split × label table, not the assignment
READS = "changes which rows are read"
SCHEMA = "changes the schema"
ANNOTATION = "changes annotation requirements"
AUGMENT = "changes augmentation"
EXPORT = "changes export"
GATES = "changes CI gates"
TRAINING = "changes the training config"
HEADER = "changes the dataset header"
SEED = "changes seeded random choices"
FORMAT = "changes the plan format"

Kind = Literal["added", "removed", "changed", "moved"]


@dataclass(frozen=True)
class Change:
    """One reviewable difference between two plans.

    `id` names the item within its section (a rule id, column name, gate id, setting key, …);
    `detail` says what changed (`threshold 0.85 → 0.8`), or for an added or removed item what
    it does.
    """

    kind: Kind
    section: str
    id: str
    old_line: int | None
    new_line: int | None
    impact: str
    detail: str


def diff_plans(old: Plan, new: Plan) -> list[Change]:
    """Every semantic difference from `old` to `new`, sorted by section (plan order), then line.

    Plans with equal fingerprints have no differences, whatever their line numbers.

    >>> from decimal import Decimal
    >>> def plan(threshold):
    ...     params = {"columns": ["prompt"], "threshold": Decimal(threshold)}
    ...     return Plan(steps=[Step(id="dedupe_near[prompt]", op="dedupe_near", line=3, params=params)])
    >>> [c.impact + ": " + c.detail for c in diff_plans(plan("0.85"), plan("0.8"))]
    ['drops more rows: threshold 0.85 → 0.8']
    >>> diff_plans(plan("0.8"), plan("0.80"))
    []
    """
    if fingerprint(old) == fingerprint(new):
        return []
    changes = [*_dataset(old, new), *_sources(old, new), *_schema(old, new), *_clean(old, new),
               *_annotations(old, new), *_split(old, new), *_augment(old, new), *_exports(old, new),
               *_gates(old, new), *_finetune(old, new)]
    # `sorted` is stable, so items without lines (header fields) keep plan order.
    return sorted(changes, key=lambda c: (SECTIONS.index(c.section), _line(c) or 0))


def render_diff(changes: list[Change], old: Plan, new: Plan, old_name: str, new_name: str) -> str:
    """The changes as plain text for a pull request: a header with both (short) fingerprints,
    one line per change, and a count per impact at the end.

    >>> from dsc.plan import DatasetInfo
    >>> a, b = Plan(dataset=DatasetInfo(seed=1)), Plan(dataset=DatasetInfo(seed=2))
    >>> print(render_diff(diff_plans(a, b), a, b, "a.dspec", "b.dspec"))  # doctest: +ELLIPSIS
    dsc diff: a.dspec (...) → b.dspec (...)
    <BLANKLINE>
    ~ dataset  seed  changes seeded random choices: 1 → 2
    <BLANKLINE>
    1 change: 1 × changes seeded random choices
    <BLANKLINE>
    """
    old_fp, new_fp = _short(fingerprint(old)), _short(fingerprint(new))
    head = f"dsc diff: {old_name} ({old_fp}) → {new_name} ({new_fp})"
    if old_fp == new_fp and not changes:
        return f"{head}\nformatting only: the plans are identical (fingerprint {new_fp})\n"
    lines = [head, ""]
    lines += _table([(_SYMBOL[c.kind], c.section, c.id, _where(c), f"{c.impact}: {c.detail}") for c in changes])
    counts = Counter(c.impact for c in changes)
    n = len(changes)
    summary = ", ".join(f"{count} × {impact}" for impact, count in counts.items())
    lines += ["", f"{n} change{'s' if n != 1 else ''}: {summary}" if n else "0 changes"]
    return "\n".join(lines) + "\n"


_SYMBOL = {"added": "+", "removed": "-", "changed": "~", "moved": "↕"}


def _table(rows: list[tuple[str, str, str, str, str]]) -> list[str]:
    """Rows of (symbol, section, id, lines, text) in aligned columns. A column empty in every
    row is left out: only header fields changed, and those have no line."""
    shown = [i for i in (1, 2, 3) if any(r[i] for r in rows)]
    widths = {i: max(len(r[i]) for r in rows) for i in shown}
    return [f"{r[0]} " + "  ".join([*(r[i].ljust(widths[i]) for i in shown), r[4]]) for r in rows]


def _short(fp: str) -> str:
    return fp.removeprefix("sha256:")[:12]


def _line(c: Change) -> int | None:
    return c.new_line if c.new_line is not None else c.old_line


def _where(c: Change) -> str:
    if c.kind == "added":
        return f"line {c.new_line}" if c.new_line is not None else ""
    if c.kind == "removed":
        return f"line {c.old_line}" if c.old_line is not None else ""
    if c.old_line is None and c.new_line is None:
        return ""
    return f"line {c.old_line} → {c.new_line}"


# ── values ──────────────────────────────────────────────────────────────────────────────
def _canon(value: Any) -> Any:
    """A value in comparable form: decimals as their canonical text (a compiled plan holds
    `Decimal("0.80")` where one loaded from JSON holds `"0.8"`), tuples as lists."""
    if isinstance(value, BaseModel):
        return _canon(value.model_dump(mode="python"))
    if isinstance(value, dict):
        return {k: _canon(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_canon(v) for v in value]
    if isinstance(value, bool) or value is None or isinstance(value, (int, str)):
        return value
    return number(value)


def _show(value: Any) -> str:
    if value is None or value == [] or value == {}:
        return "(none)"
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, list):
        return "[" + ", ".join(_show(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} {_show(v)}" for k, v in value.items()) + "}"
    return str(value)


def _field_diffs(old: dict, new: dict, prefix: str = "") -> list[str]:
    """`key old → new` for each differing key; nested records are compared key by key, so a
    changed hub revision reads `hub.revision a → b`, not the whole hub twice."""
    out = []
    for key in [*old, *(k for k in new if k not in old)]:
        a, b = old.get(key), new.get(key)
        if isinstance(a, dict) and isinstance(b, dict):
            out += _field_diffs(a, b, f"{prefix}{key}.")
        elif a != b:
            out.append(f"{prefix}{key} {_show(a)} → {_show(b)}")
    return out


# ── matching ────────────────────────────────────────────────────────────────────────────
_REPEAT = re.compile(r"#\d+$")


def _base_id(ident: str) -> str:
    """A rule id without its repeat number: `drop[prompt]#2` → `drop[prompt]`."""
    return _REPEAT.sub("", ident)


def _match(old: list, new: list, key: Callable[[Any], str], content: Callable[[Any], Any]):
    """Pair old and new items that share a key; return (pairs, removed, added) as indexes.

    Repeats of one rule (`drop[prompt]`, `drop[prompt]#2`) are renumbered when one is inserted
    before another, so within a key the identical items are paired first and the rest in order:
    a new `drop where …` above an old one shows as one addition, not as a change plus an addition.
    """
    pairs: list[tuple[int, int]] = []
    groups: dict[str, tuple[list[int], list[int]]] = {}
    for i, item in enumerate(old):
        groups.setdefault(key(item), ([], []))[0].append(i)
    for j, item in enumerate(new):
        groups.setdefault(key(item), ([], []))[1].append(j)
    removed, added = [], []
    for olds, news in groups.values():
        olds, news = list(olds), list(news)
        for i in list(olds):
            same = next((j for j in news if content(new[j]) == content(old[i])), None)
            if same is not None:
                pairs.append((i, same))
                olds.remove(i)
                news.remove(same)
        pairs += zip(olds, news)
        removed += olds[len(news):]
        added += news[len(olds):]
    return sorted(pairs), sorted(removed), sorted(added)


def _moved(pairs: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """The pairs whose relative order changed: all but a longest run that kept its order.

    Among equally long runs the one with the later items is kept, so swapping two neighbours
    reports the upper one as moved, as a line diff of the spec would.
    """
    news = [j for _, j in pairs]
    best = [1] * len(news)
    back = [-1] * len(news)
    for b in range(len(news)):
        for a in range(b):
            if news[a] < news[b] and best[a] + 1 >= best[b]:
                best[b], back[b] = best[a] + 1, a
    keep, k = set(), max(reversed(range(len(news))), key=lambda i: best[i], default=-1)
    while k >= 0:
        keep.add(k)
        k = back[k]
    return [p for n, p in enumerate(pairs) if n not in keep]


@dataclass(frozen=True)
class _Section:
    """How one list section of the plan is matched, compared and judged."""

    name: str
    ident: Callable[[Any], str]
    fields: Callable[[Any], dict]
    impact: Callable[[Kind, Any, Any], str]
    key: Callable[[Any], str] | None = None
    noun: str = "position"

    def diff(self, old: list, new: list) -> list[Change]:
        pairs, removed, added = _match(old, new, self.key or self.ident, self.fields)
        out = [self._one("removed", old[i], None, summarize(old[i])) for i in removed]
        out += [self._one("added", None, new[j], summarize(new[j])) for j in added]
        for i, j in pairs:
            diffs = _field_diffs(self.fields(old[i]), self.fields(new[j]))
            if diffs:
                out.append(self._one("changed", old[i], new[j], ", ".join(diffs)))
        for i, j in _moved(pairs):
            after = f"now after {self.ident(new[j - 1])}" if j else "now first"
            out.append(self._one("moved", old[i], new[j], f"{self.noun} {i + 1} → {j + 1}, {after}"))
        return out

    def _one(self, kind: Kind, a: Any, b: Any, detail: str) -> Change:
        ident = self.ident(b if b is not None else a)
        if a is not None and b is not None and self.ident(a) != ident:
            detail += f" (was {self.ident(a)})"
        return Change(kind, self.name, ident, a.line if a is not None else None, b.line if b is not None else None,
                      self.impact(kind, a, b), detail)


def _record(item: BaseModel, *skip: str) -> dict:
    """An item's policy fields in comparable form: no line, no id, nothing named in `skip`."""
    return {k: v for k, v in _canon(item).items() if k not in ("line", "id", *skip)}


def _fixed(impact: str) -> Callable[[Kind, Any, Any], str]:
    return lambda kind, a, b: impact


# ── sections ────────────────────────────────────────────────────────────────────────────
def _keyed(section: str, old: dict, new: dict, impact: Callable[[str], str], lines=(None, None)) -> list[Change]:
    """Key-by-key comparison of two flat mappings (header fields, split options, settings)."""
    out = []
    for key in [*old, *(k for k in new if k not in old)]:
        if key not in new:
            out.append(Change("removed", section, key, lines[0], None, impact(key), _show(old[key])))
        elif key not in old:
            out.append(Change("added", section, key, None, lines[1], impact(key), _show(new[key])))
        elif old[key] != new[key]:
            out.append(Change("changed", section, key, *lines, impact(key), f"{_show(old[key])} → {_show(new[key])}"))
    return out


def _dataset(old: Plan, new: Plan) -> list[Change]:
    a = {"format": old.format, **_canon(old.dataset)}
    b = {"format": new.format, **_canon(new.dataset)}
    return _keyed("dataset", a, b, lambda k: {"seed": SEED, "format": FORMAT}.get(k, HEADER))


def _sources(old: Plan, new: Plan) -> list[Change]:
    # Sources are concatenated in order, so their order decides which duplicate comes "first".
    def fields(s):
        return {**_record(s, "name"), "renames": [f"{a}->{b}" for a, b in s.renames]}
    section = _Section("source", lambda s: s.name, fields, _fixed(READS))
    return section.diff(old.sources, new.sources)


def _schema(old: Plan, new: Plan) -> list[Change]:
    section = _Section("schema", lambda c: c.name, lambda c: _record(c, "name"), _fixed(SCHEMA), noun="column")
    return section.diff(old.columns, new.columns)


def _step_fields(step: Step) -> dict:
    # Params in the operator's own field order, whether the plan was compiled or loaded from JSON.
    order = list(OPERATORS[step.op].Params.model_fields)
    params = _canon(step.params)
    return {k: params[k] for k in sorted(params, key=lambda k: (order.index(k) if k in order else len(order), k))}


def _step_impact(kind: Kind, old: Step | None, new: Step | None) -> str:
    if kind == "moved":
        return REORDERS
    op = OPERATORS[(new or old).op]
    drops = op.effect == "drops rows"
    if kind == "added":
        return DROPS_MORE if drops else VALUES
    if kind == "removed":
        return DROPS_FEWER if drops else VALUES
    verdict = op.strictness(old.params, new.params)
    if verdict == 1:
        return DROPS_MORE
    if verdict == -1:
        return DROPS_FEWER
    if not drops:
        return VALUES
    return SAME_COUNT if verdict == 0 else DROPS_UNKNOWN


def _clean(old: Plan, new: Plan) -> list[Change]:
    section = _Section("clean", lambda s: s.id, _step_fields, _step_impact, key=lambda s: _base_id(s.id), noun="rule")
    return section.diff(old.steps, new.steps)


def _annotations(old: Plan, new: Plan) -> list[Change]:
    section = _Section("annotate", lambda a: a.field, lambda a: _record(a, "field"), _fixed(ANNOTATION))
    return section.diff(old.annotations, new.annotations)


def _split(old: Plan, new: Plan) -> list[Change]:
    a, b = old.split, new.split
    if a is None and b is None:
        return []
    if a is None or b is None:
        kind, item = ("added", b) if a is None else ("removed", a)
        lines = (None, b.line) if a is None else (a.line, None)
        return [Change(kind, "split", "split", *lines, SPLITS, summarize(item))]
    header = _keyed("split", _record(a, "parts"), _record(b, "parts"),
                    lambda key: REPORT if key == "stratify" else SPLITS, lines=(a.line, b.line))
    parts = _Section("split", lambda p: p.name, lambda p: {"fraction": percent(p.fraction)}, _fixed(SPLITS))
    return header + parts.diff(a.parts, b.parts)


def _augment_fields(r: AugmentRule) -> dict:
    """A rule's fields, its guard bounds as their effective values (`0.1 (default)` where the spec
    sets none), so a bound set or changed reads `min_similarity 0.1 (default) → 0.3`."""
    given = r.bounds or {}
    bounds = {k: bound_text(given[k]) if k in given else f"{bound_text(d)} (default)" for k, d in GUARD_BOUNDS.items()}
    return {**_record(r, "bounds"), "ratio": percent(r.ratio), **bounds}


def _augment_impact(kind: Kind, old: AugmentRule | None, new: AugmentRule | None) -> str:
    """`changes augmentation`, with `(stricter guard)` / `(looser guard)` when only guard bounds
    changed and all in one direction: a raised minimum or a lowered maximum rejects more."""
    if kind != "changed" or _record(old, "bounds") != _record(new, "bounds"):
        return AUGMENT
    votes = set()
    for name in GUARD_BOUNDS:
        a, b = old.bound(name), new.bound(name)
        if a != b:
            votes.add(1 if (b > a) == name.startswith("min_") else -1)
    direction = votes.pop() if len(votes) == 1 else None
    return {1: f"{AUGMENT} (stricter guard)", -1: f"{AUGMENT} (looser guard)"}.get(direction, AUGMENT)


def _augment(old: Plan, new: Plan) -> list[Change]:
    section = _Section("augment", lambda r: r.id, _augment_fields, _augment_impact, key=lambda r: _base_id(r.id))
    return section.diff(old.augment, new.augment)


def _exports(old: Plan, new: Plan) -> list[Change]:
    section = _Section("export", lambda e: f"{e.format} {e.path}", lambda e: _record(e, "format", "path"),
                       _fixed(EXPORT))
    return section.diff(old.exports, new.exports)


def _gate_fields(g: GatePlan) -> dict:
    return {**_record(g), "limit": gate_limit(g)}


def _gate_direction(old: GatePlan, new: GatePlan) -> int | None:
    """+1 when `new` is stricter than `old`, -1 when looser, None when it cannot be told."""
    votes = set()
    if _record(old, "limit", "severity") != _record(new, "limit", "severity"):
        return None
    if old.limit != new.limit:
        if old.op in ("<", "<="):
            tighter = new.limit < old.limit
        elif old.op in (">", ">="):
            tighter = new.limit > old.limit
        else:
            return None
        # A leakage gate's limit is the similarity that counts as a leak: lowering it catches more.
        if old.metric == "leakage":
            tighter = not tighter
        votes.add(1 if tighter else -1)
    if old.severity != new.severity:
        votes.add(1 if new.severity == "error" else -1)
    return votes.pop() if len(votes) == 1 else None


def _gate_impact(kind: Kind, old: GatePlan | None, new: GatePlan | None) -> str:
    if kind == "added":
        return f"{GATES} (stricter)"
    if kind == "removed":
        return f"{GATES} (looser)"
    direction = _gate_direction(old, new) if kind == "changed" else None
    return {1: f"{GATES} (stricter)", -1: f"{GATES} (looser)"}.get(direction, GATES)


def _gates(old: Plan, new: Plan) -> list[Change]:
    section = _Section("gate", lambda g: g.id, _gate_fields, _gate_impact, key=lambda g: _base_id(g.id))
    return section.diff(old.gates, new.gates)


def _finetune(old: Plan, new: Plan) -> list[Change]:
    blocks = _Section("finetune", lambda f: f.method, lambda f: _record(f), _fixed(TRAINING))
    pairs, _, _ = _match(old.finetune, new.finetune, blocks.ident, blocks.fields)
    changes = [c for c in blocks.diff(old.finetune, new.finetune) if c.kind != "changed"]
    # A changed block is reported setting by setting, each under `method.setting`.
    for i, j in pairs:
        a, b = old.finetune[i], new.finetune[j]
        for c in _keyed("finetune", _canon(a.settings), _canon(b.settings), lambda key: TRAINING,
                        lines=(a.line, b.line)):
            changes.append(Change(c.kind, c.section, f"{b.method}.{c.id}", c.old_line, c.new_line, c.impact, c.detail))
    return changes
