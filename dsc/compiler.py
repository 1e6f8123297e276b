"""Compile a checked AST into the Plan, through the operator registry.

The compiler fills every default in, so the plan says everything the engine will do, and
orders what has no meaningful order (normalisation steps, `ignoring` lists, rates) canonically.
"""
from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from pathlib import Path

from dsc import ast
from dsc.ops import CompileEnv, operator_for
from dsc.plan import (
    GUARD_BOUNDS, AnnotationPlan, AugmentRule, ColumnPlan, DatasetInfo, ExportPlan, FinetunePlan, GatePlan, HubPlan,
    Plan, SourcePlan, SplitPart, SplitPlan, Step, seal,
)

_PERCENT_GATES = {"dropped", "kept", "drop_rate"}


def compile_spec(spec: ast.Spec, base_dir: Path | None = None) -> Plan:
    """Compile a checked spec into its sealed (fingerprinted) Plan. `base_dir` is the spec's folder:
    a `tokens()` rule's plan pins the fingerprint of the tokenizer files found there (none without it).

    >>> from dsc.syntax.load import parse
    >>> from dsc.syntax.source import SourceFile
    >>> spec, _ = parse(SourceFile("x.dspec", "clean {\\n  dedupe near on prompt\\n}\\n"))
    >>> step = compile_spec(spec).steps[0]
    >>> step.id, step.params["threshold"], step.params["ngram"]
    ('dedupe_near[prompt]', Decimal('0.8'), 5)
    """
    dataset = _dataset(spec)
    ids = _Ids()
    columns = [_column(c) for b in spec.of(ast.SchemaBlock) for c in b.columns]
    plan = Plan(
        dataset=dataset,
        sources=[_source(b) for b in spec.of(ast.SourceBlock)],
        columns=columns,
        steps=_steps(spec, dataset, {c.name: c.type for c in columns}, ids, base_dir),
        annotations=[_annotation(b) for b in spec.of(ast.AnnotateBlock)],
        split=next((_split(b, dataset) for b in spec.of(ast.SplitBlock)), None),
        augment=[_augment(b, r, ids) for b in spec.of(ast.AugmentBlock) for r in b.rules],
        exports=[_export(b) for b in spec.of(ast.Export)],
        gates=[_gate(g, ids) for b in spec.of(ast.GateBlock) for g in b.gates],
        finetune=[_finetune(b) for b in spec.of(ast.FinetuneBlock)],
    )
    return seal(plan)


class _Ids:
    """Rule ids: `op[subject]`, with `#2`, `#3` for repeats — stable under unrelated edits."""

    def __init__(self):
        self.seen: dict[str, int] = {}

    def __call__(self, base: str) -> str:
        self.seen[base] = self.seen.get(base, 0) + 1
        return base if self.seen[base] == 1 else f"{base}#{self.seen[base]}"


def _int(num: ast.Num) -> int:
    return int(num.value)


def _dataset(spec: ast.Spec) -> DatasetInfo:
    for block in spec.of(ast.DatasetBlock):
        seed = next((_int(s.value) for s in block.body if isinstance(s, ast.Seed)), 0)
        locale = next((s.value.value for s in block.body if isinstance(s, ast.Locale)), None)
        return DatasetInfo(name=block.name.value, version=str(block.version.value), seed=seed, locale=locale)
    return DatasetInfo()


def _source(block: ast.SourceBlock) -> SourcePlan:
    fields: dict = {"name": block.name.value, "line": block.span.line, "renames": []}
    for stmt in block.body:
        if isinstance(stmt, ast.Files):
            fields.setdefault("files", []).extend(p.value for p in stmt.patterns)
        elif isinstance(stmt, ast.Hub):
            fields["hub"] = HubPlan(
                id=stmt.id.value,
                split=stmt.split.value if stmt.split else "train",
                revision=stmt.revision.value if stmt.revision else None,
                config=stmt.config.value if stmt.config else None,
            )
        elif isinstance(stmt, ast.Format):
            fields["format"] = stmt.value.value
        elif isinstance(stmt, ast.Key):
            fields["key"] = ast.names(stmt.columns)
        elif isinstance(stmt, ast.Rename):
            fields["renames"].append((stmt.old.value, stmt.new.value))
        elif isinstance(stmt, ast.Explode):
            fields["explode"] = stmt.column.value
    return SourcePlan(**fields)


def _column(c: ast.ColumnDecl) -> ColumnPlan:
    mods = {m.value for m in c.modifiers}
    labels = [str(ast.plain(v)) for v in c.labels] if c.labels is not None else None
    return ColumnPlan(name=c.name.value, line=c.span.line, type=c.type.value, labels=labels,
                      required="required" in mods, unique="unique" in mods)


@dataclass(frozen=True)
class SpecEnv(CompileEnv):
    """`CompileEnv`, and what the spec's folder says: the tokenizer `tokens()` counts with."""

    tokenizer: dict[str, str | None] | None = None  # {"base": REF, "fingerprint": "sha256:…" | None}


def _tokenizer(spec: ast.Spec, base_dir: Path | None) -> dict[str, str | None] | None:
    """What a `tokens()` rule counts with: the finetune block's base as the spec writes it (relative to
    the spec's folder, as every path of a plan is, so the plan is the same in every checkout), and the
    sha256 of its tokenizer files (`BaseModel.tokenizer_fingerprint`), so the plan changes when the
    tokenizer does. Not the library versions: the manifest records those. None when no rule counts
    tokens or no block names a base (the checks report it, DSC212)."""
    if not any(isinstance(r, ast.Drop) and isinstance(r.predicate, ast.MeasurePred)
               and r.predicate.func.value == "tokens" for b in spec.of(ast.CleanBlock) for r in b.rules):
        return None
    ref = next((str(ast.plain(s.values[0])) for b in spec.of(ast.FinetuneBlock) for s in b.settings
                if s.name.value == "base" and s.values), None)
    if ref is None:
        return None
    fingerprint = None
    if base_dir is not None:
        from dsc.finetune.errors import FinetuneError
        from dsc.finetune.model import resolve_base

        try:
            fingerprint = resolve_base(ref, Path(base_dir)).tokenizer_fingerprint()
        except (FinetuneError, OSError):
            fingerprint = None  # the checks report it (DSC212); an unchecked plan's run stops on it
    return {"base": ref, "fingerprint": fingerprint}


