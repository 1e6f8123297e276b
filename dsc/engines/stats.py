"""The run's statistics: everything the report shows and the gates judge, as plain JSON data.

Stats first, rendering second: `stats.json` is written from this dict and the Markdown and
HTML reports are rendered from it alone, so `dsc report DIR` can re-render a finished run.
Nothing here depends on the cache or the clock: a rerun gives the same stats, byte for byte.

Sections: `counts`, `rules` (the funnel), `reasons` (rows per rule and reason), `examples`
(the first rejected rows of each rule), `clusters` (the largest duplicate clusters),
`standardisation` (values a standardize rule could not read), `redactions` (per `redact` rule,
column and kind: matches replaced and rows changed; only when the plan redacts), `conflicts` (the groups of the
`conflicts` rules, by decision), `splits` (sizes, and the split × label table when stratified),
`leakage` (crossing near-duplicate pairs per leakage gate), `contamination` (per `decontaminate`
rule: the rows it removed, by eval set and file; only when the plan has one), `near_similarity` (per
`dedupe near` rule: the removed rows' Jaccard with their survivors, binned), `annotations` (what the annotation
step measured and how each label was resolved, when it ran), `augment` (per augmentation rule:
rows selected, generated and rejected, requests and reject reasons; only when the plan augments,
with `counts.generated` beside it) and `gates` (the verdicts).

Two sections need the exported files, so `dsc.engines.outputs.write` adds them once the exports
are rendered, before the report is: with a `finetune` block, `finetune` (the methods compared on
the train split) and `tokens` (each split's token lengths and the rows `max_length` truncates,
counted with the base tokenizer as train.py trains on them: `dsc.finetune.lengths`).
"""
from __future__ import annotations

from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from dsc.engines.gates import evaluate_gates
from dsc.engines.leakage import cross_split_pairs
from dsc.io.jsonscan import decode_row
from dsc.plan import Plan
from dsc.reserved import CLUSTER, DUPLICATE_OF, ID, LINE, REASON, RESERVED_PREFIX, ROW, RULE, SIMILARITY, SPLIT, SRC

STATS_FORMAT = 1
EXAMPLES_PER_RULE = 3
REASONS_PER_RULE = 12
TOP_CLUSTERS = 10
CLUSTER_MEMBERS = 5
TOP_STRATA = 50
# Longest text kept in an example; the full row is in rejects.jsonl.
CLIP = 240
# The columns pyarrow names the aggregates of a group_by: the column, "_", the function.
ID_COUNT, DUPLICATE_OF_MAX = f"{ID}_count", f"{DUPLICATE_OF}_max"


