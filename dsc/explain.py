"""`dsc explain`: a compiled plan told in plain words, in the order the pipeline runs it.

Everything here reads the Plan only (never the spec text), so `explain` works as well on a
plan loaded from JSON as on one just compiled. The one-line `summarize` is shared with
`dsc diff`, which quotes it for rules and items that were added or removed.
"""
from __future__ import annotations

from decimal import Decimal
from typing import Any

from dsc.ops import OPERATORS
from dsc.plan import (
    GUARD_BOUNDS, AnnotationPlan, AugmentRule, ColumnPlan, ExportPlan, FinetunePlan, GatePlan, Plan, SourcePlan,
    SplitPart, SplitPlan, Step, bound_text, fingerprint,
)

_METRICS = {
    "krippendorff": "Krippendorff's alpha",
    "fleiss": "Fleiss' kappa",
    "cohen": "Cohen's kappa",
    "percent": "percent agreement",
}


def number(value: Any) -> str:
    """A plan number as people write it: no exponent, no trailing zeros.

    Plans loaded from JSON carry decimals as text, compiled plans as `Decimal`; both print alike.

    >>> number(Decimal("2E-4")), number("0.50"), number(Decimal("1E+3")), number(16)
    ('0.0002', '0.5', '1000', '16')
    """
    d = Decimal(str(value))
    return "0" if d == 0 else format(d.normalize(), "f")


def percent(fraction: Any) -> str:
    """A fraction as a percentage.

    >>> percent(Decimal("0.9")), percent("0.125"), percent(0)
    ('90%', '12.5%', '0%')
    """
    return number(Decimal(str(fraction)) * 100) + "%"


def gate_limit(gate: GatePlan) -> str:
    """A gate's limit in the unit it was written in: fractions as percentages, counts as integers.

    >>> gate_limit(GatePlan(id="dropped", metric="dropped", op="<=", limit=Decimal("0.2"), unit="fraction"))
    '20%'
    """
    return percent(gate.limit) if gate.unit == "fraction" else number(gate.limit)


def gate_text(gate: GatePlan) -> str:
    """What a gate requires, in one phrase.

    >>> gate_text(GatePlan(id="rows(train)", metric="rows", args=["train"], op=">=", limit=Decimal(1000),
    ...                    unit="count"))
    'rows(train) >= 1000'
    >>> gate_text(GatePlan(id="leakage(train,test)", metric="leakage", args=["train", "test"], op=">=",
    ...                    limit=Decimal("0.8"), unit="jaccard"))
    'no train row and test row with Jaccard >= 0.8'
    """
    if gate.metric == "leakage":
        left, right = gate.args
        return f"no {left} row and {right} row with Jaccard {gate.op} {gate_limit(gate)}"
    return f"{gate.id} {gate.op} {gate_limit(gate)}"


def summarize(item: Any) -> str:
    """One line for people about one plan item: a rule, source, column, annotation, split part,
    augmentation, export, gate or fine-tuning block.

    >>> summarize(ColumnPlan(name="category", type="label", labels=["bug", "other"], required=True))
    'label {bug, other}, required'
    >>> summarize(SplitPart(name="train", fraction=Decimal("0.9")))
    'train 90%'
    """
    if isinstance(item, Step):
        return OPERATORS[item.op].describe(item.params)
    if isinstance(item, SourcePlan):
        return "; ".join(_source_lines(item))
    if isinstance(item, ColumnPlan):
        return ", ".join([_column_type(item), *_column_mods(item)])
    if isinstance(item, AnnotationPlan):
        return " ".join(_annotation_sentences(item))
    if isinstance(item, SplitPlan):
        return f"{_split_head(item)}: " + ", ".join(summarize(p) for p in item.parts)
    if isinstance(item, SplitPart):
        return f"{item.name} {percent(item.fraction)}"
    if isinstance(item, AugmentRule):
        return _augment_text(item)
    if isinstance(item, ExportPlan):
        return _export_text(item)
    if isinstance(item, GatePlan):
        return f"{item.severity}: {gate_text(item)}"
    if isinstance(item, FinetunePlan):
        return f"{item.method}: " + ", ".join(f"{k} {_setting(v)}" for k, v in sorted(item.settings.items()))
    raise TypeError(f"not a plan item: {type(item).__name__}")