def _steps(spec: ast.Spec, dataset: DatasetInfo, types: dict[str, str], ids: _Ids,
           base_dir: Path | None = None) -> list[Step]:
    """The clean rules, each compiled by its operator; `types` are the schema's column types."""
    env = SpecEnv(locale=dataset.locale, types=types, tokenizer=_tokenizer(spec, base_dir),
                  sources=tuple(_source(b) for b in spec.of(ast.SourceBlock)))
    steps = []
    for block in spec.of(ast.CleanBlock):
        for rule in block.rules:
            op = operator_for(rule)
            raw, subject = op.compile(rule, env)
            params = op.Params(**raw).model_dump(mode="python")
            steps.append(Step(id=ids(f"{op.name}[{subject}]"), op=op.name, line=rule.span.line, params=params))
    return steps


def _annotation(block: ast.AnnotateBlock) -> AnnotationPlan:
    fields: dict = {"id": f"annotate[{block.field.value}]", "line": block.span.line, "field": block.field.value}
    for s in block.body:
        v = s.values
        if s.key == "from":
            fields["source"] = v[0].value
            if v[1] is not None:
                fields["format"] = v[1].value
        elif s.key == "annotators":
            fields["min_annotators"] = _int(v[0])
        elif s.key == "experts":
            fields["min_experts"] = _int(v[0])
            fields["expert_role"] = v[1].value if v[1] is not None else None
        elif s.key == "agreement":
            fields["metric"] = v[0].value
            fields["level"] = v[1].value if v[1] is not None else None
            fields["threshold"] = ast.plain(v[2])
        elif s.key == "item_agreement":
            fields["item_threshold"] = ast.plain(v[0])
        elif s.key == "resolve":
            fields["resolve"] = v[0].value
            if v[1] is not None:
                fields["prefer"] = v[1].value
            if v[2] is not None:
                fields["tie"] = v[2].value
        elif s.key == "below_threshold":
            fields["below_threshold"] = v[0].value
        elif s.key == "tasks":
            fields["tasks"] = v[0].value
    fields.setdefault("source", "")
    return AnnotationPlan(**fields)


def _split(block: ast.SplitBlock, dataset: DatasetInfo) -> SplitPlan:
    parts = [SplitPart(name=p.name.value, line=p.span.line, fraction=p.fraction.fraction) for p in block.parts]
    return SplitPlan(line=block.span.line, key=block.key.value,
                     stratify=block.stratify.value if block.stratify else None,
                     seed=_int(block.seed) if block.seed else dataset.seed, parts=parts)


def _augment(block: ast.AugmentBlock, rule: ast.Augmentation, ids: _Ids) -> AugmentRule:
    opts = {o.key: o.value for o in rule.options}
    local = "using" in opts
    ratio = opts.get("ratio")
    return AugmentRule(
        id=ids(f"{rule.method.value}[{rule.column.value}]"),
        line=rule.span.line,
        splits=ast.names(block.splits),
        method=rule.method.value,
        column=rule.column.value,
        pivots=ast.names(rule.pivots),
        ratio=ratio.fraction if ratio is not None else Decimal(0),
        backend="local" if local else "endpoint",
        model=(opts["using"] if local else opts.get("model", ast.Str(""))).value,
        endpoint=opts["endpoint"].value if "endpoint" in opts else None,
        key_env=opts["key_env"].value if "key_env" in opts else None,
        template=opts["template"].value if "template" in opts else None,
        concurrency=_int(opts["concurrency"]) if "concurrency" in opts else 4,
        # Only the bounds the spec sets: a rule that sets none compiles as before the options existed.
        bounds={k: opts[k].fraction for k in GUARD_BOUNDS if k in opts} or None,
    )


def _export(e: ast.Export) -> ExportPlan:
    return ExportPlan(line=e.span.line, format=e.format.value, path=e.path.value,
                      shape=e.shape.value if e.shape else None, template=e.template.value if e.template else None)


def _gate(g: ast.MetricGate | ast.LeakageGate, ids: _Ids) -> GatePlan:
    severity = g.severity.value if g.severity else "error"
    if isinstance(g, ast.LeakageGate):
        return GatePlan(id=ids(f"leakage({g.left.value},{g.right.value})"), line=g.span.line, metric="leakage",
                        args=[g.left.value, g.right.value], op=g.op.value, limit=g.threshold.fraction,
                        unit="jaccard", severity=severity)
    metric = g.metric.value
    args = ast.names(g.args)
    unit = "fraction" if g.value.percent or metric in _PERCENT_GATES else \
        ("count" if metric in ("rows", "contaminated") else "value")
    label = f"{metric}({','.join(args)})" if args else metric
    return GatePlan(id=ids(label), line=g.span.line, metric=metric, args=args, op=g.op.value,
                    limit=g.value.fraction, unit=unit, severity=severity)


def _finetune(block: ast.FinetuneBlock) -> FinetunePlan:
    settings = {}
    for s in block.settings:
        values = [ast.plain(v) for v in s.values]
        settings[s.name.value] = values[0] if len(values) == 1 else values
    return FinetunePlan(line=block.span.line, method=block.method.value, settings=settings)