def build_stats(plan: Plan, result, annotations: dict | None = None) -> dict[str, Any]:
    """The stats of a finished run (`result` is the engine's RunResult), gates judged last.

    >>> from dsc.engines.local import RunResult, StageStats
    >>> kept = pa.table({"q": ["a"], "_dsc_id": ["r1"]})
    >>> rejects = pa.table({"_dsc_id": ["r2"], "_dsc_rule": ["drop[q]"], "_dsc_line": [3],
    ...     "_dsc_reason": ["q is empty"], "_dsc_cluster": pa.array([None], pa.string()),
    ...     "_dsc_duplicate_of": pa.array([None], pa.string()), "_dsc_src": ["f:2"], "_dsc_row": ['{"q": ""}']})
    >>> run = RunResult(kept, rejects, [StageStats("source:s", "source", 1, 2, 2), StageStats("drop[q]", "drop", 3, 2, 1)], [])
    >>> s = build_stats(Plan(), run)
    >>> s["counts"], s["reasons"]
    ({'input': 2, 'kept': 1, 'rejected': 1, 'flagged': 0}, [{'rule': 'drop[q]', 'line': 3, 'reason': 'q is empty', 'rows': 1}])
    """
    stages = result.stages
    kept, rejects = result.kept, result.rejects
    stats: dict[str, Any] = {
        "format": STATS_FORMAT,
        "dataset": {"name": plan.dataset.name, "version": plan.dataset.version, "seed": plan.dataset.seed},
        "plan_fingerprint": plan.fingerprint,
        "counts": {"input": sum(s.rows_in for s in stages if s.op == "source"), "kept": kept.num_rows,
                   "rejected": rejects.num_rows, "flagged": sum(len(s.flags) for s in stages)},
        "rules": [{"id": s.id, "op": s.op, "line": s.line, "rows_in": s.rows_in, "rows_out": s.rows_out,
                   "removed": s.removed, "flagged": len(s.flags)} for s in stages],
        "reasons": _reasons(rejects, [s.id for s in stages]),
        "examples": _examples(rejects, stages),
        "clusters": _clusters(rejects, [s.id for s in stages if s.op.startswith("dedupe")]),
        "standardisation": _standardisation(rejects, stages),
        "conflicts": _conflicts(stages),
        "splits": _splits(plan, kept),
        "leakage": _leakage(plan, kept),
        "text_lengths": _text_lengths(plan, kept),
        "annotations": annotations or {},
    }
    if any(step.op == "decontaminate" for step in plan.steps):
        stats["contamination"] = _contamination(plan, rejects, stages)
    if any(step.op == "redact" for step in plan.steps):
        stats["redactions"] = _redactions(stages)
    if any(step.op == "dedupe_near" for step in plan.steps):
        stats["near_similarity"] = _near_similarity(plan, rejects)
    augmented = getattr(result, "augment", None)
    if augmented is not None:
        # Generated rows are the last rows of `kept`: count them apart, so kept + rejected == input.
        stats["counts"]["kept"] -= augmented.generated.num_rows
        stats["counts"]["generated"] = augmented.generated.num_rows
        stats["augment"] = augmented.saved()
    stats["gates"] = [g.as_dict() for g in evaluate_gates(plan.gates, stats)]
    return stats