def explain(plan: Plan) -> str:
    """The whole plan for people, section by section in pipeline order, fingerprint last.

    Empty sections are left out; the text depends on the plan alone, so it is deterministic.

    >>> from dsc.plan import DatasetInfo, seal
    >>> plan = seal(Plan(dataset=DatasetInfo(name="tiny", version="1"),
    ...                  columns=[ColumnPlan(name="text", type="text", required=True)]))
    >>> print(explain(plan))  # doctest: +ELLIPSIS
    dataset tiny, version 1
      seed 0; no default locale
    <BLANKLINE>
    schema (1 column)
      text  text  required
    <BLANKLINE>
    fingerprint sha256:...
    """
    return "\n\n".join("\n".join(lines) for lines in sections(plan)) + "\n"


def sections(plan: Plan) -> list[list[str]]:
    """`explain`'s sections, each its lines (the first one its heading), empty ones left out."""
    found = [_header(plan), _sources(plan), _schema(plan), _clean(plan), _annotations(plan), _split(plan),
             _augment(plan), _exports(plan), _gates(plan), _finetune(plan), [f"fingerprint {fingerprint(plan)}"]]
    return [lines for lines in found if lines]


def explain_json(plan: Plan) -> dict:
    """`explain` as data (`dsc explain --format json`): the dataset, the fingerprint, and each
    section's heading with its lines as `explain` words them (indentation removed)."""
    return {"dataset": {"name": plan.dataset.name, "version": plan.dataset.version},
            "fingerprint": fingerprint(plan),
            "sections": [{"title": lines[0], "lines": [line.strip() for line in lines[1:]]}
                         for lines in sections(plan)[:-1]]}


# ── sections ────────────────────────────────────────────────────────────────────────────
def _header(plan: Plan) -> list[str]:
    d = plan.dataset
    locale = f"default locale {d.locale}" if d.locale else "no default locale"
    return [f"dataset {d.name}, version {d.version}", f"  seed {d.seed}; {locale}"]


def _sources(plan: Plan) -> list[str]:
    if not plan.sources:
        return []
    lines = ["sources (read in this order)"]
    for s in plan.sources:
        lines.append(f"  {s.name}, line {s.line}")
        lines.extend(f"    {text}" for text in _source_lines(s))
    return lines


def _source_lines(s: SourcePlan) -> list[str]:
    lines = []
    if s.files:
        fmt = f" as {s.format}" if s.format else ""
        lines.append("files " + ", ".join(f'"{f}"' for f in s.files) + fmt)
    if s.hub:
        h = s.hub
        pinned = f"revision {h.revision}" if h.revision else "revision not pinned"
        config = f", config {h.config}" if h.config else ""
        lines.append(f'Hugging Face dataset "{h.id}", split {h.split}, {pinned}{config}')
    # Row ids name every row in rejects and ledgers; without a key they hash the row's content.
    lines.append(f"row ids from key {', '.join(s.key)}" if s.key else "content-derived row ids")
    lines.extend(f"rename {old} -> {new}" for old, new in s.renames)
    if s.explode:
        lines.append(f"explode {s.explode}: one row per element")
    return lines


def _schema(plan: Plan) -> list[str]:
    if not plan.columns:
        return []
    n = len(plan.columns)
    rows = [(c.name, _column_type(c), ", ".join(_column_mods(c))) for c in plan.columns]
    return [f"schema ({n} column{'s' if n != 1 else ''})", *_table(rows, indent=2)]


def _column_type(c: ColumnPlan) -> str:
    return f"label {{{', '.join(c.labels)}}}" if c.labels is not None else c.type


