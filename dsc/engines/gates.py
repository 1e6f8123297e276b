"""Gates: the run's CI conditions, judged from the saved stats (stats first, verdicts second).

Each gate is measured from the stats dict a run saves (`stats.json`), so the same stats always
give the same verdicts:

- `dropped` / `kept`: rejected / kept rows as a share of the rows read;
- `rows(SPLIT)`: the rows in a split;
- `drop_rate(KIND or RULE ID)`: rows removed by the rules of that kind (or that one rule) as a
  share of the rows that reached the first of them — for one rule, its removed / rows in. A kind
  the run has no rule of measures 0;
- `agreement(FIELD)`: the dataset-level agreement the annotation step saved under
  `stats["annotations"][FIELD]["agreement"]["value"]`; without it (no annotate block ran, or the
  coefficient is undefined) the gate fails as "not measured", with the reason — a missing
  measurement never passes;
- `contaminated("EVAL")`: the rows the `decontaminate` rules removed for sharing an n-gram with
  EVAL — an eval set's pattern as a rule writes it (every file it matched), or one eval file;
  without a rule reading it the gate fails as "not measured";
- `leakage A, B jaccard >= T`: the near-duplicate pairs crossing the two splits, which must be 0.

Comparisons are exact (fractions against the plan's decimals): a drop of exactly 15% passes
`dropped <= 15%`. Every gate yields a `GateResult`; a failed gate with severity `warn` is a
warning, with `error` it fails the run (exit 3).
"""
from __future__ import annotations

import operator
from dataclasses import asdict, dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import Any

from dsc.plan import GatePlan

_OPS = {"<": operator.lt, "<=": operator.le, ">": operator.gt, ">=": operator.ge, "==": operator.eq,
        "!=": operator.ne}


@dataclass(frozen=True)
class GateResult:
    """One gate's verdict, as data: what was measured against which limit, and whether it held."""

    id: str
    line: int
    label: str
    metric: str
    op: str
    limit: float | int
    unit: str
    severity: str
    measured: float | int | None
    passed: bool
    message: str
    details: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def evaluate_gates(gates: list[GatePlan], stats: dict) -> list[GateResult]:
    """Judge every gate against the run's stats, in plan order.

    >>> g = GatePlan(id="dropped", metric="dropped", op="<=", limit=Decimal("0.15"), unit="fraction")
    >>> [r] = evaluate_gates([g], {"counts": {"input": 200, "kept": 170, "rejected": 30}})
    >>> r.passed, r.message
    (True, 'dropped <= 15%: 15% (30 of 200 rows)')
    >>> [r] = evaluate_gates([g], {"counts": {"input": 200, "kept": 169, "rejected": 31}})
    >>> r.passed, r.message
    (False, 'dropped <= 15%: measured 15.5% (31 of 200 rows), limit 15%')
    """
    return [_judge(gate, stats) for gate in gates]


def _judge(gate: GatePlan, stats: dict) -> GateResult:
    label = _label(gate)
    measure = {"dropped": _share, "kept": _share, "rows": _rows, "drop_rate": _drop_rate,
               "agreement": _agreement, "contaminated": _contaminated, "leakage": _leakage}.get(gate.metric)
    if measure is None:
        return _result(gate, label, None, False, f"{label}: not measured (unknown metric '{gate.metric}')")
    value, detail, details = measure(gate, stats)
    if value is None:
        return _result(gate, label, None, False, f"{label}: not measured — {detail}", details)
    if gate.metric == "leakage":
        passed = value == 0
        shown = f"{value} near-duplicate pair{'s' * (value != 1)} across {gate.args[0]} and {gate.args[1]}"
        text = f"{label}: {shown}" + ("" if passed else f", limit 0{detail}")
        return _result(gate, label, value, passed, text, details, limit=0, op="<=", unit="pairs")
    passed = _OPS[gate.op](Fraction(value), Fraction(gate.limit))
    shown = _show(value, gate.unit, gate.limit)
    text = f"{label}: {shown}{detail}" if passed else f"{label}: measured {shown}{detail}, limit {_limit(gate)}"
    return _result(gate, label, _plain(value), passed, text, details)


def _result(gate: GatePlan, label: str, measured, passed: bool, message: str, details: dict | None = None, *,
            limit=None, op=None, unit=None) -> GateResult:
    limit_value = limit if limit is not None else (int(gate.limit) if gate.unit == "count" else float(gate.limit))
    return GateResult(gate.id, gate.line, label, gate.metric, op or gate.op, limit_value, unit or gate.unit,
                      gate.severity, measured, passed, message, details or {})


