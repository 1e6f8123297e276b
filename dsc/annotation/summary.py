"""The stats of one annotate block: JSON-ready figures for the run report and for gates.

Saved before anything renders them (as datatrove does), with every list in a fixed order —
labels in label order, annotators and problems sorted — so the same run gives the same
bytes. Agreement values are rounded to `metrics.DECIMALS` places.

Sections: `agreement` (the dataset coefficient with its threshold and whether it passed),
`item_agreement` (how per-item agreement is spread, and how many items fall under the item
floor), `coverage` (items with no or too few annotations or experts), `resolution` (what
happened to each row's label: a count per status, and the resolved ones by method),
`annotators` (per annotator: role, labels given, share agreeing with the resolved label),
`label_pairs` (which labels two annotators of one item gave together — the confusion
matrix, summed over annotator pairs), `label_counts` (resolved labels among kept rows),
`problems` (every annotation record not used, with where it is and why), `tasks`, `rows`
and `warnings`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from dsc.annotation.metrics import DECIMALS, Agreement

# What happened to a row's label, in report order (see apply._Row.status).
STATUSES = ("resolved", "first", "drop", "flag", "below_floor", "unannotated")

if TYPE_CHECKING:
    from dsc.annotation.ingest import Annotation, Ingested, Problem
    from dsc.plan import AnnotationPlan


@dataclass
class Facts:
    """Everything `apply_annotations` learnt, handed over to be summarised."""

    plan: AnnotationPlan
    ingested: Ingested
    outside: list[Problem]
    overall: Agreement
    passed: bool | None
    scores: list[float]
    rows: list[Any]  # apply._Row
    by_item: dict[str, list[Annotation]]
    order: list[str]
    resolved: dict[str, str]
    tasks: int
    task_files: list[str]
    flagged: int
    pairs: list[list[int]]


def summarize(f: Facts) -> dict[str, Any]:
    """The stats dict (see the module docstring for its sections)."""
    plan, rows = f.plan, f.rows
    problems = [p.as_dict() for p in (*f.ingested.problems, *f.outside)]
    kept_labels = [r.label for r in rows if r.removed is None and r.label is not None]
    stats = {
        "id": plan.id,
        "field": plan.field,
        "source": plan.source,
        "format": plan.format,
        "agreement": {**f.overall.as_dict(), "threshold": _number(plan.threshold), "passed": f.passed},
        "item_agreement": _spread(f.scores, plan, sum(r.low for r in rows)),
        "coverage": {
            "items": len(rows),
            "annotated": sum(r.annotated for r in rows),
            "unannotated": sum(not r.annotated for r in rows),
            "short_of_annotators": sum(r.short_annotators for r in rows),
            "short_of_experts": sum(r.short_experts for r in rows),
            "min_annotators": plan.min_annotators,
            "min_experts": plan.min_experts,
            "expert_role": plan.expert_role,
        },
        "resolution": _resolution(plan, rows),
        "annotators": _annotators(f.by_item, f.resolved),
        "label_pairs": {"labels": list(f.order), "matrix": f.pairs},
        "label_counts": {label: kept_labels.count(label) for label in f.order if label in kept_labels},
        "records": {"read": f.ingested.records, "used": sum(len(v) for v in f.by_item.values()),
                    "not_used": len(problems)},
        "problems": problems,
        "tasks": {"items": f.tasks, "files": f.task_files},
        "rows": {"in": len(rows), "kept": sum(r.removed is None for r in rows),
                 "removed": sum(r.removed is not None for r in rows), "flagged": f.flagged},
    }
    stats["warnings"] = _warnings(f, stats)
    return stats


def _resolution(plan: AnnotationPlan, rows: list[Any]) -> dict[str, Any]:
    """How every row's label went: one count per status (they add up to `rows`), and the
    `resolved` ones by method."""
    by: dict[str, int] = {}
    for r in rows:
        if r.method is not None:
            by[r.method] = by.get(r.method, 0) + 1
    return {"policy": plan.resolve, "prefer": plan.prefer, "tie": plan.tie, "rows": len(rows),
            **{status: sum(1 for r in rows if r.status == status) for status in STATUSES},
            "by": dict(sorted(by.items()))}


def _number(value) -> float | None:
    return None if value is None else float(value)


def _spread(scores: list[float], plan: AnnotationPlan, below: int) -> dict[str, Any]:
    """Per-item agreement: how many items have one, its mean and minimum, and a histogram."""
    buckets = {"1": 0, "[0.75,1)": 0, "[0.5,0.75)": 0, "[0.25,0.5)": 0, "[0,0.25)": 0}
    for s in scores:
        key = "1" if s >= 1 else "[0.75,1)" if s >= 0.75 else "[0.5,0.75)" if s >= 0.5 else \
            "[0.25,0.5)" if s >= 0.25 else "[0,0.25)"
        buckets[key] += 1
    return {
        "threshold": _number(plan.item_threshold),
        "scored": len(scores),
        "mean": round(sum(scores) / len(scores), DECIMALS) if scores else None,
        "min": min(scores) if scores else None,
        "below": below,
        "histogram": buckets,
    }


def _annotators(by_item: dict[str, list[Annotation]], resolved: dict[str, str]) -> list[dict[str, Any]]:
    seen: dict[str, dict[str, Any]] = {}
    for item in sorted(by_item):
        for a in by_item[item]:
            entry = seen.setdefault(a.annotator, {"roles": set(), "labels": 0, "on_resolved": 0, "agree": 0})
            entry["roles"].add(a.role or "")
            entry["labels"] += 1
            if item in resolved:
                entry["on_resolved"] += 1
                entry["agree"] += a.label == resolved[item]
    return [{"annotator": name,
             "role": ", ".join(sorted(r for r in e["roles"] if r)) or None,
             "labels": e["labels"],
             "agrees_with_resolved": round(e["agree"] / e["on_resolved"], DECIMALS) if e["on_resolved"] else None}
            for name, e in sorted(seen.items())]


def _warnings(f: Facts, stats: dict[str, Any]) -> list[str]:
    plan, out = f.plan, []
    agreement = stats["agreement"]
    if f.passed is False and plan.below_threshold != "fail":
        value = "undefined" if agreement["value"] is None else f"{agreement['value']:g}"
        out.append(f"agreement for '{plan.field}' is {value}, below the threshold {plan.threshold}; "
                   f"below_threshold {plan.below_threshold} acts on single items, so add "
                   f"'agreement({plan.field}) >= {plan.threshold}' to the gate block to fail the run on it")
    elif agreement["value"] is None and plan.metric is not None:
        out.append(f"agreement for '{plan.field}' is undefined: {agreement['reason']}")
    if stats["records"]["not_used"]:
        n = stats["records"]["not_used"]
        out.append(f"{n} annotation record{'s were' if n != 1 else ' was'} not used (see problems)")
    return out