def _clip(value: Any) -> Any:
    if isinstance(value, str):
        return value if len(value) <= CLIP else value[:CLIP] + "…"
    if isinstance(value, dict):
        return {k: _clip(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_clip(v) for v in value]
    return value


def _row(text: str | None) -> Any:
    """A rejected row's data, as rejects.jsonl shows it (`decode_row`), clipped."""
    return _clip(decode_row(text))


def _reasons(rejects: pa.Table, order: list[str]) -> list[dict]:
    """Rows per (rule, reason), rules in pipeline order, the commonest reasons first."""
    if rejects.num_rows == 0:
        return []
    groups = rejects.group_by([RULE, LINE, REASON], use_threads=False).aggregate([(ID, "count")]).to_pylist()
    rank = {rule: i for i, rule in enumerate(order)}
    groups.sort(key=lambda g: (rank.get(g[RULE], len(rank)), g[RULE], -g[ID_COUNT], g[REASON] or ""))
    out, shown = [], {}
    for g in groups:
        rule = g[RULE]
        shown[rule] = shown.get(rule, 0) + 1
        row = {"rule": rule, "line": g[LINE], "reason": g[REASON], "rows": g[ID_COUNT]}
        if shown[rule] <= REASONS_PER_RULE:
            out.append(row)
        elif shown[rule] == REASONS_PER_RULE + 1:
            out.append(dict(row, reason="(other reasons)"))
        else:
            out[-1]["rows"] += row["rows"]
    return out


def _examples(rejects: pa.Table, stages) -> list[dict]:
    """The first few rejected rows of each rule, in the order the rejects file lists them."""
    out = []
    rules = pc.unique(rejects.column(RULE)).to_pylist() if rejects.num_rows else []
    lines = {s.id: s.line for s in stages}
    for rule in [s.id for s in stages if s.id in rules] + [r for r in rules if r not in lines]:
        picked = rejects.filter(pc.equal(rejects.column(RULE), rule)).slice(0, EXAMPLES_PER_RULE)
        rows = [{"id": r[ID], "reason": r[REASON], "duplicate_of": r[DUPLICATE_OF],
                 "source": r[SRC], "row": _row(r[ROW])} for r in picked.to_pylist()]
        out.append({"rule": rule, "line": lines.get(rule, 0), "rows": rows})
    return out


def _clusters(rejects: pa.Table, dedupe_rules: list[str]) -> list[dict]:
    """The largest clusters of the dedupe rules: size (removed rows + the survivor), survivor, a few
    members. (Conflict groups have their own section and file.)"""
    if rejects.num_rows == 0 or not dedupe_rules:
        return []
    dup = rejects.filter(pc.and_(pc.is_valid(rejects.column(CLUSTER)),
                                 pc.is_in(rejects.column(RULE), value_set=pa.array(dedupe_rules))))
    if dup.num_rows == 0:
        return []
    groups = dup.group_by([RULE, CLUSTER], use_threads=False).aggregate([(ID, "count"), (DUPLICATE_OF, "max")])
    # Ranked in Arrow, only the top ones made Python objects (100k clusters took 0.26 s as dicts).
    # Strings sort by their UTF-8 bytes, which is code point order, as Python's `str` sorts.
    size = pc.add(groups.column(ID_COUNT), pc.cast(pc.is_valid(groups.column(DUPLICATE_OF_MAX)), pa.int64()))
    groups = groups.append_column("size", size).sort_by(
        [("size", "descending"), (RULE, "ascending"), (CLUSTER, "ascending")]).slice(0, TOP_CLUSTERS)
    out = []
    for g in groups.to_pylist():
        members = dup.filter(pc.and_(pc.equal(dup.column(RULE), g[RULE]),
                                     pc.equal(dup.column(CLUSTER), g[CLUSTER])))
        first = members.slice(0, CLUSTER_MEMBERS).to_pylist()
        out.append({"rule": g[RULE], "cluster": g[CLUSTER], "size": g["size"],
                    "kept": g[DUPLICATE_OF_MAX], "removed": [m[ID] for m in first],
                    "example": _row(first[0][ROW])})
    return out


def _standardisation(rejects: pa.Table, stages) -> list[dict]:
    """Per standardize rule: values rejected and flagged, the commonest reasons, a few examples."""
    out = []
    for s in (s for s in stages if s.op == "standardize"):
        mine = rejects.filter(pc.equal(rejects.column(RULE), s.id)) if rejects.num_rows else rejects
        counts: dict[str, int] = {}
        for reason in mine.column(REASON).to_pylist() + [f.get("reason", "") for f in s.flags]:
            counts[reason] = counts.get(reason, 0) + 1
        reasons = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[:REASONS_PER_RULE]
        examples = [{"id": r[ID], "reason": r[REASON], "row": _row(r[ROW])}
                    for r in mine.slice(0, EXAMPLES_PER_RULE).to_pylist()]
        examples += [{"id": f.get("row_id"), "reason": f.get("reason"), "row": None}
                     for f in s.flags[:max(0, EXAMPLES_PER_RULE - len(examples))]]
        out.append({"rule": s.id, "line": s.line, "rows_in": s.rows_in, "rejected": s.removed,
                    "flagged": len(s.flags), "reasons": [{"reason": r, "rows": n} for r, n in reasons],
                    "examples": examples})
    return out


def _conflicts(stages) -> dict:
    """The groups of the `conflicts` rules, counted by their decision (conflicts.jsonl has each).
    Annotation label resolutions are not conflicts: they are counted under `annotations`."""
    decided: dict[str, int] = {}
    for s in stages:
        if s.op == "conflicts":
            for d in s.decisions:
                decided[d["decision"]] = decided.get(d["decision"], 0) + 1
    return {"groups": sum(decided.values()), "decisions": dict(sorted(decided.items()))}


def _contamination(plan: Plan, rejects: pa.Table, stages) -> list[dict]:
    """Per `decontaminate` rule: the rows it read and removed, and for each eval set (its pattern as
    written) the rows removed for it, by eval file. A removed row counts once, under the eval row
    its reject names (its `_dsc_cluster` is the pattern, its `_dsc_duplicate_of` the eval row)."""
    import re

    out = []
    ran = {s.id: s for s in stages}
    for step in (s for s in plan.steps if s.op == "decontaminate"):
        mine = rejects.filter(pc.equal(rejects.column(RULE), step.id)) if rejects.num_rows else rejects
        counts: dict[str, dict[str, int]] = {pattern: {} for pattern in step.params["against"]}
        for pattern, source in zip(mine.column(CLUSTER).to_pylist(), mine.column(DUPLICATE_OF).to_pylist()):
            eval_file = re.sub(r"[:#][0-9]+$", "", source or "")
            files = counts.setdefault(pattern, {})
            files[eval_file] = files.get(eval_file, 0) + 1
        stage = ran.get(step.id)
        evals = [{"pattern": pattern, "rows": sum(files.values()),
                  "files": [{"file": f, "rows": n} for f, n in sorted(files.items(), key=lambda kv: (-kv[1], kv[0]))]}
                 for pattern, files in counts.items()]
        out.append({"rule": step.id, "line": step.line, "ngram": step.params["ngram"],
                    "rows_in": stage.rows_in if stage else 0, "removed": mine.num_rows, "evals": evals})
    return out


def _near_similarity(plan: Plan, rejects: pa.Table) -> list[dict]:
    """Per `dedupe near` rule: how similar its removed rows were to the survivors they name
    (`_dsc_similarity`), in fixed bins with min and median (`dsc.kernels.near.similarity_histogram`)."""
    from dsc.kernels.near import similarity_histogram

    out = []
    for step in (s for s in plan.steps if s.op == "dedupe_near"):
        mine = rejects.filter(pc.equal(rejects.column(RULE), step.id)) if rejects.num_rows else rejects
        values = mine.column(SIMILARITY).to_pylist() if SIMILARITY in mine.column_names else []
        out.append({"rule": step.id, "line": step.line, "threshold": str(step.params["threshold"]),
                    "cluster": step.params.get("cluster", "star"), "removed": mine.num_rows,
                    **similarity_histogram(values, float(step.params["threshold"]))})
    return out


def _redactions(stages) -> list[dict]:
    """Per `redact` rule, column and kind: the matches replaced and the rows they were in, summed
    from the rule's flags (one per row it changed: `dsc.ops.redact`), in rule, column and kind order."""
    from dsc.ops.redact import FLAG_KEY, KINDS

    out = []
    for s in (s for s in stages if s.op == "redact"):
        table: dict[tuple[str, str], list[int]] = {}
        for flag in s.flags:
            for column, kinds in flag.get(FLAG_KEY, {}).items():
                for kind, n in kinds.items():
                    cell = table.setdefault((column, kind), [0, 0])
                    cell[0] += n
                    cell[1] += 1
        rank = {k: i for i, k in enumerate(KINDS)}
        columns = list(dict.fromkeys(c for c, _ in table))
        for (column, kind), (matches, rows) in sorted(table.items(), key=lambda kv: (columns.index(kv[0][0]),
                                                                                     rank.get(kv[0][1], 99))):
            out.append({"rule": s.id, "line": s.line, "column": column, "kind": kind, "matches": matches,
                        "rows": rows})
    return out


def _splits(plan: Plan, kept: pa.Table) -> dict | None:
    if plan.split is None or SPLIT not in kept.column_names:
        return None
    split = plan.split
    sizes = dict(zip(*_value_counts(kept.column(SPLIT))))
    total = kept.num_rows
    parts = [{"name": p.name, "fraction": float(p.fraction), "rows": sizes.get(p.name, 0),
              "share": sizes.get(p.name, 0) / total if total else 0.0} for p in split.parts]
    strata = _strata(kept, split.stratify, [p.name for p in split.parts]) if split.stratify else None
    return {"key": split.key, "seed": split.seed, "stratify": split.stratify, "rows": total, "parts": parts,
            "strata": strata}


def _value_counts(column) -> tuple[list, list]:
    counted = pc.value_counts(column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column)
    return counted.field("values").to_pylist(), counted.field("counts").to_pylist()


def _strata(kept: pa.Table, label: str, names: list[str]) -> dict:
    """The split × label table: rows of each label in each split, the largest labels first."""
    text = pc.cast(kept.column(label), pa.string())
    table = pa.table({"label": text, "split": kept.column(SPLIT)})
    groups = table.group_by(["label", "split"], use_threads=False).aggregate([("split", "count")]).to_pylist()
    labels: dict[Any, dict[str, int]] = {}
    for g in groups:
        labels.setdefault(g["label"], {n: 0 for n in names})[g["split"]] = g["split_count"]
    ordered = sorted(labels.items(), key=lambda kv: (-sum(kv[1].values()), kv[0] is None, kv[0] or ""))
    rows = [{"label": lab, "rows": sum(c.values()), "splits": c} for lab, c in ordered]
    return {"column": label, "labels": rows[:TOP_STRATA], "more": max(0, len(rows) - TOP_STRATA)}


def _text_columns(plan: Plan, kept: pa.Table) -> list[str]:
    """The columns a model reads: the schema's text and string columns, else every string column."""
    if plan.columns:
        return [c.name for c in plan.columns if c.type in ("text", "string") and c.name in kept.column_names]
    return [c for c in kept.column_names if not c.startswith(RESERVED_PREFIX)
            and (pa.types.is_string(kept.schema.field(c).type) or pa.types.is_large_string(kept.schema.field(c).type))]


def _leakage(plan: Plan, kept: pa.Table) -> list[dict]:
    out = []
    gates = [g for g in plan.gates if g.metric == "leakage"]
    if not gates or SPLIT not in kept.column_names:
        return out
    columns = _text_columns(plan, kept)
    for gate in gates:
        left, right = gate.args
        found = cross_split_pairs(kept, left, right, columns, float(gate.limit), seed=plan.split.seed)
        out.append({"gate": gate.id, "left": left, "right": right, "jaccard": float(gate.limit),
                    "columns": columns, "pairs": found.pairs, "compared": found.compared,
                    "examples": [list(p) for p in found.examples]})
    return out


# Upper bounds (characters) of the text-length histogram's bins; a last, open bin counts the rest.
LENGTH_BINS = (16, 32, 64, 128, 256, 512, 1024, 2048, 4096)


def _text_lengths(plan: Plan, kept: pa.Table) -> list[dict]:
    """Per text column (`_text_columns`) of the kept rows: characters per row (min, median, p90,
    max, a histogram over LENGTH_BINS) and how many rows hold no text there (`empty`: null or "").
    Lengths are counted in code points, so they do not depend on the encoding."""
    import numpy as np

    out = []
    for name in _text_columns(plan, kept):
        column = kept.column(name)
        if not (pa.types.is_string(column.type) or pa.types.is_large_string(column.type)):
            continue
        lengths = np.asarray(pc.fill_null(pc.utf8_length(column), 0).to_numpy(zero_copy_only=False), dtype=np.int64)
        texts = lengths[lengths > 0]
        edges = np.searchsorted(np.array(LENGTH_BINS), texts, side="left")
        counts = np.bincount(edges, minlength=len(LENGTH_BINS) + 1).tolist() if texts.size else [0] * (len(LENGTH_BINS) + 1)
        quantile = (lambda q: int(np.quantile(texts, q, method="inverted_cdf"))) if texts.size else (lambda q: None)
        out.append({"column": name, "rows": int(lengths.size), "empty": int(lengths.size - texts.size),
                    "min": quantile(0), "p50": quantile(0.5), "p90": quantile(0.9),
                    "max": int(texts.max()) if texts.size else None,
                    "histogram": [{"upto": upto, "rows": n} for upto, n in zip([*LENGTH_BINS, None], counts)]})
    return out