def _column_mods(c: ColumnPlan) -> list[str]:
    return [m for m, on in (("required", c.required), ("unique", c.unique)) if on]


def _clean(plan: Plan) -> list[str]:
    if not plan.steps:
        return []
    n = len(plan.steps)
    lines = [f"clean ({n} rule{'s' if n != 1 else ''}, run top to bottom)"]
    width = len(str(n))
    for i, step in enumerate(plan.steps, 1):
        lines.append(f"  {i:>{width}}. line {step.line}  {summarize(step)}  [{step.id}]")
    return lines


def _annotations(plan: Plan) -> list[str]:
    lines = []
    for a in plan.annotations:
        lines.append(f"annotation of {a.field}, line {a.line}")
        lines.extend(f"  {sentence}" for sentence in _annotation_sentences(a))
    return lines


def _annotation_sentences(a: AnnotationPlan) -> list[str]:
    source = f'Labels come from "{a.source}" ({a.format} format).' if a.source else "No annotation source given."
    need = f"Each item needs at least {a.min_annotators} annotator{'s' if a.min_annotators != 1 else ''}"
    if a.min_experts:
        need += f", {a.min_experts} or more of them {a.expert_role or 'experts'}"
    sentences = [source, need + "."]
    if a.metric:
        level = f" ({a.level})" if a.level else ""
        floor = f" of at least {number(a.threshold)}" if a.threshold is not None else ""
        sentences.append(f"Agreement is measured with {_METRICS.get(a.metric, a.metric)}{level}{floor}.")
    if a.item_threshold is not None:
        sentences.append(f"Each item's own agreement must be at least {number(a.item_threshold)}.")
    prefer = f", preferring {a.prefer}" if a.prefer else ""
    sentences.append(f"Labels are resolved by {a.resolve}{prefer}; ties: {a.tie}.")
    sentences.append(f"Below the threshold: {a.below_threshold}.")
    if a.tasks:
        sentences.append(f'Items short of annotations are written to "{a.tasks}".')
    return sentences


def _split(plan: Plan) -> list[str]:
    s = plan.split
    if s is None:
        return []
    return [_split_head(s), *_table([(p.name, percent(p.fraction), f"line {p.line}") for p in s.parts], indent=2)]


def _split_head(s: SplitPlan) -> str:
    stratify = f", stratified by {s.stratify}" if s.stratify else ""
    return f"split by {s.key}{stratify}, seed {s.seed}"


def _augment(plan: Plan) -> list[str]:
    if not plan.augment:
        return []
    lines = ["augment"]
    for r in plan.augment:
        lines += [f"  {r.id}, line {r.line}: {_augment_text(r)}", f"    {augment_volume(r, plan.split)}"]
    return lines


def augment_volume(r: AugmentRule, split: SplitPlan | None) -> str:
    """How much a rule generates and calls, for N input rows (explain has no data: a formula, and the
    figures per 100 rows). Each row is picked with probability (share of its splits) × ratio; a
    paraphrase makes 1 row from 1 call, a back-translation 1 row per pivot from 2 calls (there and
    back). Generations already in the cache make no call.

    >>> from dsc.plan import SplitPart
    >>> split = SplitPlan(key="id", parts=[SplitPart(name="train", fraction=Decimal("0.9")),
    ...                                    SplitPart(name="validation", fraction=Decimal("0.1"))])
    >>> rule = AugmentRule(id="backtranslate[q]", splits=["train"], method="backtranslate", column="q",
    ...                    pivots=["de", "fr"], ratio=Decimal("0.1"), backend="local", model="m")
    >>> augment_volume(rule, split)
    'for N input rows: ≈ 0.09 × N selected (train 90% × 10%), up to 0.18 × N generated rows from 0.36 × N calls (2 per pivot: there and back); per 100 rows: 9 selected, 18 generated, 36 calls'
    """
    parts = [p for p in split.parts if p.name in r.splits] if split is not None else []
    share = sum((p.fraction for p in parts), Decimal(0)) if parts else Decimal(1)
    where = " + ".join(f"{p.name} {percent(p.fraction)}" for p in parts) or "all rows"
    picked = share * Decimal(str(r.ratio))
    rows, calls = (1, 1) if r.method == "paraphrase" else (len(r.pivots), 2 * len(r.pivots))
    how = "1 per row" if r.method == "paraphrase" else "2 per pivot: there and back"
    return (f"for N input rows: ≈ {number(picked)} × N selected ({where} × {percent(r.ratio)}), up to "
            f"{number(picked * rows)} × N generated rows from {number(picked * calls)} × N calls ({how}); "
            f"per 100 rows: {number(picked * 100)} selected, {number(picked * rows * 100)} generated, "
            f"{number(picked * calls * 100)} calls")