def _label(gate: GatePlan) -> str:
    """The gate as written in the spec (`dropped <= 15%`, `leakage(train,validation) jaccard >= 0.8`)."""
    if gate.metric == "leakage":
        return f"leakage({','.join(gate.args)}) jaccard {gate.op} {_number(gate.limit)}"
    head = f"{gate.metric}({','.join(gate.args)})" if gate.args else gate.metric
    return f"{head} {gate.op} {_limit(gate)}"


def _limit(gate: GatePlan) -> str:
    return _percent(gate.limit) if gate.unit == "fraction" else _number(gate.limit)


def _number(value: Decimal) -> str:
    return "0" if value == 0 else format(value.normalize(), "f")


def _percent(value) -> str:
    """A share as a percentage with at most two decimals (exact decimals keep theirs)."""
    if isinstance(value, Decimal):
        return _number(value * 100) + "%"
    text = f"{100 * float(value):.2f}".rstrip("0").rstrip(".")
    return f"{text}%"


def _show(value: Fraction | int, unit: str, limit: Decimal) -> str:
    if unit != "fraction":
        return str(value) if isinstance(value, int) or value.denominator == 1 else f"{float(value):.4g}"
    text = _percent(value)
    # Rounding must never make a failing share print like its limit (15.004% vs 15%).
    if text == _percent(limit) and Fraction(value) != Fraction(limit):
        text = f"{100 * float(value):.6f}".rstrip("0") + "%"
    return text


def _plain(value: Fraction | int) -> float | int:
    return value if isinstance(value, int) else float(value)


def _ratio(part: int, whole: int) -> Fraction:
    return Fraction(part, whole) if whole else Fraction(0)


def _share(gate: GatePlan, stats: dict):
    counts = stats["counts"]
    part = counts["rejected"] if gate.metric == "dropped" else counts["kept"]
    return _ratio(part, counts["input"]), f" ({part} of {counts['input']} rows)", {}


def _rows(gate: GatePlan, stats: dict):
    parts = {p["name"]: p["rows"] for p in (stats.get("splits") or {}).get("parts", [])}
    if gate.args[0] not in parts:
        return None, f"the run has no split '{gate.args[0]}'", {}
    return parts[gate.args[0]], "", {}


def _drop_rate(gate: GatePlan, stats: dict):
    wanted = gate.args[0]
    rules = [r for r in stats["rules"] if wanted in (r["op"], r["id"])]
    if not rules:
        return Fraction(0), f" (the run has no {wanted} rule)", {}
    removed = sum(r["removed"] for r in rules)
    names = ", ".join(r["id"] for r in rules)
    return _ratio(removed, rules[0]["rows_in"]), f" ({removed} of {rules[0]['rows_in']} rows; {names})", {}


def _agreement(gate: GatePlan, stats: dict):
    """The annotation step's dataset agreement: `{"agreement": {"value", "metric", "level", "reason"}}`
    per field (a bare number under "agreement" is read too)."""
    field_stats = (stats.get("annotations") or {}).get(gate.args[0]) or {}
    measured = field_stats.get("agreement")
    entry = measured if isinstance(measured, dict) else field_stats
    value = measured.get("value") if isinstance(measured, dict) else measured
    if value is None:
        why = entry.get("reason") or (f"the run has no annotation statistics for '{gate.args[0]}'" if not field_stats
                                      else f"no agreement value for '{gate.args[0]}'")
        return None, why, {}
    metric = " ".join(str(x) for x in (entry.get("metric"), entry.get("level")) if x)
    return Fraction(str(value)), f" ({metric})" if metric else "", {}


def _contaminated(gate: GatePlan, stats: dict):
    """Rows removed for an eval set (`stats["contamination"]`): under its pattern, or one of its files."""
    from fnmatch import fnmatchcase

    wanted = gate.args[0]
    evals = [e for rule in stats.get("contamination") or [] for e in rule["evals"]]
    sets = [e for e in evals if e["pattern"] == wanted]
    if sets:
        rows = sum(e["rows"] for e in sets)
    elif any(fnmatchcase(wanted, e["pattern"]) for e in evals):
        rows = sum(f["rows"] for e in evals for f in e["files"] if f["file"] == wanted)
    else:
        return None, f"the run has no decontaminate rule against '{wanted}'", {}
    files = sorted({f["file"] for e in evals for f in e["files"]
                    if f["rows"] and (f["file"] == wanted or e in sets)})
    return rows, f" (rows sharing an n-gram with {', '.join(files)})" if rows else "", {}


def _leakage(gate: GatePlan, stats: dict):
    found = next((m for m in stats.get("leakage", []) if m["gate"] == gate.id), None)
    if found is None:
        return None, "the run has no leakage measurement for these splits", {}
    examples = found["examples"]
    sample = f" (e.g. {examples[0][0]} ~ {examples[0][1]})" if examples else ""
    return found["pairs"], sample, {"examples": examples, "compared": found["compared"]}