def _augment_text(r: AugmentRule) -> str:
    verb = "paraphrase" if r.method == "paraphrase" else "back-translate"
    via = f" via {', '.join(r.pivots)}" if r.pivots else ""
    text = f"{verb} {r.column}{via} in {', '.join(r.splits)}, {percent(r.ratio)} of rows"
    if r.backend == "local":
        return text + f', local model "{r.model}"' + guard_text(r)
    text += f', endpoint "{r.endpoint}" model "{r.model}"'
    if r.key_env:
        text += f", API key from ${r.key_env}"
    if r.template:
        text += f', template "{r.template}"'
    return text + f", {r.concurrency} concurrent requests" + guard_text(r)


def guard_text(r: AugmentRule) -> str:
    """The guard bounds a rule sets, each with its default (empty when it sets none: all defaults).

    >>> rule = AugmentRule(id="p", splits=["train"], method="paraphrase", column="q", ratio=Decimal("0.1"),
    ...                    backend="local", model="m", bounds={"max_length_ratio": "2", "min_similarity": "0.30"})
    >>> guard_text(rule)
    '; guard: min_similarity 0.3 (default 0.1), max_length_ratio 2 (default 3)'
    """
    given = r.bounds or {}
    shown = [f"{k} {bound_text(given[k])} (default {bound_text(d)})" for k, d in GUARD_BOUNDS.items() if k in given]
    return "; guard: " + ", ".join(shown) if shown else ""


def _exports(plan: Plan) -> list[str]:
    if not plan.exports:
        return []
    return ["export", *(f"  {_export_text(e)}, line {e.line}" for e in plan.exports)]


def _export_text(e: ExportPlan) -> str:
    text = f'{e.format} to "{e.path}"'
    if e.shape:
        text += f", shape {e.shape}"
    if e.template:
        text += f', template "{e.template}"'
    return text


def _gates(plan: Plan) -> list[str]:
    if not plan.gates:
        return []
    rows = [(g.severity, gate_text(g), f"line {g.line}") for g in plan.gates]
    return ["gates (an error fails the run; a warn only reports)", *_table(rows, indent=2)]


def _finetune(plan: Plan) -> list[str]:
    lines = []
    for f in plan.finetune:
        lines.append(f"finetune {f.method}, line {f.line}")
        # Settings are sorted: a plan loaded from canonical JSON has lost the written order.
        lines.extend(_table([(k, _setting(v)) for k, v in sorted(f.settings.items())], indent=2))
    return lines


def _setting(value: Any) -> str:
    if isinstance(value, (list, tuple)):
        return ", ".join(_setting(v) for v in value)
    if isinstance(value, Decimal):
        return number(value)
    return str(value)


def _table(rows: list[tuple[str, ...]], indent: int) -> list[str]:
    """Rows as left-aligned columns (the last column is not padded, so no trailing spaces)."""
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]) - 1)]
    out = []
    for row in rows:
        cells = [cell.ljust(w) for cell, w in zip(row, widths)] + [row[-1]]
        out.append((" " * indent + "  ".join(cells)).rstrip())
    return out
